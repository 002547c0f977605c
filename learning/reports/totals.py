"""Each enrolled learner's totals for the completion matrix, worked out in one grouped query.

For every current enrolment chosen, one statement returns which items the learner has
achieved and which they have handed in (as bit masks, one bit per item of a Layout) and a few
counts. Deadlines are read as (bit, due date) pairs per cohort, so "open" (not handed in),
"overdue" and "due soon" are integer operations. The columns and both meanings of "done" are
learning.cohorts.items; what is stored from these totals is learning.reports.summary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from sqlalchemy import ColumnElement, Select, case, func, literal, select

from learning.assessment.models import Decision, Submission, SubmissionStatus, SubmittedWork
from learning.cohorts.items import (
    KINDS,
    WORK_ROWS,
    Item,
    achieved,
    handed_in,
    past_due,
    set_before_joining,
)
from learning.cohorts.models import Deadline
from learning.core.dates import local
from learning.core.extensions import db
from learning.course.completion import module_complete, strictest
from learning.course.models import ModuleProgress
from learning.people.models import Cohort, Enrolment, User
from learning.quizzes.models import QuizAttempt
from learning.reports.matrix_rules import DUE_SOON_DAYS

_WAITING = (SubmissionStatus.SUBMITTED.value, SubmissionStatus.BEING_MARKED.value)
#: Items of one kind a 64-bit mask holds (a signed BIGINT column keeps 63 bits).
MAX_PER_KIND = 62


@dataclass(frozen=True)
class Layout:
    """Where each item's bit sits in a learner's masks: modules, then quizzes, then tasks."""

    items: tuple[Item, ...]

    @cached_property
    def _slugs(self) -> dict[str, list[str]]:
        return {kind: [i.slug for i in self.items if i.kind == kind] for kind in KINDS}

    @cached_property
    def _offsets(self) -> dict[str, int]:
        return {kind: sum(len(self._slugs[k]) for k in KINDS[:n])
                for n, kind in enumerate(KINDS)}

    @cached_property
    def _bit_of(self) -> dict[tuple[str, str], int]:
        return {(kind, slug): 1 << (self._offsets[kind] + n)
                for kind in KINDS for n, slug in enumerate(self._slugs[kind])}

    def slugs(self, kind: str) -> list[str]:
        return self._slugs[kind]

    def offset(self, kind: str) -> int:
        return self._offsets[kind]

    def bit(self, kind: str, slug: str) -> int:
        """The item's bit, or 0 for an item not in the layout."""
        return self._bit_of.get((kind, slug), 0)

    @cached_property
    def _masks(self) -> dict[tuple[str | None, bool], int]:
        return {}

    def mask(self, unit_id: str | None, counted: bool = True) -> int:
        """The items a cohort studying this unit does (only those counting toward progress,
        unless counted is False)."""
        key = (unit_id, counted)
        if key not in self._masks:
            self._masks[key] = sum(self.bit(i.kind, i.slug) for i in self.items
                                   if (i.counts or not counted) and i.applies_to(unit_id))
        return self._masks[key]

    @cached_property
    def _completed(self) -> dict[tuple[int, int, str | None], int]:
        return {}

    def completed_modules(self, read: int | None, passed: int | None,
                          unit_id: str | None) -> int:
        """The module mask of modules complete for a learner of this unit: `read` (a module
        mask of completion dates) and `passed` (a quiz mask of quizzes passed) go through
        learning.course.completion's rule, once per distinct combination."""
        read, passed = int(read or 0), int(passed or 0)
        key = (read, passed, unit_id)
        done = self._completed.get(key)
        if done is None:
            done = 0
            for n, item in enumerate(i for i in self.items if i.kind == "module"):
                rule = strictest(item.rules, [unit_id])
                quiz_bits = [self.bit("quiz", q) >> self._offsets["quiz"] for q in item.quizzes]
                if module_complete(bool(read >> n & 1), [bool(passed & b) for b in quiz_bits],
                                   rule):
                    done |= 1 << n
            self._completed[key] = done
        return done

    def join(self, module: int | None, quiz: int | None, task: int | None) -> int:
        """One mask from one mask per kind (bit i of a kind's mask is its i-th item)."""
        offsets = self._offsets
        return (int(module or 0) | int(quiz or 0) << offsets["quiz"]
                | int(task or 0) << offsets["task"])

    def split(self, bits: int) -> tuple[int, int, int]:
        """The module, quiz and task masks of a joined mask (the inverse of join)."""
        offsets = self._offsets
        return (bits & ((1 << offsets["quiz"]) - 1),
                (bits >> offsets["quiz"]) & ((1 << len(self._slugs["quiz"])) - 1),
                bits >> offsets["task"])


