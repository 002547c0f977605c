"""Friendly error pages that never touch the database; no stack trace ever reaches a user."""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from learning.core import requestlog
from learning.core.extensions import db

log = logging.getLogger(__name__)

#: Seconds a client is told to wait (Retry-After) when the database is not answering.
RETRY_AFTER_SECONDS = 30

_MESSAGES = {
    400: ("Something was wrong with that request", "Go back, reload the page and try again."),
    403: ("You do not have permission to see this page",
          "If you think you should, ask your training coordinator."),
    404: ("Page not found", "Check the address, or go back to your dashboard."),
    405: ("That action is not allowed here", "Go back and use the buttons on the page."),
    413: ("That was too big to send", ""),  # the advice names the limit: see too_large()
    500: ("Sorry, something went wrong on our side",
          "Your saved work is safe. Try again in a few minutes."),
    503: ("The service is briefly unavailable",
          "Your saved work is safe. If you had just saved or sent something, it may not have "
          "gone through: go back (what you typed is still on that page) and try again in a "
          "minute."),
}


#: What a form whose CSRF token fails is told (core's handler; an autosave gets it as JSON).
CSRF_ADVICE = ("The form had expired or was sent from another page. Go back, copy anything you "
               "typed, reload the page and send it again.")


def page(code: int, detail: str | None = None) -> Response:
    """The error page for `code`, `detail` replacing the usual advice.

    It is rendered without the context processors (they load the logged-in person and count
    their notifications) and without the navigation, so it never queries the database: the
    database may be what failed. It shows the request's id, which the log line and the
    X-Request-Id header carry too, so a report of the error leads to its log lines.
    """
    title, advice = _MESSAGES.get(code, _MESSAGES[500])
    html = current_app.jinja_env.get_template("errors/error.html").render(
        minimal=True, code=code, title=title, advice=detail or advice,
        request_id=requestlog.request_id())
    response = current_app.response_class(html, status=code, mimetype="text/html")
    if code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def size_in_words(size: int) -> str:
    """A number of bytes as people say it: 3145728 is "3 MB", 1572864 "1.5 MB", 512000 "500 KB"."""
    megabytes = size / (1024 * 1024)
    if megabytes >= 1:
        return f"{round(megabytes, 1):g} MB"
    return f"{max(1, round(size / 1024)):g} KB"


def too_large() -> str:
    """The 413 advice, with the limit the app really has (MAX_CONTENT_LENGTH)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return "Send a smaller file, or split it into smaller files."
    return (f"The most you can send at once is {size_in_words(limit)}. Split a bigger file "
            "into smaller files and send each one.")


def is_outage(exc: BaseException | None) -> bool:
    """The database stopped answering (down, restarting, unreachable, locked), as opposed to
    a fault in the code: worth "try again in a minute", not "something went wrong"."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _rollback() -> None:
    """Let the session go of the failed transaction; with the database gone that may fail
    too, and the session is removed at the end of the request either way."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.debug("rollback failed while the database was unavailable", exc_info=True)


def database_unavailable(exc: BaseException) -> Response:
    """The friendly 503, logged with its cause for whoever runs the site."""
    log.error("database unavailable during %s %s", request.method, request.path, exc_info=exc)
    _rollback()
    return page(503)


def init_app(app) -> None:
    for code in (400, 403, 404, 405, 503):
        app.register_error_handler(code, lambda e, code=code: page(code))
    app.register_error_handler(413, lambda e: page(413, too_large()))
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return page(400, CSRF_ADVICE)

    @app.errorhandler(500)
    def server_error(e):
        cause = getattr(e, "original_exception", None)
        if cause is not None and is_outage(cause):  # e.g. a lost connection reported as
            return database_unavailable(cause)      # another kind of DBAPI error
        _rollback()
        return page(500)
