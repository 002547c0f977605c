"""CSV exports streamed a chunk at a time: the completion matrix, quiz results and decisions.

Each export is a generator of text. The header row is yielded before any query runs, so the
download starts at once; rows are then read through a streaming cursor (yield_per) a chunk at
a time and written out a chunk at a time, so memory stays flat however large the centre.
Columns are documented in docs/reports.md.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import aliased

from learning.assessment.models import CriterionDecision, Decision, Submission, SubmittedWork
from learning.cohorts.items import Item
from learning.content.catalog import Catalog
from learning.core.csvcells import BOM, safe_cell
from learning.core.dates import zone_name
from learning.core.extensions import db
from learning.iqa.models import IqaReview, IqaSample
from learning.people.models import Cohort, Enrolment, User
from learning.quizzes.models import QuizAttempt
from learning.quizzes.types import Quiz
from learning.reports import matrix
from learning.reports.matrix import Filters

#: Rows fetched from the database at a time.
CHUNK = 1000
#: The last row of a file whose making failed part-way (the rows above it are correct).
INCOMPLETE = ("ERROR: this file is incomplete. Something went wrong on our side while it was "
              "being made, so rows are missing after this point. Download it again; if this "
              "row comes back, tell your administrator.")

log = logging.getLogger(__name__)


def stamp(value: datetime | None, zone: tzinfo) -> str:
    """A UTC time as UK local time to the minute (the zone looked up once per export)."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def csv_text(header: Sequence[str], rows: Iterable[Sequence], every: int = 200,
             streaming: bool = True) -> Iterator[str]:
    """CSV text in chunks: the header (with the byte order mark) at once, then `every` rows.

    The download has started (200, the header sent) before the rows are read, so a failure
    part-way can no longer be an error page: the rows already made are written out, then the
    INCOMPLETE row, so the file never passes for a whole one. Not `streaming` (the worker
    making a file to keep), a failure is raised instead, and the job tries again.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    try:
        for count, row in enumerate(rows, 1):
            writer.writerow([safe_cell(v) for v in row])
            if count % every == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    except Exception:
        if not streaming:
            raise
        log.exception("CSV export stopped part-way; the file ends with an error row")
        writer.writerow([INCOMPLETE])
    if buffer.tell():
        yield buffer.getvalue()


def _zone() -> tzinfo:
    return ZoneInfo(zone_name())


def filename(name: str, today: date) -> str:
    return f"{name}-{today.isoformat()}.csv"


def cohort_names(cohorts: Select):
    """Per learner, the report's cohorts they are in now, joined with '; ' (a subquery to
    join on user_id; joining it also keeps only learners in those cohorts)."""
    if db.engine.dialect.name == "postgresql":
        joined = func.string_agg(Cohort.name, literal("; "))
    else:
        joined = func.group_concat(Cohort.name, "; ")
    return (select(Enrolment.user_id, joined.label("cohorts")).join(Cohort)
            .where(Enrolment.left_at.is_(None), Cohort.id.in_(cohorts))
            .group_by(Enrolment.user_id).subquery())


def _stream(query: Select, chunk: int):
    """Rows in partitions of `chunk`, read with a server-side cursor where the database has
    one (yield_per), so the whole result is never held in memory."""
    return db.session.execute(query.execution_options(yield_per=chunk)).partitions(chunk)


# ---- the completion matrix ----

MATRIX_COLUMNS = ("learner_id", "learner_name", "learner_ref", "cohort", "rag", "rag_reasons",
                  "progress_percent", "items_done", "items_required", "items_overdue",
                  "items_due_soon")


def matrix_header(items: Sequence[Item]) -> list[str]:
    return [*MATRIX_COLUMNS, *(f"{i.kind}:{i.slug}" for i in items)]


def matrix_csv(viewer: User, items: tuple[Item, ...], filters: Filters,
               today: date, streaming: bool = True) -> Iterator[str]:
    """The matrix with the page's filters, one row per learner and cohort, by name
    (`streaming`: see csv_text)."""

    def rows():
        for row in matrix.iter_matrix(viewer, items, filters, today):
            s = row.summary
            yield [s.user_id, s.name, s.learner_ref, s.cohort_name, s.rag.rag.label,
                   "; ".join(s.rag.reasons), s.percent, s.done, s.required, s.overdue,
                   s.due_soon, *(c.text for c in row.cells)]

    return csv_text(matrix_header(items), rows(), streaming=streaming)


# ---- quiz results ----

QUIZ_COLUMNS = ("attempt_id", "learner_id", "learner_name", "learner_ref", "cohort",
                "quiz_slug", "quiz_title", "attempt", "started_at", "submitted_at", "marks",
                "max_marks", "percent", "pass_mark", "passed", "timed_out",
                "counts_toward_completion", "quiz_version")


def quiz_results_csv(viewer: User, quizzes: dict[str, Quiz], filters: Filters,
                     chunk: int = CHUNK) -> Iterator[str]:
    """One row per submitted quiz attempt by learners now in the report's cohorts."""

    def rows():
        names = cohort_names(matrix.scope_cohort_ids(viewer, filters))
        query = (select(QuizAttempt.id, QuizAttempt.user_id, User.name, User.learner_ref,
                        names.c.cohorts, QuizAttempt.quiz_slug, QuizAttempt.number,
                        QuizAttempt.started_at, QuizAttempt.submitted_at, QuizAttempt.marks,
                        QuizAttempt.max_marks, QuizAttempt.percent,
                        QuizAttempt.settings["pass_mark"].as_float(), QuizAttempt.passed,
                        QuizAttempt.timed_out,
                        QuizAttempt.settings["counts_toward_completion"].as_boolean(),
                        QuizAttempt.quiz_version)
                 .join(User, User.id == QuizAttempt.user_id)
                 .join(names, names.c.user_id == QuizAttempt.user_id)
                 .where(QuizAttempt.state == "submitted").order_by(QuizAttempt.id))
        titles = {slug: q.title for slug, q in quizzes.items()}
        zone = _zone()
        for batch in _stream(query, chunk):
            for (attempt_id, user_id, name, ref, cohorts, slug, number, started, submitted,
                 marks, max_marks, percent, pass_mark, passed, timed_out, counts,
                 version) in batch:
                yield [attempt_id, user_id, name, ref, cohorts, slug, titles.get(slug, ""),
                       number, stamp(started, zone), stamp(submitted, zone), _number(marks),
                       _number(max_marks), _number(percent), _number(pass_mark),
                       bool(passed), bool(timed_out), counts, version]

    return csv_text(QUIZ_COLUMNS, rows())


