"""Each role's to-do list on the dashboard: what waits, counted in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select

from learning.assessment import marking_target
from learning.assessment.marking_target import QueueFigures
from learning.assessment.models import Submission, SubmissionStatus
from learning.cohorts.deadlines import LearnerDeadline
from learning.cohorts.items import DeadlineStatus, Item
from learning.content.tasks import Task
from learning.core.extensions import db
from learning.course.progress import CourseProgress
from learning.iqa import reviews
from learning.iqa.reviews import OpenAction
from learning.people.models import Cohort, User
from learning.people.permissions import centre_cohort_ids
from learning.reports import summary
from learning.reports.matrix import rag_rank
from learning.reports.matrix_rules import Rag
from learning.reports.models import MatrixCohortPace, MatrixSummary
from learning.reports.totals import Layout

#: Cohorts starting or ending within this many days are listed for their coordinators.
SOON_DAYS = 14


# ---- learners (pure: from what the dashboard has read already) ----

@dataclass(frozen=True)
class NextStep:
    kind: str  # "module" or "task"
    slug: str
    title: str
    started: bool


@dataclass(frozen=True)
class LearnerTodo:
    next_step: NextStep | None
    overdue: list[LearnerDeadline]
    #: Tasks with a released decision the learner has not opened yet.
    feedback: list[Task]
    #: Referred tasks whose feedback has been read: the learner's turn to resubmit.
    resubmit: list[Task]

    @property
    def empty(self) -> bool:
        return not (self.next_step or self.overdue or self.feedback or self.resubmit)


def learner_todo(course: CourseProgress | None, due: Sequence[LearnerDeadline],
                 tasks: Sequence[Task], task_status: Mapping[str, Submission]) -> LearnerTodo:
    """The learner's next step (the first module not complete, else the first written task
    not handed in), overdue items (never one set before they joined: learner_deadlines
    decides), feedback not yet read and referred work to resubmit."""
    step = None
    if course and course.next_up:
        nxt = course.next_up
        step = NextStep("module", nxt.module.slug,
                        f"Module {nxt.module.order}: {nxt.module.title}",
                        nxt.status.value != "not-started")
    else:
        for task in tasks:
            sub = task_status.get(task.slug)
            if sub is None or sub.status == SubmissionStatus.DRAFT.value:
                step = NextStep("task", task.slug, task.title, bool(sub and sub.has_text))
                break
    overdue = [d for d in due if d.status is DeadlineStatus.OVERDUE]
    feedback, resubmit = [], []
    for task in tasks:
        sub = task_status.get(task.slug)
        if sub is None:
            continue
        if sub.unread_feedback:
            feedback.append(task)
        elif sub.status == SubmissionStatus.REFERRED.value:
            resubmit.append(task)
    return LearnerTodo(step, overdue, feedback, resubmit)


# ---- assessors ----

@dataclass(frozen=True)
class AssessorTodo:
    figures: QueueFigures
    #: Days the oldest answer has waited (calendar days, as the queue shows them).
    oldest_days: int | None
    target_days: int
    #: Work an IQA sent back for a new decision.
    reopened: list[Submission]

    @property
    def empty(self) -> bool:
        return not (self.figures.waiting or self.reopened)


def assessor_todo(assessor: User, now: datetime, today: date, target_days: int,
                  zone: str | None) -> AssessorTodo:
    """The assessor's queue in figures and the IQA actions on it (two statements)."""
    figures = marking_target.queue_figures(assessor, today, target_days, zone)
    oldest = figures.oldest_submitted_at
    return AssessorTodo(figures, max(0, (now - oldest).days) if oldest else None, target_days,
                        marking_target.reopened(assessor))


# ---- IQAs ----

@dataclass(frozen=True)
class IqaTodo:
    to_review: int
    open_actions: list[OpenAction]

    @property
    def empty(self) -> bool:
        return not (self.to_review or self.open_actions)


def iqa_todo(user: User) -> IqaTodo:
    """Sampled decisions waiting for the IQA's review, and actions still open (two
    statements), in the cohorts the IQA pages show them."""
    return IqaTodo(reviews.waiting_for_review(user), reviews.open_actions(user))


# ---- coordinators ----

@dataclass(frozen=True)
class CohortLine:
    cohort_id: int
    name: str
    red: int = 0
    marking: QueueFigures = field(default_factory=QueueFigures)


@dataclass(frozen=True)
class CohortDates:
    cohort_id: int
    name: str
    starts_on: date | None
    ends_on: date | None
    starting: bool
    ending: bool


@dataclass(frozen=True)
class CoordinatorTodo:
    #: Cohorts with red learners or marking past the target, by name.
    cohorts: list[CohortLine]
    soon: list[CohortDates]
    target_days: int

    @property
    def red(self) -> int:
        return sum(c.red for c in self.cohorts)

    @property
    def overdue_marking(self) -> int:
        return sum(c.marking.overdue for c in self.cohorts)

    @property
    def empty(self) -> bool:
        return not (self.red or self.overdue_marking or self.soon)


def red_by_cohort(cohort_ids, today: date) -> dict[int, int]:
    """Red learners per cohort, by the completion matrix's own RAG rule worked out on its
    stored summary (matrix.rag_rank): one statement. The caller has built the summary."""
    S, P = MatrixSummary, MatrixCohortPace
    return dict(db.session.execute(
        select(S.cohort_id, func.count()).join(P, P.cohort_id == S.cohort_id)
        .where(S.cohort_id.in_(cohort_ids), rag_rank(today) == Rag.RED.rank)
        .group_by(S.cohort_id)).all())


def coordinator_todo(coordinator: User, items: tuple[Item, ...], today: date,
                     target_days: int, zone: str | None) -> CoordinatorTodo:
    """Red learners and overdue marking per cohort of the coordinator's centres, and cohorts
    starting or ending within SOON_DAYS (four statements once the matrix summary is built)."""
    summary.ensure_built(Layout(items))
    mine = centre_cohort_ids(coordinator).where(Cohort.archived.is_(False))
    red = red_by_cohort(mine, today)
    marking = marking_target.figures_by_cohort(mine, today, target_days, zone)
    horizon = today + timedelta(days=SOON_DAYS)
    starting = and_(Cohort.starts_on >= today, Cohort.starts_on <= horizon)
    ending = and_(Cohort.ends_on >= today, Cohort.ends_on <= horizon)
    flagged = sorted({c for c, n in red.items() if n}
                     | {c for c, f in marking.items() if f.overdue})
    lines, soon = [], []
    for cohort in db.session.scalars(
            select(Cohort).where(Cohort.id.in_(mine), or_(starting, ending,
                                                          Cohort.id.in_(flagged)))
            .order_by(Cohort.name, Cohort.id)):
        figures = marking.get(cohort.id, QueueFigures())
        if cohort.id in flagged:
            lines.append(CohortLine(cohort.id, cohort.name, red.get(cohort.id, 0), figures))
        is_starting = cohort.starts_on is not None and today <= cohort.starts_on <= horizon
        is_ending = cohort.ends_on is not None and today <= cohort.ends_on <= horizon
        if is_starting or is_ending:
            soon.append(CohortDates(cohort.id, cohort.name, cohort.starts_on, cohort.ends_on,
                                    is_starting, is_ending))
    return CoordinatorTodo(lines, soon, target_days)
