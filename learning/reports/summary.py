"""The completion matrix's stored summary: one row per current enrolment, kept up to date.

Each row is worked out by the same totals query and rules the matrix always used
(learning.reports.totals, learning.cohorts.items), from the learner's work and their cohort's
deadlines. It holds nothing that depends on today: the earliest due date of an item not handed
in is stored, and the page compares it with today's date, so work falls overdue at midnight
without a write.

**Who keeps it up to date.** Every write that can change a row, in any domain: a module
opened or completed, a quiz attempt started or submitted, an answer submitted, marked or
released, an IQA reopening, a deadline set, changed or removed, an enrolment, move or leaving,
a cohort's unit, a learner's name or reference. The lower domains cannot import reports, and a
list of call sites would miss the next one, so this module watches the database session
instead (SQLAlchemy session events): a flush notes which learners and cohorts the changed rows
belong to, an UPDATE, DELETE or INSERT statement on those tables notes the rows it matches,
and just before the transaction commits their summary rows are worked out again, inside the
same transaction. A rollback throws the notes away with the change.

**Built for the course's items.** The rows depend on the list of items (a course edit may add
a module or change which quizzes count), which is saved beside them. The first write that
touches a summary, or the first matrix page, after installing or after such an edit builds
every row again (`flask reports rebuild-summary` does it beforehand: about two seconds for
20,000 learners).

**At once.** On PostgreSQL a refresh holds a lock per cohort it rewrites (advisory, for the
transaction), and a rebuild one lock over them all, so two transactions never rewrite the same
rows from different snapshots; SQLite lets one transaction write at a time anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from flask import has_app_context
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, attributes

from learning.assessment.models import Decision, Submission, SubmissionStatus, SubmittedWork
from learning.cohorts.items import items_for
from learning.cohorts.models import Deadline
from learning.content.access import get_catalog
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course.models import ModuleProgress
from learning.people.models import Cohort, Enrolment, User
from learning.quizzes.access import get_quizzes
from learning.quizzes.models import AttemptState, QuizAttempt
from learning.reports import charts
from learning.reports.charts import FIGURES
from learning.reports.matrix_rules import progress_percent
from learning.reports.models import MatrixCohortPace, MatrixSummary, MatrixSummaryLayout
from learning.reports.totals import (
    Deadlines,
    Layout,
    Totals,
    load_deadlines,
    open_items,
    read_totals,
    totals_query,
)

#: More learners and cohorts than this in one transaction: rebuild every row instead (cheaper
#: than thousands of look-ups, and within the database's limit on bound values).
REBUILD_ABOVE = 2000
#: The first key of the PostgreSQL advisory locks taken here (the second is a cohort id, or 0
#: for the lock over every cohort).
LOCK_SPACE = 0x4A55  # "JU"
_NOTES = "matrix_summary_changes"


# ---- what a row holds ----

def layout_json(layout: Layout) -> str:
    """The items a summary is built for, as saved beside it: what each row's numbers and
    masks depend on (kind, slug, whether it counts, its units, a module's completion rule),
    in order."""
    return json.dumps([_item_json(i) for i in layout.items], separators=(",", ":"))


def _item_json(item) -> list:
    """An item as layout_json saves it; a module's completion rule and quizzes only when a
    unit sets the stricter rule (so a course that sets none keeps its first layout)."""
    out = [item.kind, item.slug, item.counts, sorted(item.units)]
    if item.rules:
        out += [list(item.quizzes), [[unit, rule.value] for unit, rule in item.rules]]
    return out


def current_layout() -> Layout:
    """The items of the course this app serves."""
    return Layout(items_for(get_catalog(), get_quizzes()))


def stored_values(t: Totals, deadlines: Deadlines, layout: Layout) -> dict:
    """The summary row for one learner's totals and their cohort's deadlines."""
    dates = deadlines.open_dates(t.cohort_id, open_items(t.applies, t.handed_in_bits),
                                 t.joined_on)
    module, quiz, task = layout.split(t.handed_in_bits)
    return {
        "enrolment_id": t.enrolment_id, "user_id": t.user_id, "cohort_id": t.cohort_id,
        "name": t.name, "learner_ref": t.learner_ref, "name_key": t.name.casefold(),
        "ref_key": (t.learner_ref or "").casefold(), "done": t.done, "required": t.required,
        "percent": progress_percent(t.done, t.required), "referrals": t.referrals,
        "referred_now": t.referred_now, "waiting": t.waiting, "started": t.started,
        "module_handed_in": module, "quiz_handed_in": quiz, "task_handed_in": task,
        "next_due_on": min(dates, default=None), "joined_on": t.joined_on,
    }


def compute(layout: Layout, enrolments: ColumnElement[bool]) -> list[dict]:
    """Summary rows, worked out from scratch, for the current enrolments matching
    `enrolments` (three statements whatever their number)."""
    return _rows_of(layout, totals_query(layout, enrolments), {})


def _rows_of(layout: Layout, query: Select, params: dict) -> list[dict]:
    # Core execution: twenty thousand plain rows need none of the ORM's row handling.
    totals = list(read_totals(db.session.connection().execute(query, params), layout))
    deadlines = load_deadlines(layout, {t.cohort_id for t in totals})
    return [stored_values(t, deadlines, layout) for t in totals]


#: The refresh's totals query for each layout, with the learners and cohorts as parameters:
#: building it took longer than running it, on every commit that touched a learner's work.
_REFRESH_QUERIES: dict[str, Select] = {}


def _refresh_query(layout: Layout) -> Select:
    key = layout_json(layout)
    query = _REFRESH_QUERIES.get(key)
    if query is None:
        enrolled = or_(Enrolment.user_id.in_(bindparam("learners", expanding=True)),
                       Enrolment.cohort_id.in_(bindparam("cohorts", expanding=True)))
        query = _REFRESH_QUERIES[key] = totals_query(layout, enrolled)
    return query


# The tables, for Core statements (plain rows need none of the ORM's bookkeeping).
SUMMARY = cast(Table, MatrixSummary.__table__)
PACE = cast(Table, MatrixCohortPace.__table__)
LAYOUT = cast(Table, MatrixSummaryLayout.__table__)
COLUMNS = tuple(c.name for c in SUMMARY.columns)


def _dialect():
    return postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite


def _write(rows: list[dict], table: Table = SUMMARY, key: str = "enrolment_id",
           batch: int = 1000) -> None:
    """Insert rows, replacing any row with the same key."""
    if not rows:
        return
    statement = _dialect().insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name != key})
    # Core, not the ORM: plain rows need none of its bookkeeping.
    connection = db.session.connection()
    for start in range(0, len(rows), batch):
        connection.execute(statement, rows[start:start + batch])


def _write_figures(user_ids: Iterable[int] | None = None) -> None:
    """The chart figures of these learners (None: everyone), worked out again."""
    connection = db.session.connection()
    if user_ids is None:
        connection.execute(delete(FIGURES))
    else:
        connection.execute(delete(FIGURES).where(FIGURES.c.user_id.in_(sorted(set(user_ids)))))
    _write(charts.learner_figures(user_ids), FIGURES, "user_id")


def _write_pace(cohort_ids: Iterable[int] | None = None) -> None:
    """Each of these cohorts' learners and items achieved, from its summary rows (None:
    every cohort)."""
    S, P = MatrixSummary, MatrixCohortPace
    connection = db.session.connection()
    if cohort_ids is None:
        connection.execute(delete(PACE))
        chosen: ColumnElement[bool] = true()
    else:
        ids = sorted(set(cohort_ids))
        connection.execute(delete(PACE).where(P.cohort_id.in_(ids)))
        chosen = S.cohort_id.in_(ids)
    connection.execute(insert(PACE).from_select(
        ["cohort_id", "learners", "done"],
        select(S.cohort_id, func.count(), func.sum(S.done)).where(chosen)
        .group_by(S.cohort_id)))


def _lock(cohort_ids: Iterable[int] = (), everything: bool = False) -> None:
    """PostgreSQL: hold, until the transaction ends, the lock over every cohort (shared for a
    refresh, exclusive for a rebuild) and then each cohort's own lock, in id order."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    whole = ("SELECT pg_advisory_xact_lock(CAST(:space AS integer), 0)" if everything else
             "SELECT pg_advisory_xact_lock_shared(CAST(:space AS integer), 0)")
    db.session.execute(text(whole), {"space": LOCK_SPACE})
    for cohort_id in sorted(set(cohort_ids)):
        db.session.execute(text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), "
                                "CAST(:cohort AS integer))"),
                           {"space": LOCK_SPACE, "cohort": cohort_id})


