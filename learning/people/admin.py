"""Account administration: finding people, their roles, deactivating and reactivating accounts,
reading the audit log and the outbox. Nothing here deletes a person or anything they wrote."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, cast, delete, exists, false, func, or_, select

from learning.core import audit, jobs
from learning.core.audit import AuditEvent
from learning.core.dates import DEFAULT_ZONE
from learning.core.extensions import db
from learning.core.pagination import Page, paginate
from learning.people import accounts, invitations, sessions
from learning.people.models import Centre, CentreMember, Cohort, Enrolment, Role, User, UserRole
from learning.people.permissions import actor_centre_ids, centre_cohort_ids, ties_outside

#: Audit actions in words; actions not listed are shown as they are stored.
ACTION_LABELS = {
    "login": "Logged in",
    "user.create": "Account created",
    "user.grant_role": "Role given",
    "user.revoke_role": "Role taken away",
    "user.deactivate": "Account deactivated",
    "user.reactivate": "Account reactivated",
    "user.change_password": "Password changed",
    "user.set_password": "Password set with a link",
    "invitation.create": "Set-password link created",
    "enrolment.import": "Learners enrolled from a CSV file",
    "enrolment.links_download": "Set-password links of a CSV import downloaded",
    "cohort.enrol": "Learner enrolled in a cohort",
    "cohort.assign": "Staff assigned to a cohort",
    # Who has seen a learner's work (one event per page opened; not the learner themselves).
    "view.marking": "Opened a learner's answer to mark it",
    "view.iqa_review": "Opened a sampled decision for IQA review",
    "view.learner": "Viewed a learner's page",
    # Before the two staff pages about a learner became one (older records still say so).
    "view.learner_record": "Viewed a learner's timeline",
    "view.portfolio": "Viewed a learner's portfolio",
    "view.portfolio_file": "Opened or downloaded a learner's portfolio file",
    "privacy.export": "Personal data downloaded (everything held about a person)",
    "privacy.erase": "Personal data erased (decisions kept, anonymised)",
    "originality.forget_learner": "Originality copies of an erased learner's work removed",
    "job.retry": "A failed email tried again",
    "originality.reindex_requested": "Originality index rebuild asked for",
    "originality.reindex": "Originality index rebuilt",
    "report.export_requested": "Large CSV export asked for",
    "report.export_download": "Large CSV export downloaded (personal data)",
    "centre.create": "Centre added",
    "centre.rename": "Centre renamed",
    "centre.archive": "Centre archived",
    "centre.unarchive": "Centre brought back",
    "audit.export": "Audit log downloaded",
    "user.centres": "Centres of an account changed",
    "user.extra_time": "Extra time for timed quizzes changed",
    "enrolment.import.queue": "Large CSV enrolment queued",
    "cohort.create": "Cohort created",
    "cohort.update": "Cohort details changed",
    "cohort.archive": "Cohort archived",
    "cohort.unarchive": "Cohort brought back",
    "cohort.remove": "Learner removed from a cohort",
    "cohort.move": "Learner moved to another cohort",
    "cohort.unassign": "Staff taken off a cohort",
    "cohort.deadlines": "Cohort deadlines changed",
    "submission.submit": "Answer submitted",
    "submission.resubmit": "Answer resubmitted",
    "decision.save_draft": "Marking draft saved",
    "decision.release": "Decision released to the learner",
    "decision.read": "Feedback read by the learner",
    "evidence.add": "Passage attached to a criterion as evidence",
    "evidence.withdraw": "Evidence passage withdrawn",
    "iqa.sample": "Decision sampled for IQA",
    "iqa.review": "IQA review saved",
    "iqa.review_correct": "IQA review corrected",
    "iqa.plan": "IQA sampling plan set",
    "quiz.start": "Quiz attempt started",
    "quiz.submit": "Quiz attempt submitted",
    "quiz.regrade": "Quiz attempts regraded",
    "quiz.flag": "Quiz question flagged or unflagged",
    "originality.add_reference": "Reference texts added to the originality index",
    "originality.similar_checked": "Answer checked for similar meaning (reworded copies)",
    "database.restore": "Database restored from a backup",
}

#: What someone did, as the verb of a sentence whose object is what the event is about
#: ("Sam Patel (assessor) released a decision on: Submission 12.").
SENTENCE_VERBS = {
    "login": "logged in", "user.create": "created the account of",
    "user.grant_role": "gave a role to", "user.revoke_role": "took a role away from",
    "user.deactivate": "deactivated the account of",
    "user.reactivate": "reactivated the account of",
    "user.change_password": "changed the password of",
    "user.set_password": "set a password with a link for",
    "user.centres": "changed the centres of",
    "invitation.create": "made a set-password link for",
    "enrolment.import": "enrolled learners from a CSV file in",
    "enrolment.links_download": "downloaded the set-password links of",
    "cohort.create": "created", "cohort.update": "changed the details of",
    "cohort.archive": "archived", "cohort.unarchive": "brought back",
    "cohort.enrol": "enrolled a learner in", "cohort.remove": "removed a learner from",
    "cohort.move": "moved to another cohort", "cohort.assign": "assigned staff to",
    "cohort.unassign": "took staff off", "cohort.deadlines": "changed the deadlines of",
    "view.marking": "opened, to mark, an answer by", "view.iqa_review": "opened for IQA review",
    "view.learner": "viewed the page of", "view.learner_record": "viewed the timeline of",
    "view.portfolio": "viewed the portfolio of",
    "view.portfolio_file": "opened or downloaded the portfolio file of",
    "decision.save_draft": "saved a marking draft on", "decision.release": "released a decision on",
    "decision.read": "read the feedback on",
    "evidence.add": "attached a passage as evidence to a criterion on",
    "evidence.withdraw": "withdrew an evidence passage on",
    "iqa.sample": "sampled for IQA", "iqa.review": "reviewed as IQA",
    "iqa.review_correct": "corrected an IQA review of",
    "iqa.plan": "set the IQA plan of", "privacy.export": "downloaded everything held about",
    "privacy.erase": "erased the personal data of",
    "centre.create": "added the centre", "centre.rename": "renamed the centre",
    "centre.archive": "archived the centre", "centre.unarchive": "brought back the centre",
    "audit.export": "downloaded the audit log", "job.retry": "tried again a failed email:",
    "quiz.start": "started a quiz attempt:", "quiz.submit": "submitted a quiz attempt:",
    "quiz.flag": "flagged or unflagged a question of a quiz attempt:",
    "quiz.regrade": "regraded quiz attempts:",
    "user.extra_time": "changed the extra time for timed quizzes of",
    "enrolment.import.queue": "queued a large CSV enrolment:",
    "submission.submit": "submitted", "submission.resubmit": "resubmitted",
    "originality.add_reference": "added reference texts to the originality index",
    "originality.similar_checked": "checked for similar meaning (reworded copies):",
    "originality.forget_learner": "removed the originality copies of an erased learner:",
    "originality.reindex": "rebuilt the originality index",
    "originality.reindex_requested": "asked for the originality index to be rebuilt",
    "report.export_requested": "asked for a large CSV export:",
    "report.export_download": "downloaded a large CSV export (personal data):",
    "database.restore": "restored the database from a backup",
}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---- who may manage whom ----

def managed_cohort_ids(actor: User) -> Select | None:
    """Cohorts whose learners `actor` manages, as a subquery; None means all (admins)."""
    if actor.has_role(Role.ADMIN):
        return None
    if actor.has_role(Role.COORDINATOR):
        return centre_cohort_ids(actor)
    return select(Cohort.id).where(false())


def _only_learner_role():
    """True for accounts holding no role but learner (coordinators never manage staff)."""
    return ~exists().where(UserRole.user_id == User.id, UserRole.role != str(Role.LEARNER))


def _managed_by_coordinator(actor: User):
    """Learners now in the coordinator's cohorts with no tie to any other centre."""
    in_my_cohort = exists().where(Enrolment.user_id == User.id, Enrolment.left_at.is_(None),
                                  Enrolment.cohort_id.in_(centre_cohort_ids(actor)))
    return (in_my_cohort & _only_learner_role()
            & ~ties_outside(User.id, actor_centre_ids(actor)))


