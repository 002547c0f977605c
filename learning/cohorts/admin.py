"""Running cohorts: create, edit and archive them; assign staff; enrol, remove and move learners.

Coordinators manage the cohorts of their own centres; admins manage every cohort. Every write
leaves an audit record and commits. Nothing is deleted: archiving hides a cohort, removing a
learner sets left_at, moving a learner closes one enrolment and opens another. A learner's
progress, quiz attempts and submissions are keyed to the learner, never to a cohort, so they
follow the learner wherever they are enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from learning.core import audit
from learning.core.extensions import db
from learning.core.names import name_problem
from learning.core.types import utcnow
from learning.people import membership as cohorts
from learning.people.models import Centre, CentreMember, Cohort, CohortStaff, Enrolment, Role, User
from learning.people.permissions import (
    COORDINATOR_MANAGES,
    OTHER_CENTRE,
    actor_centre_ids,
    centre_cohort_ids,
    holds_only,
    ties_inside,
    ties_outside,
    within_reach,
)


class CohortError(Exception):
    """The change cannot be made as asked; the message says why. `field` names the form
    field to show it against, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- who may manage what ----

def managed_centre_ids(user: User) -> set[int] | None:
    """Centres whose cohorts this person manages; None means every centre (admins)."""
    if user.has_role(Role.ADMIN):
        return None
    if not user.has_role(Role.COORDINATOR):
        return set()
    return set(db.session.scalars(
        select(CentreMember.centre_id).where(CentreMember.user_id == user.id)))


def can_manage(user: User, cohort: Cohort) -> bool:
    """Admins manage every cohort; coordinators the cohorts of their centres."""
    centres = managed_centre_ids(user)
    return centres is None or (cohort.centre_id is not None and cohort.centre_id in centres)


def managed_centres(user: User, keep: int | None = None) -> list[Centre]:
    """Centres a new or edited cohort may belong to, by name: not archived ones, except
    `keep` (the centre an edited cohort belongs to now)."""
    query = select(Centre).where(or_(Centre.archived.is_(False), Centre.id == keep)) \
        .order_by(Centre.name)
    centres = managed_centre_ids(user)
    if centres is not None:
        query = query.where(Centre.id.in_(centres))
    return list(db.session.scalars(query))


def _managed_query(user: User):
    query = select(Cohort)
    if user.has_role(Role.ADMIN):
        return query
    if user.has_role(Role.COORDINATOR):
        return query.where(Cohort.id.in_(centre_cohort_ids(user)))
    return query.where(false())


def managed_cohorts(user: User, include_archived: bool = False) -> list[Cohort]:
    """Cohorts this person manages, by name."""
    query = _managed_query(user).order_by(Cohort.name)
    if not include_archived:
        query = query.where(Cohort.archived.is_(False))
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class CohortSummary:
    cohort: Cohort
    centre_name: str | None
    learners: int


def cohort_list(user: User, include_archived: bool = False) -> list[CohortSummary]:
    """The cohorts a coordinator or admin manages, with centre and learner count (3 queries)."""
    found = managed_cohorts(user, include_archived)
    ids = [c.id for c in found]
    counts: dict[int, int] = {}
    centres: dict[int | None, str] = {}
    if ids:
        counts = dict(db.session.execute(
            select(Enrolment.cohort_id, func.count(func.distinct(Enrolment.user_id)))
            .where(Enrolment.cohort_id.in_(ids), Enrolment.left_at.is_(None))
            .group_by(Enrolment.cohort_id)).all())
        centre_ids = {c.centre_id for c in found if c.centre_id}
        if centre_ids:
            centres = dict(db.session.execute(
                select(Centre.id, Centre.name).where(Centre.id.in_(centre_ids))).all())
    return [CohortSummary(c, centres.get(c.centre_id), counts.get(c.id, 0)) for c in found]


# ---- the cohort itself ----

def name_taken(name: str, exclude_id: int | None = None) -> bool:
    """Is another cohort called this (ignoring case and surrounding spaces)?"""
    query = select(Cohort.id).where(func.lower(Cohort.name) == name.strip().lower())
    if exclude_id is not None:
        query = query.where(Cohort.id != exclude_id)
    return db.session.scalar(query.limit(1)) is not None


