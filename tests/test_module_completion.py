"""A module counts as complete by its unit's rule (read, or read and quiz passed): the rule
itself, what the learner's pages say, and the completion matrix counting the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from learning.cohorts import deadlines
from learning.cohorts.items import DeadlineStatus, items_for
from learning.cohorts.models import Deadline
from learning.content.catalog import ModuleCompletion
from learning.core.dates import today as uk_today
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course import progress
from learning.course.completion import module_complete, rule_for_units, rule_words
from learning.people.models import Enrolment, User
from learning.quizzes import attempts
from learning.reports import matrix, summary
from learning.reports.matrix import Filters
from learning.reports.totals import Layout
from tests.conftest import post_form
from tests.htmlcheck import html_errors, needs_checker
from tests.test_matrix_summary import _right_answers

STRICT = ModuleCompletion.READ_AND_QUIZ_PASSED
READ = ModuleCompletion.READ
MODULE, QUIZ = "partnership-basics", "partnership-basics-check"  # its own quiz, pass mark 80


# ---- the rule (pure) ----

@pytest.mark.parametrize(("read", "passed", "rule", "complete"), [
    (False, [True], READ, False), (True, [False], READ, True), (True, [], READ, True),
    (False, [True], STRICT, False), (True, [False], STRICT, False),
    (True, [True, False], STRICT, False), (True, [True], STRICT, True),
    (True, [], STRICT, True),  # a module without a quiz: read is enough
])
def test_module_complete(read, passed, rule, complete):
    assert module_complete(read, passed, rule) is complete


def test_the_strictest_of_a_learners_units_applies(app):
    catalog = _with_rule(app.extensions["catalog"], "CYP33", STRICT)
    assert rule_for_units(catalog, {"CYP33", "EYE22"}) is STRICT
    assert rule_for_units(catalog, {"EYE22"}) is READ
    assert rule_for_units(catalog, set()) is READ  # no cohort, or a cohort naming no unit


def test_the_rule_in_words(app):
    quiz = app.extensions["quizzes"][QUIZ]
    assert rule_words(STRICT, [quiz]) == ("This module is complete when you have read it and "
                                          "passed its quiz (pass mark 80%).")
    assert rule_words(READ, [quiz]) == ("This module is complete when you have read it and "
                                        "marked it as complete.")


# ---- the pages and the matrix ----

def _with_rule(catalog, unit_id, rule):
    return replace(catalog, units=tuple(replace(u, module_completion=rule) if u.id == unit_id
                                        else u for u in catalog.units))


@pytest.fixture
def strict(app):
    """The fixture course with unit CYP33 set to read-and-quiz-passed."""
    catalog = app.extensions["catalog"]
    app.extensions["catalog"] = _with_rule(catalog, "CYP33", STRICT)
    yield app.extensions["catalog"]
    app.extensions["catalog"] = catalog


@pytest.fixture
def learner(make_user, make_cohort):
    person = make_user("learner", name="Lee Learner")
    make_cohort("CYP group", learners=[person]).unit_id = "CYP33"
    db.session.commit()
    return person


def _pass_quiz(app, learner, right=True):
    quiz = app.extensions["quizzes"][QUIZ]
    attempt = attempts.start_attempt(learner, quiz, utcnow())
    attempts.save_answers(attempt, _right_answers(quiz) if right else {}, utcnow())
    attempts.submit_attempt(attempt, utcnow(), catalog=app.extensions["catalog"])


def _matrix(app, today: date | None = None):
    """The whole matrix as an admin sees it, after checking the stored summary agrees with a
    recompute (the admin is made by the test as admin-mc@example.com)."""
    admin = db.session.scalar(db.select(User).where(User.email == "admin-mc@example.com"))
    items = items_for(app.extensions["catalog"], app.extensions["quizzes"])
    page = matrix.matrix_page(admin, items, Filters(), today or date.today(), 1, 1000)
    assert summary.differences(Layout(items)) == []
    return page


def _matrix_done(app, name="Lee Learner") -> dict[str, int]:
    """Each cohort's summary row for the learner: items done."""
    return {r.summary.cohort_name: r.summary.done for r in _matrix(app).rows
            if r.summary.name == name}


def _module_cell(app, cohort_name: str):
    row = next(r for r in _matrix(app).rows if r.summary.cohort_name == cohort_name)
    return next(c for c in row.cells if c.item.slug == MODULE).label


