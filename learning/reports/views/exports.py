"""Large exports: asked for when the matrix CSV is too big to stream, prepared by the worker,
then downloaded by the person who asked for it (and nobody else), audited."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from learning.core.extensions import db
from learning.core.permissions import role_required
from learning.core.types import utcnow
from learning.people.permissions import STAFF_ROLES
from learning.reports import export_jobs, exports
from learning.reports.models import ExportFile
from learning.reports.views.reports import _filter_args, _filters, _today

bp = Blueprint("report_exports", __name__, url_prefix="/reports/exports")


class PrepareForm(FlaskForm):
    """The "Prepare the file" button: only the CSRF token to check."""


def _own(export_id: int) -> ExportFile:
    """The export, if it is the viewer's: anyone else is told nothing about it (404)."""
    export = db.session.get(ExportFile, export_id)
    if export is None or export.user_id != current_user.id:
        abort(404)
    return export


@bp.post("/completion-matrix")
@role_required(*STAFF_ROLES)
def prepare_matrix():
    """Queue the matrix CSV with the page's filters (from the query string) for the worker;
    pressed twice, the second press finds the first's export."""
    if not PrepareForm().validate_on_submit():
        abort(400)
    export, _ = export_jobs.request_export(current_user, export_jobs.MATRIX, _filters(),
                                           _today())
    db.session.commit()
    return redirect(url_for("report_exports.status", export_id=export.id))


@bp.get("/<int:export_id>")
@role_required(*STAFF_ROLES)
def status(export_id: int):
    """How far the file has come, and the download once it is ready."""
    export = _own(export_id)
    expired = export.expires_at <= utcnow()
    return render_template("reports/export_status.html", export=export,
                           job=export_jobs.job_of(export), expired=expired,
                           what=export_jobs.NAMES.get(export.kind, export.kind)), \
        410 if expired else 200


@bp.get("/<int:export_id>/download")
@role_required(*STAFF_ROLES)
def download(export_id: int):
    """The prepared file, to the person who asked for it; each download is audited."""
    export = _own(export_id)
    if export.expires_at <= utcnow() or export.status != "done" or export.content is None:
        return redirect(url_for("report_exports.status", export_id=export.id))
    export_jobs.record_download(export, current_user)
    db.session.commit()
    response = Response(export.content, mimetype="text/csv")
    day = export.created_at.date()
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(export.kind, day)}"')
    response.headers["Cache-Control"] = "no-store"
    return response


def large_page(rows: int):
    """What the matrix CSV link shows when the file is too big to stream: a button that
    has it prepared (the filters travel in the form's address)."""
    filters = _filters()
    return render_template("reports/export_large.html", rows=rows, limit=export_jobs.inline_rows(),
                           args=_filter_args(filters))
