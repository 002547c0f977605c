"""Personal data pages: your own data to download; for administrators, a learner's data to
download (a subject access request)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file
from flask_login import current_user, login_required

from learning.content.access import get_catalog
from learning.core import audit, dates
from learning.core.extensions import db
from learning.core.permissions import require
from learning.people.models import User
from learning.privacy import export

bp = Blueprint("privacy", __name__)


def _person_or_404(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    return person


def _download(person: User):
    """The zip of everything held about `person`, recorded in the audit log."""
    name = export.filename(person, dates.today())
    file = export.build(person, get_catalog())
    audit.record("privacy.export", actor=current_user, subject=person,
                 by_self=current_user.id == person.id)
    db.session.commit()
    response = send_file(file, mimetype="application/zip", as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/data")
@login_required
def your_data():
    """What Joined Up holds about you and why, with a button to download all of it."""
    return render_template("privacy/your_data.html")


@bp.get("/account/data.zip")
@login_required
def your_data_zip():
    """Everything held about you, as one zip file (always yours: the URL names nobody)."""
    return _download(current_user._get_current_object())


@bp.get("/admin/people/<int:user_id>/data.zip")
@login_required
def person_data_zip(user_id: int):
    """Everything held about one person: administrators answering a subject access request."""
    person = _person_or_404(user_id)
    require(export.may_export(current_user, person))
    return _download(person)