def test_read_and_quiz_passed_waits_for_the_quiz_everywhere(app, auth, client, strict,
                                                            learner, make_user):
    make_user("admin", email="admin-mc@example.com")
    auth.login(learner)
    before = _matrix_done(app)["CYP group"]
    response = post_form(client, f"/course/{MODULE}", f"/course/{MODULE}/complete")
    assert response.headers["Location"].endswith(f"/quizzes/{QUIZ}")  # on to its quiz
    page = client.get(f"/course/{MODULE}").get_data(as_text=True)
    assert ("This module is complete when you have read it and passed its quiz (pass mark "
            "80%).") in page
    assert "You have read it. Still to do:" in page and "not taken yet" in page
    assert "is marked as read. It is complete when you pass its quiz." in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    mine = dashboard.split('id="modules-heading"')[1].split("</li>")[0]
    assert "In progress" in mine and "Quiz: not taken" in mine
    assert _matrix_done(app)["CYP group"] == before  # read is not complete here
    assert _module_cell(app, "CYP group") == "In progress"

    _pass_quiz(app, learner)  # completion follows, and the summary with it
    db.session.expire_all()
    page = client.get(f"/course/{MODULE}").get_data(as_text=True)
    assert "Mark as not complete" in page and "Still to do" not in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    mine = dashboard.split('id="modules-heading"')[1].split("</li>")[0]
    assert "Complete" in mine
    assert "Quiz: passed, " in mine and " marks (100%)" in mine
    assert _matrix_done(app)["CYP group"] == before + 2  # the module and its quiz
    assert _module_cell(app, "CYP group") == "Complete"


def test_read_alone_completes_under_the_default_rule(app, auth, client, learner, make_user):
    make_user("admin", email="admin-mc@example.com")
    auth.login(learner)
    before = _matrix_done(app)["CYP group"]
    post_form(client, f"/course/{MODULE}", f"/course/{MODULE}/complete")
    page = client.get(f"/course/{MODULE}").get_data(as_text=True)
    assert "This module is complete when you have read it and marked it as complete." in page
    assert "Mark as not complete" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    mine = dashboard.split('id="modules-heading"')[1].split("</li>")[0]
    assert "Complete" in mine and "Quiz: not taken" in mine
    assert _matrix_done(app)["CYP group"] == before + 1


def test_a_failed_quiz_shows_its_score_and_keeps_the_module_open(app, auth, client, strict,
                                                                  learner):
    progress.mark_complete(learner, strict.module(MODULE))
    _pass_quiz(app, learner, right=False)
    auth.login(learner)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    mine = dashboard.split('id="modules-heading"')[1].split("</li>")[0]
    assert "In progress" in mine and "Quiz: not passed yet, 0 out of " in mine


def test_a_learner_in_two_units_gets_the_strictest_and_each_matrix_its_own(
        app, auth, client, strict, learner, make_cohort, make_user):
    make_user("admin", email="admin-mc@example.com")
    make_cohort("EYE group", learners=[learner]).unit_id = "EYE22"
    db.session.commit()
    progress.mark_complete(learner, strict.module(MODULE))
    auth.login(learner)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "In progress" in dashboard.split('id="modules-heading"')[1].split("</li>")[0]
    assert _module_cell(app, "EYE group") == "Complete"
    assert _module_cell(app, "CYP group") == "In progress"


def test_staff_see_the_same_status(app, auth, client, strict, learner, make_user,
                                   make_centre):
    progress.mark_complete(learner, strict.module(MODULE))
    admin = make_user("admin")
    auth.login(admin)
    page = client.get(f"/staff/learners/{learner.id}").get_data(as_text=True)
    row = page.split(strict.module(MODULE).title)[1].split("</tr>")[0]
    assert "In progress" in row and "Complete" not in row


def test_the_dashboard_reads_a_fixed_number_of_statements_under_the_stricter_rule(
        app, auth, client, strict, learner, make_user, make_cohort, count_queries):
    from tests.test_page_queries import DASHBOARD

    def measure(person):
        auth.login(person)
        db.session.expunge_all()
        with app.app_context(), count_queries() as counted:
            assert client.get("/dashboard").status_code == 200
        auth.logout()
        return counted.count

    few = measure(learner)
    busy = make_user("learner")
    make_cohort(learners=[busy]).unit_id = "CYP33"
    db.session.commit()
    for module in strict.modules:
        progress.mark_complete(busy, module)
    _pass_quiz(app, busy)
    assert measure(busy) == few <= DASHBOARD