def saved_layout() -> str | None:
    """The items the summary was built for (as layout_json), or None when it is not built."""
    return db.session.scalar(select(MatrixSummaryLayout.layout)
                             .where(MatrixSummaryLayout.id == 1))


def rebuild(layout: Layout, force: bool = False) -> int | None:
    """Build every row for these items, unless (without force) they are already built for
    them; the caller commits. Returns the rows written, or None when nothing was needed."""
    wanted = layout_json(layout)
    _lock(everything=True)
    # Re-read after the lock: another transaction may have just built it.
    if not force and saved_layout() == wanted:
        return None
    # Writing first also makes SQLite take its one write lock before anything is read.
    saved = _dialect().insert(LAYOUT).values(
        id=1, layout=wanted, built_at=utcnow())
    connection = db.session.connection()
    connection.execute(saved.on_conflict_do_update(
        index_elements=["id"], set_={"layout": wanted, "built_at": utcnow()}))
    connection.execute(delete(SUMMARY))
    rows = compute(layout, true())
    _write(rows)
    _write_pace()
    _write_figures()
    return len(rows)


def ensure_built(layout: Layout) -> bool:
    """Build the summary, and commit, when it is not built for these items (once after
    installing, and after a course edit that changes the items); otherwise one look-up.
    Returns whether it was built."""
    if saved_layout() != layout_json(layout) and rebuild(layout) is not None:
        db.session.commit()
        return True
    return False


