"""CSV exports: headers, one row per item, streaming, scope, and CSV-injection escaping."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html import unescape

import pytest

from learning.assessment.models import Decision
from learning.cohorts.items import items_for
from learning.core.csvcells import safe_cell
from learning.core.extensions import db
from learning.iqa.models import IqaReview, IqaSample
from learning.reports import exports, matrix
from tests.test_matrix import (
    module_progress,
    quiz_attempt,
    set_deadline,
    today_uk,
    written_work,
)


def _rows(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.parametrize(("value", "written"), [
    ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("-2+3", "'-2+3"),
    ("@cmd", "'@cmd"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Ada = fine", "Ada = fine"),
    ("", ""),
    (None, ""),
    (True, "yes"),
    (False, "no"),
    (42, 42),
    (-3.5, -3.5),  # numbers are numbers, not formulas
])
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def test_csv_text_yields_the_header_first_with_a_byte_order_mark():
    chunks = exports.csv_text(["a", "=b"], ([n, f"-{n}"] for n in range(5)), every=2)
    assert next(chunks) == "\ufeffa,'=b\r\n"
    rest = "".join(chunks)
    assert rest.splitlines()[0] == "0,'-0"
    assert len(rest.splitlines()) == 5


def _fails_after(rows, count: int):
    """The rows, until `count` have gone: then what a lost database connection looks like."""
    for n, row in enumerate(rows):
        if n == count:
            raise RuntimeError("the database went away")
        yield row


def test_a_failure_part_way_ends_the_file_with_an_error_row():
    rows = _fails_after(([n, f"row {n}"] for n in range(10)), 5)
    chunks = list(exports.csv_text(["n", "text"], rows, every=2))
    assert len(chunks) > 2  # rows had already left before the failure
    lines = list(csv.reader(io.StringIO("".join(chunks)[1:])))
    assert lines[:6] == [["n", "text"], *([str(n), f"row {n}"] for n in range(5))]
    assert lines[6:] == [[exports.INCOMPLETE]]
    assert lines[6][0].startswith("ERROR: this file is incomplete.")


@pytest.fixture
def centre_with_work(make_user, make_cohort, make_centre, app):
    catalog = app.extensions["catalog"]
    items = items_for(catalog, app.extensions["quizzes"])
    coordinator = make_user("coordinator")
    assessor = make_user("assessor", name="Asha Assessor")
    iqa = make_user("iqa")
    ada = make_user("learner", name="Ada Ames")
    evil = make_user("learner", name="=HYPERLINK(\"http://x.test\",\"click\")")
    outsider = make_user("learner", name="Olu Outsider")
    north = make_centre("North", coordinators=[coordinator])
    cohort = make_cohort("Monday", learners=[ada, evil], assessors=[assessor], iqas=[iqa],
                         centre=north)
    make_cohort("Elsewhere", learners=[outsider], centre=make_centre("South"))
    module = items[0]
    quiz = next(i for i in items if i.kind == "quiz")
    task = catalog.tasks[0]
    module_progress(ada, module.slug)
    quiz_attempt(ada, quiz.slug, 60, number=1)
    quiz_attempt(ada, quiz.slug, 90, number=2)
    quiz_attempt(ada, quiz.slug, None, number=3, submitted=False)  # still open
    quiz_attempt(outsider, quiz.slug, 100)
    written_work(ada, task.slug, ["referred", "achieved"], assessor, criteria=task.criteria)
    written_work(evil, task.slug, [None], assessor, criteria=task.criteria)
    written_work(outsider, task.slug, ["achieved"], assessor, criteria=task.criteria)
    set_deadline(cohort, "module", items[1].slug, today_uk() - timedelta(days=3))
    first_decision = db.session.query(Decision).order_by(Decision.id).first()
    sample = IqaSample(decision_id=first_decision.id, reason="plan")
    db.session.add(sample)
    db.session.flush()
    db.session.add(IqaReview(sample_id=sample.id, iqa_id=iqa.id, verdict="disagree",
                             action="Check criterion 1 again."))
    db.session.commit()
    return {"coordinator": coordinator, "ada": ada, "evil": evil, "cohort": cohort,
            "items": items, "quiz": quiz, "task": task}


def test_matrix_csv(client, auth, centre_with_work):
    auth.login(centre_with_work["coordinator"])
    response = client.get("/reports/matrix.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="completion-matrix-{today_uk().isoformat()}.csv"')
    rows = _rows(response)
    items = centre_with_work["items"]
    assert list(rows[0]) == [*exports.MATRIX_COLUMNS, *(f"{i.kind}:{i.slug}" for i in items)]
    assert sorted(r["learner_name"] for r in rows) == [
        "'=HYPERLINK(\"http://x.test\",\"click\")", "Ada Ames"]  # quoted: shown as text
    ada = next(r for r in rows if r["learner_name"] == "Ada Ames")
    assert ada["rag"] == "Red" and ada["items_overdue"] == "1"
    assert ada[f"module:{items[0].slug}"] == "Complete"
    assert ada[f"module:{items[1].slug}"].startswith("Overdue: not started, due ")
    assert ada[f"quiz:{centre_with_work['quiz'].slug}"] == "Passed (90%)"
    assert ada[f"task:{centre_with_work['task'].slug}"] == "Achieved (round 2)"


def test_matrix_csv_keeps_the_filters(client, auth, centre_with_work):
    auth.login(centre_with_work["coordinator"])
    rows = _rows(client.get("/reports/matrix.csv?q=ada&status=red"))
    assert [r["learner_name"] for r in rows] == ["Ada Ames"]
    assert _rows(client.get("/reports/matrix.csv?status=green")) == []


def test_quiz_results_csv_one_row_per_submitted_attempt(client, auth, centre_with_work):
    auth.login(centre_with_work["coordinator"])
    response = client.get("/reports/quiz-results.csv")
    assert response.headers["Content-Disposition"].endswith(
        f'filename="quiz-results-{today_uk().isoformat()}.csv"')
    rows = _rows(response)
    assert list(rows[0]) == list(exports.QUIZ_COLUMNS)
    assert [(r["learner_name"], r["attempt"], r["percent"], r["passed"]) for r in rows] == [
        ("Ada Ames", "1", "60", "no"), ("Ada Ames", "2", "90", "yes")]
    assert rows[0]["pass_mark"] == "80"
    assert rows[0]["cohort"] == "Monday"
    assert rows[0]["quiz_title"] == centre_with_work["quiz"].title
    assert rows[0]["submitted_at"].count(":") == 1  # YYYY-MM-DD HH:MM, UK time


def test_decisions_csv_one_row_per_released_decision(client, auth, centre_with_work):
    auth.login(centre_with_work["coordinator"])
    rows = _rows(client.get("/reports/decisions.csv"))
    task = centre_with_work["task"]
    assert list(rows[0])[:len(exports.DECISION_COLUMNS)] == list(exports.DECISION_COLUMNS)
    assert [(r["learner_name"], r["round"], r["outcome"]) for r in rows] == [
        ("Ada Ames", "1", "referred"), ("Ada Ames", "2", "achieved")]
    first, second = rows
    for cid in task.criteria:
        assert first[f"criterion:{cid}"] == "not met"
        assert second[f"criterion:{cid}"] == "met"
    assert first["criteria_met"] == "0" and first["criteria_total"] == str(len(task.criteria))
    assert first["criteria_not_met"] == "; ".join(task.criteria)
    assert first["days_to_decision"] == "3.0"
    assert (first["iqa_sampled"], first["iqa_verdict"]) == ("yes", "disagree")
    assert (second["iqa_sampled"], second["iqa_verdict"]) == ("no", "")
    assert first["assessor"] == "Asha Assessor"
    assert first["actions"] == "Add detail."


def test_admin_exports_everyone_and_the_cohort_filter_narrows(client, auth, make_user,
                                                              centre_with_work):
    auth.login(make_user("admin"))
    assert len(_rows(client.get("/reports/quiz-results.csv"))) == 3
    assert len(_rows(client.get("/reports/decisions.csv"))) == 3
    cohort = centre_with_work["cohort"].id
    assert len(_rows(client.get(f"/reports/quiz-results.csv?cohort={cohort}"))) == 2
    assert len(_rows(client.get(f"/reports/matrix.csv?cohort={cohort}"))) == 2


def test_the_header_leaves_before_any_query(app, make_user, count_queries, centre_with_work):
    admin = make_user("admin")
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    items = centre_with_work["items"]
    for make in (lambda: exports.matrix_csv(admin, items, matrix.Filters(), today_uk()),
                 lambda: exports.quiz_results_csv(admin, quizzes, matrix.Filters()),
                 lambda: exports.decisions_csv(admin, catalog, matrix.Filters())):
        lines = make()
        with count_queries() as counted:
            header = next(lines)
        assert counted.count == 0
        assert header.startswith("\ufeff")
        assert len("".join(lines).splitlines()) >= 2


def _first_then_fail(items, batches: bool):
    """The first row (or the first row of the first batch), then a failure."""
    for item in items:
        yield item[:1] if batches else item
        break
    raise RuntimeError("the database went away")


@pytest.mark.parametrize(("url", "module", "name", "batches"), [
    ("/reports/matrix.csv", matrix, "iter_matrix", False),
    ("/reports/quiz-results.csv", exports, "_stream", True),
    ("/reports/decisions.csv", exports, "_stream", True),
])
def test_a_download_that_fails_part_way_says_so_in_its_last_row(
        client, auth, centre_with_work, monkeypatch, url, module, name, batches):
    real = getattr(module, name)
    monkeypatch.setattr(module, name,
                        lambda *a, **k: _first_then_fail(real(*a, **k), batches))
    auth.login(centre_with_work["coordinator"])
    response = client.get(url)
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert len(lines) == 3, lines  # the header, the one row made, the error row
    assert lines[-1] == [exports.INCOMPLETE]


def test_small_chunks_still_give_every_row(app, make_user, centre_with_work):
    admin = make_user("admin")
    quizzes = app.extensions["quizzes"]
    text = "".join(exports.quiz_results_csv(admin, quizzes, matrix.Filters(), chunk=1))
    assert len(text.strip().splitlines()) == 1 + 3
    rows = list(matrix.iter_matrix(admin, centre_with_work["items"], matrix.Filters(),
                                   today_uk(), chunk=1))
    assert sorted(r.summary.name for r in rows) == sorted([
        "=HYPERLINK(\"http://x.test\",\"click\")", "Ada Ames", "Olu Outsider"])


def test_the_downloads_page_explains_every_column_of_every_file(client, auth, make_user,
                                                                make_cohort, app):
    from learning.reports import export_columns

    coordinator = make_user("admin")
    auth.login(coordinator)
    html = unescape(client.get("/reports/").get_data(as_text=True))
    assert "docs/reports.md" not in html
    for explained, columns in ((export_columns.MATRIX, exports.MATRIX_COLUMNS),
                               (export_columns.QUIZZES, exports.QUIZ_COLUMNS),
                               (export_columns.DECISIONS,
                                (*exports.DECISION_COLUMNS, *exports.DECISION_TAIL))):
        assert [name for name, _ in explained.columns] == list(columns)
        for name, meaning in explained.columns:
            assert f"<code>{name}</code></th><td>{meaning}</td>" in html
