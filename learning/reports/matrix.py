"""The completion matrix: each learner's status on every module, quiz and written task, and RAG.

One grouped query returns, for every learner in scope, which items they have achieved and
which they have handed in (as bit masks) and a few counts; deadlines are loaded once per cohort
as masks too. Progress (achieved), overdue and due-soon counts (handed in), the cohort averages
and the RAG status are then integer arithmetic in Python, so filtering and sorting by RAG or
progress need no per-learner queries. Cells are loaded only for the learners shown: a page runs
the same queries for five learners or 20,000.
The columns and both meanings of "done" are learning.cohorts.items; cell statuses and the RAG
rule live in matrix_rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Select, case, func, literal, select

from learning.assessment.models import Decision, Submission, SubmissionStatus, SubmittedWork
from learning.cohorts.items import KINDS, WORK_ROWS, Item, achieved, handed_in, past_due
from learning.cohorts.models import Deadline
from learning.core.extensions import db
from learning.course.models import ModuleProgress
from learning.people.models import Cohort, CohortStaff, Enrolment, Role, User
from learning.people.permissions import visible_cohort_ids
from learning.quizzes.models import QuizAttempt
from learning.reports.matrix_rules import (
    DUE_SOON_DAYS,
    Cell,
    QuizSummary,
    Rag,
    RagResult,
    TaskSummary,
    base_cell,
    not_required,
    rag_status,
    with_deadline,
)

PER_PAGE = 50
#: Learners per query when a whole matrix is streamed (CSV export).
CHUNK = 500

SORTS = {"name": "Name (A to Z)", "rag": "RAG status (red first)",
         "progress": "Progress (least first)", "progress-desc": "Progress (most first)"}
STATUSES = {"red": "Red", "amber": "Amber", "green": "Green",
            "referred": "Has referred work", "waiting": "Has work waiting for marking",
            "not-started": "Not started anything", "complete": "Everything done"}
_WAITING = (SubmissionStatus.SUBMITTED.value, SubmissionStatus.BEING_MARKED.value)


# ---- scope and filters ----

@dataclass(frozen=True)
class Filters:
    cohort_id: int | None = None
    assessor_id: int | None = None
    status: str = ""
    overdue_only: bool = False
    q: str = ""
    sort: str = "name"


def scope_cohort_ids(viewer: User, filters: Filters) -> Select:
    """Cohorts in the report: those the viewer may see, narrowed by the cohort and assessor
    filters. Archived cohorts are left out unless chosen by name."""
    query = select(Cohort.id)
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        query = query.where(Cohort.id.in_(visible))
    if filters.cohort_id:
        query = query.where(Cohort.id == filters.cohort_id)
    else:
        query = query.where(Cohort.archived.is_(False))
    if filters.assessor_id:
        query = query.where(Cohort.id.in_(select(CohortStaff.cohort_id).where(
            CohortStaff.user_id == filters.assessor_id,
            CohortStaff.role == Role.ASSESSOR.value)))
    return query


def learners_in(cohort_ids: Select) -> Select:
    """Learners currently enrolled in these cohorts."""
    return select(Enrolment.user_id).where(Enrolment.left_at.is_(None),
                                           Enrolment.cohort_id.in_(cohort_ids))


def cohort_options(viewer: User) -> list[tuple[int, str]]:
    query = select(Cohort.id, Cohort.name).where(Cohort.archived.is_(False)).order_by(Cohort.name)
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        query = query.where(Cohort.id.in_(visible))
    return [(r.id, r.name) for r in db.session.execute(query)]


def assessor_options(viewer: User) -> list[tuple[int, str]]:
    query = (select(User.id, User.name).distinct()
             .join(CohortStaff, CohortStaff.user_id == User.id)
             .where(CohortStaff.role == Role.ASSESSOR.value).order_by(User.name, User.id))
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        query = query.where(CohortStaff.cohort_id.in_(visible))
    return [(r.id, r.name) for r in db.session.execute(query)]


# ---- per-learner totals: one grouped query, then bit arithmetic ----
# Each learner's items come back from SQL as bit masks (bit i = the i-th item of that kind),
# one for achieved and one for handed in. Deadlines are masks too, per cohort, so "overdue",
# "due soon" and "done" are a few integer operations per learner in Python, whatever the
# number of deadlines.

@dataclass(frozen=True)
class Layout:
    """Where each item's bit sits in a learner's masks: modules, then quizzes, then tasks."""

    items: tuple[Item, ...]

    @cached_property
    def _slugs(self) -> dict[str, list[str]]:
        return {kind: [i.slug for i in self.items if i.kind == kind] for kind in KINDS}

    def slugs(self, kind: str) -> list[str]:
        return self._slugs[kind]

    def offset(self, kind: str) -> int:
        return sum(len(self._slugs[k]) for k in KINDS[:KINDS.index(kind)])

    def bit(self, kind: str, slug: str) -> int:
        slugs = self._slugs.get(kind, [])
        return 1 << (self.offset(kind) + slugs.index(slug)) if slug in slugs else 0

    def mask(self, unit_id: str | None, counted: bool = True) -> int:
        """The items a cohort studying this unit does (only those counting toward progress,
        unless counted is False)."""
        return sum(self.bit(i.kind, i.slug) for i in self.items
                   if (i.counts or not counted) and i.applies_to(unit_id))


def _bits(column, slugs: list[str]):
    """SQL: the bit of this row's item (bit i for the i-th slug; 0 for anything else)."""
    if len(slugs) > 62:
        raise ValueError("more than 62 items of one kind do not fit a 64-bit mask")
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


