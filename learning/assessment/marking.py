"""Assessors' work: the marking queue, criterion decisions, release, and what changed."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, exists, func, select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from learning.assessment.models import (
    CriterionDecision,
    Decision,
    Submission,
    SubmissionStatus,
    SubmittedWork,
)
from learning.assessment.signals import decision_released
from learning.content.tasks import Task
from learning.core import audit
from learning.core.extensions import db
from learning.people.models import Cohort, CohortStaff, Enrolment, Role, User
from learning.people.notifications import notify

#: Statuses that wait for an assessor.
WAITING = (SubmissionStatus.SUBMITTED.value, SubmissionStatus.BEING_MARKED.value)


class MarkingError(Exception):
    """The decision cannot be saved as it is; the message says what to fix."""


def can_mark(user: User, sub: Submission) -> bool:
    """Assessors mark learners in the cohorts they are assigned to, never their own work."""
    if not user.has_role(Role.ASSESSOR) or user.id == sub.learner_id:
        return False
    return bool(db.session.scalar(select(
        select(Enrolment.id).join(CohortStaff, CohortStaff.cohort_id == Enrolment.cohort_id)
        .where(Enrolment.user_id == sub.learner_id, Enrolment.left_at.is_(None),
               CohortStaff.user_id == user.id, CohortStaff.role == Role.ASSESSOR.value)
        .exists())))


#: Statuses of work whose decision has been released (and no IQA action reopened it).
DECIDED = (SubmissionStatus.ACHIEVED.value, SubmissionStatus.REFERRED.value)


def assessed_cohorts(assessor: User):
    """The cohorts this person assesses, as a subquery: the queue's scope, whatever other
    roles they hold."""
    return select(CohortStaff.cohort_id).where(CohortStaff.user_id == assessor.id,
                                               CohortStaff.role == Role.ASSESSOR.value)


def in_queue_scope(assessor: User):
    """SQL condition on Submission: the learner is now in a cohort this person assesses, and
    is not the assessor (an assessor who is also a learner does not mark themselves)."""
    return Submission.learner_id.in_(
        select(Enrolment.user_id).where(Enrolment.left_at.is_(None),
                                        Enrolment.cohort_id.in_(assessed_cohorts(assessor)))
    ) & (Submission.learner_id != assessor.id)


@dataclass(frozen=True)
class QueueRow:
    submission: Submission
    cohort: Cohort
    work: SubmittedWork
    days_waiting: int
    #: The latest released decision (the "released" filter only).
    released: Decision | None = None


def queue(assessor: User, now: datetime, cohort_id: int | None = None,
          task_slug: str | None = None, status: str | None = None) -> list[QueueRow]:
    """Work waiting for this assessor's cohorts, oldest first (a fixed number of queries).

    status "resubmitted": waiting work that is a resubmission. status "released": work whose
    decision has been released, newest submission first, each row with its latest released
    decision.
    """
    released = status == "released"
    rounds = selectinload(Submission.rounds)
    query = (
        select(Submission, Cohort)
        .join(Enrolment, (Enrolment.user_id == Submission.learner_id)
              & Enrolment.left_at.is_(None))
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .options(selectinload(Submission.learner),
                 rounds.selectinload(SubmittedWork.decisions).selectinload(Decision.assessor)
                 if released else rounds)
        .order_by(*((Submission.submitted_at.desc(), Submission.id.desc()) if released
                    else (Submission.submitted_at, Submission.id)))
    )
    query = query.where(Submission.learner_id != assessor.id,
                        Enrolment.cohort_id.in_(assessed_cohorts(assessor)))
    if released:
        query = query.where(Submission.status.in_(DECIDED), Submission.reassess.is_(False))
    elif status == "reassess":
        query = query.where(Submission.reassess.is_(True))
    elif status in WAITING:
        query = query.where(Submission.status == status)
    elif status == "resubmitted":
        query = query.where(Submission.status.in_(WAITING), exists().where(
            SubmittedWork.submission_id == Submission.id, SubmittedWork.number > 1))
    else:
        query = query.where((Submission.status.in_(WAITING)) | Submission.reassess.is_(True))
    if cohort_id:
        query = query.where(Cohort.id == cohort_id)
    if task_slug:
        query = query.where(Submission.task_slug == task_slug)
    rows = []
    for sub, cohort in db.session.execute(query).unique():
        work = sub.rounds[-1]
        history = released_decisions(sub) if released else []
        latest = history[-1] if history else None
        rows.append(QueueRow(sub, cohort, work, max(0, (now - work.submitted_at).days),
                             latest))
    return rows


def learner_history(learner_id: int) -> list[Decision]:
    """Every decision released on the learner's work, any task, newest first (one query)."""
    return list(db.session.scalars(
        select(Decision).join(SubmittedWork, Decision.work_id == SubmittedWork.id)
        .join(Submission, SubmittedWork.submission_id == Submission.id)
        .where(Submission.learner_id == learner_id, Decision.released_at.is_not(None))
        .options(contains_eager(Decision.work).contains_eager(SubmittedWork.submission),
                 joinedload(Decision.assessor))
        .order_by(Decision.released_at.desc(), Decision.id.desc())))


