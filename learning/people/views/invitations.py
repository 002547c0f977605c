"""The public set-password page reached from an invitation or password reset link."""

from flask import Blueprint, flash, make_response, redirect, render_template, url_for

from learning.core.extensions import db
from learning.people import accounts, invitations, sessions
from learning.people.forms.admin import SetPasswordForm
from learning.people.models import User

bp = Blueprint("invitations", __name__)


def _page(*args, status: int = 200, **context):
    # The token is in the address: keep the page out of caches.
    response = make_response(render_template(*args, **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password with a single-use link, then carry on logged in."""
    try:
        invitation = invitations.find(token)
    except invitations.LinkError as exc:
        return _page("invitations/invalid.html", message=str(exc), status=exc.status)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.use(token, form.password.data)
        except invitations.LinkError as exc:
            return _page("invitations/invalid.html", message=str(exc), status=exc.status)
        except accounts.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            sessions.log_in(user)
            flash("Your password is set and you are logged in. Use your email address and "
                  "this password to log in next time.", "success")
            return redirect(url_for("home.dashboard"))
    return _page("invitations/set_password.html", form=form, invitation=invitation,
                 person=db.session.get(User, invitation.user_id),
                 status=422 if form.errors else 200)