def summary_query(layout: Layout, cohorts: Select) -> Select:
    """One row per current enrolment in these cohorts: the learner, the cohort, and the
    learner's masks (achieved, handed in) and counts, by learner name (one statement)."""
    users = learners_in(cohorts)
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
                    + func.coalesce(tasks.c.rows, 0)).label("started"))
            .select_from(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .outerjoin(modules, modules.c.user_id == Enrolment.user_id)
            .outerjoin(quizzes, quizzes.c.user_id == Enrolment.user_id)
            .outerjoin(tasks, tasks.c.learner_id == Enrolment.user_id)
            .outerjoin(referrals, referrals.c.learner_id == Enrolment.user_id)
            .where(Enrolment.left_at.is_(None), Enrolment.cohort_id.in_(cohorts))
            .order_by(User.name, Enrolment.id))


@dataclass(frozen=True)
class Deadlines:
    """The due dates of the report's cohorts, as look-ups and as masks per cohort."""

    due: dict[tuple[int, str, str], date]
    past: dict[int, int]
    soon: dict[int, int]


def load_deadlines(layout: Layout, cohorts: Select, today: date) -> Deadlines:
    """Every deadline of these cohorts (one query; a few per cohort and item)."""
    due: dict[tuple[int, str, str], date] = {}
    past: dict[int, int] = defaultdict(int)
    soon: dict[int, int] = defaultdict(int)
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    for cohort_id, kind, slug, due_on in db.session.execute(
            select(Deadline.cohort_id, Deadline.item_kind, Deadline.item_slug, Deadline.due_on)
            .where(Deadline.cohort_id.in_(cohorts))):
        due[(cohort_id, kind, slug)] = due_on
        bit = layout.bit(kind, slug)
        if past_due(due_on, today):
            past[cohort_id] |= bit
        elif due_on <= horizon:
            soon[cohort_id] |= bit
    return Deadlines(due, dict(past), dict(soon))


@dataclass(frozen=True, slots=True)
class LearnerSummary:
    enrolment_id: int
    user_id: int
    name: str
    learner_ref: str | None
    cohort_id: int
    cohort_name: str
    unit_id: str | None
    done: int
    required: int
    overdue: int
    due_soon: int
    referrals: int
    referred_now: int
    waiting: int
    started: bool
    rag: RagResult
    #: The items handed in (a Layout mask): the cells decide "overdue" from it too.
    handed_in_bits: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.required) if self.required else 0


@dataclass(frozen=True, slots=True)
class Totals:
    """One summary row read into plain values: what the RAG status needs except the cohort
    average, which needs every learner's totals first."""

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

    @property
    def share(self) -> float:
        return 100 * self.done / self.required if self.required else 0.0


def read_totals(rows, layout: Layout) -> Iterator[Totals]:
    """Summary rows (in summary_query's column order) as Totals."""
    quiz_at, task_at = layout.offset("quiz"), layout.offset("task")

    def joined(module_bits, quiz_bits, task_bits) -> int:
        """One Layout mask from the three per-kind masks."""
        return (int(module_bits or 0) | int(quiz_bits or 0) << quiz_at
                | int(task_bits or 0) << task_at)

    masks: dict[str | None, tuple[int, int]] = {}
    for (enrolment_id, user_id, name, ref, cohort_id, cohort_name, unit_id, module_achieved,
         quiz_achieved, task_achieved, module_handed_in, quiz_handed_in, task_handed_in,
         referred_now, waiting, referrals, started) in rows:
        done_bits = joined(module_achieved, quiz_achieved, task_achieved)
        if unit_id not in masks:
            masks[unit_id] = (layout.mask(unit_id), layout.mask(unit_id, counted=False))
        required, applies = masks[unit_id]
        yield Totals(enrolment_id, user_id, name, ref, cohort_id, cohort_name, unit_id,
                     done_bits, joined(module_handed_in, quiz_handed_in, task_handed_in),
                     applies, (done_bits & required).bit_count(),
                     required.bit_count(),
                     int(referred_now or 0), int(waiting or 0), int(referrals or 0),
                     bool(started))