def differences(layout: Layout) -> list[str]:
    """Where the stored rows differ from rows worked out from scratch now (empty when they
    agree): for tests and `flask reports check-summary`."""
    expected = {r["enrolment_id"]: r for r in compute(layout, true())}
    stored = {r["enrolment_id"]: dict(r) for r in db.session.execute(
        select(SUMMARY)).mappings()}
    out = []
    for enrolment_id in sorted(expected.keys() | stored.keys()):
        want, have = expected.get(enrolment_id), stored.get(enrolment_id)
        if want is None or have is None:
            out.append(f"enrolment {enrolment_id}: {'missing' if have is None else 'extra'}")
            continue
        wrong = [f"{c} {have[c]!r}, expected {want[c]!r}" for c in COLUMNS if have[c] != want[c]]
        if wrong:
            out.append(f"enrolment {enrolment_id}: " + "; ".join(wrong))
    pace: dict[int, list[int]] = {}
    for row in expected.values():
        learners_done = pace.setdefault(row["cohort_id"], [0, 0])
        learners_done[0] += 1
        learners_done[1] += row["done"]
    have_pace = {c: [n, d] for c, n, d in db.session.execute(
        select(MatrixCohortPace.cohort_id, MatrixCohortPace.learners, MatrixCohortPace.done))}
    for cohort_id in sorted(pace.keys() | have_pace.keys()):
        if pace.get(cohort_id) != have_pace.get(cohort_id):
            out.append(f"cohort {cohort_id}: learners and done {have_pace.get(cohort_id)}, "
                       f"expected {pace.get(cohort_id)}")
    return out + _figure_differences()


def _figure_differences() -> list[str]:
    def rounded(row) -> dict:  # the days are added up in whatever order the database likes
        return {**row, "decided_days": round(row["decided_days"], 6)}

    expected = {r["user_id"]: rounded(r) for r in charts.learner_figures()}
    stored = {r["user_id"]: rounded(dict(r)) for r in db.session.execute(
        select(FIGURES)).mappings()}
    return [f"chart figures of user {user_id}: {stored.get(user_id)}, expected "
            f"{expected.get(user_id)}" for user_id in sorted(expected.keys() | stored.keys())
            if expected.get(user_id) != stored.get(user_id)]


# ---- what a transaction changed ----