def _check(actor: User, name: str, starts_on: date | None, ends_on: date | None,
           centre_id: int | None, exclude_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise CohortError("Enter a name for the cohort.", "name")
    if problem := name_problem(name, "The cohort name"):
        raise CohortError(problem, "name")
    if name_taken(name, exclude_id):
        raise CohortError(f"There is already a cohort called {name}: choose another name.",
                          "name")
    if starts_on and ends_on and ends_on < starts_on:
        raise CohortError("The end date must be the same as or after the start date.",
                          "ends_on")
    centres = managed_centre_ids(actor)
    if centres is not None and centre_id not in centres:
        raise CohortError("Choose one of your centres.", "centre_id")
    return name


def create_cohort(actor: User, *, name: str, starts_on: date | None, ends_on: date | None,
                  unit_id: str | None, centre_id: int | None) -> Cohort:
    """Make a cohort in one of the actor's centres; commits."""
    name = _check(actor, name, starts_on, ends_on, centre_id)
    cohort = Cohort(name=name, starts_on=starts_on, ends_on=ends_on, unit_id=unit_id or None,
                    centre_id=centre_id)
    db.session.add(cohort)
    _commit_name(name, flush=True)
    audit.record("cohort.create", actor=actor, subject=cohort, name=name,
                 starts_on=_iso(starts_on), ends_on=_iso(ends_on), unit_id=unit_id,
                 centre_id=centre_id)
    _commit_name(name)
    return cohort


def update_cohort(cohort: Cohort, actor: User, *, name: str, starts_on: date | None,
                  ends_on: date | None, unit_id: str | None, centre_id: int | None) -> dict:
    """Change a cohort's details; commits and returns what changed (field -> [old, new])."""
    name = _check(actor, name, starts_on, ends_on, centre_id, exclude_id=cohort.id)
    new = {"name": name, "starts_on": starts_on, "ends_on": ends_on,
           "unit_id": unit_id or None, "centre_id": centre_id}
    changes = {}
    for key, value in new.items():
        old = getattr(cohort, key)
        if old != value:
            changes[key] = [_iso(old), _iso(value)]
            setattr(cohort, key, value)
    if changes:
        audit.record("cohort.update", actor=actor, subject=cohort, changes=changes)
        _commit_name(name)
    return changes


def _commit_name(name: str, flush: bool = False) -> None:
    """Commit (or flush); if someone took the name a moment ago, say so instead of failing."""
    try:
        db.session.flush() if flush else db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise CohortError(f"There is already a cohort called {name}: choose another name.",
                          "name") from exc


def set_archived(cohort: Cohort, archived: bool, actor: User) -> None:
    """Archive (hide from day-to-day lists) or bring back a cohort; nothing is deleted."""
    if cohort.archived == archived:
        return
    cohort.archived = archived
    audit.record("cohort.archive" if archived else "cohort.unarchive", actor=actor,
                 subject=cohort)
    db.session.commit()


def _iso(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


# ---- people in the cohort ----

def current_enrolments(cohort: Cohort) -> list[Enrolment]:
    """Learners in the cohort now, by name, with their accounts (two queries)."""
    return list(db.session.scalars(
        select(Enrolment).join(Enrolment.user)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.left_at.is_(None))
        .options(selectinload(Enrolment.user))
        .order_by(User.name, User.id)))


@dataclass(frozen=True)
class CohortStaffing:
    assessors: list[User]
    iqa: User | None


def staffing(cohort: Cohort) -> CohortStaffing:
    """The cohort's assessors and its IQA (two queries)."""
    rows = list(db.session.scalars(
        select(CohortStaff).join(CohortStaff.user).where(CohortStaff.cohort_id == cohort.id)
        .options(selectinload(CohortStaff.user)).order_by(User.name, User.id)))
    assessors = [r.user for r in rows if r.role == Role.ASSESSOR.value]
    iqas = [r for r in rows if r.role == Role.IQA.value]
    latest = max(iqas, key=lambda r: r.assigned_at, default=None)
    return CohortStaffing(assessors, latest.user if latest else None)


def candidates(role: Role, actor: User) -> list[User]:
    """Active accounts holding the role, by name: who `actor` may assign as assessor or IQA.

    A coordinator sees only their own centre's people (tied to it and to no other centre),
    never another centre's staff.
    """
    query = select(User).where(User.active.is_(True), User.roles.any(role=str(role)))
    if not actor.has_role(Role.ADMIN):
        centres = actor_centre_ids(actor)
        query = query.where(ties_inside(User.id, centres), ~ties_outside(User.id, centres),
                            holds_only(COORDINATOR_MANAGES), User.id != actor.id)
    return list(db.session.scalars(query.order_by(User.name, User.id)))


def _assign(cohort: Cohort, person: User, role: Role, actor: User) -> None:
    """The shared checks for putting someone on a cohort's staff; the caller commits."""
    if not within_reach(actor, person):
        raise CohortError(OTHER_CENTRE, "user_id")
    try:
        cohorts.assign_staff(person, cohort, role, actor=actor)
    except cohorts.ConflictOfInterest as exc:
        raise CohortError(str(exc), "user_id") from exc


def assign_assessor(cohort: Cohort, assessor: User, actor: User) -> bool:
    """Add an assessor to the cohort (a cohort may have several); commits. False if they
    were already assigned."""
    if not assessor.has_role(Role.ASSESSOR) or not assessor.active:
        raise CohortError("Choose an active assessor.", "user_id")
    if db.session.get(CohortStaff, (cohort.id, assessor.id, Role.ASSESSOR.value)):
        return False
    _assign(cohort, assessor, Role.ASSESSOR, actor)
    db.session.commit()
    return True


def set_iqa(cohort: Cohort, iqa: User, actor: User) -> User | None:
    """Make this person the cohort's IQA, replacing any previous one; commits. Returns the
    IQA replaced (None if there was none or it is the same person)."""
    if not iqa.has_role(Role.IQA) or not iqa.active:
        raise CohortError("Choose an active internal quality assurer.", "user_id")
    if not within_reach(actor, iqa):  # checked before the old IQA is taken off
        raise CohortError(OTHER_CENTRE, "user_id")
    if cohorts.is_learner_in(iqa, cohort):
        raise CohortError(f"{iqa.name} is a learner in {cohort.name}, so cannot also "
                          "quality-assure it.", "user_id")
    current = list(db.session.scalars(select(CohortStaff).where(
        CohortStaff.cohort_id == cohort.id, CohortStaff.role == Role.IQA.value)))
    replaced = None
    for row in current:
        if row.user_id == iqa.id:
            continue
        replaced = db.session.get(User, row.user_id)
        db.session.delete(row)
        audit.record("cohort.unassign", actor=actor, subject=cohort, user_id=row.user_id,
                     role=Role.IQA.value, replaced_by=iqa.id)
    if not any(r.user_id == iqa.id for r in current):
        cohorts.assign_staff(iqa, cohort, Role.IQA, actor=actor)
    db.session.commit()
    return replaced


def unassign(cohort: Cohort, user: User, role: Role, actor: User) -> None:
    """Take an assessor or the IQA off the cohort; their past decisions stay; commits."""
    row = db.session.get(CohortStaff, (cohort.id, user.id, str(role)))
    if row is None:
        raise CohortError(f"{user.name} is not assigned to this cohort.")
    db.session.delete(row)
    audit.record("cohort.unassign", actor=actor, subject=cohort, user_id=user.id,
                 role=str(role))
    db.session.commit()


def current_enrolment(cohort: Cohort, learner: User) -> Enrolment | None:
    """The learner's open enrolment in this cohort, if they are in it now."""
    return db.session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.user_id == learner.id,
        Enrolment.left_at.is_(None)))


