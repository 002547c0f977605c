"""Erasure: a learner's personal data removed, their assessment decisions kept anonymised.

The house rule is that nothing a learner or assessor wrote is ever hard-deleted by a normal
action. Erasure is the one deliberate exception: an administrator does it on the learner's
request (after a confirmation step), or `flask data retention --apply` does it when the
retention period is over, and both leave an audit record.

What goes: the name, email and learner reference (replaced by placeholders), the password, every
login, the learner's own notifications and the emails in the outbox addressed to them, their
writing (saved versions deleted, except the one each submission round was made from, whose text
is replaced; submitted text and sources replaced; what the writing page recorded of how they
wrote, pasted text included, deleted), the typed words of short quiz answers, the
assessor's feedback and comments on their work (it quotes and describes it), their originality
fingerprints, and the passages of their work quoted in other learners' originality reports.
The name is also replaced wherever it was written into text that is kept (IQA comments, other
people's notifications and emails in the outbox, audit details).

What stays, for the awarding body: each decision's outcome, the criteria met or not yet met,
the dates, the assessor, the IQA samples and reviews, cohort membership, module progress, quiz
scores and the audit trail, all attached to the placeholder "Erased learner #<id>".
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, exists, func, or_, select, update

from learning.assessment.models import (
    CriterionDecision,
    Decision,
    DraftVersion,
    Evidence,
    Submission,
    SubmittedWork,
    WritingActivity,
)
from learning.assessment.originality import index as originality
from learning.assessment.originality.models import TextSource
from learning.core import audit
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.core.rendering import render_answer
from learning.iqa.models import IqaReview, IqaSample
from learning.people import sessions
from learning.people.models import Invitation, Notification, Role, User
from learning.quizzes.models import QuizAnswer, QuizAttempt

#: What replaces erased text that must keep its row (a submission round, a short answer,
#: feedback): it says what happened instead of leaving a puzzling blank.
ERASED = "[Erased with the learner's personal data]"
#: Name parts shorter than this are left alone in kept text ("Al" is a name, "a" is not),
#: and so are learner references shorter than _MIN_REF (a "12" would match any number).
_MIN_NAME_PART = 2
_MIN_REF = 4


class ErasureRefused(Exception):
    """This person's data cannot be erased here; the message says why."""


def placeholder_name(user_id: int) -> str:
    return f"Erased learner #{user_id}"


def placeholder_email(user_id: int) -> str:
    """Unique, and never delivered: .invalid is reserved for exactly this (RFC 2606)."""
    return f"erased-{user_id}@erased.invalid"


def confirms(typed: str | None, email: str) -> bool:
    """The confirmation step: the administrator types the person's email address."""
    return (typed or "").strip().lower() == email.strip().lower()


def refusal(roles: frozenset[Role], erased: bool, is_self: bool, made_decisions: bool) -> str:
    """Why this person's data may not be erased ("" when it may)."""
    if erased:
        return "This person's personal data has already been erased."
    if is_self:
        return "You cannot erase your own personal data. Ask another administrator."
    if roles - {Role.LEARNER}:
        return ("This person holds a staff role. Erasure here is for learners: staff records "
                "(decisions, reviews) are kept for the awarding body.")
    if made_decisions:
        return ("This person has made assessment decisions or IQA reviews, which are kept for "
                "the awarding body, so their name must stay on them.")
    return ""


def refusal_for(person: User, actor: User | None) -> str:
    """`refusal` with the facts read from the database."""
    made = db.session.scalar(select(
        exists().where(Decision.assessor_id == person.id)
        | exists().where(IqaReview.iqa_id == person.id)))
    return refusal(person.role_set, person.erased_at is not None,
                   actor is not None and actor.id == person.id, bool(made))


# ---- what erasure changes (for the confirmation page and the dry run) ----

@dataclass(frozen=True)
class Changes:
    """How many records erasure removes or changes, and how many decisions it keeps."""

    versions_deleted: int = 0
    versions_blanked: int = 0
    rounds_blanked: int = 0
    decisions_kept: int = 0
    reviews_kept: int = 0
    short_answers_blanked: int = 0
    originality_copies_removed: int = 0
    notifications_deleted: int = 0
    writing_activity_deleted: int = 0

    def in_words(self) -> str:
        return (f"{self.versions_deleted + self.versions_blanked} saved versions, "
                f"{self.writing_activity_deleted} records of how they wrote, "
                f"{self.rounds_blanked} submission rounds, {self.short_answers_blanked} short "
                f"quiz answers, {self.originality_copies_removed} originality copies and "
                f"{self.notifications_deleted} notifications erased; {self.decisions_kept} "
                f"decisions and {self.reviews_kept} IQA reviews kept anonymised")


def _submission_ids(person: User):
    return select(Submission.id).where(Submission.learner_id == person.id)


def _work_ids(person: User):
    return select(SubmittedWork.id).where(SubmittedWork.submission_id.in_(_submission_ids(person)))


def _decision_ids(person: User):
    return select(Decision.id).where(Decision.work_id.in_(_work_ids(person)))