def summarise(t: Totals, deadlines: Deadlines, pace: dict[int, float]) -> LearnerSummary:
    """Progress counts what is achieved; overdue and due soon count what is not handed in
    (learning.cohorts.items says why)."""
    open_items = t.applies & ~t.handed_in_bits
    overdue = (deadlines.past.get(t.cohort_id, 0) & open_items).bit_count()
    due_soon = (deadlines.soon.get(t.cohort_id, 0) & open_items).bit_count()
    rag = rag_status(overdue=overdue, referrals=t.referrals, due_soon=due_soon,
                     percent=t.share, cohort_percent=pace.get(t.cohort_id, 0.0))
    return LearnerSummary(t.enrolment_id, t.user_id, t.name, t.learner_ref, t.cohort_id,
                          t.cohort_name, t.unit_id, t.done, t.required, overdue, due_soon,
                          t.referrals, t.referred_now, t.waiting, t.started, rag,
                          t.handed_in_bits)


def cohort_pace(all_totals: Iterable[Totals]) -> dict[int, float]:
    """Each cohort's average progress (0..100) over these learners."""
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    for t in all_totals:
        entry = sums[t.cohort_id]
        entry[0] += t.share
        entry[1] += 1
    return {cohort_id: total / count for cohort_id, (total, count) in sums.items()}


def matches(summary: LearnerSummary, search: str) -> bool:
    """Search by part of the name or learner reference, ignoring case."""
    needle = search.strip().casefold()
    return not needle or needle in summary.name.casefold() or needle in (
        summary.learner_ref or "").casefold()


def keep(summary: LearnerSummary, filters: Filters) -> bool:
    """The search, status and overdue filters (pure)."""
    if not matches(summary, filters.q):
        return False
    if filters.overdue_only and not summary.overdue:
        return False
    status = filters.status
    if status in ("red", "amber", "green"):
        return summary.rag.rag == status
    if status == "referred":
        return summary.referred_now > 0
    if status == "waiting":
        return summary.waiting > 0
    if status == "not-started":
        return not summary.started
    if status == "complete":
        return summary.required > 0 and summary.done >= summary.required
    return True


def sort_summaries(rows: list[LearnerSummary], sort: str) -> list[LearnerSummary]:
    """Rows arrive by name; stable sorts keep name order within equal keys."""
    if sort == "rag":
        return sorted(rows, key=lambda r: (r.rag.rag.rank, r.percent))
    if sort == "progress":
        return sorted(rows, key=lambda r: r.percent)
    if sort == "progress-desc":
        return sorted(rows, key=lambda r: -r.percent)
    return rows


# ---- cells for the learners shown ----

