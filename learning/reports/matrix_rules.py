"""The completion matrix's cell statuses and RAG rule: pure functions, no queries."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from learning.cohorts.items import DeadlineStatus, Item, status_on

#: Amber when something is due within this many days and not handed in.
DUE_SOON_DAYS = 7
#: Amber when a learner's progress is this many percentage points below their cohort's average.
BEHIND_POINTS = 20
#: Red when one written task has been referred this many times.
REFERRALS_RED = 2


# ---- cells (pure) ----

class CellStatus(enum.StrEnum):
    NOT_REQUIRED = "not-required"
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    SUBMITTED = "submitted"
    REFERRED = "referred"
    DONE = "done"
    OVERDUE = "overdue"

    @property
    def symbol(self) -> str:
        return {"not-required": "–", "not-started": "○", "in-progress": "◐", "submitted": "↑",
                "referred": "↺", "done": "✓", "overdue": "!"}[self.value]


#: The words for "done" depend on what the item is.
DONE_WORDS = {"module": "Complete", "quiz": "Passed", "task": "Achieved"}


@dataclass(frozen=True)
class QuizSummary:
    best: float | None  # best percent over submitted attempts
    passed: bool
    submitted: int
    open: bool


@dataclass(frozen=True)
class TaskSummary:
    status: str
    rounds: int


@dataclass(frozen=True)
class Cell:
    item: Item
    status: CellStatus
    #: Words for the status (read by screen readers, written to the CSV).
    label: str
    #: A short visible addition: a quiz's best score, a task's submission round.
    note: str = ""
    due_on: date | None = None
    #: The due date had passed when the learner joined the cohort (never overdue).
    before_joining: bool = False

    @property
    def due_words(self) -> str:
        """", due 2026-06-10", and "(set before joining)" after a date that is not theirs."""
        if self.due_on is None:
            return ""
        return f", due {self.due_on.isoformat()}" + (
            " (set before joining)" if self.before_joining else "")

    @property
    def text(self) -> str:
        """The status in words, with the note and due date (the CSV and tooltips use it)."""
        return self.label + (f" ({self.note})" if self.note else "") + self.due_words


def base_cell(item: Item, module_done: bool | None = None, quiz: QuizSummary | None = None,
              task: TaskSummary | None = None) -> Cell:
    """Where a learner stands on one item, before deadlines are considered.

    module_done: None when the module was never opened, else whether it is complete.
    """
    S = CellStatus
    if item.kind == "module":
        if module_done is None:
            return Cell(item, S.NOT_STARTED, "Not started")
        return Cell(item, S.DONE, "Complete") if module_done else Cell(item, S.IN_PROGRESS,
                                                                       "In progress")
    if item.kind == "quiz":
        if quiz is None or (not quiz.submitted and not quiz.open):
            return Cell(item, S.NOT_STARTED, "Not started")
        note = f"{round(quiz.best)}%" if quiz.best is not None else ""
        if quiz.passed:
            return Cell(item, S.DONE, "Passed", note)
        if quiz.submitted:
            return Cell(item, S.IN_PROGRESS, "Not passed yet", note)
        return Cell(item, S.IN_PROGRESS, "In progress")
    if task is None:
        return Cell(item, S.NOT_STARTED, "Not started")
    note = f"round {task.rounds}" if task.rounds > 1 else ""
    return {
        "draft": Cell(item, S.IN_PROGRESS, "Draft", note),
        "submitted": Cell(item, S.SUBMITTED, "Submitted", note),
        "being_marked": Cell(item, S.SUBMITTED, "Being marked", note),
        "referred": Cell(item, S.REFERRED, "Referred", note),
        "achieved": Cell(item, S.DONE, "Achieved", note),
    }[task.status]


def with_deadline(cell: Cell, due_on: date | None, today: date, *, handed_in: bool,
                  before_joining: bool = False) -> Cell:
    """The cell with its due date; overdue when the due date (UK calendar) has passed and the
    item is not handed in (learning.cohorts.items), so work waiting for marking is not. A date
    already past when the learner joined is not theirs: shown, never overdue."""
    if before_joining:
        return Cell(cell.item, cell.status, cell.label, cell.note, due_on, before_joining=True)
    if (due_on is not None and cell.status is not CellStatus.NOT_REQUIRED
            and status_on(due_on, handed_in, today)[0] is DeadlineStatus.OVERDUE):
        return Cell(cell.item, CellStatus.OVERDUE, f"Overdue: {cell.label.lower()}", cell.note,
                    due_on)
    return Cell(cell.item, cell.status, cell.label, cell.note, due_on)


def not_required(item: Item) -> Cell:
    return Cell(item, CellStatus.NOT_REQUIRED, "Not part of this cohort's unit")


# ---- progress (pure) ----

def progress_percent(done: int, required: int) -> int:
    """Progress as shown and sorted on: items done of items required, a whole percentage."""
    return round(100 * done / required) if required else 0


def share(done: int, required: int) -> Fraction:
    """Progress as the RAG rule compares it: exact, so that the rule gives the same answer
    worked out here or in SQL (learning.reports.matrix), where no rounding happens."""
    return Fraction(100 * done, required) if required else Fraction(0)


def cohort_share(done: int, learners: int, required: int) -> Fraction:
    """A cohort's average progress: `done` items achieved by its `learners` in all, each of
    whom is required the same `required` items (they depend on the cohort's unit)."""
    return Fraction(100 * done, learners * required) if learners and required else Fraction(0)


# ---- RAG (pure) ----

class Rag(enum.StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        return {"red": 0, "amber": 1, "green": 2}[self.value]

    @property
    def symbol(self) -> str:
        return {"red": "●", "amber": "▲", "green": "✓"}[self.value]


@dataclass(frozen=True)
class RagResult:
    rag: Rag
    reasons: tuple[str, ...]


RAG_RULE = (
    ("Red", "any item is overdue (past its due date and not done; written work handed in "
            "counts as done for its deadline while it waits for marking; a date already past "
            "when the learner joined the cohort does not count), or a written task "
            f"has been referred {REFERRALS_RED} or more times."),
    ("Amber", f"not red, and an item is due within {DUE_SOON_DAYS} days and not done, or "
              f"progress is {BEHIND_POINTS} or more percentage points below the cohort's "
              "average."),
    ("Green", "none of these: on track."),
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def rag_status(*, overdue: int, referrals: int, due_soon: int, percent: float | Fraction,
               cohort_percent: float | Fraction) -> RagResult:
    """The RAG rule (also written on the matrix page and in docs/reports.md).

    overdue: items past their due date and not handed in; referrals: the most referrals on any
    one written task; due_soon: items due within DUE_SOON_DAYS and not handed in; percent and
    cohort_percent: the learner's progress and their cohort's average, 0..100.
    """
    red = []
    if overdue:
        red.append(f"{_plural(overdue, 'item')} overdue")
    if referrals >= REFERRALS_RED:
        red.append(f"a written task referred {referrals} times")
    if red:
        return RagResult(Rag.RED, tuple(red))
    amber = []
    if due_soon:
        amber.append(f"{_plural(due_soon, 'item')} due within {DUE_SOON_DAYS} days")
    behind = cohort_percent - percent
    if behind >= BEHIND_POINTS:
        amber.append(f"{round(behind)} points behind the cohort average")
    if amber:
        return RagResult(Rag.AMBER, tuple(amber))
    return RagResult(Rag.GREEN, ("on track",))