def _bits(column, slugs: list[str]):
    """SQL: the bit of this row's item (bit i for the i-th slug; 0 for anything else)."""
    if len(slugs) > MAX_PER_KIND:
        raise ValueError(f"more than {MAX_PER_KIND} items of one kind do not fit a 64-bit mask")
    if not slugs:
        return literal(0)
    return case({s: 1 << n for n, s in enumerate(slugs)}, value=column, else_=0)


def _masks(kind: str, layout: Layout, *, distinct: bool = False) -> tuple:
    """SQL: a learner's achieved and handed-in masks for this kind of item, as two sums of bits
    (distinct: several rows of one item, such as quiz attempts, add its bit once)."""
    slug = WORK_ROWS[kind][1]
    bits = _bits(slug, layout.slugs(kind))
    sums = []
    for rule in (achieved, handed_in):
        value = case((rule(kind), bits), else_=0)
        sums.append(func.sum(value.distinct() if distinct else value))
    return (sums[0].label("achieved"), sums[1].label("handed_in"))


def totals_query(layout: Layout, enrolments: ColumnElement[bool]) -> Select:
    """One row per current enrolment matching `enrolments` (a condition on Enrolment): the
    learner, the cohort, and the learner's masks (achieved, handed in) and counts, by learner
    name (one statement)."""
    current = (Enrolment.left_at.is_(None), enrolments)
    users = select(Enrolment.user_id).where(*current)
    modules = (select(ModuleProgress.user_id, *_masks("module", layout),
                      func.count().label("rows"))
               .where(ModuleProgress.user_id.in_(users))
               .group_by(ModuleProgress.user_id).subquery())
    quizzes = (select(QuizAttempt.user_id, *_masks("quiz", layout, distinct=True),
                      func.count().label("rows"))
               .where(QuizAttempt.user_id.in_(users))
               .group_by(QuizAttempt.user_id).subquery())
    status = Submission.status
    tasks = (select(Submission.learner_id, *_masks("task", layout),
                    func.sum(case((status == SubmissionStatus.REFERRED.value, 1), else_=0))
                    .label("referred_now"),
                    func.sum(case((status.in_(_WAITING), 1), else_=0)).label("waiting"),
                    func.count().label("rows"))
             .where(Submission.learner_id.in_(users))
             .group_by(Submission.learner_id).subquery())
    # The most referrals on one task: round n is referred only after n - 1 referrals.
    referrals = (select(Submission.learner_id, func.max(SubmittedWork.number).label("most"))
                 .join(SubmittedWork, SubmittedWork.submission_id == Submission.id)
                 .join(Decision, Decision.work_id == SubmittedWork.id)
                 .where(Submission.learner_id.in_(users), Decision.outcome == "referred",
                        Decision.released_at.is_not(None))
                 .group_by(Submission.learner_id).subquery())
    return (select(Enrolment.id.label("enrolment_id"), Enrolment.user_id, User.name,
                   User.learner_ref, Cohort.id.label("cohort_id"),
                   Cohort.name.label("cohort_name"), Cohort.unit_id,
                   modules.c.achieved.label("module_achieved"),
                   quizzes.c.achieved.label("quiz_achieved"),
                   tasks.c.achieved.label("task_achieved"),
                   modules.c.handed_in.label("module_handed_in"),
                   quizzes.c.handed_in.label("quiz_handed_in"),
                   tasks.c.handed_in.label("task_handed_in"),
                   tasks.c.referred_now, tasks.c.waiting,
                   referrals.c.most.label("referrals"),
                   (func.coalesce(modules.c.rows, 0) + func.coalesce(quizzes.c.rows, 0)
                    + func.coalesce(tasks.c.rows, 0)).label("started"),
                   Enrolment.enrolled_at)
            .select_from(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .outerjoin(modules, modules.c.user_id == Enrolment.user_id)
            .outerjoin(quizzes, quizzes.c.user_id == Enrolment.user_id)
            .outerjoin(tasks, tasks.c.learner_id == Enrolment.user_id)
            .outerjoin(referrals, referrals.c.learner_id == Enrolment.user_id)
            .where(*current)
            .order_by(User.name, Enrolment.id))


@dataclass(frozen=True, slots=True)
class Totals:
    """One row of totals_query read into plain values."""

    enrolment_id: int
    user_id: int
    name: str
    learner_ref: str | None
    cohort_id: int
    cohort_name: str
    unit_id: str | None
    #: The items achieved (progress) and handed in (deadlines), as Layout masks.
    done_bits: int
    handed_in_bits: int
    #: The items this learner's cohort does: deadlines for anything else are ignored.
    applies: int
    done: int
    required: int
    referred_now: int
    waiting: int
    referrals: int
    started: bool
    #: The UK date the learner joined the cohort (deadlines already past are not theirs).
    joined_on: date


def read_totals(rows, layout: Layout) -> Iterator[Totals]:
    """Rows of totals_query (in its column order) as Totals."""
    masks: dict[str | None, tuple[int, int]] = {}
    for (enrolment_id, user_id, name, ref, cohort_id, cohort_name, unit_id, module_achieved,
         quiz_achieved, task_achieved, _module_handed_in, quiz_handed_in, task_handed_in,
         referred_now, waiting, referrals, started, enrolled_at) in rows:
        # A module is complete by the rule of the cohort's unit (learning.course.completion);
        # handed in, for its deadline, means the same for a module.
        modules = layout.completed_modules(module_achieved, quiz_achieved, unit_id)
        done_bits = layout.join(modules, quiz_achieved, task_achieved)
        if unit_id not in masks:
            masks[unit_id] = (layout.mask(unit_id), layout.mask(unit_id, counted=False))
        required, applies = masks[unit_id]
        yield Totals(enrolment_id, user_id, name, ref, cohort_id, cohort_name, unit_id,
                     done_bits, layout.join(modules, quiz_handed_in, task_handed_in),
                     applies, (done_bits & required).bit_count(), required.bit_count(),
                     int(referred_now or 0), int(waiting or 0), int(referrals or 0),
                     bool(started), local(enrolled_at).date())


@dataclass(frozen=True)
class Deadlines:
    """The due dates of some cohorts: by item, and as (Layout bit, due date) per cohort."""

    due: dict[tuple[int, str, str], date]
    dated: dict[int, tuple[tuple[int, date], ...]]

    def open_dates(self, cohort_id: int, open_items: int, joined_on: date | None) -> list[date]:
        """The due dates of this cohort's items in `open_items` (a mask of items not handed
        in), leaving out those set before the learner joined; a deadline for an item outside
        the Layout has no bit and is ignored."""
        return [due for bit, due in self.dated.get(cohort_id, ())
                if bit & open_items and not set_before_joining(due, joined_on)]


def load_deadlines(layout: Layout, cohort_ids: Select | Iterable[int]) -> Deadlines:
    """Every deadline of these cohorts (one query; a few per cohort and item)."""
    due: dict[tuple[int, str, str], date] = {}
    dated: dict[int, list[tuple[int, date]]] = defaultdict(list)
    chosen = cohort_ids if isinstance(cohort_ids, Select) else sorted(set(cohort_ids))
    for cohort_id, kind, slug, due_on in db.session.execute(
            select(Deadline.cohort_id, Deadline.item_kind, Deadline.item_slug, Deadline.due_on)
            .where(Deadline.cohort_id.in_(chosen))):
        due[(cohort_id, kind, slug)] = due_on
        if bit := layout.bit(kind, slug):
            dated[cohort_id].append((bit, due_on))
    return Deadlines(due, {k: tuple(v) for k, v in dated.items()})


def open_items(applies: int, handed_in_bits: int) -> int:
    """The items a learner's cohort does that they have not handed in."""
    return applies & ~handed_in_bits


def overdue_and_due_soon(dates: Iterable[date], today: date) -> tuple[int, int]:
    """How many of these due dates (of open items) have passed, and how many fall within
    DUE_SOON_DAYS (learning.cohorts.items decides "passed")."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    overdue = due_soon = 0
    for due_on in dates:
        if past_due(due_on, today):
            overdue += 1
        elif due_on <= horizon:
            due_soon += 1
    return overdue, due_soon