def _kept_version_ids(person: User):
    """Versions a submission round was made from: their rows stay (blanked) for the round."""
    return select(SubmittedWork.draft_version_id).where(
        SubmittedWork.submission_id.in_(_submission_ids(person)))


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _short_answers(person: User) -> list[QuizAnswer]:
    """The learner's answers to short-answer questions (their own typed words)."""
    found = []
    for attempt in db.session.scalars(select(QuizAttempt).where(
            QuizAttempt.user_id == person.id)):
        typed = {item["question"]["id"] for item in attempt.questions
                 if item["question"].get("type") == "short"}
        found += [a for a in attempt.answers if a.question_id in typed and a.answer is not None
                  and a.answer != ERASED]
    return found


def preview(person: User) -> Changes:
    """What `erase` would change, without changing anything."""
    versions = select(DraftVersion.id).where(
        DraftVersion.submission_id.in_(_submission_ids(person)))
    return Changes(
        versions_deleted=_count(versions.where(DraftVersion.id.not_in(_kept_version_ids(person)))),
        versions_blanked=_count(versions.where(DraftVersion.id.in_(_kept_version_ids(person)))),
        rounds_blanked=_count(_work_ids(person)),
        decisions_kept=_count(_decision_ids(person)),
        reviews_kept=_count(select(IqaReview.id).join(IqaSample).where(
            IqaSample.decision_id.in_(_decision_ids(person)))),
        short_answers_blanked=len(_short_answers(person)),
        originality_copies_removed=_count(select(TextSource.id).where(
            TextSource.owner_user_id == person.id)),
        notifications_deleted=_count(select(Notification.id).where(
            Notification.user_id == person.id)),
        writing_activity_deleted=_count(select(WritingActivity.id).where(
            WritingActivity.submission_id.in_(_submission_ids(person)))),
    )


# ---- replacing a name inside kept text (pure) ----

@dataclass(frozen=True)
class Identity:
    """What identifies a person in free text: whole strings (matched in any case) and the
    parts of their name (matched only as written, capitalised: "Will" but not "will")."""

    whole: tuple[str, ...]
    parts: tuple[str, ...]


def identity(name: str, email: str, learner_ref: str | None) -> Identity:
    whole = [name.strip(), email.strip()]
    if learner_ref and len(learner_ref.strip()) >= _MIN_REF:
        whole.append(learner_ref.strip())
    parts = [p for p in re.split(r"[\s,]+", name) if len(p) >= _MIN_NAME_PART]
    return Identity(tuple(w for w in dict.fromkeys(whole) if w),
                    tuple(p for p in dict.fromkeys(parts) if p not in whole))


def scrub(text: str, who: Identity, placeholder: str) -> str:
    """`text` with every whole-word occurrence of the person's identifiers replaced."""
    for needle, flags in sorted([(w, re.IGNORECASE) for w in who.whole]
                                + [(p, 0) for p in who.parts], key=lambda n: -len(n[0])):
        text = re.sub(rf"(?<!\w){re.escape(needle)}(?!\w)", placeholder, text, flags=flags)
    return text


def scrub_json(value: Any, who: Identity, placeholder: str) -> Any:
    if isinstance(value, str):
        return scrub(value, who, placeholder)
    if isinstance(value, list):
        return [scrub_json(v, who, placeholder) for v in value]
    if isinstance(value, dict):
        return {k: scrub_json(v, who, placeholder) for k, v in value.items()}
    return value


def without_source(report: dict[str, Any], owner_id: int) -> dict[str, Any]:
    """An originality report with the passages of `owner_id`'s work taken out (pure)."""
    matches = []
    for match in report.get("matches", []):
        if match.get("owner_user_id") == owner_id:
            match = {**match, "label": "An erased learner's submission", "ref": None,
                     "passages": [{**p, "source_text": ERASED, "source_before": "",
                                   "source_after": ""} for p in match.get("passages", [])]}
        matches.append(match)
    # "Similar meaning" passages (reworded copies) quote the source's sentences too.
    similar = [{**m, "label": "An erased learner's submission", "ref": None,
                "passages": [{**p, "source_text": ERASED} for p in m.get("passages", [])]}
               if m.get("owner_user_id") == owner_id else m for m in report.get("similar", [])]
    return {**report, "matches": matches, **({"similar": similar} if "similar" in report else {})}


# ---- erasing ----