def can_manage(actor: User, person: User) -> bool:
    """Admins manage everyone; coordinators the learners now in their centres' cohorts."""
    if actor.has_role(Role.ADMIN):
        return True
    if not actor.has_role(Role.COORDINATOR) or actor.id == person.id:
        return False
    return bool(db.session.scalar(select(exists().where(
        User.id == person.id, _managed_by_coordinator(actor)))))


def set_centres(person: User, wanted: set[int], actor: User) -> tuple[set[int], set[int]]:
    """Make `person` a member of exactly the centres `wanted` (admins only, audited).

    Returns (added, removed) centre ids. The caller commits. Moving a person between centres
    is how a new member of staff becomes someone a centre's coordinator can assign.
    """
    if not actor.has_role(Role.ADMIN):
        raise accounts.AccountError("Only administrators can move people between centres.")
    held = set(db.session.scalars(select(CentreMember.centre_id).where(
        CentreMember.user_id == person.id)))
    added, removed = wanted - held, held - wanted
    for centre_id in added:
        db.session.add(CentreMember(centre_id=centre_id, user_id=person.id))
    if removed:
        db.session.execute(delete(CentreMember).where(CentreMember.user_id == person.id,
                                                      CentreMember.centre_id.in_(removed)))
    if added or removed:
        audit.record("user.centres", actor=actor, subject=person, added=sorted(added),
                     removed=sorted(removed))
    return added, removed


