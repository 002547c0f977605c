"""The marking target: work waiting for an assessor is overdue after a number of working days.

Working days are Monday to Friday (bank holidays are not taken off). There is no per-centre
setting yet, so callers pass `days` (views read MARKING_TARGET_WORKING_DAYS, default 10).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, case, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from learning.assessment.marking import in_queue_scope
from learning.assessment.models import Submission, SubmissionStatus, SubmittedWork
from learning.core.dates import local_today, start_of_day_utc
from learning.core.extensions import db
from learning.people.models import Cohort, CohortStaff, Enrolment, Role, User

#: Working days an assessor has to mark submitted work.
MARKING_TARGET_DAYS = 10
#: Statuses of work waiting for an assessor (as in the marking queue).
AWAITING_MARKING = (SubmissionStatus.SUBMITTED.value, SubmissionStatus.BEING_MARKED.value)


def working_days_between(start: date, end: date) -> int:
    """Weekdays after `start` up to and including `end` (0 when end is not after start).

    Work handed in on a Monday has waited 1 working day on Tuesday and 5 the next Monday.
    """
    if end <= start:
        return 0
    days = (end - start).days
    weeks, extra = divmod(days, 7)
    count = weeks * 5
    for n in range(1, extra + 1):
        if (start + timedelta(days=weeks * 7 + n)).weekday() < 5:
            count += 1
    return count


def marking_due_by(submitted_on: date, days: int = MARKING_TARGET_DAYS) -> date:
    """The last day of the marking target for work handed in on `submitted_on`: the day it
    has waited exactly `days` working days (after that it is overdue)."""
    day, counted = submitted_on, 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return day


def marking_cutoff(today: date, days: int = MARKING_TARGET_DAYS) -> date:
    """The latest submission date whose work is overdue today (more than `days` working days).

    Equivalent to the largest d with working_days_between(d, today) > days; used to filter in
    SQL instead of computing working days row by row.
    """
    counted, day = 0, today
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted > days:
                return day - timedelta(days=1)
        day -= timedelta(days=1)


def overdue_before(today: date, days: int = MARKING_TARGET_DAYS,
                   zone: str | None = None) -> datetime:
    """Work submitted before this moment (UTC) is past the marking target today: the start of
    the day after marking_cutoff, in the display zone, for comparing in SQL."""
    return start_of_day_utc(marking_cutoff(today, days) + timedelta(days=1), zone)


def marking_overdue(submitted_at: datetime, today: date, days: int = MARKING_TARGET_DAYS,
                    zone: str | None = None) -> bool:
    """True when work submitted at `submitted_at` has waited more than `days` working days."""
    return working_days_between(local_today(submitted_at, zone), today) > days


def overdue_submission_ids(rows: Iterable, today: date, days: int = MARKING_TARGET_DAYS,
                           zone: str | None = None) -> set[int]:
    """Ids of marking-queue rows (with .submission and .work) past the marking target.

    Only work waiting for a first decision counts: an IQA "reassess" is not on the clock.
    """
    return {r.submission.id for r in rows
            if r.submission.status in AWAITING_MARKING
            and marking_overdue(r.work.submitted_at, today, days, zone)}


@dataclass(frozen=True)
class OverdueWork:
    submission: Submission
    cohort: Cohort
    submitted_on: date
    working_days: int


def overdue_marking(assessor: User, today: date, days: int = MARKING_TARGET_DAYS,
                    zone: str | None = None) -> list[OverdueWork]:
    """Work in the assessor's cohorts waiting for a decision for more than `days` working
    days, oldest first (one query, plus one for the learners)."""
    before = overdue_before(today, days, zone)
    query = (
        select(Submission, Cohort)
        .join(Enrolment, (Enrolment.user_id == Submission.learner_id)
              & Enrolment.left_at.is_(None))
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Enrolment.cohort_id.in_(
            select(CohortStaff.cohort_id).where(CohortStaff.user_id == assessor.id,
                                                CohortStaff.role == Role.ASSESSOR.value)),
               Submission.status.in_(AWAITING_MARKING),
               Submission.submitted_at < before)
        .order_by(Submission.submitted_at, Submission.id)
    )
    query = query.options(selectinload(Submission.learner))
    result, seen = [], set()
    for sub, cohort in db.session.execute(query):
        if sub.id in seen:  # a learner in two of the assessor's cohorts is listed once
            continue
        seen.add(sub.id)
        assert sub.submitted_at is not None  # the query compares it with `before`
        submitted_on = local_today(sub.submitted_at, zone)
        result.append(OverdueWork(sub, cohort, submitted_on,
                                  working_days_between(submitted_on, today)))
    return result


# ---- figures for the dashboards (a fixed number of statements) ----

@dataclass(frozen=True)
class QueueFigures:
    """What waits in an assessor's queue: answers waiting for a decision (and of those,
    resubmissions and those past the marking target), the oldest waiting, IQA reopenings."""

    waiting: int = 0
    overdue: int = 0
    resubmissions: int = 0
    oldest_submitted_at: datetime | None = None
    reassess: int = 0


def _figures(waiting, before: datetime) -> tuple:
    """The queue's figures as SQL aggregates, for rows where `waiting` holds."""
    resubmitted = exists().where(SubmittedWork.submission_id == Submission.id,
                                 SubmittedWork.number > 1)
    return (func.count(case((waiting, 1))),
            func.count(case((waiting & (Submission.submitted_at < before), 1))),
            func.count(case((waiting & resubmitted, 1))),
            func.min(case((waiting, Submission.submitted_at))),
            func.count(case((Submission.reassess.is_(True), 1))))


def queue_figures(assessor: User, today: date, days: int = MARKING_TARGET_DAYS,
                  zone: str | None = None) -> QueueFigures:
    """The assessor's marking queue in figures (one statement): the queue's own scope
    (marking.in_queue_scope) and the marking target's own cut-off (overdue_before)."""
    waiting = Submission.status.in_(AWAITING_MARKING)
    row = db.session.execute(
        select(*_figures(waiting, overdue_before(today, days, zone)))
        .where(in_queue_scope(assessor), waiting | Submission.reassess.is_(True))).one()
    return QueueFigures(row[0], row[1], row[2], row[3], row[4])


def figures_by_cohort(cohort_ids: Select, today: date, days: int = MARKING_TARGET_DAYS,
                      zone: str | None = None) -> dict[int, QueueFigures]:
    """The same figures per cohort, for learners now in these cohorts (one statement); a
    cohort with nothing waiting is left out."""
    waiting = Submission.status.in_(AWAITING_MARKING)
    rows = db.session.execute(
        select(Enrolment.cohort_id, *_figures(waiting, overdue_before(today, days, zone)))
        .join(Enrolment, (Enrolment.user_id == Submission.learner_id)
              & Enrolment.left_at.is_(None))
        .where(Enrolment.cohort_id.in_(cohort_ids), waiting | Submission.reassess.is_(True))
        .group_by(Enrolment.cohort_id))
    return {r[0]: QueueFigures(r[1], r[2], r[3], r[4], r[5]) for r in rows}


def reopened(assessor: User) -> list[Submission]:
    """Work an IQA has sent back to this assessor's queue for a new decision, oldest first,
    with its learner (one statement)."""
    return list(db.session.scalars(
        select(Submission).where(in_queue_scope(assessor), Submission.reassess.is_(True))
        .options(joinedload(Submission.learner))
        .order_by(Submission.submitted_at, Submission.id)))