def current_round(sub: Submission) -> SubmittedWork | None:
    return sub.rounds[-1] if sub.rounds else None


def draft_decision(work: SubmittedWork, assessor: User) -> Decision | None:
    return next((d for d in work.decisions if not d.is_released
                 and d.assessor_id == assessor.id), None)


def released_decisions(sub: Submission) -> list[Decision]:
    """Every released decision on every round, oldest first: the learner's feedback history."""
    return [d for w in sub.rounds for d in w.decisions if d.is_released]


def mark_feedback_read(sub: Submission, learner: User, now: datetime) -> int:
    """The learner has opened the feedback page: their released decisions not read before
    are read now (one UPDATE, only when one was unread; the caller commits)."""
    if learner.id != sub.learner_id or not any(
            d.learner_read_at is None for d in released_decisions(sub)):
        return 0
    done = cast(CursorResult[Any], db.session.execute(
        update(Decision).where(Decision.work_id.in_(
            select(SubmittedWork.id).where(SubmittedWork.submission_id == sub.id)),
            Decision.released_at.is_not(None), Decision.learner_read_at.is_(None))
        .values(learner_read_at=now).execution_options(synchronize_session="fetch")))
    audit.record("decision.read", actor=learner, subject=sub, decisions=done.rowcount)
    return done.rowcount or 0


def outcome_of(task_criteria: tuple[str, ...],
               criteria: dict[str, tuple[bool | None, str]]) -> tuple[list[str], bool]:
    """(the criteria not yet decided, achieved?): achieved only when every criterion is met."""
    undecided = [c for c in task_criteria if criteria.get(c, (None, ""))[0] is None]
    return undecided, not undecided and all(criteria[c][0] for c in task_criteria)


def release_refusal(undecided: list[str], achieved: bool, feedback: str, actions: str) -> str:
    """Why a decision cannot be released to the learner yet ("" when it can)."""
    if undecided:
        return "Decide met or not yet met for every criterion before you release the decision."
    if not achieved and not actions.strip():
        return "Say what the learner must do before resubmitting."
    if not feedback.strip():
        return "Write overall feedback for the learner."
    return ""


def release_problems(task_criteria: tuple[str, ...],
                     criteria: dict[str, tuple[bool | None, str]], feedback: str,
                     actions: str) -> list[tuple[str, str]]:
    """What stops a release, field by field, for the form to show beside each field:
    ("criterion:<id>", ...) per undecided criterion, then "actions", then "feedback"."""
    undecided, achieved = outcome_of(task_criteria, criteria)
    problems = [(f"criterion:{cid}", "Decide met or not yet met for this criterion.")
                for cid in undecided]
    # While a criterion is undecided the outcome is unknown, so actions are not asked for yet.
    if not undecided and not achieved and not actions.strip():
        problems.append(("actions", "Say what the learner must do before resubmitting."))
    if not feedback.strip():
        problems.append(("feedback", "Write overall feedback for the learner."))
    return problems


def save_decision(work: SubmittedWork, task: Task, assessor: User,
                  criteria: dict[str, tuple[bool | None, str]], feedback: str, actions: str,
                  now: datetime, release: bool) -> Decision:
    """Save the assessor's marking as a draft, or release it to the learner.

    A draft can be saved half done. Release needs a decision on every criterion; the outcome
    follows from them (achieved only when every criterion is met), and a referral needs the
    actions the learner must take.
    """
    sub = work.submission
    if work is not current_round(sub):
        raise MarkingError("A newer submission has arrived: mark that one instead.")
    if sub.status not in WAITING and not sub.reassess:
        raise MarkingError("This work has already been decided.")
    undecided, achieved = outcome_of(task.criteria, criteria)
    if release and (refusal := release_refusal(undecided, achieved, feedback, actions)):
        raise MarkingError(refusal)
    decision = draft_decision(work, assessor)
    if decision is None:
        decision = Decision(work=work, assessor_id=assessor.id, created_at=now,
                            outcome="referred")
        db.session.add(decision)
    decision.outcome = "achieved" if achieved else "referred"
    decision.feedback = feedback.strip()
    decision.actions = "" if achieved else actions.strip()
    decision.updated_at = now
    _set_criteria(decision, task.criteria, criteria)
    if release:
        _release(decision, task, assessor, now)
    else:
        if sub.status == SubmissionStatus.SUBMITTED.value:
            sub.status = SubmissionStatus.BEING_MARKED.value
        audit.record("decision.save_draft", actor=assessor, subject=sub, round=work.number)
    db.session.commit()
    return decision