def all_centres() -> list[Centre]:
    return list(db.session.scalars(select(Centre).order_by(Centre.name)))


# ---- the people list ----

@dataclass(frozen=True)
class PersonRow:
    user: User
    cohorts: list[str]


def search(actor: User, text: str = "", role: str = "", active: str = "",
           page: int = 1) -> Page:
    """People `actor` may manage, filtered and a page at a time, in four statements."""
    query = select(User)
    if not actor.has_role(Role.ADMIN):
        query = query.where(_managed_by_coordinator(actor) if actor.has_role(Role.COORDINATOR)
                            else false())
    if text := text.strip():
        query = query.where(or_(User.name.ilike(_like(text), escape="\\"),
                                User.email.ilike(_like(text), escape="\\")))
    if role in {r.value for r in Role}:
        query = query.where(exists().where(UserRole.user_id == User.id, UserRole.role == role))
    if active in {"yes", "no"}:
        query = query.where(User.active.is_(active == "yes"))
    found = paginate(query.order_by(User.name, User.id), page)
    users = found.rows  # roles arrive with one more statement (lazy="selectin")
    names: dict[int, list[str]] = {u.id: [] for u in users}
    if users:
        cohorts = (select(Enrolment.user_id, Cohort.name).join(Cohort)
                   .where(Enrolment.user_id.in_(names), Enrolment.left_at.is_(None))
                   .order_by(Cohort.name))
        if (scope := managed_cohort_ids(actor)) is not None:
            cohorts = cohorts.where(Cohort.id.in_(scope))
        for user_id, name in db.session.execute(cohorts):
            names[user_id].append(name)
    return found.with_rows([PersonRow(u, names[u.id]) for u in users])


# ---- one person ----

@dataclass(frozen=True)
class PersonDetail:
    user: User
    enrolments: list[Enrolment]
    centres: list[Centre]


def detail(person: User, actor: User) -> PersonDetail:
    """A person's cohorts (current and past, within the actor's scope) and centres."""
    query = (select(Enrolment, Cohort).join(Cohort).where(Enrolment.user_id == person.id)
             .order_by(Enrolment.left_at.is_not(None), Enrolment.enrolled_at.desc()))
    if (scope := managed_cohort_ids(actor)) is not None:
        query = query.where(Cohort.id.in_(scope))
    enrolments = [e for e, _ in db.session.execute(query)]
    centres = list(db.session.scalars(
        select(Centre).join(CentreMember, CentreMember.centre_id == Centre.id)
        .where(CentreMember.user_id == person.id).order_by(Centre.name)))
    return PersonDetail(person, enrolments, centres)


