"""One structured log line per request (JSON), with a request id that the response and its
error page carry, and the number of SQL statements the request ran."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

#: The logger of the request lines; its records' message is the JSON line itself.
log = logging.getLogger("joined_up.requests")

HEADER = "X-Request-Id"
#: An id a proxy sends (nginx's $request_id is 32 hex digits, a UUID has 36 characters) is
#: kept, so the proxy's log and ours can be joined. Anything else is replaced: the id goes
#: into log lines, headers and pages, so it may hold no spaces, quotes or control characters.
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")
#: Longer paths (a 404 for junk) are cut in the log line.
LONGEST_PATH = 200

_ID = "request_id"
_STARTED = "request_started_at"
_STATEMENTS = "sql_statements"


def accept_id(incoming: str | None, make: Callable[[], str] = lambda: uuid.uuid4().hex) -> str:
    """Pure: the incoming X-Request-Id when it is well-formed, otherwise a new one."""
    if incoming and WELL_FORMED.fullmatch(incoming):
        return incoming
    return make()


def request_id() -> str | None:
    """This request's id (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    if _ID not in g:
        setattr(g, _ID, accept_id(request.headers.get(HEADER)))
    return str(g.get(_ID))


def logged_path() -> str:
    """The path, without the query string; a route whose arguments include a token (a
    set-password link) is logged as its pattern, so no log holds a working secret."""
    rule = request.url_rule
    if rule is not None and any("token" in name for name in rule.arguments):
        return rule.rule
    return request.path[:LONGEST_PATH]


def user_id() -> int | None:
    """The logged-in person's id if this request loaded them; never loads them (a static
    file or an error page must not query the database for the log's sake)."""
    user = g.get("_login_user")  # where Flask-Login keeps the user it has loaded
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "id", None)


def line(status: int, duration_ms: float) -> dict:
    """The request's fields, as logged."""
    return {
        "request_id": request_id(),
        "user_id": user_id(),
        "method": request.method,
        "path": logged_path(),
        "endpoint": request.endpoint,
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "sql": g.get(_STATEMENTS, 0),
    }


@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    """Every statement a request runs, on any engine, counts towards its log line."""
    if has_request_context() and _STATEMENTS in g:
        setattr(g, _STATEMENTS, g.get(_STATEMENTS) + 1)


def elapsed_ms() -> float:
    """Milliseconds since this request began (as seen by the app)."""
    return (time.perf_counter() - g.get(_STARTED, time.perf_counter())) * 1000


def _start() -> None:
    setattr(g, _STARTED, time.perf_counter())
    setattr(g, _STATEMENTS, 0)
    request_id()


def _finish(response: Response) -> Response:
    response.headers[HEADER] = request_id() or ""
    fields = line(response.status_code, elapsed_ms())
    log.info(json.dumps(fields, separators=(",", ":")), extra={"request": fields})
    return response


def init_app(app: Flask) -> None:
    """Time, count and log every request, error pages included.

    Registered before everything else: its before_request runs first (so a CSRF failure
    is timed and counted too), and its after_request last (after_request runs in reverse).
    """
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


def to_stdout() -> None:
    """Write the lines to stdout, bare, and nowhere else (app.py, when serving: under
    gunicorn and systemd they go to the journal). Tests read the records instead."""
    if any(getattr(h, "stream", None) is sys.stdout for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # not again through whatever handler the root logger may have