def decision_digest(decision: Decision) -> str:
    """A fingerprint of what a draft says: the release confirms exactly what was checked,
    evidence passages included (the assessor's attached ones on the round)."""
    content = [decision.outcome, decision.feedback, decision.actions,
               sorted((c.criterion_id, c.met, c.comment) for c in decision.criteria),
               sorted(e.id for e in decision.work.evidence
                      if e.assessor_id == decision.assessor_id and e.withdrawn_at is None)]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def release_draft(work: SubmittedWork, task: Task, assessor: User, digest: str,
                  now: datetime) -> Decision:
    """Release the assessor's saved draft, as they confirmed it on the summary page.

    `digest` is the draft's fingerprint when the summary was shown: if the draft has changed
    since (another tab), nothing is released and the assessor checks it again. The release
    itself is the same claimed state change as save_decision's.
    """
    sub = work.submission
    if work is not current_round(sub):
        raise MarkingError("A newer submission has arrived: mark that one instead.")
    if sub.status not in WAITING and not sub.reassess:
        raise MarkingError("This work has already been decided.")
    decision = draft_decision(work, assessor)
    if decision is None:
        raise MarkingError("There is no saved marking to release: mark the work first.")
    if digest != decision_digest(decision):
        raise MarkingError("Your marking changed after you checked it (perhaps in another "
                           "tab). Check the summary again before you release it.")
    criteria: dict[str, tuple[bool | None, str]] = {
        c.criterion_id: (c.met, c.comment) for c in decision.criteria}
    undecided, achieved = outcome_of(task.criteria, criteria)
    if refusal := release_refusal(undecided, achieved, decision.feedback, decision.actions):
        raise MarkingError(refusal)
    _release(decision, task, assessor, now)
    db.session.commit()
    return decision


def _set_criteria(decision: Decision, task_criteria: tuple[str, ...],
                  criteria: dict[str, tuple[bool | None, str]]) -> None:
    """One row per decided criterion: new ones added, changed ones updated, undecided removed."""
    by_id = {c.criterion_id: c for c in decision.criteria}
    for cid in task_criteria:
        met, comment = criteria.get(cid, (None, ""))
        row = by_id.get(cid)
        if met is None:
            if row is not None:
                decision.criteria.remove(row)
            continue
        if row is None:
            row = CriterionDecision(criterion_id=cid, met=met)
            decision.criteria.append(row)
        row.met, row.comment = met, comment.strip()


def _release(decision: Decision, task: Task, assessor: User, now: datetime) -> None:
    """Show the decision to the learner, tell them, and let the IQA sample hear of it."""
    work = decision.work
    sub = work.submission
    achieved = decision.outcome == "achieved"
    was_reassess = sub.reassess
    db.session.flush()
    # Claim the release in one conditional UPDATE (two assessors, or a double click, read the
    # status before either wrote it): only one finds the work still waiting for a decision.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(Submission)
        .where(Submission.id == sub.id,
               Submission.status.in_(WAITING) | Submission.reassess.is_(True))
        .values(status=(SubmissionStatus.ACHIEVED if achieved
                        else SubmissionStatus.REFERRED).value, reassess=False)
        .execution_options(synchronize_session=False)))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise MarkingError("Another decision on this work was released a moment ago. Reload "
                           "the page to see it; your marking was not released.")
    db.session.refresh(sub)
    number = 1 + (db.session.scalar(
        select(func.max(Decision.release_number)).where(Decision.work_id == work.id)) or 0)
    decision.released_at, decision.release_number = now, number
    db.session.flush()
    audit.record("decision.release", actor=assessor, subject=sub, round=work.number,
                 outcome=decision.outcome, decision_id=decision.id, reassessment=was_reassess)
    notify(sub.learner, "feedback", f"Feedback on '{task.title}' is ready: "
           f"{decision.outcome}.", f"/tasks/{task.slug}/feedback")
    decision_released.send(decision, submission=sub, now=now)


_TOKENS = re.compile(r"\s+|[^\s]+")


def diff_words(old: str, new: str) -> list[tuple[str, str]]:
    """A readable word-level diff: [("equal"|"insert"|"delete", text), ...]."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("equal", "".join(a[i1:i2])))
        else:
            if i2 > i1:
                out.append(("delete", "".join(a[i1:i2])))
            if j2 > j1:
                out.append(("insert", "".join(b[j1:j2])))
    return out
