"""Coordinators' and admins' pages: enrol from CSV, people and their accounts, the audit log,
the outbox."""

from __future__ import annotations

import csv
import io
import json
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from learning.core import audit, jobs
from learning.core.csvcells import BOM, safe_cell
from learning.core.dates import zone_name
from learning.core.extensions import db
from learning.core.incoming import db_int
from learning.core.pagination import Page
from learning.core.permissions import require, role_required
from learning.people import accounts, csv_uploads, import_jobs, invitations
from learning.people import admin as people
from learning.people import enrolment_csv as csv_import
from learning.people.forms.admin import (
    ActionForm,
    AuditFilterForm,
    CentresForm,
    ConfirmImportForm,
    EnrolUploadForm,
    OutboxFilterForm,
    PeopleFilterForm,
    RolesForm,
)
from learning.people.models import Role, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

_MANAGERS = (Role.COORDINATOR, Role.ADMIN)
#: Rows shown in a preview table; every problem is listed, up to this many too.
PREVIEW_LIMIT = 500


def _no_store(response) -> Response:
    """Pages showing set-password links must not be kept in any cache."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@role_required(*_MANAGERS)
def index():
    """What coordinators and admins can do here."""
    return render_template("admin/index.html")


# ---- enrolment from a CSV file ----

@bp.route("/enrol", methods=["GET", "POST"])
@role_required(*_MANAGERS)
def enrol():
    """Upload a CSV file; every row is checked and previewed, and nothing is imported yet."""
    form = EnrolUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            text = csv_import.read(upload.read(csv_import.MAX_BYTES + 1))
        except csv_import.CsvFileError as exc:
            form.file.errors.append(str(exc))
        else:
            preview = csv_import.check(text, current_user)
            filename = upload.filename or "upload.csv"
            upload_id = ""
            if preview.ok:
                upload_id = csv_uploads.store(current_user, filename, text, len(preview.rows))
                db.session.commit()
            return _preview(preview, filename, upload_id)
    return render_template("admin/enrol.html", form=form, limit=csv_import.MAX_ROWS,
                           cohort_names=csv_import.cohort_names(current_user),
                           ), 422 if form.errors else 200


def _preview(preview: csv_import.Preview, filename: str, upload_id: str, status: int = 200):
    return render_template(
        "admin/enrol_preview.html", preview=preview, filename=filename, limit=PREVIEW_LIMIT,
        confirm=ConfirmImportForm(upload_id=upload_id) if upload_id else None,
        form=EnrolUploadForm(formdata=None), cohort_names=csv_import.cohort_names(current_user),
    ), 422 if preview.problems else status


@bp.post("/enrol/confirm")
@role_required(*_MANAGERS)
def enrol_confirm():
    """Import the previewed file: every row, or (if anything is wrong now) none."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    upload = csv_uploads.claim(form.upload_id.data, current_user)
    if not isinstance(upload, csv_uploads.Claimed):
        return _not_waiting(upload, form.upload_id.data)
    if upload.rows > import_jobs.inline_limit():
        record = import_jobs.queue(upload, current_user)
        db.session.commit()
        return redirect(url_for("admin.enrol_progress", import_id=record.id), 303)
    try:
        record, result = import_jobs.import_inline(upload, current_user)
    except csv_import.ImportRefused as refused:
        csv_uploads.discard(upload.token, current_user)
        db.session.commit()
        return _preview(refused.preview, upload.filename, "")
    return _no_store(render_template("admin/enrol_done.html", result=result, record=record,
                                     filename=upload.filename,
                                     until=import_jobs.downloadable_until(record)))


def _not_waiting(why: csv_uploads.Missing, upload_id: str):
    """A file that cannot be imported now: say why, and nothing is imported."""
    if why is csv_uploads.Missing.CLAIMED:
        record = import_jobs.for_upload(upload_id, current_user)
        if record is not None:  # a second press: the first is under way on the worker
            return redirect(url_for("admin.enrol_progress", import_id=record.id), 303)
        flash("That file has been imported already: Import was pressed more than once, and "
              "the first press imported it. If you did not see the set-password links, make "
              "a new link from each person’s page.", "error")
        return redirect(url_for("admin.people_list"))
    if why is csv_uploads.Missing.EXPIRED:
        flash("That file waited more than an hour after its preview, so it is no longer "
              "waiting to be imported. Nothing was imported: upload it again.", "error")
    else:
        flash("That file is no longer waiting to be imported (files wait for one hour). "
              "Nothing was imported: upload it again.", "error")
    return redirect(url_for("admin.enrol"))


@bp.get("/enrol/imports/<int:import_id>")
@role_required(*_MANAGERS)
def enrol_progress(import_id: int):
    """A large import's progress, then its outcome and (once) its set-password links; only
    for the person who started it."""
    record = import_jobs.find(import_id, current_user)
    if record is None:
        abort(404)
    job = import_jobs.settle(record)
    links = import_jobs.take_links(record)
    db.session.commit()
    return _no_store(render_template(
        "admin/enrol_import.html", record=record, links=links,
        summary=import_jobs.summary(record, job), limit=PREVIEW_LIMIT,
        until=import_jobs.downloadable_until(record),
        finished=record.status in (import_jobs.DONE, import_jobs.FAILED)))