class AlreadyElsewhere(CohortError):
    """The learner is in other cohorts now: ask whether to move them here or add them.
    `movable`: the one cohort they can be moved out of (one the person manages), or None."""

    def __init__(self, learner: User, others: list[Cohort], movable: Cohort | None):
        names = ", ".join(c.name for c in others)
        super().__init__(f"{learner.name} is already in {names}. Choose whether to move them "
                         "here or add them to this cohort as well.", "choice")
        self.learner, self.others, self.movable = learner, others, movable


def _other_cohorts(learner: User, cohort: Cohort) -> list[Cohort]:
    return list(db.session.scalars(
        select(Cohort).join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.user_id == learner.id, Enrolment.left_at.is_(None),
               Cohort.id != cohort.id).order_by(Cohort.name)))


def enrol_by_email(cohort: Cohort, email: str, actor: User, choice: str | None = None) -> User:
    """Enrol an existing learner account, found by email address; commits.

    A learner already in another cohort is not silently doubled up: without `choice` this
    asks (AlreadyElsewhere); "add" enrols them here as well, "move" takes them out of their
    one other cohort (only one the person manages) and in here, their work coming with them.
    """
    if cohort.archived:
        raise CohortError("This cohort is archived: bring it back before enrolling learners.",
                          "email")
    learner = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if learner is None or not learner.has_role(Role.LEARNER):
        raise CohortError("There is no learner account with that email address. Check it, "
                          "or ask an administrator to create the account.", "email")
    if not learner.active:
        raise CohortError(f"{learner.name}'s account is deactivated.", "email")
    if not within_reach(actor, learner):
        raise CohortError(OTHER_CENTRE, "email")
    if current_enrolment(cohort, learner):
        raise CohortError(f"{learner.name} is already in this cohort.", "email")
    others = _other_cohorts(learner, cohort)
    if others and choice not in ("add", "move"):
        movable = others[0] if len(others) == 1 and can_manage(actor, others[0]) else None
        raise AlreadyElsewhere(learner, others, movable)
    if others and choice == "move":
        if len(others) != 1 or not can_manage(actor, others[0]):
            raise CohortError(f"{learner.name} can only be added here: they are in "
                              f"{', '.join(c.name for c in others)}, which you cannot move "
                              "them out of.", "choice")
        move_learner(learner, others[0], cohort, actor)
        return learner
    try:
        cohorts.enrol(learner, cohort, actor=actor)
    except cohorts.ConflictOfInterest as exc:
        raise CohortError(str(exc), "email") from exc
    db.session.commit()
    return learner


