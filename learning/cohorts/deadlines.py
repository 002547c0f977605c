"""Deadlines: target dates per cohort, when an item counts as done, and what is overdue.

The rules are pure functions (`is_done`, `status_on`, ...); the
queries around them load what a learner has done in a fixed number of statements.

Dates: a deadline is a calendar date in the UK. "Today" is the display-zone date of the
current UTC time (`learning.core.dates.local_today`), so a learner working at 00:30 in British
Summer Time is already on the next day, even though it is still the previous day in UTC.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, select

from learning.assessment.models import Submission, SubmissionStatus
from learning.cohorts.models import Deadline
from learning.core import audit
from learning.core.extensions import db
from learning.course.models import ModuleProgress
from learning.people.models import Cohort, Enrolment, User
from learning.quizzes.models import AttemptState, QuizAttempt

KINDS = ("module", "quiz", "task")
KIND_LABELS = {"module": "Module", "quiz": "Quiz", "task": "Written task"}
#: Task statuses at which the learner has handed the work in (and it is not back with them).
TASK_DONE = frozenset({SubmissionStatus.SUBMITTED.value, SubmissionStatus.BEING_MARKED.value,
                       SubmissionStatus.ACHIEVED.value})

ItemKey = tuple[str, str]  # (kind, slug)


class DeadlineStatus(enum.StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"done": "Done", "due": "Due", "overdue": "Overdue"}[self.value]


# ---- items and what "done" means ----

@dataclass(frozen=True)
class Item:
    """Something a cohort can set a target date for."""

    kind: str
    slug: str
    title: str

    @property
    def key(self) -> ItemKey:
        return (self.kind, self.slug)


def catalog_items(catalog, quizzes: Mapping) -> list[Item]:
    """Every module (in course order), quiz (module quizzes in module order, then the rest)
    and written task."""
    order = {m.slug: m.order for m in catalog.modules}

    def quiz_order(q):
        first = min((order.get(s, 10_000) for s in q.modules), default=10_000)
        return (len(q.modules) != 1, first, q.title)

    return ([Item("module", m.slug, f"Module {m.order}: {m.title}") for m in catalog.modules]
            + [Item("quiz", q.slug, q.title) for q in sorted(quizzes.values(), key=quiz_order)]
            + [Item("task", t.slug, t.title) for t in catalog.tasks])


def item_titles(catalog, quizzes: Mapping) -> dict[ItemKey, str]:
    return {i.key: i.title for i in catalog_items(catalog, quizzes)}


@dataclass(frozen=True)
class LearnerRecord:
    """What one learner has done, as far as deadlines care."""

    completed_modules: frozenset[str] = frozenset()
    #: Quizzes with a submitted attempt that finishes them (see `attempt_finishes_quiz`).
    finished_quizzes: frozenset[str] = frozenset()
    #: task slug -> Submission.status
    task_status: Mapping[str, str] = field(default_factory=dict)


def attempt_finishes_quiz(passed: bool | None, settings: Mapping) -> bool:
    """A submitted attempt finishes its quiz if it passed, or if the quiz (as the learner
    took it: the settings copied into the attempt) does not count toward completion."""
    return bool(passed) or not settings.get("counts_toward_completion", True)


def is_done(kind: str, slug: str, record: LearnerRecord) -> bool:
    """Module: completed. Quiz: finished. Task: handed in and not referred back."""
    if kind == "module":
        return slug in record.completed_modules
    if kind == "quiz":
        return slug in record.finished_quizzes
    if kind == "task":
        return record.task_status.get(slug) in TASK_DONE
    raise ValueError(f"unknown item kind {kind!r}")


def status_on(due_on: date, done: bool, today: date) -> tuple[DeadlineStatus, int]:
    """Done, due (today is the last day or earlier) or overdue by some days."""
    if done:
        return DeadlineStatus.DONE, 0
    if today > due_on:
        return DeadlineStatus.OVERDUE, (today - due_on).days
    return DeadlineStatus.DUE, 0


# ---- queries ----

def records_for(user_ids: Iterable[int],
                keys: Iterable[ItemKey] | None = None) -> dict[int, LearnerRecord]:
    """What each learner has done, in at most three queries; `keys` narrows what is loaded."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    wanted: dict[str, set[str]] | None = None
    if keys is not None:
        wanted = defaultdict(set)
        for kind, slug in keys:
            wanted[kind].add(slug)
    modules: dict[int, set[str]] = defaultdict(set)
    quizzes: dict[int, set[str]] = defaultdict(set)
    tasks: dict[int, dict[str, str]] = defaultdict(dict)
    q: Select  # three queries, each with its own columns

    if wanted is None or wanted.get("module"):
        q = select(ModuleProgress.user_id, ModuleProgress.module_slug).where(
            ModuleProgress.user_id.in_(ids), ModuleProgress.completed_at.is_not(None))
        if wanted is not None:
            q = q.where(ModuleProgress.module_slug.in_(wanted["module"]))
        for user_id, slug in db.session.execute(q):
            modules[user_id].add(slug)
    if wanted is None or wanted.get("quiz"):
        q = select(QuizAttempt.user_id, QuizAttempt.quiz_slug, QuizAttempt.passed,
                   QuizAttempt.settings).where(
            QuizAttempt.user_id.in_(ids), QuizAttempt.state == AttemptState.SUBMITTED.value)
        if wanted is not None:
            q = q.where(QuizAttempt.quiz_slug.in_(wanted["quiz"]))
        for user_id, slug, passed, settings in db.session.execute(q):
            if attempt_finishes_quiz(passed, settings or {}):
                quizzes[user_id].add(slug)
    if wanted is None or wanted.get("task"):
        q = select(Submission.learner_id, Submission.task_slug, Submission.status).where(
            Submission.learner_id.in_(ids))
        if wanted is not None:
            q = q.where(Submission.task_slug.in_(wanted["task"]))
        for user_id, slug, status in db.session.execute(q):
            tasks[user_id][slug] = status

    return {i: LearnerRecord(frozenset(modules[i]), frozenset(quizzes[i]), dict(tasks[i]))
            for i in ids}


