"""Administrators' pages to add a person with any roles, and to run centres."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from learning.core.extensions import db
from learning.core.permissions import require, role_required
from learning.people import accounts, centres, invitations
from learning.people import admin as people
from learning.people.forms.accounts_admin import CentreForm, NewPersonForm, RenameCentreForm
from learning.people.forms.admin import ActionForm
from learning.people.models import Centre, Role, User

bp = Blueprint("accounts_admin", __name__, url_prefix="/admin")


@bp.route("/people/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_person():
    """Add an account with any roles; they get a link to set their own password."""
    form = NewPersonForm()
    form.centres.choices = [(c.id, c.name) for c in centres.listing(include_archived=False)]
    if form.validate_on_submit():
        try:
            person = accounts.create_user(form.email.data, form.name.data, None,
                                          form.roles.data, actor=current_user)
        except accounts.AccountError as exc:
            db.session.rollback()
            target = form.email if "email" in str(exc) else form.name
            target.errors = [*target.errors, str(exc)]
        else:
            if form.centres.data:
                people.set_centres(person, set(form.centres.data), current_user)
            link = invitations.issue(person, invitations.INVITE, actor=current_user)
            emailed = invitations.email_link(link)  # queued: the worker sends it after commit
            db.session.commit()
            flash(f"{person.name} is added.", "success")
            response = make_response(render_template(
                "admin/reset_link.html", person=person, link=link, emailed=emailed))
            response.headers["Cache-Control"] = "no-store"  # the link is shown once
            return response
    return render_template("admin/person_new.html", form=form), 422 if form.errors else 200


@bp.get("/centres")
@role_required(Role.ADMIN)
def centre_list(form: CentreForm | None = None, failed: tuple[int, RenameCentreForm] | None
                = None, status: int = 200):
    """Every centre: add one, rename one, archive or bring one back."""
    return render_template("admin/centres.html", centres=centres.listing(),
                           form=form or CentreForm(formdata=None), failed=failed,
                           rename_form=RenameCentreForm(formdata=None),
                           action_form=ActionForm()), status


@bp.post("/centres")
@role_required(Role.ADMIN)
def create_centre():
    form = CentreForm()
    if form.validate_on_submit():
        try:
            centre = centres.create(form.name.data, current_user)
        except centres.CentreError as exc:
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.session.commit()
            flash(f"The centre {centre.name} is added.", "success")
            return redirect(url_for("accounts_admin.centre_list"))
    return centre_list(form=form, status=422)


def _centre_or_404(centre_id: int) -> Centre:
    centre = db.session.get(Centre, centre_id)
    if centre is None:
        abort(404)
    return centre


@bp.post("/centres/<int:centre_id>/rename")
@role_required(Role.ADMIN)
def rename_centre(centre_id: int):
    centre = _centre_or_404(centre_id)
    form = RenameCentreForm()
    if form.validate_on_submit():
        old = centre.name
        try:
            changed = centres.rename(centre, form.name.data, current_user)
        except centres.CentreError as exc:
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.session.commit()
            flash(f"{old} is now called {centre.name}." if changed else "The name is the same.",
                  "success")
            return redirect(url_for("accounts_admin.centre_list"))
    db.session.rollback()
    return centre_list(failed=(centre.id, form), status=422)


@bp.post("/centres/<int:centre_id>/<any(archive, unarchive):action>")
@role_required(Role.ADMIN)
def archive_centre(centre_id: int, action: str):
    centre = _centre_or_404(centre_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    centres.set_archived(centre, action == "archive", current_user)
    db.session.commit()
    flash(f"{centre.name} is archived: new cohorts cannot be put in it. Its cohorts and "
          "people carry on." if action == "archive" else f"{centre.name} is back.", "success")
    return redirect(url_for("accounts_admin.centre_list"))


@bp.post("/people/<int:user_id>/extra-time")
@role_required(Role.COORDINATOR, Role.ADMIN)
def extra_time(user_id: int):
    """Set a learner's extra time in timed quizzes (their coordinator or an admin)."""
    learner = db.session.get(User, user_id)
    if learner is None:
        abort(404)
    require(people.can_manage(current_user, learner))
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        percent = int(request.form.get("extra_time_percent", ""))
        changed = accounts.set_extra_time(learner, percent, current_user)
    except (ValueError, accounts.AccountError) as exc:
        flash(str(exc) if isinstance(exc, accounts.AccountError)
              else "Choose one of the amounts of extra time offered.", "error")
        return redirect(url_for("admin.person", user_id=learner.id))
    db.session.commit()
    if changed:
        flash(f"{learner.name} now has " + (f"{percent}% extra time" if percent else
              "no extra time") + " in timed quizzes, from their next attempt.", "success")
    return redirect(url_for("admin.person", user_id=learner.id))
