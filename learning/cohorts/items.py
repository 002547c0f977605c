"""A cohort's items (every module, quiz and written task) and when each is done or overdue.

One item list and one set of rules for every page: the deadlines form, the learner's target
dates on their dashboard and the cohort pages (learning.cohorts.deadlines), and the completion
matrix with its CSV export (learning.reports.matrix). "Done" has two meanings, on purpose, and
each page uses the one it is about:

- **Handed in** decides deadlines: a module complete (by its unit's rule, below); a quiz
  passed, or any submitted attempt of a quiz that did not count toward completion as the
  learner took it; a written task submitted, being marked or achieved. Work handed in
  counts as done for the learner's deadline, so it is not overdue (nor due soon) while it
  waits for marking; a referral hands it back, and it can be overdue again. Used for
  "Done"/"Overdue" on the learner's dashboard, the cohort pages' done and overdue counts,
  and the matrix's overdue and due-soon counts, its "Overdue" cells and so its RAG status.
- **Achieved** decides completion: a module completed, a quiz passed, a written task achieved.
  Used for the matrix's progress, its ✓ cells and the "everything done" filter.

A module is complete by the rule of the learner's unit (learning.course.completion): read,
or read and its own quizzes passed. The SQL conditions below say "read" for a module; the
rule is applied to what they find (`module_done`, and the matrix's Layout), since it needs
the learner's quiz results and unit.

Both are SQL conditions (`handed_in`, `achieved`) on the row that records the learner's work
on the item, so the matrix can add them up into bit masks in its one grouped query and the
deadline pages can load them for a few learners: one definition, whichever way it is read.
An item is overdue from the day after its due date (a UK calendar date) until handed in.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, literal, select, union_all

from learning.assessment.models import Submission, SubmissionStatus
from learning.content.catalog import Catalog, ModuleCompletion
from learning.core.extensions import db
from learning.course.completion import (
    counting_quizzes,
    module_complete,
    strictest,
    unit_rules,
)
from learning.course.models import ModuleProgress
from learning.quizzes.models import AttemptState, QuizAttempt
from learning.quizzes.types import Quiz

KINDS = ("module", "quiz", "task")
KIND_LABELS = {"module": "Module", "quiz": "Quiz", "task": "Written task"}

ItemKey = tuple[str, str]  # (kind, slug)


# ---- the items ----

@dataclass(frozen=True)
class Item:
    """A module, a quiz or a written task: a column of the matrix, a line of the deadlines."""

    kind: str  # module | quiz | task
    slug: str
    title: str
    #: Short column heading (M1, Q1, T1); the full title is in the key and the header.
    code: str
    #: Counts towards progress (a quiz set not to count toward completion does not).
    counts: bool = True
    #: Tasks: the units whose learners do it (empty: every learner).
    units: frozenset[str] = frozenset()
    #: Modules: the module's number in the course.
    number: int | None = None
    #: Modules: the quizzes the stricter completion rule asks for (learning.course.completion)
    #: and each unit whose rule is not the default, as (unit id, rule) pairs.
    quizzes: tuple[str, ...] = ()
    rules: tuple[tuple[str, ModuleCompletion], ...] = ()

    @property
    def key(self) -> ItemKey:
        return (self.kind, self.slug)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def full_title(self) -> str:
        """The title in lists of target dates, where a module carries its number."""
        return f"Module {self.number}: {self.title}" if self.number is not None else self.title

    def applies_to(self, unit_id: str | None) -> bool:
        """Written tasks belong to units; a cohort naming no unit does every task."""
        return self.kind != "task" or unit_id is None or unit_id in self.units


def items_for(catalog: Catalog, quizzes: Mapping[str, Quiz]) -> tuple[Item, ...]:
    """Modules in course order, then quizzes, then written tasks in catalog order.

    A module's own quiz sits in its module's place; a quiz spanning modules comes after those,
    placed by the last module it covers, then by title.
    """
    order = {m.slug: m.order for m in catalog.modules}
    rules = unit_rules(catalog)
    modules = [Item("module", m.slug, m.title, f"M{i}", number=m.order,
                    quizzes=tuple(q.slug for q in counting_quizzes(m.slug, quizzes.values())),
                    rules=rules)
               for i, m in enumerate(sorted(catalog.modules, key=lambda m: m.order), 1)]

    def quiz_key(q: Quiz):
        known = [order[s] for s in q.modules if s in order]
        return (len(q.modules) != 1, max(known, default=10**6), q.title)

    quiz_items = [Item("quiz", q.slug, q.title, f"Q{i}", q.settings.counts_toward_completion)
                  for i, q in enumerate(sorted(quizzes.values(), key=quiz_key), 1)]
    tasks = []
    for i, t in enumerate(catalog.tasks, 1):
        units = frozenset(c.unit_id for cid in t.criteria if (c := catalog.criterion(cid)))
        tasks.append(Item("task", t.slug, t.title, f"T{i}", True, units))
    return (*modules, *quiz_items, *tasks)


def for_unit(items: Iterable[Item], unit_id: str | None) -> tuple[Item, ...]:
    """The items of a cohort studying this unit (every item when it names no unit)."""
    return tuple(i for i in items if i.applies_to(unit_id))


# ---- done: handed in (deadlines) and achieved (completion) ----

#: Written-task statuses at which the work is handed in and not back with the learner.
TASK_HANDED_IN = frozenset({SubmissionStatus.SUBMITTED.value,
                            SubmissionStatus.BEING_MARKED.value,
                            SubmissionStatus.ACHIEVED.value})

#: The row recording a learner's work on each kind of item: (learner column, slug column).
WORK_ROWS = {"module": (ModuleProgress.user_id, ModuleProgress.module_slug),
             "quiz": (QuizAttempt.user_id, QuizAttempt.quiz_slug),
             "task": (Submission.learner_id, Submission.task_slug)}


def _submitted_passed() -> ColumnElement[bool]:
    return (QuizAttempt.state == AttemptState.SUBMITTED.value) & QuizAttempt.passed.is_(True)


def achieved(kind: str) -> ColumnElement[bool]:
    """Completion, as a condition on the kind's WORK_ROWS table: a module completed, a quiz
    attempt passed, a written task achieved."""
    if kind == "module":
        return ModuleProgress.completed_at.is_not(None)
    if kind == "quiz":
        return _submitted_passed()
    if kind == "task":
        return Submission.status == SubmissionStatus.ACHIEVED.value
    raise ValueError(f"unknown item kind {kind!r}")


def handed_in(kind: str) -> ColumnElement[bool]:
    """Deadlines, as a condition on the kind's WORK_ROWS table: a module completed; a quiz
    attempt passed, or any submitted attempt when the quiz did not count toward completion
    (read from the settings copied into the attempt, so a later edit of the quiz cannot
    change what the learner was asked to do); a task submitted, being marked or achieved."""
    if kind == "module":
        return achieved("module")
    if kind == "quiz":
        practice = ((QuizAttempt.state == AttemptState.SUBMITTED.value)
                    & QuizAttempt.settings["counts_toward_completion"].as_boolean().is_(False))
        return _submitted_passed() | practice
    if kind == "task":
        return Submission.status.in_(sorted(TASK_HANDED_IN))
    raise ValueError(f"unknown item kind {kind!r}")


def handed_in_by(user_ids: Iterable[int],
                 keys: Iterable[ItemKey] | None = None) -> dict[int, frozenset[ItemKey]]:
    """The items each learner has handed in, in one query; `keys` narrows what is read."""
    ids = sorted(set(user_ids))
    wanted: dict[str, set[str]] | None = None
    if keys is not None:
        wanted = defaultdict(set)
        for kind, slug in keys:
            wanted[kind].add(slug)
    parts = []
    for kind, (learner_column, slug_column) in WORK_ROWS.items():
        if wanted is not None and not wanted.get(kind):
            continue
        part = select(learner_column.label("user_id"), literal(kind).label("kind"),
                      slug_column.label("slug")).where(learner_column.in_(ids), handed_in(kind))
        if wanted is not None:
            part = part.where(slug_column.in_(sorted(wanted[kind])))
        parts.append(part)
    found: dict[int, set[ItemKey]] = {i: set() for i in ids}
    if ids and parts:
        for user_id, kind, slug in db.session.execute(union_all(*parts)):
            found[user_id].add((kind, slug))
    return {i: frozenset(done) for i, done in found.items()}


def module_done(item: Item, read: bool, passed: set[str] | frozenset[str],
                unit_ids: Iterable[str | None]) -> bool:
    """Whether a module is complete, and so handed in for its deadline, for a learner of
    these units: `read` (its progress row has a completion date) and `passed` (the quiz slugs
    they have passed) under the strictest rule of the units (learning.course.completion)."""
    return module_complete(read, [q in passed for q in item.quizzes],
                           strictest(item.rules, unit_ids))


def needs_quizzes(items: Iterable[Item], unit_ids: Iterable[str | None]) -> bool:
    """Whether a module among these items needs quiz results to be judged for these units:
    when none does, the quiz results need not be read."""
    units = list(unit_ids)
    return any(i.kind == "module" and i.quizzes
               and strictest(i.rules, units) is not ModuleCompletion.READ for i in items)


# ---- overdue ----

class DeadlineStatus(enum.StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    #: The date had passed before the learner joined the cohort: not theirs to have missed.
    BEFORE_JOINING = "before_joining"

    @property
    def label(self) -> str:
        return {"done": "Done", "due": "Due", "overdue": "Overdue",
                "before_joining": "Set before joining"}[self.value]


def past_due(due_on: date, today: date) -> bool:
    """The due date is the last day to finish, so an item due today is not past due."""
    return today > due_on


def set_before_joining(due_on: date, joined_on: date | None) -> bool:
    """The due date had passed on the (UK) day the learner joined the cohort: a deadline set
    for the others, which a newcomer agrees afresh with their assessor, never overdue."""
    return joined_on is not None and past_due(due_on, joined_on)


def status_on(due_on: date, done: bool, today: date,
              joined_on: date | None = None) -> tuple[DeadlineStatus, int]:
    """Done (handed in), set before the learner joined, due (today is the last day or
    earlier) or overdue by some days."""
    if done:
        return DeadlineStatus.DONE, 0
    if set_before_joining(due_on, joined_on):
        return DeadlineStatus.BEFORE_JOINING, 0
    if past_due(due_on, today):
        return DeadlineStatus.OVERDUE, (today - due_on).days
    return DeadlineStatus.DUE, 0
