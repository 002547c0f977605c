"""A cohort's items: every module, quiz and written task in course order, and which apply.

One list for every page: the deadlines form, the learner's target dates and the cohort's
overdue counts (learning.cohorts.deadlines), and the completion matrix's columns and its CSV
(learning.reports.matrix).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from learning.content.catalog import Catalog
from learning.quizzes.types import Quiz

KINDS = ("module", "quiz", "task")
KIND_LABELS = {"module": "Module", "quiz": "Quiz", "task": "Written task"}

ItemKey = tuple[str, str]  # (kind, slug)


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
    modules = [Item("module", m.slug, m.title, f"M{i}", number=m.order)
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