def deadlines_by_cohort(cohort_ids: Iterable[int]) -> dict[int, dict[ItemKey, Deadline]]:
    """Every deadline of these cohorts, in one query."""
    ids = list(set(cohort_ids))
    result: dict[int, dict[ItemKey, Deadline]] = {i: {} for i in ids}
    if ids:
        for d in db.session.scalars(select(Deadline).where(Deadline.cohort_id.in_(ids))):
            result[d.cohort_id][(d.item_kind, d.item_slug)] = d
    return result


def save_deadlines(cohort: Cohort, dates: Mapping[ItemKey, date | None], actor: User,
                   now: datetime) -> int:
    """Set, change or clear (None) the target dates of these items in one go; commits.

    Items not in `dates` are left alone. One audit record lists every change; returns how
    many items changed.
    """
    existing = deadlines_by_cohort([cohort.id])[cohort.id]
    changes = []
    for (kind, slug), due_on in dates.items():
        if kind not in KINDS:
            raise ValueError(f"unknown item kind {kind!r}")
        row = existing.get((kind, slug))
        before = row.due_on if row else None
        if before == due_on:
            continue
        if due_on is None:
            db.session.delete(row)
        elif row is None:
            db.session.add(Deadline(cohort_id=cohort.id, item_kind=kind, item_slug=slug,
                                    due_on=due_on, set_by_id=actor.id, set_at=now))
        else:
            row.due_on, row.set_by_id, row.set_at = due_on, actor.id, now
        changes.append({"item": f"{kind}:{slug}",
                        "from": before.isoformat() if before else None,
                        "to": due_on.isoformat() if due_on else None})
    if changes:
        audit.record("cohort.deadlines", actor=actor, subject=cohort, changes=changes)
        db.session.commit()
    return len(changes)


