"""One learner's record: the drill-down timeline and the portfolio an external QA asks for.

Everything is read in a fixed number of queries (one per kind of record) and then arranged by
pure functions: `timeline()` lists events newest first, `build_portfolio()` groups them the way
an external quality assurer reads them. Only released decisions appear: a marking draft is the
assessor's own until they release it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload, selectinload

from learning.assessment import evidence
from learning.assessment.models import Decision, Submission, SubmittedWork
from learning.content.catalog import Catalog, Module
from learning.content.tasks import Task
from learning.core.extensions import db
from learning.course.completion import rule_for_units
from learning.course.models import ModuleProgress
from learning.course.progress import CourseProgress, Status, course_progress
from learning.iqa.models import IqaReview, IqaSample
from learning.people.models import Cohort, Enrolment, Role, User
from learning.people.permissions import centre_cohort_ids, staffed_cohort_ids
from learning.quizzes.models import AttemptState, QuizAttempt
from learning.quizzes.types import Quiz


def can_open_portfolio(viewer: User, learner: User) -> bool:
    """The learner; coordinators of a centre running one of their cohorts; the assessors and
    IQAs assigned to one of their cohorts. Nobody else (admins included: the portfolio holds
    the learner's own writing, and the people accountable for it are named above)."""
    if not viewer.is_authenticated:
        return False
    if viewer.id == learner.id:
        return True
    parts = []
    if viewer.has_role(Role.COORDINATOR):
        parts.append(Enrolment.cohort_id.in_(centre_cohort_ids(viewer)))
    if viewer.has_role(Role.ASSESSOR, Role.IQA):
        parts.append(Enrolment.cohort_id.in_(staffed_cohort_ids(viewer)))
    if not parts:
        return False
    return bool(db.session.scalar(select(
        select(Enrolment.id).where(Enrolment.user_id == learner.id, Enrolment.left_at.is_(None),
                                   or_(*parts)).exists())))


# ---- loading ----

@dataclass
class Record:
    """Everything the reports show about one learner, loaded in seven queries."""

    learner: User
    cohorts: list[Cohort]
    progress: list[ModuleProgress]
    attempts: list[QuizAttempt]
    submissions: list[Submission]
    samples: list[IqaSample]


def record_progress(record: Record, catalog: Catalog) -> CourseProgress:
    """The learner's module statuses by their completion rule, from their record (no query)."""
    passed = {a.quiz_slug for a in record.attempts
              if a.state == AttemptState.SUBMITTED.value and a.passed}
    return course_progress(
        catalog, record.learner, {(p.user_id, p.module_slug): p for p in record.progress},
        rule=rule_for_units(catalog, {c.unit_id for c in record.cohorts}), passed=passed)


def load_record(learner: User) -> Record:
    cohorts = list(db.session.scalars(
        select(Cohort).join(Enrolment).where(Enrolment.user_id == learner.id,
                                             Enrolment.left_at.is_(None)).order_by(Cohort.name)))
    progress = list(db.session.scalars(
        select(ModuleProgress).where(ModuleProgress.user_id == learner.id)))
    attempts = list(db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == learner.id)
        .options(lazyload(QuizAttempt.answers)).order_by(QuizAttempt.quiz_slug,
                                                        QuizAttempt.number)))
    submissions = list(db.session.scalars(
        select(Submission).where(Submission.learner_id == learner.id)
        .options(selectinload(Submission.rounds).options(
            selectinload(SubmittedWork.decisions).options(selectinload(Decision.criteria),
                                                          selectinload(Decision.assessor)),
            selectinload(SubmittedWork.evidence)))
        .order_by(Submission.task_slug)))
    decision_ids = [d.id for s in submissions for w in s.rounds for d in w.decisions
                    if d.is_released]
    samples = list(db.session.scalars(
        select(IqaSample).where(IqaSample.decision_id.in_(decision_ids))
        .options(selectinload(IqaSample.reviews).selectinload(IqaReview.iqa))
        .order_by(IqaSample.sampled_at))) if decision_ids else []
    return Record(learner, cohorts, progress, attempts, submissions, samples)


# ---- the timeline (pure) ----

class EventKind(enum.StrEnum):
    MODULE = "module"
    QUIZ = "quiz"
    SUBMISSION = "submission"
    DECISION = "decision"
    IQA = "iqa"

    @property
    def label(self) -> str:
        return {"module": "Module", "quiz": "Quiz", "submission": "Written task",
                "decision": "Decision", "iqa": "Quality assurance"}[self.value]


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: EventKind
    title: str
    detail: str = ""


def _titles(catalog: Catalog, quizzes: dict[str, Quiz]) -> dict[tuple[str, str], str]:
    out = {("module", m.slug): m.title for m in catalog.modules}
    out.update({("quiz", q.slug): q.title for q in quizzes.values()})
    out.update({("task", t.slug): t.title for t in catalog.tasks})
    return out


