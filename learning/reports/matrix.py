"""The completion matrix: each learner's status on every module, quiz and written task, and RAG.

Every learner in scope has a stored summary row (learning.reports.summary, kept up to date by
the writes that change it), so a page filters, counts, sorts and pages in SQL, comparing stored
due dates with today's date and each learner's progress with their cohort's average, and then
loads cells for the 50 learners shown only: a page runs the same queries for five learners or
20,000. The columns and both meanings of "done" are learning.cohorts.items; cell statuses and
the RAG rule live in matrix_rules; the per-learner totals in learning.reports.totals.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select

from learning.assessment.models import Submission, SubmittedWork
from learning.cohorts.items import Item, achieved, set_before_joining
from learning.core.extensions import db
from learning.course.models import ModuleProgress
from learning.people.models import Cohort, CohortStaff, Enrolment, Role, User
from learning.people.permissions import visible_cohort_ids
from learning.quizzes.models import QuizAttempt
from learning.reports import summary
from learning.reports.matrix_rules import (
    BEHIND_POINTS,
    DUE_SOON_DAYS,
    REFERRALS_RED,
    Cell,
    QuizSummary,
    Rag,
    RagResult,
    TaskSummary,
    base_cell,
    cohort_share,
    not_required,
    progress_percent,
    rag_status,
    share,
    with_deadline,
)
from learning.reports.models import MatrixCohortPace, MatrixSummary, MatrixSummaryLayout
from learning.reports.totals import (
    Deadlines,
    Layout,
    load_deadlines,
    open_items,
    overdue_and_due_soon,
)

PER_PAGE = 50
#: Learners per query when a whole matrix is streamed (CSV export).
CHUNK = 500

SORTS = {"name": "Name (A to Z)", "rag": "RAG status (red first)",
         "progress": "Progress (least first)", "progress-desc": "Progress (most first)"}
STATUSES = {"red": "Red", "amber": "Amber", "green": "Green",
            "referred": "Has referred work", "waiting": "Has work waiting for marking",
            "not-started": "Not started anything", "complete": "Everything done"}


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


# ---- the rows in scope: filtered, counted, sorted and paged in SQL ----
# Every number the filters and sorts need is stored (learning.reports.summary): each learner's
# counts and earliest open due date, and each cohort's learners and items achieved. What
# depends on today (overdue, due soon) is worked out by the query from the stored dates.

S, P = MatrixSummary, MatrixCohortPace


def rag_rank(today: date) -> ColumnElement[int]:
    """matrix_rules.rag_status in SQL, as the rank of its colour (0 red, 1 amber, 2 green),
    for a summary row joined to its cohort's pace.

    Overdue: the earliest due date of an item not handed in has passed (past_due). Due soon,
    when not overdue: that date is within DUE_SOON_DAYS. Behind: the cohort's average share
    less the learner's is BEHIND_POINTS or more; with d items done of R required, and the
    cohort's n learners having done D in all, that is 100·D/(n·R) − 100·d/R ≥ BEHIND_POINTS,
    compared in whole numbers as 100·(D − n·d) ≥ BEHIND_POINTS·n·R, as matrix_rules.share
    compares it exactly. A test checks both give every learner the same colour.
    """
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    behind = and_(S.required > 0,
                  (P.done - P.learners * S.done) * 100 >= P.learners * S.required * BEHIND_POINTS)
    return case((or_(S.next_due_on < today, S.referrals >= REFERRALS_RED), Rag.RED.rank),
                (or_(S.next_due_on <= horizon, behind), Rag.AMBER.rank),
                else_=Rag.GREEN.rank)


def _conditions(filters: Filters, rank, today: date) -> list:
    """The search, status and overdue filters as SQL conditions."""
    out = []
    if needle := filters.q.strip().casefold():
        # Both sides folded the same way in Python (str.casefold), so any script matches.
        out.append(or_(S.name_key.contains(needle, autoescape=True),
                       S.ref_key.contains(needle, autoescape=True)))
    if filters.overdue_only:
        out.append(S.next_due_on < today)
    status = filters.status
    if status in ("red", "amber", "green"):
        out.append(rank == Rag(status).rank)
    elif status == "referred":
        out.append(S.referred_now > 0)
    elif status == "waiting":
        out.append(S.waiting > 0)
    elif status == "not-started":
        out.append(S.started.is_(False))
    elif status == "complete":
        out.append(and_(S.required > 0, S.done >= S.required))
    return out


def _ordering(sort: str, rank) -> list:
    """By name, or by RAG, least progress first within each colour, or by progress; name
    order (then enrolment) within equal keys."""
    by_name = [S.name, S.enrolment_id]
    if sort == "rag":
        return [rank, S.percent, *by_name]
    if sort == "progress":
        return [S.percent, *by_name]
    if sort == "progress-desc":
        return [S.percent.desc(), *by_name]
    return by_name


def _matching(viewer: User, filters: Filters, today: date) -> tuple[Select, Any]:
    """The summary rows the report shows (with their cohort's pace), unordered, and the RAG
    rank expression."""
    rank = rag_rank(today)
    query = (select(S.__table__, P.done.label("cohort_done"),
                    P.learners.label("cohort_learners"))
             .join(P, P.cohort_id == S.cohort_id)
             .where(S.cohort_id.in_(scope_cohort_ids(viewer, filters)),
                    *_conditions(filters, rank, today)))
    return query, rank


_COLOURS = {rag.rank: rag.value for rag in Rag}


def _counts(query: Select, rank) -> tuple[dict[str, int], str | None]:
    """How many matching rows have each RAG colour, and the items the summary is built for
    (read in the same statement; None when nothing matches)."""
    matching = query.with_only_columns(rank.label("rank"), maintain_column_froms=True).subquery()
    built_for = select(MatrixSummaryLayout.layout).where(MatrixSummaryLayout.id == 1)
    counts = {rag.value: 0 for rag in Rag}
    rows = db.session.execute(select(matching.c.rank, func.count(), built_for.scalar_subquery())
                              .group_by(matching.c.rank)).all()
    for found, number, _ in rows:
        counts[_COLOURS[found]] = number
    return counts, rows[0][2] if rows else None


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
    #: The day they joined the cohort: deadlines already past then are not theirs.
    joined_on: date | None

    @property
    def percent(self) -> int:
        return progress_percent(self.done, self.required)


def summarise(row, layout: Layout, deadlines: Deadlines, today: date) -> LearnerSummary:
    """A row of _matching as the page shows it: overdue and due soon count the cohort's
    deadlines on items not handed in; progress counts what is achieved
    (learning.cohorts.items says why)."""
    handed_in = layout.join(row.module_handed_in, row.quiz_handed_in, row.task_handed_in)
    applies = layout.mask(row.unit_id, counted=False)
    overdue, due_soon = overdue_and_due_soon(
        deadlines.open_dates(row.cohort_id, open_items(applies, handed_in), row.joined_on),
        today)
    rag = rag_status(overdue=overdue, referrals=row.referrals, due_soon=due_soon,
                     percent=share(row.done, row.required),
                     cohort_percent=cohort_share(row.cohort_done, row.cohort_learners,
                                                 row.required))
    return LearnerSummary(row.enrolment_id, row.user_id, row.name, row.learner_ref,
                          row.cohort_id, row.cohort_name, row.unit_id, row.done, row.required,
                          overdue, due_soon, row.referrals, row.referred_now, row.waiting,
                          bool(row.started), rag, handed_in, row.joined_on)


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
    # A module opened has a row; whether it is complete is the learner's summary's (the
    # completion rule applied there, learning.course.completion), read below from its bits.
    modules = {(u, s): False for u, s in db.session.execute(
        select(ModuleProgress.user_id, ModuleProgress.module_slug)
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
            if item.kind == "module" and state is not None:
                state = bool(row.handed_in_bits & bits[n])  # complete (summary.py)
            due_on = deadlines.due.get((row.cohort_id, item.kind, item.slug))
            is_handed_in = bool(row.handed_in_bits & bits[n])
            before = due_on is not None and set_before_joining(due_on, row.joined_on)
            key = (n, state, due_on, is_handed_in, before)
            cell = made.get(key)
            if cell is None:
                cell = made[key] = with_deadline(base_cell(
                    item, module_done=state if item.kind == "module" else None,
                    quiz=state if item.kind == "quiz" else None,
                    task=state if item.kind == "task" else None), due_on, today,
                    handed_in=is_handed_in, before_joining=before)
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


def for_one_unit(page: MatrixPage, unit_id: str | None) -> MatrixPage:
    """The page with only the columns of one unit's items (when one cohort is chosen): the
    summary behind it is still built for every item, so nothing is rebuilt."""
    if unit_id is None:
        return page
    keep = [n for n, item in enumerate(page.items) if item.applies_to(unit_id)]
    return replace(page, items=tuple(page.items[n] for n in keep),
                   rows=[MatrixRow(r.summary, [r.cells[n] for n in keep]) for r in page.rows])


def matrix_page(viewer: User, items: tuple[Item, ...], filters: Filters, today: date,
                page: int = 1, per_page: int = PER_PAGE) -> MatrixPage:
    """One page of the matrix in six queries whatever the number of learners: the count per
    RAG colour of the rows that match (with the items the summary is built for), the page of
    rows, their cohorts' deadlines, and their cells (three)."""
    layout = Layout(items)
    query, rank = _matching(viewer, filters, today)
    counts, saved = _counts(query, rank)
    if saved != summary.layout_json(layout) and summary.ensure_built(layout):
        counts, _ = _counts(query, rank)  # built just now (after installing, a course edit)
    total = sum(counts.values())
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        query.add_columns(Cohort.name.label("cohort_name"), Cohort.unit_id)
        .join(Cohort, Cohort.id == S.cohort_id)
        .order_by(*_ordering(filters.sort, rank))
        .limit(per_page).offset((page - 1) * per_page)).all()
    deadlines = load_deadlines(layout, {row.cohort_id for row in rows})
    shown = [summarise(row, layout, deadlines, today) for row in rows]
    cells = cells_for(shown, layout, deadlines, today)
    return MatrixPage(items, [MatrixRow(s, cells[s.enrolment_id]) for s in shown], page, pages,
                      total, counts)


