"""Learners' written answers: the writing page, drafts and versions, submit, feedback."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from learning.assessment import evidence, marking, marking_target, writing_activity
from learning.assessment import submissions as svc
from learning.assessment.forms import DraftForm, RestoreForm, SubmitAnswerForm
from learning.assessment.models import DraftVersion
from learning.content.access import get_catalog
from learning.core import errors
from learning.core.dates import local, uk_datetime
from learning.core.extensions import db
from learning.core.incoming import db_int
from learning.core.permissions import role_required
from learning.core.types import utcnow
from learning.people.models import Role

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

#: An answer sent in a request over MAX_CONTENT_LENGTH: the form is never read, so its own
#: length check cannot speak. Far longer than MAX_TEXT, so the limit to name is MAX_TEXT.
TOO_LONG_TO_SEND = (f"Your answer was too long to send. An answer can be at most "
                    f"{svc.MAX_TEXT:,} characters (about {svc.MAX_TEXT_WORDS:,} words).")


def _task_or_404(slug: str):
    task = next((t for t in get_catalog().tasks if t.slug == slug), None)
    if task is None:
        abort(404)
    return task


def _marking_days() -> int:
    return current_app.config.get("MARKING_TARGET_WORKING_DAYS",
                                  marking_target.MARKING_TARGET_DAYS)


def _marking_by(sub):
    """The last day of the marking target for work waiting to be marked, else None."""
    if sub.status not in marking_target.AWAITING_MARKING or sub.submitted_at is None:
        return None
    return marking_target.marking_due_by(local(sub.submitted_at).date(), _marking_days())


@bp.get("/")
@role_required(Role.LEARNER)
def index():
    """The written tasks for the learner's unit, with where each one stands."""
    return render_template("tasks/index.html", tasks=svc.tasks_for(current_user, get_catalog()),
                           subs=svc.submissions_by_task(current_user), catalog=get_catalog())


def _editor(task, sub, form, status=200, preview=None, conflict=None, shorter=None):
    draft = svc.latest_draft(sub)
    if form.text.data is None:  # a fresh form shows the saved draft; a posted one what was sent
        form.text.data = draft.text if draft else ""
    form.based_on.data = str(draft.number) if draft else ""
    return render_template(
        "tasks/write.html", task=task, sub=sub, form=form, draft=draft, catalog=get_catalog(),
        max_chars=svc.MAX_TEXT,
        preview=preview, conflict=conflict, editable=sub.status in svc.EDITABLE,
        shorter=shorter, shorter_words=svc.count_words(form.text.data or "") if shorter else 0,
        decisions=marking.released_decisions(sub),
        # The learner sees the same report as their assessor, once the answer is submitted.
        process=writing_activity.report_for(sub.rounds[-1])
        if sub.rounds and sub.status not in svc.EDITABLE else None,
        resubmissions_left=svc.resubmissions_left(sub, task),
        marking_days=_marking_days(), marking_by=_marking_by(sub),
    ), status


@bp.get("/<slug>")
@role_required(Role.LEARNER)
def write(slug: str):
    """The question, the guidance, and the learner's current text."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    conflict = None
    if (number := request.args.get("conflict", type=db_int)) is not None:
        conflict = db.session.scalar(select(DraftVersion).where(
            DraftVersion.submission_id == sub.id, DraftVersion.number == number,
            DraftVersion.kind == "conflict"))
    return _editor(task, sub, DraftForm(), conflict=conflict)


@bp.post("/<slug>")
@role_required(Role.LEARNER)
def save(slug: str):
    """Save the text as a new version (works without JavaScript)."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    form = DraftForm()
    if not form.validate_on_submit():
        return _editor(task, sub, form, status=422)
    draft = svc.latest_draft(sub)
    if draft is not None and form.confirm_shorter.data != "1" \
            and svc.much_shorter(draft.word_count, form.text.data or ""):
        # Nothing is saved yet: the text stays in the box and the learner decides.
        form.confirm_shorter.data = "1"
        return _editor(task, sub, form, status=409, shorter=draft)
    try:
        now = utcnow()
        result = svc.save_draft(sub, form.text.data or "", _int(form.based_on.data), now)
    except svc.SubmissionError as exc:
        form.text.errors.append(str(exc))
        return _editor(task, sub, form, status=422)
    _record_activity(sub, result, form, now)
    if result.conflict_with is not None:
        return redirect(url_for("tasks.write", slug=slug, conflict=result.version.number))
    if form.preview.data:
        # The box keeps the text just saved (a fresh form, filled from the new version).
        return _editor(task, sub, DraftForm(formdata=None),
                       preview=result.version.rendered)
    flash("Your draft is saved." if not result.unchanged else "No changes to save.", "success")
    return redirect(url_for("tasks.write", slug=slug))


def _int(value) -> int | None:
    try:
        return db_int(value)
    except (TypeError, ValueError, AttributeError):
        return None


def _record_activity(sub, result, form, now) -> None:
    """Keep what the page's script saw, only once the text itself is safely saved."""
    writing_activity.record(sub, result.version.number, writing_activity.parse(form.activity.data),
                            now)


