"""Administrators: rebuild the originality check's index, as a job the worker runs."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from learning.assessment.originality import reindex_job
from learning.core.extensions import db
from learning.core.permissions import role_required
from learning.people.models import Role

bp = Blueprint("originality_admin", __name__, url_prefix="/admin/originality")


class ReindexForm(FlaskForm):
    """The "Rebuild the index" button: only the CSRF token to check."""


@bp.get("/")
@role_required(Role.ADMIN)
def page():
    """The index's re-build: the button, and how far the last one has come."""
    return render_template("admin/originality.html", job=reindex_job.latest())


@bp.post("/reindex")
@role_required(Role.ADMIN)
def reindex():
    """Queue a re-index (audited), unless one is waiting or running already."""
    if not ReindexForm().validate_on_submit():
        abort(400)
    _, queued = reindex_job.request_reindex(current_user)
    db.session.commit()
    if queued:
        flash("The index will be rebuilt by the worker: this page shows how far it has come.",
              "success")
    else:
        flash("A rebuild of the index is already waiting or running: nothing more was queued.",
              "info")
    return redirect(url_for("originality_admin.page"))
