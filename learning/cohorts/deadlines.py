"""Deadlines: target dates per cohort, each learner's, and how a cohort stands against them.

When an item is done (handed in) and when it is overdue are decided in
learning.cohorts.items, the one place the completion matrix asks too; the queries here load
what they need in a fixed number of statements.

Dates: a deadline is a calendar date in the UK. "Today" is the display-zone date of the
current UTC time (`learning.core.dates.local_today`), so a learner working at 00:30 in British
Summer Time is already on the next day, even though it is still the previous day in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, select

from learning.cohorts.items import (
    KIND_LABELS,
    KINDS,
    DeadlineStatus,
    Item,
    ItemKey,
    for_unit,
    handed_in_by,
    module_done,
    needs_quizzes,
    set_before_joining,
    status_on,
)
from learning.cohorts.models import Deadline
from learning.core import audit
from learning.core.dates import local
from learning.core.extensions import db
from learning.people.models import Cohort, Enrolment, User
from learning.quizzes.attempts import passed_by

# ---- queries ----

def deadlines_by_cohort(cohort_ids: Iterable[int]) -> dict[int, dict[ItemKey, Deadline]]:
    """Every deadline of these cohorts, in one query."""
    ids = list(set(cohort_ids))
    result: dict[int, dict[ItemKey, Deadline]] = {i: {} for i in ids}
    if ids:
        for d in db.session.scalars(select(Deadline).where(Deadline.cohort_id.in_(ids))):
            result[d.cohort_id][(d.item_kind, d.item_slug)] = d
    return result


#: How far "shift every date" may move them: a year either way catches a typing slip.
MAX_SHIFT_DAYS = 366


def filled_from(source: Mapping[ItemKey, date], current: Mapping[ItemKey, date],
                keys: Iterable[ItemKey], shift_days: int) -> dict[ItemKey, date]:
    """The dates a deadlines form starts with when copied from another cohort (or this one)
    and moved `shift_days` later: an item the source has no date for keeps its current one.
    Nothing is saved: the coordinator checks the dates, then saves."""
    if abs(shift_days) > MAX_SHIFT_DAYS:
        raise ValueError(f"shift the dates by at most {MAX_SHIFT_DAYS} days")
    out = {}
    for key in keys:
        if key in source:
            out[key] = source[key] + timedelta(days=shift_days)
        elif key in current:
            out[key] = current[key]
    return out


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


def _cohorts_items(items: Iterable[Item], unit_id: str | None) -> dict[ItemKey, Item]:
    """A deadline for anything else (another unit's task, an item no longer in the course)
    is ignored, as the matrix ignores it."""
    return {i.key: i for i in for_unit(items, unit_id)}


@cache  # the dashboard runs it on every view: built once per process
def _learners_deadlines():
    return (select(Deadline, Cohort.name, Cohort.unit_id, Enrolment.enrolled_at)
            .join(Enrolment, (Enrolment.cohort_id == Deadline.cohort_id)
                  & (Enrolment.user_id == bindparam("learner_id")) & Enrolment.left_at.is_(None))
            .join(Cohort, Cohort.id == Deadline.cohort_id)
            .where(Cohort.archived.is_(False))
            .order_by(Deadline.due_on, Cohort.name))


def learner_deadlines(learner: User, items: Sequence[Item], today: date,
                      unit_ids: Iterable[str] | None = None,
                      passed: set[str] | None = None) -> list[LearnerDeadline]:
    """The learner's target dates from their current (not archived) cohorts, soonest first.

    When two cohorts set a date for the same item, the earlier date applies, preferring one
    set on or after the day the learner joined its cohort. Items no longer in the course, and
    tasks of another unit than the cohort's, are left out. A module is done when complete by
    the strictest rule of the learner's units (`unit_ids`: their current cohorts' units, when
    the page has them; else those of the cohorts setting dates). Two queries, and a third for
    the quizzes passed when that rule needs them and the page did not pass `passed`.
    """
    rows = db.session.execute(_learners_deadlines(), {"learner_id": learner.id}).all()
    by_unit: dict[str | None, dict[ItemKey, Item]] = {}
    chosen: dict[ItemKey, tuple[bool, Item, Deadline, str, date]] = {}
    for deadline, cohort_name, unit_id, enrolled_at in rows:  # soonest first
        if unit_id not in by_unit:
            by_unit[unit_id] = _cohorts_items(items, unit_id)
        item = by_unit[unit_id].get((deadline.item_kind, deadline.item_slug))
        if item is None:
            continue
        joined_on = local(enrolled_at).date()
        before = set_before_joining(deadline.due_on, joined_on)
        if item.key not in chosen or (chosen[item.key][0] and not before):
            chosen[item.key] = (before, item, deadline, cohort_name, joined_on)
    if not chosen:
        return []
    handed = handed_in_by([learner.id], chosen)[learner.id]
    units = set(unit_ids) if unit_ids is not None else {row[2] for row in rows if row[2]}
    modules = [c[1] for c in chosen.values() if c[1].kind == "module"]
    if passed is None:
        passed = (passed_by([learner.id])[learner.id] if needs_quizzes(modules, units)
                  else set())
    result = []
    for _, item, deadline, cohort_name, joined_on in chosen.values():
        done = (module_done(item, item.key in handed, passed, units) if item.kind == "module"
                else item.key in handed)
        status, late = status_on(deadline.due_on, done, today, joined_on)
        result.append(LearnerDeadline(item.kind, item.slug, item.full_title, deadline.due_on,
                                      status, late, cohort_name))
    result.sort(key=lambda d: (d.due_on, KINDS.index(d.kind), d.title))
    return result


@dataclass(frozen=True)
class ItemCount:
    """How a cohort's current learners stand against one deadline."""

    item: Item
    due_on: date
    done: int
    overdue: int
    learners: int
    #: Learners who joined after the date had passed (theirs is agreed afresh).
    joined_after: int = 0

    @property
    def not_yet_due(self) -> int:
        return self.learners - self.done - self.overdue - self.joined_after


