"""Personal data pages: your own data to download; for administrators, a learner's data to
download (a subject access request) and erasure on request, after a confirmation."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from learning.content.access import get_catalog
from learning.core import audit, dates
from learning.core.extensions import db
from learning.core.permissions import require, role_required
from learning.core.types import utcnow
from learning.people.models import Role, User
from learning.privacy import erasure, export
from learning.privacy.forms import EraseForm

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
    size = export.size_of(file)  # sent as Content-Length: a progress bar for a large download
    audit.record("privacy.export", actor=current_user, subject=person,
                 by_self=current_user.id == person.id)
    db.session.commit()
    response = send_file(file, mimetype="application/zip", as_attachment=True,
                         download_name=name, max_age=0)
    response.content_length = size
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


@bp.route("/admin/people/<int:user_id>/erase", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def erase(user_id: int):
    """Erase a learner's personal data on their request: what will go and what will stay,
    then the administrator types the email address to confirm."""
    person = _person_or_404(user_id)
    refused = erasure.refusal_for(person, current_user)
    form = EraseForm()
    form.confirm.label.text = f"Type {person.email} to confirm"
    if refused and request.method == "POST":
        return _erase_page(person, form, refused, 409)
    if form.validate_on_submit():
        if erasure.confirms(form.confirm.data, person.email):
            changes = erasure.erase(person, current_user, "request", utcnow())
            db.session.commit()
            # The old name stays out of the message: it would travel in the session cookie.
            flash(f"Personal data erased: the account is now "
                  f"{erasure.placeholder_name(user_id)}. {changes.decisions_kept} assessment "
                  "decisions are kept, anonymised.", "success")
            return redirect(url_for("admin.person", user_id=user_id))
        form.confirm.errors.append(f"That is not {person.email}. Type the address exactly "
                                   "to confirm.")
    return _erase_page(person, form, refused, 422 if form.errors else 200)


def _erase_page(person: User, form: EraseForm, refused: str, status: int):
    changes = None if refused else erasure.preview(person)
    return render_template("privacy/erase.html", person=person, form=form, refused=refused,
                           changes=changes), status