@bp.post("/enrol/imports/<int:import_id>/links.csv")
@role_required(*_MANAGERS)
def enrol_links_csv(import_id: int):
    """The import's set-password links that still work, as a CSV file: for the person who
    uploaded it only, while the links work; every download is audited."""
    if not ActionForm().validate_on_submit():
        abort(400)
    record = import_jobs.find(import_id, current_user)
    if record is None:
        abort(404)
    rows = import_jobs.download(record, current_user, lambda token: url_for(
        "invitations.set_password", token=token, _external=True))
    if not rows:
        flash("There are no set-password links to download: each link from this import has "
              "expired or been used. If a learner still needs one, make a new link from the "
              "person’s page.", "error")
        return redirect(url_for("admin.enrol_progress", import_id=record.id), 303)
    db.session.commit()

    def lines():
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["name", "email", "cohort", "set-password link", "works until (UK time)"])
        for row in rows:
            out.writerow([safe_cell(v) for v in (row.name, row.email, row.cohort, row.link,
                                                  row.expires_at)])
        yield BOM + buffer.getvalue()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="set-password-links.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/enrol/imports/<int:import_id>/status")
@role_required(*_MANAGERS)
def enrol_progress_status(import_id: int):
    """The progress page's status as JSON, for its script to poll (no links here)."""
    record = import_jobs.find(import_id, current_user)
    if record is None:
        abort(404)
    job = import_jobs.settle(record)
    db.session.commit()
    response = make_response({"status": record.status, "done": record.rows_done,
                              "total": record.rows_total,
                              "summary": import_jobs.summary(record, job)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/enrol/template.csv")
@role_required(*_MANAGERS)
def enrol_template():
    """An empty file with the right column headings, to fill in with a spreadsheet."""
    return Response(csv_import.TEMPLATE, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=enrolment-template.csv"})


# ---- people ----

@bp.get("/people")
@role_required(*_MANAGERS)
def people_list():
    """People the viewer may manage: search, filter by role and status, 25 to a page."""
    form = PeopleFilterForm(formdata=request.args)
    form.validate()
    page = people.search(current_user, form.q.data or "", form.role.data or "",
                         form.active.data or "", request.args.get("page", 1, type=db_int))
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/people.html", form=form, page=page, filters=filters)


def _person_or_404(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    require(people.can_manage(current_user, person))
    return person


def _centres_form(person: User, formdata=None) -> CentresForm:
    info = people.detail(person, current_user)
    form = CentresForm(formdata=formdata, centres=[c.id for c in info.centres])
    form.centres.choices = [(c.id, c.name) for c in people.all_centres()]
    return form


def _person_page(person: User, roles_form: RolesForm | None = None, status: int = 200,
                 centres_form: CentresForm | None = None):
    if current_user.has_role(Role.ADMIN):
        if roles_form is None:
            roles_form = RolesForm(formdata=None, roles=[r.value for r in person.role_set])
        if centres_form is None:
            centres_form = _centres_form(person)
    return render_template(
        "admin/person.html", person=person, info=people.detail(person, current_user),
        links=invitations.links_for(person), link_status=invitations.link_status,
        extra_time_choices=accounts.EXTRA_TIME_CHOICES,
        roles_form=roles_form, centres_form=centres_form), status


@bp.get("/people/<int:user_id>")
@role_required(*_MANAGERS)
def person(user_id: int):
    """One person: details, cohorts, roles, account status and set-password links."""
    return _person_page(_person_or_404(user_id))


@bp.post("/people/<int:user_id>/roles")
@role_required(Role.ADMIN)
def person_roles(user_id: int):
    """Give or take away roles (admins only)."""
    person = _person_or_404(user_id)
    form = RolesForm()
    if form.validate_on_submit():
        try:
            added, removed = people.set_roles(person, {Role(r) for r in form.roles.data},
                                              current_user)
        except accounts.AccountError as exc:
            form.roles.errors.append(str(exc))
        else:
            db.session.commit()
            if added or removed:
                flash(f"Roles saved for {person.name}: "
                      + ", ".join(Role(r.role).label for r in person.roles) + ".", "success")
            else:
                flash("No roles were changed.", "success")
            return redirect(url_for("admin.person", user_id=person.id))
    db.session.rollback()
    return _person_page(person, form, 422)


@bp.post("/people/<int:user_id>/centres")
@role_required(Role.ADMIN)
def person_centres(user_id: int):
    """Move a person between centres (admins only, audited)."""
    person = _person_or_404(user_id)
    form = _centres_form(person, formdata=request.form)
    if form.validate_on_submit():
        added, removed = people.set_centres(person, set(form.centres.data), current_user)
        db.session.commit()
        flash(f"Centres saved for {person.name}." if added or removed
              else "No centres were changed.", "success")
        return redirect(url_for("admin.person", user_id=person.id))
    return _person_page(person, status=422, centres_form=form)


def _set_active(user_id: int, active: bool):
    person = _person_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        changed = people.set_active(person, active, current_user)
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.person", user_id=person.id))
    db.session.commit()
    if changed and active:
        flash(f"{person.name}’s account is active again: they can log in.", "success")
    elif changed:
        flash(f"{person.name}’s account is deactivated: they cannot log in. Nothing of theirs "
              "has been deleted.", "success")
    return redirect(url_for("admin.person", user_id=person.id))


@bp.post("/people/<int:user_id>/deactivate")
@role_required(*_MANAGERS)
def deactivate(user_id: int):
    """Stop a person logging in; nothing they wrote is removed."""
    return _set_active(user_id, False)


@bp.post("/people/<int:user_id>/reactivate")
@role_required(*_MANAGERS)
def reactivate(user_id: int):
    """Let a deactivated person log in again."""
    return _set_active(user_id, True)


@bp.post("/people/<int:user_id>/reset-link")
@role_required(*_MANAGERS)
def reset_link(user_id: int):
    """Make a single-use link to set a password, shown once (and emailed if mail is set up)."""
    person = _person_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not person.active:
        flash("Reactivate the account before making a set-password link.", "error")
        return redirect(url_for("admin.person", user_id=person.id))
    # Someone who never set a password gets a fresh invitation, which lasts longer.
    purpose = invitations.RESET if person.password_hash else invitations.INVITE
    link = invitations.issue(person, purpose, actor=current_user)
    emailed = invitations.email_link(link)  # queued, sent by the worker after this commit
    db.session.commit()
    return _no_store(render_template("admin/reset_link.html", person=person, link=link,
                                     emailed=emailed))


# ---- the audit log ----

@bp.get("/audit")
@role_required(Role.ADMIN)
def audit_log():
    """Who did what and when, newest first, with filters; 25 to a page."""
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [SelectChoice("", "Any action"),
                           *(SelectChoice(a, words) for a, words in people.audit_actions())]
    valid = form.validate()
    zone = ZoneInfo(zone_name())
    if valid:
        page = people.audit_page(_audit_filters(form), request.args.get("page", 1, type=db_int),
                                 zone)
    else:
        page = Page([], 1, 1, 0)
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", form=form, page=page, filters=filters,
                           valid=valid), 200 if valid else 422


def _audit_filters(form: AuditFilterForm) -> people.AuditFilters:
    return people.AuditFilters(form.action.data or "", form.actor.data or "",
                               form.about.data or "", form.date_from.data, form.date_to.data)


@bp.get("/audit.csv")
@role_required(Role.ADMIN)
def audit_csv():
    """The audit log as a CSV file, with the page's filters: written as it is read."""
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [SelectChoice("", "Any action")]
    if not form.validate():
        return redirect(url_for("admin.audit_log", **request.args))
    filters, zone = _audit_filters(form), ZoneInfo(zone_name())
    audit.record("audit.export", actor=current_user, filters={
        k: v for k, v in request.args.items() if v})
    db.session.commit()

    def lines():
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["when (UK time)", "what happened", "action", "done by", "done by email",
                      "about", "details"])
        yield BOM + buffer.getvalue()
        for row in people.audit_rows(filters, zone):
            buffer.seek(0)
            buffer.truncate()
            out.writerow([safe_cell(v) for v in (
                row.event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), row.sentence,
                row.event.action, row.actor.name if row.actor else "",
                row.actor.email if row.actor else "", row.subject,
                json.dumps(row.event.detail or {}, ensure_ascii=False, sort_keys=True))])
            yield buffer.getvalue()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- the outbox ----

@bp.get("/outbox")
@role_required(Role.ADMIN)
def outbox():
    """Email waiting to be sent, and email that failed (with why), 25 to a page."""
    form = OutboxFilterForm(formdata=request.args)
    valid = form.validate()
    group = form.show.data if valid else "unsent"
    page = people.outbox_page(group, request.args.get("page", 1, type=db_int))
    filters = {"show": group} if group != "unsent" else {}
    return render_template("admin/outbox.html", form=form, page=page, filters=filters,
                           counts=jobs.counts()), 200 if valid else 422


@bp.post("/outbox/<int:job_id>/retry")
@role_required(Role.ADMIN)
def outbox_retry(job_id: int):
    """Try a failed email again now, with a fresh set of attempts (audited; of two admins
    pressing at once, one retries it)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if db.session.get(jobs.Job, job_id) is None:
        abort(404)
    if jobs.retry(job_id, current_user):
        db.session.commit()
        flash("It is back in the outbox: the worker will try it again in a moment.", "success")
    else:
        db.session.rollback()
        flash("That one has not failed (any more): someone may have tried it again already.",
              "info")
    return redirect(url_for("admin.outbox"))