def set_active(person: User, active: bool, actor: User) -> bool:
    """Deactivate or reactivate an account (audited); True if it changed. The caller commits.

    A deactivated person cannot log in; everything they wrote stays.
    """
    if not active and person.id == actor.id:
        raise accounts.AccountError("You cannot deactivate your own account. Ask another "
                                    "administrator to do it.")
    if active and person.erased_at is not None:
        raise accounts.AccountError("This account's personal data was erased, so it cannot "
                                    "be reactivated.")
    if person.active == active:
        return False
    person.active = active
    ended = 0 if active else sessions.end_all(person, "deactivated")
    audit.record("user.reactivate" if active else "user.deactivate", actor=actor,
                 subject=person, sessions_ended=ended)
    return True


def set_roles(person: User, wanted: set[Role], actor: User) -> tuple[list[Role], list[Role]]:
    """Give and take away roles so the person holds exactly `wanted`; admins only, audited.

    Returns (added, removed). The caller commits.
    """
    if not actor.has_role(Role.ADMIN):
        raise accounts.AccountError("Only administrators can change roles.")
    if not wanted:
        raise accounts.AccountError("Choose at least one role.")
    if person.id == actor.id and Role.ADMIN not in wanted:
        raise accounts.AccountError("You cannot take away your own administrator role. Ask "
                                    "another administrator to do it.")
    held = person.role_set
    added = sorted(wanted - held)
    removed = sorted(held - wanted)
    for role in added:
        accounts.grant_role(person, role, actor=actor)
    for link in [r for r in person.roles if Role(r.role) in removed]:
        person.roles.remove(link)
        audit.record("user.revoke_role", actor=actor, subject=person, role=link.role)
    if removed:  # what an open session may do has changed: it must log in again
        sessions.end_all(person, "roles")
    return added, removed


# ---- the audit log ----

@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor: User | None
    subject: str

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.event.action, self.event.action)

    @property
    def sentence(self) -> str:
        """The event as a sentence with names: "Sam Patel (assessor) released a decision:
        Priya Shah (priya@example.org)." """
        if self.actor is None:
            who = "The system or the command line"
        else:
            roles = ", ".join(sorted(r.label.lower() for r in self.actor.role_set))
            who = f"{self.actor.name} ({roles})" if roles else self.actor.name
        verb = SENTENCE_VERBS.get(self.event.action)
        if verb is None:  # an action without words of its own: its label, then the subject
            return f"{who}: {self.action_label}" + (f" ({self.subject})" if self.subject
                                                    else "") + "."
        return f"{who} {verb}" + (f" {self.subject}" if self.subject else "") + "."


def stored_actions() -> set[str]:
    """Every action in the audit log, read as a skip through the index on action (one seek
    per different action: a recursive query), not a DISTINCT over millions of rows."""
    action = AuditEvent.action
    found = select(func.min(action).label("action")).cte("found", recursive=True)
    found = found.union_all(
        select(select(func.min(action)).where(action > found.c.action).scalar_subquery())
        .where(found.c.action.is_not(None)))
    return set(db.session.scalars(select(found.c.action).where(found.c.action.is_not(None))))


def audit_actions() -> list[tuple[str, str]]:
    """Every action that is known or has happened, as (action, words), sorted by the words."""
    actions = set(ACTION_LABELS) | stored_actions()
    return sorted(((a, ACTION_LABELS.get(a, a)) for a in actions), key=lambda p: p[1].lower())


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of a day in the display zone, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class AuditFilters:
    """The audit log's filters: an action, part of the email of who did it or of whom it is
    about, and whole days in the display zone (both included)."""

    action: str = ""
    actor_email: str = ""
    about_email: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _people_matching(email: str):
    return select(User.id).where(User.email.ilike(_like(email.lower()), escape="\\"))