@dataclass(frozen=True)
class CohortCounts:
    learners: int
    items: tuple[ItemCount, ...] = ()
    #: learner id -> number of overdue items
    overdue_by_learner: Mapping[int, int] = field(default_factory=dict)

    @property
    def learners_overdue(self) -> int:
        return sum(1 for n in self.overdue_by_learner.values() if n)


def cohort_overdue_counts(cohort_ids: Iterable[int], items: Sequence[Item],
                          today: date) -> dict[int, CohortCounts]:
    """Per cohort: for each deadline, how many current learners are done or overdue, and how
    many items each learner has overdue. Three queries, however many learners."""
    ids = list(set(cohort_ids))
    if not ids:
        return {}
    deadlines = deadlines_by_cohort(ids)
    units: dict[int, str | None] = {}
    members: dict[int, list[int]] = {i: [] for i in ids}
    joined: dict[tuple[int, int], date] = {}
    for cohort_id, unit_id, user_id, enrolled_at in db.session.execute(
            select(Cohort.id, Cohort.unit_id, Enrolment.user_id, Enrolment.enrolled_at)
            .outerjoin(Enrolment, (Enrolment.cohort_id == Cohort.id)
                       & Enrolment.left_at.is_(None))
            .where(Cohort.id.in_(ids))):
        units[cohort_id] = unit_id
        if user_id is not None:
            members[cohort_id].append(user_id)
            joined[(cohort_id, user_id)] = local(enrolled_at).date()
    position = {item.key: n for n, item in enumerate(items)}
    set_for: dict[int, list[tuple[Item, Deadline]]] = {}
    for cohort_id in ids:
        known = _cohorts_items(items, units.get(cohort_id))
        set_for[cohort_id] = sorted(
            ((known[key], d) for key, d in deadlines[cohort_id].items() if key in known),
            key=lambda pair: (pair[1].due_on, position[pair[0].key]))
    keys = {item.key for pairs in set_for.values() for item, _ in pairs}
    wanted_users = {u for i in ids if set_for[i] for u in members[i]}
    handed = handed_in_by(wanted_users, keys) if keys and wanted_users else {}
    # A module is done by the rule of the cohort's unit, as in its matrix: quiz results are
    # read (one query) only when a cohort's rule needs them.
    strict = [i for i in ids if needs_quizzes((item for item, _ in set_for[i]),
                                              [units.get(i)])]
    passed = passed_by(sorted({u for i in strict for u in members[i]})) if strict else {}
    result = {}
    for cohort_id in ids:
        learners = sorted(set(members[cohort_id]))
        per_learner = dict.fromkeys(learners, 0)
        counts = []
        for item, deadline in set_for[cohort_id]:
            done = overdue = joined_after = 0
            for user_id in learners:
                handed_in = (module_done(item, item.key in handed[user_id],
                                         passed.get(user_id, set()), [units.get(cohort_id)])
                             if item.kind == "module" else item.key in handed[user_id])
                status, _ = status_on(deadline.due_on, handed_in, today,
                                      joined[(cohort_id, user_id)])
                if status is DeadlineStatus.DONE:
                    done += 1
                elif status is DeadlineStatus.OVERDUE:
                    overdue += 1
                    per_learner[user_id] += 1
                elif status is DeadlineStatus.BEFORE_JOINING:
                    joined_after += 1
            counts.append(ItemCount(item, deadline.due_on, done, overdue, len(learners),
                                    joined_after))
        result[cohort_id] = CohortCounts(len(learners), tuple(counts), per_learner)
    return result