def count_rows(viewer: User, items: tuple[Item, ...], filters: Filters, today: date) -> int:
    """How many rows the CSV export of the matrix with these filters has (one query once the
    summary is built): whether it is made now or by the worker depends on it."""
    layout = Layout(items)
    summary.ensure_built(layout)
    query, rank = _matching(viewer, filters, today)
    return sum(_counts(query, rank)[0].values())


def iter_matrix(viewer: User, items: tuple[Item, ...], filters: Filters, today: date,
                chunk: int = CHUNK) -> Iterator[MatrixRow]:
    """Every row of the matrix by learner name, for the CSV export, with flat memory: the
    matching summary rows are read through a streaming cursor (yield_per), CHUNK learners at
    a time with their cells."""
    layout = Layout(items)
    summary.ensure_built(layout)
    cohorts = scope_cohort_ids(viewer, filters)
    query, rank = _matching(viewer, filters, today)
    deadlines = load_deadlines(layout, cohorts)
    for batch in db.session.execute(query.add_columns(Cohort.name.label("cohort_name"),
                                                      Cohort.unit_id)
                                    .join(Cohort, Cohort.id == S.cohort_id)
                                    .order_by(*_ordering("name", rank))
                                    .execution_options(yield_per=chunk)).partitions(chunk):
        rows = [summarise(row, layout, deadlines, today) for row in batch]
        cells = cells_for(rows, layout, deadlines, today)
        for s in rows:
            yield MatrixRow(s, cells[s.enrolment_id])