def cells_for(rows: Sequence[LearnerSummary], layout: Layout, deadlines: Deadlines,
              today: date) -> dict[int, list[Cell]]:
    """Cells for these learners, keyed by enrolment id, in three queries whatever their number.

    Whether an item is overdue comes from the learner's handed-in mask, the same bits that
    counted it in their summary, so a cell and the count beside it cannot disagree.
    """
    if not rows:
        return {}
    items = layout.items
    bits = [layout.bit(item.kind, item.slug) for item in items]
    user_ids = sorted({r.user_id for r in rows})
    modules = {(u, s): done for u, s, done in db.session.execute(
        select(ModuleProgress.user_id, ModuleProgress.module_slug, achieved("module"))
        .where(ModuleProgress.user_id.in_(user_ids)))}
    submitted = QuizAttempt.state == "submitted"
    quizzes = {(r.user_id, r.quiz_slug): QuizSummary(
        r.best, bool(r.passed), int(r.submitted or 0), bool(r.open))
        for r in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.quiz_slug,
                   func.max(case((submitted, QuizAttempt.percent))).label("best"),
                   func.max(case((achieved("quiz"), 1), else_=0)).label("passed"),
                   func.sum(case((submitted, 1), else_=0)).label("submitted"),
                   func.max(case((submitted, 0), else_=1)).label("open"))
            .where(QuizAttempt.user_id.in_(user_ids))
            .group_by(QuizAttempt.user_id, QuizAttempt.quiz_slug))}
    rounds = (select(func.count()).select_from(SubmittedWork)
              .where(SubmittedWork.submission_id == Submission.id).scalar_subquery())
    tasks = {(r.learner_id, r.task_slug): TaskSummary(r.status, r.rounds)
             for r in db.session.execute(
                 select(Submission.learner_id, Submission.task_slug, Submission.status,
                        rounds.label("rounds")).where(Submission.learner_id.in_(user_ids)))}
    sources: dict[str, dict[tuple[int, str], Any]] = {
        "module": modules, "quiz": quizzes, "task": tasks}
    # Most cells repeat (not started, no due date...): build each distinct one once.
    made: dict[tuple, Cell] = {}
    out = {}
    for row in rows:
        cells = []
        for n, item in enumerate(items):
            if not item.applies_to(row.unit_id):
                cells.append(not_required(item))
                continue
            state = sources[item.kind].get((row.user_id, item.slug))
            due_on = deadlines.due.get((row.cohort_id, item.kind, item.slug))
            is_handed_in = bool(row.handed_in_bits & bits[n])
            key = (n, state, due_on, is_handed_in)
            cell = made.get(key)
            if cell is None:
                cell = made[key] = with_deadline(base_cell(
                    item, module_done=state if item.kind == "module" else None,
                    quiz=state if item.kind == "quiz" else None,
                    task=state if item.kind == "task" else None), due_on, today,
                    handed_in=is_handed_in)
            cells.append(cell)
        out[row.enrolment_id] = cells
    return out


# ---- the page and the stream ----

@dataclass(frozen=True)
class MatrixRow:
    summary: LearnerSummary
    cells: list[Cell]


@dataclass(frozen=True)
class MatrixPage:
    items: tuple[Item, ...]
    rows: list[MatrixRow]
    number: int
    pages: int
    total: int
    counts: dict[str, int]


def matrix_page(viewer: User, items: tuple[Item, ...], filters: Filters, today: date,
                page: int = 1, per_page: int = PER_PAGE) -> MatrixPage:
    """One page of the matrix in five queries: totals for everyone in scope (so the cohort
    averages, filters and sorts see everyone), deadlines, then the shown learners' cells."""
    layout = Layout(items)
    cohorts = scope_cohort_ids(viewer, filters)
    # Core execution: twenty thousand plain rows need none of the ORM's row handling.
    everyone = list(read_totals(db.session.connection().execute(
        summary_query(layout, cohorts)), layout))
    deadlines = load_deadlines(layout, cohorts, today)
    pace = cohort_pace(everyone)
    counts = {rag.value: 0 for rag in Rag}
    kept = []
    for t in everyone:
        s = summarise(t, deadlines, pace)
        if keep(s, filters):
            kept.append(s)
            counts[s.rag.rag.value] += 1
    kept = sort_summaries(kept, filters.sort)
    pages = max(1, -(-len(kept) // per_page))
    page = min(max(1, page), pages)
    shown = kept[(page - 1) * per_page: page * per_page]
    cells = cells_for(shown, layout, deadlines, today)
    return MatrixPage(items, [MatrixRow(s, cells[s.enrolment_id]) for s in shown], page, pages,
                      len(kept), counts)


def iter_matrix(viewer: User, items: tuple[Item, ...], filters: Filters, today: date,
                chunk: int = CHUNK) -> Iterator[MatrixRow]:
    """Every row of the matrix by learner name, for the CSV export, with flat memory: the
    summary is read twice through a streaming cursor (yield_per), first only to add up the
    cohort averages, then CHUNK learners at a time with their cells."""
    layout = Layout(items)
    cohorts = scope_cohort_ids(viewer, filters)
    query = summary_query(layout, cohorts).execution_options(yield_per=chunk)

    def batches():
        return db.session.execute(query).partitions(chunk)

    pace = cohort_pace(t for batch in batches() for t in read_totals(batch, layout))
    deadlines = load_deadlines(layout, cohorts, today)
    for batch in batches():
        rows = [s for s in (summarise(t, deadlines, pace) for t in read_totals(batch, layout))
                if keep(s, filters)]
        cells = cells_for(rows, layout, deadlines, today)
        for s in rows:
            yield MatrixRow(s, cells[s.enrolment_id])