@bp.post("/<slug>/autosave")
@role_required(Role.LEARNER)
def autosave(slug: str):
    """Background save from the writing page's script; JSON back, conflicts included."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    form = DraftForm()
    if not form.validate_on_submit():  # CSRF was checked before the view: see csrf_refused
        message = next((e for errs in form.errors.values() for e in errs), "")
        return jsonify(message=f"Not saved. {message}", errors=form.errors), 422
    now = utcnow()
    draft = svc.latest_draft(sub)
    if draft is not None and svc.much_shorter(draft.word_count, form.text.data or ""):
        return jsonify(shorter=True, message="Not saved automatically: your answer is much "
                       "shorter than your saved draft. Press Save draft if you meant to cut "
                       "it; the longer version stays in Versions either way."), 409
    try:
        result = svc.save_draft(sub, form.text.data or "", _int(form.based_on.data), now,
                                kind="autosave")
    except svc.SubmissionError as exc:
        return jsonify(message=str(exc)), 409
    _record_activity(sub, result, form, now)
    if result.conflict_with is not None:
        return jsonify(conflict=True, message="This answer was changed in another tab or "
                       "device. Your text is kept: choose which version to keep.",
                       url=url_for("tasks.write", slug=slug,
                                   conflict=result.version.number)), 409
    return jsonify(version=result.version.number, words=result.version.word_count,
                   message=f"Draft saved {uk_datetime(now)}")


@bp.errorhandler(413)
def too_large(e):
    """A request over MAX_CONTENT_LENGTH from the writing page: say so in characters."""
    if request.endpoint == "tasks.autosave":
        return jsonify(message=f"Not saved. {TOO_LONG_TO_SEND} Shorten it, then press Save "
                       "draft."), 413
    if request.endpoint == "tasks.save":
        return errors.page(413, f"{TOO_LONG_TO_SEND} Go back to the writing page, shorten "
                           "your answer and save it again.")
    return errors.page(413, errors.too_large())


@bp.errorhandler(CSRFError)
def csrf_refused(e):
    """The autosave script shows this message; pages get the usual one."""
    if request.endpoint == "tasks.autosave":
        return jsonify(message="Not saved: this page is out of date (perhaps you logged out in "
                       "another tab). Copy your text, then reload the page."), 400
    return errors.page(400, errors.CSRF_ADVICE)


@bp.get("/<slug>/versions")
@role_required(Role.LEARNER)
def versions(slug: str):
    """Every saved version, newest first, each viewable and restorable."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    return render_template("tasks/versions.html", task=task, sub=sub,
                           versions=svc.versions(sub), current=svc.latest_draft(sub),
                           editable=sub.status in svc.EDITABLE)


@bp.get("/<slug>/versions/<int:number>")
@role_required(Role.LEARNER)
def version(slug: str, number: int):
    """One earlier version, read-only, with a restore button."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    v = db.session.scalar(select(DraftVersion).where(DraftVersion.submission_id == sub.id,
                                                     DraftVersion.number == number))
    if v is None:
        abort(404)
    return render_template("tasks/version.html", task=task, sub=sub, v=v, form=RestoreForm(),
                           editable=sub.status in svc.EDITABLE)


@bp.post("/<slug>/versions/<int:number>/restore")
@role_required(Role.LEARNER)
def restore(slug: str, number: int):
    """Make an earlier version the current text (as a new version: nothing is lost)."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    if not RestoreForm().validate_on_submit():
        abort(400)
    try:
        restored = svc.restore(sub, number, utcnow())
    except svc.SubmissionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("tasks.versions", slug=slug))
    flash(f"Version {number} is your current text again (saved as version {restored.number}).",
          "success")
    return redirect(url_for("tasks.write", slug=slug))


@bp.route("/<slug>/submit", methods=["GET", "POST"])
@role_required(Role.LEARNER)
def submit(slug: str):
    """The declaration of authenticity, optional sources, then the text is locked."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    if sub.status not in svc.EDITABLE:
        flash("This answer has already been submitted.", "info")
        return redirect(url_for("tasks.write", slug=slug))
    form = SubmitAnswerForm()
    draft = svc.latest_draft(sub)
    short = svc.below_guidance(draft, task)
    if form.validate_on_submit():
        if short and not form.confirm_short.data:
            form.confirm_short.errors = [
                f"Your answer has {draft.word_count:,} words, fewer than the guidance of "
                f"{task.min_words:,}. Tick the box to submit it anyway, or go back and add "
                "to it."]
        else:
            try:
                svc.submit(sub, task, current_user, form.declaration.data,
                           form.sources.data or "", utcnow())
            except svc.SubmissionError as exc:
                form.declaration.errors.append(str(exc))
            else:
                flash("Your answer is submitted. Your assessor has been told.", "success")
                return redirect(url_for("tasks.write", slug=slug))
    return render_template("tasks/submit.html", task=task, sub=sub, form=form, draft=draft,
                           short=short,
                           resubmissions_left=svc.resubmissions_left(sub, task)), \
        422 if form.errors else 200


@bp.get("/<slug>/feedback")
@role_required(Role.LEARNER)
def feedback(slug: str):
    """Released decisions only: marking drafts are never shown to the learner."""
    task = _task_or_404(slug)
    sub = svc.get_or_create(current_user, task)
    decisions = marking.released_decisions(sub)
    page = render_template("tasks/feedback.html", task=task, sub=sub, catalog=get_catalog(),
                           decisions=decisions,
                           process=writing_activity.report_for(sub.rounds[-1])
                           if sub.rounds else None,
                           shown=evidence.shown(decisions, evidence.on_rounds(
                               [w.id for w in sub.rounds]), get_catalog()))
    # Shown, so read: the dashboard stops listing it as feedback to read.
    if marking.mark_feedback_read(sub, current_user, utcnow()):
        db.session.commit()
    return page