def _audit_query(filters: AuditFilters, zone: ZoneInfo):
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if email := filters.actor_email.strip():
        query = query.where(AuditEvent.actor_id.in_(_people_matching(email)))
    if email := filters.about_email.strip():
        query = query.where(AuditEvent.subject_type == "User", AuditEvent.subject_id.in_(
            select(cast(User.id, String)).where(User.id.in_(_people_matching(email)))))
    if filters.date_from:
        query = query.where(AuditEvent.at >= _day_start(filters.date_from, zone))
    if filters.date_to:
        query = query.where(AuditEvent.at < _day_start(filters.date_to + timedelta(days=1),
                                                       zone))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _rows(events: list[AuditEvent]) -> list[AuditRow]:
    actors = _people({e.actor_id for e in events if e.actor_id is not None})
    return [AuditRow(event, actors.get(event.actor_id) if event.actor_id else None, label)
            for event, label in zip(events, _subject_labels(events), strict=True)]


def audit_page(filters: AuditFilters, page: int = 1, zone: ZoneInfo | None = None) -> Page:
    """Audit events newest first, filtered.

    A fixed number of statements: the page, a count, and one look-up each for the actors
    (with their roles) and for the names of people and cohorts the events are about.
    """
    found = paginate(_audit_query(filters, zone or ZoneInfo(DEFAULT_ZONE)), page)
    return found.with_rows(_rows(found.rows))


#: Events read at a time for the CSV file: flat memory however long the log.
AUDIT_CHUNK = 500


def audit_rows(filters: AuditFilters, zone: ZoneInfo) -> Iterator[AuditRow]:
    """Every matching event, newest first, for the CSV file (a few statements a chunk)."""
    result = db.session.execute(_audit_query(filters, zone).execution_options(
        yield_per=AUDIT_CHUNK))
    for chunk in result.scalars().partitions(AUDIT_CHUNK):
        yield from _rows(list(chunk))


def _people(ids: set[int]) -> dict[int, User]:
    """The people with these ids, in one statement (none when there are no ids)."""
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _subject_labels(events: list[AuditEvent]) -> list[str]:
    """Words for what each event is about: a person's name and email, a cohort's name."""
    def ids(kind: str) -> set[int]:
        return {int(e.subject_id) for e in events
                if e.subject_type == kind and e.subject_id and e.subject_id.isdigit()}

    people, cohorts = ids("User"), ids("Cohort")
    users = {i: f"{name} ({email})" for i, name, email in db.session.execute(
        select(User.id, User.name, User.email).where(User.id.in_(people)))} if people else {}
    groups = {i: f"Cohort {name}" for i, name in db.session.execute(
        select(Cohort.id, Cohort.name).where(Cohort.id.in_(cohorts)))} if cohorts else {}
    labels = []
    for e in events:
        key = int(e.subject_id) if e.subject_id and e.subject_id.isdigit() else None
        if e.subject_type == "User" and key in users:
            labels.append(users[key])
        elif e.subject_type == "Cohort" and key in groups:
            labels.append(groups[key])
        elif e.subject_type:
            labels.append(f"{e.subject_type} {e.subject_id or ''}".strip())
        else:
            labels.append("")
    return labels


# ---- the outbox ----

@dataclass(frozen=True)
class OutboxRow:
    job: jobs.Job
    #: What the job is (an email: to whom, and what it says), any set-password link hidden.
    summary: str
    last_error: str


def outbox_page(group: str, number: int) -> Page:
    """Page `number` of the outbox's jobs in `group` (core.jobs.GROUPS), for administrators:
    a set-password link is never shown, so reading the outbox gives nobody a way in."""
    found = jobs.listing(group, number)
    return found.with_rows([OutboxRow(job, invitations.mask_links(jobs.describe(job)),
                                      invitations.mask_links(job.last_error))
                            for job in found.rows])