def _number(value: float | None) -> float | int | str:
    if value is None:
        return ""
    value = round(float(value), 1)
    return int(value) if value.is_integer() else value


# ---- assessment decisions ----

DECISION_COLUMNS = ("decision_id", "learner_id", "learner_name", "learner_ref", "cohort",
                    "task_slug", "task_title", "round", "submitted_at", "released_at",
                    "days_to_decision", "assessor", "outcome", "criteria_met",
                    "criteria_total", "criteria_not_met")
DECISION_TAIL = ("feedback", "actions", "iqa_sampled", "iqa_verdict")


def criterion_ids(catalog: Catalog) -> list[str]:
    """Every criterion a written task assesses, in task order, once each."""
    return list(dict.fromkeys(cid for t in catalog.tasks for cid in t.criteria))


def decisions_header(catalog: Catalog) -> list[str]:
    return [*DECISION_COLUMNS, *(f"criterion:{c}" for c in criterion_ids(catalog)),
            *DECISION_TAIL]


def decisions_csv(viewer: User, catalog: Catalog, filters: Filters,
                  chunk: int = CHUNK) -> Iterator[str]:
    """One row per released decision on work by learners now in the report's cohorts, with
    met / not met for each criterion."""
    columns = criterion_ids(catalog)
    titles = {t.slug: t.title for t in catalog.tasks}

    def rows():
        names = cohort_names(matrix.scope_cohort_ids(viewer, filters))
        assessor = aliased(User)
        query = (select(Decision.id, Submission.learner_id, User.name, User.learner_ref,
                        names.c.cohorts, Submission.task_slug, SubmittedWork.number,
                        SubmittedWork.submitted_at, Decision.released_at,
                        assessor.name.label("assessor"), Decision.outcome, Decision.feedback,
                        Decision.actions)
                 .join(SubmittedWork, SubmittedWork.id == Decision.work_id)
                 .join(Submission, Submission.id == SubmittedWork.submission_id)
                 .join(User, User.id == Submission.learner_id)
                 .join(assessor, assessor.id == Decision.assessor_id)
                 .join(names, names.c.user_id == Submission.learner_id)
                 .where(Decision.released_at.is_not(None)).order_by(Decision.id))
        zone = _zone()
        for batch in _stream(query, chunk):
            ids = [r.id for r in batch]
            met: dict[int, dict[str, bool]] = defaultdict(dict)
            for decision_id, cid, ok in db.session.execute(
                    select(CriterionDecision.decision_id, CriterionDecision.criterion_id,
                           CriterionDecision.met).where(CriterionDecision.decision_id.in_(ids))):
                met[decision_id][cid] = ok
            sampled: dict[int, str] = {}
            for decision_id, verdict in db.session.execute(
                    select(IqaSample.decision_id, IqaReview.verdict)
                    .outerjoin(IqaReview, IqaReview.sample_id == IqaSample.id)
                    .where(IqaSample.decision_id.in_(ids)).order_by(IqaReview.id)):
                sampled[decision_id] = verdict or sampled.get(decision_id) or ""
            for r in batch:
                results = met.get(r.id, {})
                days = (r.released_at - r.submitted_at).total_seconds() / 86400
                yield [r.id, r.learner_id, r.name, r.learner_ref, r.cohorts, r.task_slug,
                       titles.get(r.task_slug, ""), r.number, stamp(r.submitted_at, zone),
                       stamp(r.released_at, zone), round(days, 1), r.assessor, r.outcome,
                       sum(results.values()), len(results),
                       "; ".join(c for c, ok in results.items() if not ok),
                       *(("met" if results[c] else "not met") if c in results else ""
                         for c in columns),
                       r.feedback, r.actions, r.id in sampled, sampled.get(r.id, "")]

    return csv_text(decisions_header(catalog), rows())