@dataclass
class Changes:
    """Whose summary rows a transaction's writes may have changed."""

    learners: set[int] = field(default_factory=set)
    cohorts: set[int] = field(default_factory=set)
    submissions: set[int] = field(default_factory=set)
    works: set[int] = field(default_factory=set)
    #: A statement whose rows could not be told (rebuild every row).
    everything: bool = False
    #: Quiz attempts or written work changed: the learners' chart figures too.
    figures: bool = False

    def add(self, watch: Watch, values: Iterable[Any]) -> None:
        getattr(self, watch.kind).update(int(v) for v in values if v is not None)
        self.figures = self.figures or watch.figures

    def __bool__(self) -> bool:
        return bool(self.everything or self.learners or self.cohorts or self.submissions
                    or self.works)


@dataclass(frozen=True)
class Watch:
    """A table whose rows feed the summary: which set its key goes into, the attribute (and
    column) holding the key, and the attributes whose change matters."""

    kind: str
    key: str
    columns: frozenset[str]
    #: New rows matter (a new account or cohort has no enrolment yet).
    on_insert: bool = True
    #: A change can alter the learner's chart figures (quiz scores, decision times).
    figures: bool = False


WATCHED: dict[type, Watch] = {
    ModuleProgress: Watch("learners", "user_id",
                          frozenset({"completed_at", "module_slug", "user_id"})),
    QuizAttempt: Watch("learners", "user_id",
                       frozenset({"state", "passed", "percent", "settings", "quiz_slug",
                                  "user_id"}), figures=True),
    Submission: Watch("learners", "learner_id", frozenset({"status", "task_slug", "learner_id"}),
                      figures=True),
    SubmittedWork: Watch("submissions", "submission_id",
                         frozenset({"number", "submission_id", "submitted_at"}), figures=True),
    Decision: Watch("works", "work_id", frozenset({"outcome", "released_at", "work_id"}),
                    figures=True),
    Enrolment: Watch("learners", "user_id", frozenset({"left_at", "cohort_id", "user_id"})),
    User: Watch("learners", "id", frozenset({"name", "learner_ref"}), on_insert=False),
    Deadline: Watch("cohorts", "cohort_id",
                    frozenset({"due_on", "item_kind", "item_slug", "cohort_id"})),
    Cohort: Watch("cohorts", "id", frozenset({"unit_id"}), on_insert=False),
}
_BY_TABLE = {model.__table__.name: (model, watch)  # type: ignore[attr-defined]
             for model, watch in WATCHED.items()}


def _changes(session: Session) -> Changes:
    return session.info.setdefault(_NOTES, Changes())


def _leaves_figures_alone(obj: object) -> bool:
    """A new row the chart figures cannot see yet: a quiz attempt just started (figures count
    submitted scores) or a written answer's record (they count released decisions). Starting a
    quiz is the exam-start surge's write, so it skips that work."""
    if isinstance(obj, QuizAttempt):
        return obj.state != AttemptState.SUBMITTED.value
    return isinstance(obj, Submission) and obj.status == SubmissionStatus.DRAFT.value


def note_flushed(changes: Changes, obj: object, state: str) -> None:
    """Note the key of a row a flush inserted ("new"), updated ("dirty") or deleted."""
    watch = WATCHED.get(type(obj))
    if watch is None or (state == "new" and not watch.on_insert):
        return
    if state == "new" and _leaves_figures_alone(obj):
        watch = replace(watch, figures=False)
    if state == "dirty":
        histories = [attributes.get_history(obj, c) for c in sorted(watch.columns)]
        if not any(h.has_changes() for h in histories):
            return  # only other columns changed (a module page's last visit...)
        changes.add(watch, attributes.get_history(obj, watch.key).deleted or ())
    changes.add(watch, [getattr(obj, watch.key)])


def _after_flush(session: Session, flush_context) -> None:
    changes = _changes(session)
    for state, objects in (("new", session.new), ("dirty", session.dirty),
                           ("deleted", session.deleted)):
        for obj in objects:
            note_flushed(changes, obj, state)


