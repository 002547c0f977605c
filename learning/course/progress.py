"""Learner progress through the course modules: visits, completion, and summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from learning.content.catalog import DEFAULT_MODULE_COMPLETION, Catalog, Module, ModuleCompletion
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course.completion import (
    counting_quizzes,
    module_complete,
    passed_each,
    rule_for_units,
)
from learning.course.models import ModuleProgress
from learning.people import membership
from learning.people.models import User
from learning.quizzes.access import get_quizzes
from learning.quizzes.attempts import passed_by
from learning.quizzes.signals import quiz_passed
from learning.quizzes.types import Quiz


class Status(StrEnum):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {"not-started": "Not started", "in-progress": "In progress",
                "complete": "Complete"}[self.value]


@dataclass(frozen=True)
class ModuleStatus:
    module: Module
    status: Status
    row: ModuleProgress | None

    @property
    def read(self) -> bool:
        """Marked as read (complete, or waiting for its quiz under the stricter rule)."""
        return self.row is not None and self.row.completed_at is not None


@dataclass(frozen=True)
class CourseProgress:
    items: tuple[ModuleStatus, ...]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def completed(self) -> int:
        return sum(1 for i in self.items if i.status is Status.COMPLETE)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0

    @property
    def next_up(self) -> ModuleStatus | None:
        """The first module not yet complete: where 'Continue' takes the learner."""
        return next((i for i in self.items if i.status is not Status.COMPLETE), None)


def status_of(row: ModuleProgress | None, quizzes_passed: Iterable[bool] = (),
              rule: ModuleCompletion = DEFAULT_MODULE_COMPLETION) -> Status:
    """Not started (never opened), complete by the rule (learning.course.completion), or in
    progress."""
    if row is None:
        return Status.NOT_STARTED
    complete = module_complete(row.completed_at is not None, quizzes_passed, rule)
    return Status.COMPLETE if complete else Status.IN_PROGRESS


def learner_rule(catalog: Catalog, user: User, unit_ids: Iterable[str] | None = None
                 ) -> ModuleCompletion:
    """The completion rule for a learner: the strictest of their current cohorts' units (pass
    `unit_ids` when the page has read them; otherwise one query)."""
    if unit_ids is None:
        unit_ids = membership.unit_ids_for(user)
    return rule_for_units(catalog, unit_ids)


def rules_for(catalog: Catalog, user_ids: list[int]) -> dict[int, ModuleCompletion]:
    """Each learner's completion rule (learner_rule), in one query for them all."""
    units = membership.unit_ids_by(user_ids)
    return {u: rule_for_units(catalog, units.get(u, ())) for u in user_ids}


# The statements a learner's pages run on every view are built once per process (building
# one took longer than SQLite takes to run it); the values go in as bound parameters.
@cache
def _learners_rows():
    return select(ModuleProgress).where(ModuleProgress.user_id == bindparam("user_id"))


@cache
def _module_row():
    return select(ModuleProgress).where(ModuleProgress.user_id == bindparam("user_id"),
                                        ModuleProgress.module_slug == bindparam("slug"))


def rows_for(user_ids: list[int]) -> dict[tuple[int, str], ModuleProgress]:
    """All progress rows for these learners in one query."""
    if not user_ids:
        return {}
    if len(user_ids) == 1:
        rows = db.session.scalars(_learners_rows(), {"user_id": user_ids[0]})
    else:
        rows = db.session.scalars(select(ModuleProgress)
                                  .where(ModuleProgress.user_id.in_(user_ids)))
    return {(r.user_id, r.module_slug): r for r in rows}


