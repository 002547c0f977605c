"""A database outage gets the friendly 503 page, rendered without touching the database."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError

from learning import create_app
from learning.core.extensions import db
from tests.conftest import csrf_from, fixture_settings

FRIENDLY = "The service is briefly unavailable"


@pytest.fixture
def database_down(app):
    """with database_down() as down: every statement fails as a lost connection does, and
    down.attempts counts the statements tried."""

    @contextlib.contextmanager
    def down():
        class Down:
            attempts = 0

        state = Down()

        def fail(conn, cursor, statement, *args):
            state.attempts += 1
            raise OperationalError(statement, {}, sqlite3.OperationalError(
                "server closed the connection unexpectedly"))

        event.listen(db.engine, "before_cursor_execute", fail)
        try:
            yield state
        finally:
            event.remove(db.engine, "before_cursor_execute", fail)
            db.session.rollback()

    return down


def _assert_friendly_503(response) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert f"<h1>{FRIENDLY}</h1>" in html
    assert "Your saved work is safe" in html and "try again in a minute" in html
    assert "Traceback" not in html and "server closed the connection" not in html
    return html


@pytest.mark.parametrize("url", ["/dashboard", "/tasks/", "/notifications/"])
def test_a_logged_in_page_gets_the_friendly_503_without_another_query(
        client, auth, make_user, database_down, url):
    """Before: base.html loaded the person and counted notifications for the error page, so
    the outage raised again while the error page rendered."""
    auth.login(make_user("learner"))
    with database_down() as down:
        response = client.get(url)
    html = _assert_friendly_503(response)
    assert down.attempts == 1  # the page's own first query; the error page tried none
    assert "Log out" not in html  # no navigation: it would need the person from the database


def test_a_form_sent_while_the_database_is_down_gets_the_friendly_503(client, make_user,
                                                                      database_down):
    make_user("learner", email="maya@example.test")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    with database_down():
        response = client.post("/login", data={"email": "maya@example.test",
                                                "password": "whatever-it-is",
                                                "csrf_token": token})
    _assert_friendly_503(response)


@pytest.fixture
def production_app(database_url):
    """An app that does not propagate errors to the test, as in production."""
    return create_app(fixture_settings(database_url, TESTING=False))


def test_no_stack_trace_and_no_500_when_the_database_is_down(production_app, tmp_path):
    @production_app.get("/_lost_connection_for_test")
    def lost():
        raise OperationalError("SELECT secret_column", {}, Exception("secret internals"))

    @production_app.get("/_invalidated_for_test")
    def invalidated():  # a disconnect that the driver reports as another kind of error
        raise DBAPIError("SELECT secret_column", {}, Exception("secret internals"),
                         connection_invalidated=True)

    client = production_app.test_client()
    for url in ("/_lost_connection_for_test", "/_invalidated_for_test"):
        html = _assert_friendly_503(client.get(url))
        assert "secret" not in html


def test_an_unreachable_database_gets_the_friendly_503(tmp_path):
    """No database file can be opened there: every query fails to connect."""
    gone = create_app(fixture_settings(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}",
                                       TESTING=False))
    client = gone.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "maya@example.test",
                                            "password": "whatever-it-is", "csrf_token": token})
    _assert_friendly_503(response)


def test_other_error_pages_do_not_query_either(client, auth, make_user, count_queries):
    auth.login(make_user("learner"))
    with count_queries() as q:
        response = client.get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)
    assert q.count == 0
