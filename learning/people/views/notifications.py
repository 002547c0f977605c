"""Notifications: the list, and marking them read."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from learning.core.extensions import db
from learning.people import notifications as notify

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    """The newest notifications, unread first in bold."""
    return render_template("notifications/index.html", notes=notify.recent(current_user),
                           form=FlaskForm())


@bp.post("/read")
@login_required
def read():
    """Mark every notification as read."""
    if FlaskForm().validate_on_submit():
        notify.mark_all_read(current_user)
    return redirect(url_for("notifications.index"))


def init_app(app) -> None:
    @app.before_request
    def read_on_arrival():
        """Opening the page a notification links to reads it (before the menu counts)."""
        # Only pages that exist: a 404 (no endpoint) must not even load the user.
        if (request.method == "GET" and request.endpoint not in (None, "static")
                and current_user.is_authenticated
                and notify.mark_read_for_page(current_user, request.path)):
            db.session.commit()

    @app.context_processor
    def unread():
        if current_user.is_authenticated:
            return {"unread_notifications": notify.unread_count(current_user)}
        return {"unread_notifications": 0}
