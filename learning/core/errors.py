"""Friendly error pages in the site's layout; no stack trace ever reaches a user."""

from flask import current_app, render_template
from flask_wtf.csrf import CSRFError

from learning.core.extensions import db

_MESSAGES = {
    400: ("Something was wrong with that request", "Go back, reload the page and try again."),
    403: ("You do not have permission to see this page",
          "If you think you should, ask your training coordinator."),
    404: ("Page not found", "Check the address, or go back to your dashboard."),
    405: ("That action is not allowed here", "Go back and use the buttons on the page."),
    413: ("That was too big to send", ""),  # the advice names the limit: see too_large()
    500: ("Sorry, something went wrong on our side",
          "Your saved work is safe. Try again in a few minutes."),
    503: ("The service is not available right now", "Try again in a few minutes."),
}


def page(code: int, detail: str | None = None):
    """An error page in the site's layout: (html, code); `detail` replaces the advice."""
    title, advice = _MESSAGES.get(code, _MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title,
                           advice=detail or advice), code


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


def init_app(app) -> None:
    for code in (400, 403, 404, 405):
        app.register_error_handler(code, lambda e, code=code: page(code))
    app.register_error_handler(413, lambda e: page(413, too_large()))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return page(400, "The form had expired or was sent from another page. Go back, "
                     "copy anything you typed, reload the page and send it again.")

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return page(500)