def course_progress(catalog: Catalog, user: User,
                    rows: dict[tuple[int, str], ModuleProgress] | None = None, *,
                    rule: ModuleCompletion | None = None,
                    passed: set[str] | Mapping[str, Any] | None = None) -> CourseProgress:
    """Status of every module for one learner by their completion rule. Pass `rows` (from
    rows_for), `rule` (learner_rule or rules_for) and `passed` (the quizzes they passed, or
    each quiz's best attempt) when the page has them: each one not passed is a query, and a
    list of learners must pass all three. `passed` is read only when the rule needs it."""
    if rows is None:
        rows = rows_for([user.id])
    if rule is None:
        rule = learner_rule(catalog, user)
    if passed is None:
        passed = (passed_by([user.id])[user.id] if rule is not ModuleCompletion.READ
                  else set())
    quizzes = list(get_quizzes().values())
    items = []
    for m in catalog.modules:
        row = rows.get((user.id, m.slug))
        each = passed_each(counting_quizzes(m.slug, quizzes), passed)
        items.append(ModuleStatus(m, status_of(row, each, rule), row))
    return CourseProgress(tuple(items))


def _row(user: User, module: Module) -> ModuleProgress | None:
    return db.session.scalar(_module_row(), {"user_id": user.id, "slug": module.slug})


#: A return visit to a module is written down at most this often: reading a page should not
#: be a write (a commit per view is most of a page's cost), and nothing needs the visit time
#: more exactly than this.
VIEW_NOTED_EVERY = timedelta(minutes=5)


def record_visit(user: User, module: Module) -> ModuleProgress:
    """A learner opened a module: start it the first time; after that note the time of the
    visit, at most every VIEW_NOTED_EVERY."""
    row = _row(user, module)
    now = utcnow()
    if row is None:
        row = ModuleProgress(user_id=user.id, module_slug=module.slug, started_at=now,
                             last_viewed_at=now)
        db.session.add(row)
        try:
            db.session.commit()
        except IntegrityError:
            # Two tabs opened the module at once: the other request made the row first.
            db.session.rollback()
            row = _row(user, module)
            if row is None:  # not the race above: let the error show
                raise
        return row
    if now - row.last_viewed_at >= VIEW_NOTED_EVERY:
        row.last_viewed_at = now
        db.session.commit()
    return row


def mark_complete(user: User, module: Module) -> ModuleProgress:
    """Mark a module complete (idempotent: the first completion date is kept)."""
    row = _row(user, module) or record_visit(user, module)
    if row.completed_at is None:
        row.completed_at = utcnow()
        row.completed_version = module.version
        db.session.commit()
    return row


def mark_incomplete(user: User, module: Module) -> ModuleProgress | None:
    """Undo a completion the learner made by mistake; the start date stays."""
    row = _row(user, module)
    if row is not None and row.completed_at is not None:
        row.completed_at = None
        row.completed_version = None
        db.session.commit()
    return row


@dataclass(frozen=True)
class CriterionProgress:
    criterion_id: str
    number: str
    text: str
    unit_code: str
    modules: tuple[ModuleStatus, ...]

    @property
    def complete(self) -> int:
        return sum(1 for m in self.modules if m.status is Status.COMPLETE)


def criteria_progress(catalog: Catalog, course: CourseProgress,
                      unit_ids: set[str]) -> list[CriterionProgress]:
    """For each criterion of the learner's units, the modules that prepare for it."""
    out = []
    for unit in catalog.units:
        if unit_ids and unit.id not in unit_ids:
            continue
        for c in unit.criteria:
            mods = tuple(i for i in course.items if c.id in i.module.criteria)
            if mods:
                out.append(CriterionProgress(c.id, c.number, c.text, unit.code, mods))
    return out


@quiz_passed.connect
def _complete_quiz_modules(attempt, user: User, modules: list[Module]) -> None:
    """Passing a quiz that counts toward completion marks the modules it belongs to as read:
    under either rule that completes them, once their other quizzes (if any) are passed too,
    and the summary behind the matrix is refreshed by the same commit."""
    for module in modules:
        mark_complete(user, module)


def quiz_to_take(module_quizzes: Sequence[Quiz], best: Mapping[str, Any]) -> Quiz | None:
    """After completing a module: its first quiz the learner has not passed (`best`: each
    quiz's best attempt, with `passed`), or None to move on to the next module."""
    for quiz in module_quizzes:
        attempt = best.get(quiz.slug)
        if attempt is None or not attempt.passed:
            return quiz
    return None
