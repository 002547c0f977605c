"""One JSON log line per request; the request id in the response header and on error pages."""

from __future__ import annotations

import json
import logging
import re

import pytest

from learning import create_app
from learning.core import requestlog
from learning.core.extensions import db
from tests.conftest import fixture_settings

NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def lines(caplog):
    """lines() -> the request log lines so far, parsed."""
    caplog.set_level(logging.INFO, logger=requestlog.log.name)

    def read() -> list[dict]:
        return [json.loads(r.getMessage()) for r in caplog.records
                if r.name == requestlog.log.name]

    return read


@pytest.mark.parametrize(("incoming", "kept"), [
    ("0123456789abcdef0123456789abcdef", True),  # nginx's $request_id
    ("6f1c2a52-9e43-4b6e-8a39-0c7f3c1d2e4f", True),  # a UUID
    ("lb.req_42-abc", True),
    (None, False),
    ("", False),
    ("short", False),
    ("a" * 65, False),
    ('abc"def</p><script>', False),
    ("abc def 12345", False),
    ("abcdefgh\r\nSet-Cookie: x=1", False),
    ("ünïcödé-id-1234", False),
])
def test_an_incoming_id_is_kept_only_when_well_formed(incoming, kept):
    assert requestlog.accept_id(incoming, make=lambda: "new") == (incoming if kept else "new")


def test_each_request_logs_one_line_with_every_field(client, auth, make_user, lines,
                                                     count_queries):
    learner = make_user("learner")
    auth.login(learner)
    before = len(lines())
    with count_queries() as q:
        response = client.get("/dashboard?page=2", headers={"X-Request-Id": "proxy-id-0001"})
    assert response.status_code == 200
    [line] = lines()[before:]
    assert line == {
        "request_id": "proxy-id-0001", "user_id": learner.id, "method": "GET",
        "path": "/dashboard", "endpoint": "home.dashboard", "status": 200,
        "duration_ms": line["duration_ms"], "sql": q.count,  # every statement it ran
    }
    assert response.headers["X-Request-Id"] == "proxy-id-0001"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert q.count > 0


def test_the_statement_count_is_the_requests_own(client, lines, count_queries):
    """The same count as the suite's own counter, for the health check and an error page."""
    client.get("/healthz")  # the first connection (its set-up statements are not the page's)
    before = len(lines())
    with count_queries() as q:
        client.get("/healthz")
    with count_queries() as none:
        client.get("/no-such-page")
    healthz, missing = lines()[before:]
    assert healthz["sql"] == q.count >= 2  # SELECT 1, then Alembic reads its version table
    assert missing["sql"] == none.count == 0  # an error page reads nothing


def test_a_visitor_has_no_user_id_and_a_hostile_id_is_replaced(client, lines):
    response = client.get("/login", headers={"X-Request-Id": "<script>alert(1)</script>"})
    made = response.headers["X-Request-Id"]
    assert NEW_ID.fullmatch(made)
    line = lines()[-1]
    assert (line["request_id"], line["user_id"], line["status"]) == (made, None, 200)
    assert "script" not in json.dumps(lines())
    other = client.get("/login").headers["X-Request-Id"]
    assert NEW_ID.fullmatch(other) and other != made  # one per request


def test_a_set_password_link_is_logged_without_its_token(client, lines):
    client.get("/set-password/secret-token-that-works-1234")
    line = lines()[-1]
    assert line["path"] == "/set-password/<token>"
    assert "secret-token" not in json.dumps(line)


def test_the_404_page_shows_the_request_id(client, lines):
    response = client.get("/no-such-page", headers={"X-Request-Id": "support-ref-404"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "support-ref-404"
    assert ("quote the reference <code>support-ref-404</code>"
            in response.get_data(as_text=True))
    assert lines()[-1]["status"] == 404 and lines()[-1]["endpoint"] is None


@pytest.fixture
def production_app(database_url):
    """Errors are not propagated to the test, as in production."""
    app = create_app(fixture_settings(database_url, TESTING=False))

    @app.get("/_fault_for_test")
    def fault():
        raise RuntimeError("a fault in the code")

    @app.get("/_outage_for_test")
    def outage():
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("url", "status", "title"), [
    ("/_fault_for_test", 500, "Sorry, something went wrong on our side"),
    ("/_outage_for_test", 503, "The service is briefly unavailable"),
])
def test_the_500_and_503_pages_show_the_id_that_the_log_has(production_app, lines, url,
                                                            status, title):
    response = production_app.test_client().get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == status and title in html
    made = response.headers["X-Request-Id"]
    assert NEW_ID.fullmatch(made)
    assert f"quote the reference <code>{made}</code>" in html
    line = lines()[-1]
    assert (line["request_id"], line["status"]) == (made, status)