def erase(person: User, actor: User | None, reason: str, now: datetime, **detail) -> Changes:
    """Erase `person`'s personal data and keep their decisions anonymised; the caller commits.

    `reason` is "request" (an administrator, after confirming) or "retention" (the command);
    `detail` goes into the audit record. Raises ErasureRefused when `refusal_for` says no.
    """
    if why := refusal_for(person, actor):
        raise ErasureRefused(why)
    changes = preview(person)
    placeholder = placeholder_name(person.id)
    who = identity(person.name, person.email, person.learner_ref)
    _erase_writing(person)
    _erase_quiz_words(person)
    _erase_feedback(person)
    _scrub_kept_text(person, who, placeholder)
    originality.forget_learner(person.id)
    _scrub_other_reports(person.id)
    db.session.execute(delete(Notification).where(Notification.user_id == person.id))
    db.session.execute(update(Invitation).where(Invitation.user_id == person.id,
                                                Invitation.used_at.is_(None))
                       .values(used_at=now))
    ended = sessions.end_all(person, "erased")
    person.name, person.email = placeholder, placeholder_email(person.id)
    person.learner_ref = person.password_hash = person.last_login_at = None
    person.extra_time_percent = 0
    person.active, person.erased_at = False, now
    audit.record("privacy.erase", actor=actor, subject=person, reason=reason,
                 sessions_ended=ended, **asdict(changes), **detail)
    return changes


def _erase_writing(person: User) -> None:
    subs = _submission_ids(person)
    # How they wrote (typing, time, pasted text) serves only the report on their own work,
    # which the awarding body does not need once the text itself is gone.
    db.session.execute(delete(WritingActivity).where(WritingActivity.submission_id.in_(subs)))
    db.session.execute(delete(DraftVersion).where(
        DraftVersion.submission_id.in_(subs), DraftVersion.id.not_in(_kept_version_ids(person))))
    html = str(render_answer(ERASED))
    db.session.execute(update(DraftVersion).where(DraftVersion.submission_id.in_(subs))
                       .values(text=ERASED, html=html))
    db.session.execute(update(SubmittedWork).where(SubmittedWork.submission_id.in_(subs))
                       .values(text=ERASED, html=html, sources="", originality_report=None))


def _erase_quiz_words(person: User) -> None:
    for answer in _short_answers(person):
        answer.answer = ERASED


def _erase_feedback(person: User) -> None:
    """Feedback and comments describe and quote the work, so they go; outcomes stay."""
    decisions = _decision_ids(person)
    db.session.execute(update(Decision).where(Decision.id.in_(decisions), Decision.feedback != "")
                       .values(feedback=ERASED))
    db.session.execute(update(Decision).where(Decision.id.in_(decisions), Decision.actions != "")
                       .values(actions=ERASED))
    db.session.execute(update(CriterionDecision).where(
        CriterionDecision.decision_id.in_(decisions), CriterionDecision.comment != "")
        .values(comment=ERASED))
    # An evidence passage quotes the answer and its note describes it; which criterion and
    # met or not yet met stay, as the outcomes do.
    db.session.execute(update(Evidence).where(Evidence.work_id.in_(_work_ids(person)))
                       .values(quote=ERASED))
    db.session.execute(update(Evidence).where(Evidence.work_id.in_(_work_ids(person)),
                                              Evidence.note != "").values(note=ERASED))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _mentions(column, who: Identity):
    """SQL: the column holds a whole identifier, as typed or as JSON escapes it."""
    forms = {form for needle in who.whole for form in (needle, json.dumps(needle)[1:-1])}
    return or_(*(column.ilike(_like(form), escape="\\") for form in forms))


def _scrub_kept_text(person: User, who: Identity, placeholder: str) -> None:
    """The person's name, email and reference out of text that is kept: IQA comments on their
    work (read whole), other people's notifications and audit details (found by SQL)."""
    for review in db.session.scalars(select(IqaReview).join(IqaSample).where(
            IqaSample.decision_id.in_(_decision_ids(person)))):
        review.comments = scrub(review.comments, who, placeholder)
        review.action = scrub(review.action, who, placeholder)
    for note in db.session.scalars(select(Notification).where(
            Notification.user_id != person.id, _mentions(Notification.message, who))):
        note.message = scrub(note.message, who, placeholder)
    for event in db.session.scalars(select(AuditEvent).where(
            _mentions(cast(AuditEvent.detail, Text), who))):
        event.detail = scrub_json(event.detail, who, placeholder)
    _scrub_outbox(person, who, placeholder)


def _scrub_outbox(person: User, who: Identity, placeholder: str) -> None:
    """Emails to the person go, sent or not (an unsent one must not reach them now); jobs
    that name them (an assessor's "Ottoline submitted ...") keep their place, scrubbed."""
    for job in db.session.scalars(select(Job).where(_mentions(cast(Job.payload, Text), who))):
        if (job.payload or {}).get("user_id") == person.id:
            db.session.delete(job)
        else:
            job.payload = scrub_json(job.payload, who, placeholder)


def _scrub_other_reports(owner_id: int) -> None:
    """Other learners' originality reports quote this learner's work: take the passages out."""
    mentions = or_(*(cast(SubmittedWork.originality_report, Text).like(f'%"owner_user_id":{gap}'
                                                                        f'{owner_id}%')
                     for gap in ("", " ")))
    for work in db.session.scalars(select(SubmittedWork).where(mentions)):
        report = work.originality_report or {}
        if any(m.get("owner_user_id") == owner_id
               for m in report.get("matches", []) + report.get("similar", [])):
            work.originality_report = without_source(report, owner_id)