def _on_statement(orm_execute_state) -> None:
    """An INSERT, UPDATE or DELETE statement on a watched table: note the rows it will touch
    (an UPDATE or DELETE's rows are read with its own WHERE clause, before it runs)."""
    if not (orm_execute_state.is_insert or orm_execute_state.is_update
            or orm_execute_state.is_delete):
        return
    statement = orm_execute_state.statement
    found = _BY_TABLE.get(getattr(getattr(statement, "table", None), "name", ""))
    if found is None:
        return
    model, watch = found
    changes = _changes(orm_execute_state.session)
    if orm_execute_state.is_insert:
        if watch.on_insert:
            params = orm_execute_state.parameters
            rows = params if isinstance(params, list) else [params] if params else []
            keys = [row.get(watch.key) for row in rows]
            if not keys or None in keys:
                changes.everything = True
            changes.add(watch, keys)
        return
    if orm_execute_state.is_update and not _sets_watched(statement, watch):
        return  # a claim (SET status = status) or a column the summary does not hold
    where = statement.whereclause
    if where is None:
        changes.everything = True
        return
    key = model.__table__.c[watch.key]  # type: ignore[attr-defined]
    changes.add(watch, orm_execute_state.session.scalars(select(key).where(where)))


def _sets_watched(statement, watch: Watch) -> bool:
    """Whether an UPDATE gives a watched column a value other than itself. Autosaves claim
    their row with `SET status = status` many times a minute; they change nothing here."""
    # SQLAlchemy keeps .values() here and offers no public accessor: if that ever changes,
    # every UPDATE counts (slower, still right).
    values = getattr(statement, "_values", None)
    if not values:
        return True
    for column, value in values.items():
        if isinstance(column, str):
            if column in watch.columns:
                return True
        elif column.key in watch.columns and not (isinstance(value, ColumnElement)
                                                  and value.compare(column)):
            return True
    return False


def _learners_of(changes: Changes) -> set[int]:
    """The learners, including those whose submissions or submitted work changed."""
    learners = set(changes.learners)
    if changes.submissions:
        learners.update(db.session.scalars(select(Submission.learner_id).where(
            Submission.id.in_(changes.submissions))))
    if changes.works:
        learners.update(db.session.scalars(
            select(Submission.learner_id).join(SubmittedWork,
                                               SubmittedWork.submission_id == Submission.id)
            .where(SubmittedWork.id.in_(changes.works))))
    return learners


def refresh(changes: Changes) -> None:
    """Work out again the summary rows of these learners and cohorts, inside the caller's
    transaction (before it commits); every row when the summary is not built yet, or was
    built for other items (a course edit)."""
    layout = current_layout()
    _lock()
    learners = _learners_of(changes)
    if (changes.everything or len(learners) + len(changes.cohorts) > REBUILD_ABOVE
            or saved_layout() != layout_json(layout)):
        rebuild(layout, force=True)
        return
    if not learners and not changes.cohorts:
        return
    enrolled = or_(Enrolment.user_id.in_(learners), Enrolment.cohort_id.in_(changes.cohorts))
    stored = or_(MatrixSummary.user_id.in_(learners),
                 MatrixSummary.cohort_id.in_(changes.cohorts))
    cohorts: Select = select(Enrolment.cohort_id).where(Enrolment.left_at.is_(None), enrolled)
    touched = list(db.session.scalars(cohorts.union(
        select(MatrixSummary.cohort_id).where(stored))))
    _lock(touched)
    rows = _rows_of(layout, _refresh_query(layout),
                    {"learners": sorted(learners), "cohorts": sorted(changes.cohorts)})
    db.session.connection().execute(delete(SUMMARY).where(stored))
    _write(rows)
    _write_pace(touched)
    if changes.figures and learners:
        _write_figures(learners)


def _before_commit(session: Session) -> None:
    if (session.in_nested_transaction() or not has_app_context()
            or session is not db.session()):
        return  # a savepoint: the outer transaction's commit refreshes
    session.flush()
    changes = session.info.pop(_NOTES, None)
    if changes:
        refresh(changes)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (already refreshed) or rolled back
        session.info.pop(_NOTES, None)


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "do_orm_execute", _on_statement)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_transaction_end", _after_transaction_end)