def remove_learner(cohort: Cohort, learner: User, actor: User,
                   now: datetime | None = None) -> None:
    """End the learner's membership (sets left_at); everything they wrote stays; commits."""
    enrolment = current_enrolment(cohort, learner)
    if enrolment is None:
        raise CohortError(f"{learner.name} is not in this cohort.")
    enrolment.left_at = max(now or utcnow(), enrolment.enrolled_at)
    audit.record("cohort.remove", actor=actor, subject=cohort, learner_id=learner.id)
    db.session.commit()


def move_targets(user: User, cohort: Cohort) -> list[Cohort]:
    """Other cohorts, not archived, that the person manages: where a learner may move to."""
    return [c for c in managed_cohorts(user) if c.id != cohort.id]


def move_learner(learner: User, source: Cohort, target: Cohort, actor: User,
                 now: datetime | None = None) -> None:
    """Move a learner to another cohort: leave the old one, join the new one; commits.

    Progress, quiz attempts and submissions belong to the learner, so they come along:
    the new cohort's assessors and IQA see them at once.
    """
    if target.id == source.id:
        raise CohortError("Choose a different cohort from the one they are in.", "target")
    if target.archived:
        raise CohortError(f"{target.name} is archived: choose another cohort.", "target")
    if not can_manage(actor, target):
        raise CohortError("Choose one of the cohorts you manage.", "target")
    enrolment = current_enrolment(source, learner)
    if enrolment is None:
        raise CohortError(f"{learner.name} is not in {source.name}.")
    now = now or utcnow()
    if cohorts.is_staff_of(learner, target):
        raise CohortError(f"{learner.name} is an assessor or IQA of {target.name}, so cannot "
                          "be a learner in it.", "target")
    enrolment.left_at = max(now, enrolment.enrolled_at)
    if current_enrolment(target, learner) is None:
        db.session.add(Enrolment(user=learner, cohort=target, enrolled_at=now))
    audit.record("cohort.move", actor=actor, subject=learner, from_cohort=source.id,
                 to_cohort=target.id)
    db.session.commit()