def timeline(record: Record, catalog: Catalog, quizzes: dict[str, Quiz]) -> list[Event]:
    """What happened, newest first: modules, quiz attempts, submissions, decisions, IQA."""
    titles = _titles(catalog, quizzes)
    events: list[Event] = []
    for p in record.progress:
        title = titles.get(("module", p.module_slug), p.module_slug)
        events.append(Event(p.started_at, EventKind.MODULE, f"Started module: {title}"))
        if p.completed_at:
            events.append(Event(p.completed_at, EventKind.MODULE, f"Completed module: {title}"))
    for a in record.attempts:
        title = titles.get(("quiz", a.quiz_slug), a.quiz_slug)
        if a.submitted_at is None:
            events.append(Event(a.started_at, EventKind.QUIZ,
                                f"Started quiz attempt {a.number}: {title}", "Not submitted yet"))
            continue
        result = "passed" if a.passed else "not passed"
        detail = f"Scored {round(a.percent or 0)}%, {result}"
        if a.timed_out:
            detail += " (submitted when time ran out)"
        events.append(Event(a.submitted_at, EventKind.QUIZ,
                            f"Quiz attempt {a.number}: {title}", detail))
    decisions = {}
    for s in record.submissions:
        title = titles.get(("task", s.task_slug), s.task_slug)
        for w in s.rounds:
            verb = "Submitted" if w.number == 1 else f"Resubmitted (submission {w.number})"
            events.append(Event(w.submitted_at, EventKind.SUBMISSION, f"{verb}: {title}",
                                f"{w.word_count} words"))
            for d in w.decisions:
                if d.released_at is None:  # not released
                    continue
                decisions[d.id] = (title, w.number)
                outcome = "Achieved" if d.outcome == "achieved" else "Referred"
                met = sum(1 for c in d.criteria if c.met)
                events.append(Event(d.released_at, EventKind.DECISION,
                                    f"{outcome}: {title} (submission {w.number})",
                                    f"By {d.assessor.name}; {met} of {len(d.criteria)} "
                                    "criteria met"))
    for sample in record.samples:
        title, number = decisions.get(sample.decision_id, ("a written task", 0))
        how = "by the sampling plan" if sample.reason == "plan" else "by hand"
        events.append(Event(sample.sampled_at, EventKind.IQA,
                            f"Decision sampled for quality assurance: {title}",
                            f"Submission {number}, picked {how}"))
        for review in sample.reviews:
            verdict = "agreed" if review.verdict == "agree" else "disagreed"
            events.append(Event(review.created_at, EventKind.IQA,
                                f"IQA {verdict} with the decision: {title}",
                                f"By {review.iqa.name}"))
    return sorted(events, key=lambda e: e.at, reverse=True)


# ---- the portfolio (pure) ----

@dataclass(frozen=True)
class ModuleEntry:
    module: Module
    row: ModuleProgress | None
    #: By the learner's completion rule (learning.course.completion).
    status: Status = Status.NOT_STARTED


@dataclass(frozen=True)
class QuizEntry:
    slug: str
    title: str
    best: QuizAttempt | None
    attempts: list[QuizAttempt]


@dataclass(frozen=True)
class TaskEntry:
    slug: str
    task: Task | None
    title: str
    submission: Submission
    #: The last submitted round: the final version of the answer.
    final: SubmittedWork | None
    #: The newest released decision on the final round.
    decision: Decision | None
    #: Every round, oldest first, with its released decisions.
    history: list[tuple[SubmittedWork, list[Decision]]]
    #: The evidence passages the decision shows, with the answer marked (None: none).
    shown: evidence.Shown | None = None


@dataclass(frozen=True)
class IqaEntry:
    sample: IqaSample
    title: str
    round: int


@dataclass(frozen=True)
class Portfolio:
    record: Record
    modules: list[ModuleEntry]
    quizzes: list[QuizEntry]
    not_attempted: list[str]
    tasks: list[TaskEntry]
    iqa: list[IqaEntry]

    @property
    def modules_complete(self) -> int:
        return sum(1 for m in self.modules if m.status is Status.COMPLETE)


def build_portfolio(record: Record, catalog: Catalog, quizzes: dict[str, Quiz]) -> Portfolio:
    """Arrange a learner's record for an external quality assurer."""
    course = record_progress(record, catalog)
    modules = [ModuleEntry(i.module, i.row, i.status)
               for i in sorted(course.items, key=lambda i: i.module.order)]
    by_quiz: dict[str, list[QuizAttempt]] = {}
    for a in record.attempts:
        if a.submitted_at is not None:
            by_quiz.setdefault(a.quiz_slug, []).append(a)
    quiz_entries = []
    for slug, attempts in by_quiz.items():
        quiz = quizzes.get(slug)
        best = max(attempts, key=lambda a: (a.percent or 0, -a.number))
        quiz_entries.append(QuizEntry(slug, quiz.title if quiz else slug, best, attempts))
    quiz_entries.sort(key=lambda q: q.title)
    not_attempted = sorted(q.title for q in quizzes.values() if q.slug not in by_quiz)
    tasks_by_slug = {t.slug: t for t in catalog.tasks}
    task_entries, iqa_entries, where = [], [], {}
    for s in record.submissions:
        if not s.rounds:
            continue  # drafts only: nothing has been handed in
        task = tasks_by_slug.get(s.task_slug)
        title = task.title if task else s.task_slug
        history = [(w, [d for d in w.decisions if d.is_released]) for w in s.rounds]
        final = s.rounds[-1]
        released = history[-1][1]
        decision = released[-1] if released else None
        shows = evidence.shown([decision], {final.id: final.evidence}, catalog) if decision \
            else {}
        task_entries.append(TaskEntry(s.task_slug, task, title, s, final, decision, history,
                                      shows.get(decision.id) if decision else None))
        for w, ds in history:
            for d in ds:
                where[d.id] = (title, w.number)
    for sample in record.samples:
        title, number = where.get(sample.decision_id, (str(sample.decision_id), 0))
        iqa_entries.append(IqaEntry(sample, title, number))
    return Portfolio(record, modules, quiz_entries, not_attempted, task_entries, iqa_entries)
