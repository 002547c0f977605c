"""The learner's busiest pages run a small, fixed number of SQL statements and write nothing.

Each counted request runs in its own app context (a fresh database session), as every request
does in production: the tests' long-lived session would otherwise answer some look-ups from
its identity map and hide statements a real request runs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learning.assessment import submissions
from learning.cohorts.models import Deadline
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course import progress
from learning.course.models import ModuleProgress
from learning.people.models import Notification

#: The statements each page may run: the login session with its user, roles and unread
#: count (one), then the page's own reads. Raise a figure only with a reason.
MODULE_PAGE = 3  # + the learner's progress row for the module, their cohorts (units)
DASHBOARD = 7  # + progress rows, cohorts, best quiz results (beside each module, and the
#   completion rule), deadlines, what is handed in, submissions


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().split()[0].upper() in
            {"INSERT", "UPDATE", "DELETE"}]


@pytest.fixture
def page_only(app, monkeypatch):
    """Counts the page's own statements: the completion matrix's summary upkeep that a first
    visit sets off (a module started) is held back here (tests/test_matrix.py counts it),
    then done in full once the test has measured, so the summary stays true."""
    from learning.reports import summary

    held: list = []
    monkeypatch.setattr(summary, "refresh", held.append)
    yield held
    monkeypatch.undo()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["reports", "rebuild-summary"])
        assert result.exit_code == 0, result.output


@pytest.fixture
def counted_get(app, client, count_queries):
    def get(path: str):
        with app.app_context(), count_queries() as q:
            response = client.get(path)
        assert response.status_code == 200, response.status_code
        return q

    return get


@pytest.fixture
def busy_learner(app, make_user, make_cohort):
    """A learner in a cohort with deadlines, some progress, a draft and unread messages."""
    def make(extra: int = 0):
        learner = make_user("learner")
        cohort = make_cohort(learners=[learner])
        cohort.unit_id = "CYP33"
        catalog = app.extensions["catalog"]
        today = utcnow().date()
        for n, module in enumerate(catalog.modules[: 1 + extra]):
            db.session.add(Deadline(cohort_id=cohort.id, item_kind="module",
                                    item_slug=module.slug, due_on=today + timedelta(days=n)))
            progress.mark_complete(learner, module)
        for task in catalog.tasks[: extra]:
            db.session.add(Deadline(cohort_id=cohort.id, item_kind="task", item_slug=task.slug,
                                    due_on=today))
            submissions.get_or_create(learner, task)
        for n in range(1 + extra):
            db.session.add(Notification(user_id=learner.id, kind="test", message=f"Note {n}"))
        db.session.commit()
        return learner

    return make


def test_a_module_page_runs_a_few_statements_and_writes_nothing_on_a_return_visit(
        app, auth, busy_learner, counted_get, page_only):
    auth.login(busy_learner())
    slug = app.extensions["catalog"].modules[1].slug
    page_only.clear()  # what logging in set off
    first = counted_get(f"/course/{slug}")
    assert len(_writes(first.statements)) == 1, first.statements  # the visit is recorded
    assert len(page_only) == 1  # and the matrix summary is told of it
    again = counted_get(f"/course/{slug}")
    assert _writes(again.statements) == [], again.statements
    assert again.count <= MODULE_PAGE, "\n".join(again.statements)


def test_the_dashboard_runs_a_fixed_number_of_statements(auth, busy_learner, counted_get,
                                                         client):
    auth.login(busy_learner())
    few = counted_get("/dashboard")
    assert few.count <= DASHBOARD, "\n".join(few.statements)
    assert _writes(few.statements) == []
    auth.logout()
    auth.login(busy_learner(extra=2))  # more deadlines, progress, drafts and messages
    many = counted_get("/dashboard")
    assert many.count == few.count, "\n".join(many.statements)
    assert "(3<span class=\"visually-hidden\"> unread" in client.get("/dashboard").get_data(
        as_text=True)


def _progress(learner, slug) -> ModuleProgress:
    db.session.expire_all()
    return db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.user_id == learner.id, ModuleProgress.module_slug == slug))


def test_a_return_visit_notes_the_time_only_every_few_minutes(app, auth, busy_learner,
                                                              client):
    learner = busy_learner()
    auth.login(learner)
    slug = app.extensions["catalog"].modules[1].slug
    client.get(f"/course/{slug}")
    row = _progress(learner, slug)
    started = row.started_at
    row.last_viewed_at = started - progress.VIEW_NOTED_EVERY + timedelta(seconds=30)
    db.session.commit()
    client.get(f"/course/{slug}")
    assert _progress(learner, slug).last_viewed_at < started  # not yet: no write

    row = _progress(learner, slug)
    row.last_viewed_at = started - progress.VIEW_NOTED_EVERY - timedelta(seconds=30)
    db.session.commit()
    client.get(f"/course/{slug}")
    row = _progress(learner, slug)
    assert row.last_viewed_at >= started and row.started_at == started


def test_a_module_shows_each_learner_their_own_units_criteria(app, auth, make_user,
                                                              make_cohort):
    """The module's text is rendered once per set of units and kept: one unit's wording must
    never reach a learner of the other, whoever opened the module first."""
    catalog = app.extensions["catalog"]
    module = catalog.modules[0]  # maps to a criterion of each unit
    seen = {}
    for unit in ("CYP33", "EYE22", "CYP33"):
        learner = make_user("learner")
        make_cohort(learners=[learner]).unit_id = unit
        db.session.commit()
        auth.login(learner)
        seen.setdefault(unit, []).append(
            auth.client.get(f"/course/{module.slug}").get_data(as_text=True))
        auth.logout()
    criteria = {unit: [c for cid in module.criteria
                       if (c := catalog.criterion(cid)).unit_id == unit]
                for unit in seen}
    assert all(criteria.values())
    for unit, other in (("CYP33", "EYE22"), ("EYE22", "CYP33")):
        for html in seen[unit]:
            assert all(c.text in html for c in criteria[unit])
            assert not any(c.text in html for c in criteria[other])


def test_a_first_visit_writes_once_and_reads_nothing_again_after_its_commit(
        app, auth, busy_learner, counted_get, page_only):
    """Objects keep their values over a commit: nothing is read twice because of one."""
    auth.login(busy_learner())
    slug = app.extensions["catalog"].modules[2].slug
    first = counted_get(f"/course/{slug}")
    statements = [s.lstrip().split()[0].upper() for s in first.statements]
    assert statements.count("INSERT") == 1, first.statements
    after = first.statements[statements.index("INSERT") + 1:]
    assert not any(" FROM user" in s or "FROM module_progress" in s for s in after), after
    assert first.count <= MODULE_PAGE + 1, "\n".join(first.statements)


def test_sqlite_commits_wait_for_the_disk_only_at_checkpoints(app):
    """WAL with synchronous=NORMAL (docs/deploy.md says what that means for a power cut)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("an SQLite setting")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


#: An open quiz attempt's page: the session (one), the attempt and its answers.
ATTEMPT_PAGE = 3


def test_an_open_attempt_page_reads_only_the_attempt(app, auth, client, busy_learner,
                                                     counted_get):
    """A class starting an exam together opens this page at once: no look at the learner's
    other attempts (they decide nothing until this one is submitted)."""
    from tests.conftest import post_form

    auth.login(busy_learner())
    slug = "partnership-basics-check"
    started = post_form(client, f"/quizzes/{slug}", f"/quizzes/{slug}/start")
    page = counted_get(started.headers["Location"])
    assert page.count <= ATTEMPT_PAGE, "\n".join(page.statements)
    assert _writes(page.statements) == []