@dataclass(frozen=True)
class LearnerDeadline:
    kind: str
    slug: str
    title: str
    due_on: date
    status: DeadlineStatus
    days_overdue: int
    cohort_name: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def learner_deadlines(learner: User, catalog, quizzes: Mapping,
                      today: date) -> list[LearnerDeadline]:
    """The learner's target dates from their current (not archived) cohorts, soonest first.

    When two cohorts set a date for the same item, the earlier date applies. Items no longer
    in the catalog are left out. Four queries at most.
    """
    rows = db.session.execute(
        select(Deadline, Cohort.name)
        .join(Enrolment, (Enrolment.cohort_id == Deadline.cohort_id)
              & (Enrolment.user_id == learner.id) & Enrolment.left_at.is_(None))
        .join(Cohort, Cohort.id == Deadline.cohort_id)
        .where(Cohort.archived.is_(False))
        .order_by(Deadline.due_on, Cohort.name)
    ).all()
    earliest: dict[ItemKey, tuple[Deadline, str]] = {}
    for deadline, cohort_name in rows:
        earliest.setdefault((deadline.item_kind, deadline.item_slug), (deadline, cohort_name))
    titles = item_titles(catalog, quizzes)
    earliest = {k: v for k, v in earliest.items() if k in titles}
    if not earliest:
        return []
    record = records_for([learner.id], earliest)[learner.id]
    result = []
    for (kind, slug), (deadline, cohort_name) in earliest.items():
        status, late = status_on(deadline.due_on, is_done(kind, slug, record), today)
        result.append(LearnerDeadline(kind, slug, titles[(kind, slug)], deadline.due_on,
                                      status, late, cohort_name))
    result.sort(key=lambda d: (d.due_on, KINDS.index(d.kind), d.title))
    return result


@dataclass(frozen=True)
class ItemCount:
    """How a cohort's current learners stand against one deadline."""

    kind: str
    slug: str
    due_on: date
    done: int
    overdue: int
    learners: int

    @property
    def key(self) -> ItemKey:
        return (self.kind, self.slug)

    @property
    def not_yet_due(self) -> int:
        return self.learners - self.done - self.overdue


@dataclass(frozen=True)
class CohortCounts:
    learners: int
    items: tuple[ItemCount, ...] = ()
    #: learner id -> number of overdue items
    overdue_by_learner: Mapping[int, int] = field(default_factory=dict)

    @property
    def learners_overdue(self) -> int:
        return sum(1 for n in self.overdue_by_learner.values() if n)


def cohort_overdue_counts(cohort_ids: Iterable[int], today: date) -> dict[int, CohortCounts]:
    """Per cohort: for each deadline, how many current learners are done or overdue, and how
    many items each learner has overdue. At most five queries, however many learners."""
    ids = list(set(cohort_ids))
    if not ids:
        return {}
    deadlines = deadlines_by_cohort(ids)
    members: dict[int, list[int]] = {i: [] for i in ids}
    for cohort_id, user_id in db.session.execute(
            select(Enrolment.cohort_id, Enrolment.user_id).where(
                Enrolment.cohort_id.in_(ids), Enrolment.left_at.is_(None))):
        members[cohort_id].append(user_id)
    keys = {k for d in deadlines.values() for k in d}
    wanted_users = {u for i in ids if deadlines[i] for u in members[i]}
    records = records_for(wanted_users, keys) if keys and wanted_users else {}
    result = {}
    for cohort_id in ids:
        learners = sorted(set(members[cohort_id]))
        per_learner = dict.fromkeys(learners, 0)
        items = []
        for (kind, slug), deadline in sorted(deadlines[cohort_id].items(),
                                              key=lambda kv: (kv[1].due_on, kv[0])):
            done = overdue = 0
            for user_id in learners:
                status, _ = status_on(deadline.due_on,
                                      is_done(kind, slug, records[user_id]), today)
                if status is DeadlineStatus.DONE:
                    done += 1
                elif status is DeadlineStatus.OVERDUE:
                    overdue += 1
                    per_learner[user_id] += 1
            items.append(ItemCount(kind, slug, deadline.due_on, done, overdue, len(learners)))
        result[cohort_id] = CohortCounts(len(learners), tuple(items), per_learner)
    return result