def test_the_criteria_report_counts_prepared_learners_by_the_units_rule(
        app, auth, client, learner, make_user):
    catalog = app.extensions["catalog"]
    mapped = [m for m in catalog.modules if "CYP33-2.3" in m.criteria]
    assert MODULE in {m.slug for m in mapped}  # one of them has its own quiz
    for module in mapped:
        progress.mark_complete(learner, module)
    auth.login(make_user("admin"))

    def prepared():
        html = client.get("/staff/criteria").get_data(as_text=True)
        row = html.split(catalog.criterion("CYP33-2.3").text)[1].split("</tr>")[0]
        return [c.split("</td>")[0].strip() for c in row.split("<td>")[1:3]]

    assert prepared() == ["1", "1"]  # learners, prepared: read is enough by default
    app.extensions["catalog"] = _with_rule(catalog, "CYP33", STRICT)
    try:
        assert prepared() == ["1", "0"]  # its quiz is not passed yet
        _pass_quiz(app, learner)
        others = [q for m in mapped if m.slug != MODULE
                  for q in app.extensions["quizzes"].values() if q.modules == (m.slug,)]
        assert prepared() == (["1", "1"] if not others else ["1", "0"])
    finally:
        app.extensions["catalog"] = catalog


def test_a_module_deadline_is_met_by_the_same_rule(app, strict, learner, make_user):
    make_user("admin", email="admin-mc@example.com")
    cohort_id = db.session.scalar(db.select(Enrolment.cohort_id).where(
        Enrolment.user_id == learner.id))
    today = uk_today()
    # The learner joined well before the date, so it is theirs to meet.
    db.session.execute(db.update(Enrolment).where(Enrolment.user_id == learner.id).values(
        enrolled_at=utcnow() - timedelta(days=30)))
    db.session.add(Deadline(cohort_id=cohort_id, item_kind="module", item_slug=MODULE,
                            due_on=today - timedelta(days=1)))
    progress.mark_complete(learner, strict.module(MODULE))
    items = items_for(strict, app.extensions["quizzes"])

    def statuses():
        mine = [d.status for d in deadlines.learner_deadlines(learner, items, today)]
        cohort = deadlines.cohort_overdue_counts([cohort_id], items, today)[cohort_id]
        return mine, cohort.items[0].overdue, _matrix(app, today).rows[0].summary.overdue

    assert statuses() == ([DeadlineStatus.OVERDUE], 1, 1)  # read, quiz not passed
    _pass_quiz(app, learner)
    assert statuses() == ([DeadlineStatus.DONE], 0, 0)


def test_the_completion_chart_counts_a_module_from_when_the_rule_was_met(
        app, strict, learner, make_user):
    from sqlalchemy import select

    from learning.people.models import Cohort
    from learning.reports import charts

    make_user("admin", email="admin-mc@example.com")
    items = [i for i in items_for(strict, app.extensions["quizzes"]) if i.kind == "module"]
    slugs = [i.slug for i in items]
    today = uk_today()

    def last_week() -> str:
        chart = charts.completion_chart(select(Cohort.id), slugs, today, modules=items)
        return chart.table.rows[-1][1]

    progress.mark_complete(learner, strict.module(MODULE))
    assert last_week() == "0"  # read, its quiz not passed: not complete in a CYP33 cohort
    _pass_quiz(app, learner)
    assert last_week() == "1"
    # The same count as the learner's row in the matrix (the module; its quiz is not a module).
    row = _matrix(app).rows[0]
    assert next(c for c in row.cells if c.item.slug == MODULE).label == "Complete"


@needs_checker
def test_the_new_states_are_valid_html(app, auth, client, strict, learner, tmp_path):
    """The module page waiting for its quiz, and the dashboard's modules with quiz results."""
    progress.mark_complete(learner, strict.module(MODULE))
    _pass_quiz(app, learner, right=False)
    auth.login(learner)
    for name, url in {"module": f"/course/{MODULE}", "dashboard": "/dashboard",
                      "overview": "/course"}.items():
        (tmp_path / f"{name}.html").write_text(client.get(url).get_data(as_text=True))
    assert html_errors(sorted(tmp_path.glob("*.html"))) == []


def test_the_module_page_reads_the_quiz_results_only_when_the_rule_needs_them(
        app, auth, client, strict, learner, make_user, make_cohort, count_queries):
    from tests.test_page_queries import MODULE_PAGE

    def count(person) -> int:
        auth.login(person)
        client.get(f"/course/{MODULE}")  # the first visit writes
        db.session.expunge_all()
        with app.app_context(), count_queries() as counted:
            assert client.get(f"/course/{MODULE}").status_code == 200
        auth.logout()
        return counted.count

    reader = make_user("learner")
    make_cohort(learners=[reader]).unit_id = "EYE22"  # read is enough
    db.session.commit()
    assert count(reader) <= MODULE_PAGE
    # + the learner's quiz results, for the rule and what is left to do.
    assert count(learner) <= MODULE_PAGE + 1
