"""Assessors: the marking queue and the marking page (criterion decisions, release)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from learning.assessment import evidence, marking, marking_target, writing_activity
from learning.assessment.models import Submission
from learning.assessment.originality.fingerprints import highlight
from learning.assessment.originality.grouping import group_matches
from learning.assessment.submissions import resubmissions_left
from learning.content.access import get_catalog
from learning.core import audit, dates
from learning.core.extensions import db
from learning.core.incoming import db_int
from learning.core.permissions import require, role_required
from learning.core.types import utcnow
from learning.people import membership as cohorts
from learning.people.models import Role

bp = Blueprint("marking", __name__, url_prefix="/marking")


def _task(slug: str):
    return next((t for t in get_catalog().tasks if t.slug == slug), None)


@bp.get("/")
@role_required(Role.ASSESSOR)
def queue():
    """Work waiting for the assessor's cohorts, oldest first, with filters."""
    cohort_id = request.args.get("cohort", type=db_int)
    task_slug = request.args.get("task") or None
    status = request.args.get("status") or None
    rows = marking.queue(current_user, utcnow(), cohort_id, task_slug, status)
    target = current_app.config.get("MARKING_TARGET_WORKING_DAYS",
                                    marking_target.MARKING_TARGET_DAYS)
    overdue = marking_target.overdue_submission_ids(rows, dates.today(), target,
                                                    dates.zone_name())
    return render_template("marking/queue.html", rows=rows, tasks=get_catalog().tasks,
                           overdue=overdue, target=target,
                           task_titles={t.slug: t.title for t in get_catalog().tasks},
                           cohorts=cohorts.visible_cohorts(current_user),
                           chosen={"cohort": cohort_id, "task": task_slug, "status": status})


def _read_form(task) -> tuple[dict, str, str]:
    criteria = {}
    for cid in task.criteria:
        value = request.form.get(f"met-{cid}")
        met = True if value == "met" else False if value == "not-met" else None
        criteria[cid] = (met, request.form.get(f"comment-{cid}", ""))
    return criteria, request.form.get("feedback", ""), request.form.get("actions", "")


def _summary_links(task, field_errors: dict[str, str]) -> list[tuple[str, str]]:
    """The error summary's entries, each linking to its field (a criterion: its first choice)."""
    catalog = get_catalog()
    links = []
    for i, cid in enumerate(task.criteria, 1):
        if message := field_errors.get(f"criterion:{cid}"):
            crit = catalog.criterion(cid)
            links.append((f"#met-{i}-yes", f"{crit.number if crit else cid}: {message}"))
    for name in ("actions", "feedback"):
        if message := field_errors.get(name):
            links.append((f"#{name}", message))
    return links


def _markable(submission_id: int):
    """The submission, its task and the round to mark, for an assessor who may mark it
    (404 for work that is not there, 403 for another cohort's)."""
    sub = db.session.get(Submission, submission_id)
    if sub is None:
        abort(404)
    require(marking.can_mark(current_user, sub))
    task = _task(sub.task_slug)
    work = marking.current_round(sub)
    if task is None or work is None:
        abort(404)
    return sub, task, work


@bp.route("/<int:submission_id>", methods=["GET", "POST"])
@role_required(Role.ASSESSOR)
def mark(submission_id: int):
    """The answer, the marking guide, and a met / not yet met decision per criterion."""
    sub, task, work = _markable(submission_id)
    draft = marking.draft_decision(work, current_user)
    #: (link, message) for the error summary; field_errors: the message beside each field.
    errors: list[tuple[str, str]] = []
    field_errors: dict[str, str] = {}
    values = None
    if request.method == "POST":
        criteria, feedback, actions = _read_form(task)
        values = {"criteria": criteria, "feedback": feedback, "actions": actions}
        # "Release decision…" saves the marking and shows a summary to confirm: nothing
        # reaches the learner until the assessor confirms it (release below).
        check = request.form.get("action") == "release"
        if check:
            field_errors = dict(marking.release_problems(task.criteria, criteria, feedback,
                                                         actions))
        if not field_errors:
            try:
                marking.save_decision(work, task, current_user, criteria, feedback, actions,
                                      utcnow(), release=False)
            except marking.MarkingError as exc:
                errors.append(("#decision-heading", str(exc)))
            else:
                if check:
                    return redirect(url_for("marking.release", submission_id=sub.id))
                flash("Marking saved as a draft. The learner cannot see it until you release "
                      "it.", "success")
                return redirect(url_for("marking.mark", submission_id=sub.id))
    if values is None and draft is not None:
        values = {"criteria": {c.criterion_id: (c.met, c.comment) for c in draft.criteria},
                  "feedback": draft.feedback, "actions": draft.actions}
    errors += _summary_links(task, field_errors)
    return _mark_page(sub, task, work, values, errors, field_errors)


def _mark_page(sub, task, work, values, errors, field_errors, evidence_values=None):
    """The marking page, as the marking form or the evidence form left it."""
    previous = sub.rounds[-2] if len(sub.rounds) > 1 else None
    catalog = get_catalog()
    attached = evidence.current(work, current_user)
    numbers = evidence.criterion_numbers(catalog, task.criteria)
    page = render_template(
        "marking/mark.html", sub=sub, task=task, work=work, catalog=catalog,
        values=values or {"criteria": {}, "feedback": "", "actions": ""}, errors=errors,
        field_errors=field_errors,
        earlier=marking.released_decisions(sub), previous=previous,
        history=marking.learner_history(sub.learner_id),
        task_titles={t.slug: t.title for t in catalog.tasks},
        diff=marking.diff_words(previous.text, work.text) if previous else None,
        resubmissions_left=resubmissions_left(sub, task),
        highlighted=highlight(work.text, [tuple(s) for s in
                                          (work.originality_report or {}).get("spans", [])]),
        sources=group_matches(work.originality_report),
        process=writing_activity.report_for(work),
        decided=sub.status not in marking.WAITING and not sub.reassess,
        evidence=attached, evidence_by=evidence.by_criterion(attached),
        evidence_view=evidence.highlighted(
            work.text, evidence.marks_for(work.text, attached, numbers)),
        evidence_keys={e.id: key for key, e in enumerate(attached, 1)},
        passages=evidence.passages(work.text), criterion_numbers=numbers,
        evidence_values=evidence_values or {},
    )
    if request.method == "GET":  # who opened this learner's work (after rendering: see audit)
        audit.record_view("view.marking", current_user, sub.learner_id, submission_id=sub.id,
                          round=work.number, task=sub.task_slug)
    return page, 422 if errors else 200


def _number(value: str | None) -> int | None:
    try:
        return db_int(value or "")
    except ValueError:
        return None


def _offsets(value: str | None) -> tuple[int | None, int | None]:
    """"start-end" from the passage list or the selection; (None, None) when unreadable."""
    first, _, second = (value or "").partition("-")
    start, end = _number(first), _number(second)
    return (start, end) if start is not None and end is not None else (None, None)


@bp.post("/<int:submission_id>/evidence")
@role_required(Role.ASSESSOR)
def add_evidence(submission_id: int):
    """Attach a passage of the answer (from the numbered list, or the text selected in the
    answer) to a criterion as evidence, met or not yet met."""
    sub, task, work = _markable(submission_id)
    form = request.form
    start, end = _offsets(form.get("passage"))
    # The browser sends the selected text with a selection; the numbered list does not.
    quote = form.get("quote") if form.get("passage") == form.get("selection") else None
    choice = form.get("evidence_met")
    met = True if choice == "met" else False if choice == "not-met" else None
    problem = ""
    if _number(form.get("work")) != work.id:
        problem = "A newer submission has arrived: its evidence starts afresh. Choose again."
    else:
        try:
            evidence.add_evidence(work, task, current_user, form.get("criterion", ""), start,
                                  end, quote, met, form.get("note", ""), utcnow())
        except (evidence.EvidenceError, marking.MarkingError) as exc:
            problem = str(exc)
        else:
            flash("Passage added as evidence.", "success")
            return redirect(url_for("marking.mark", submission_id=sub.id) + "#evidence-heading")
    return _mark_page(sub, task, work, None, [("#evidence-passage", problem)], {},
                      evidence_values={"passage": form.get("passage", ""),
                                       "criterion": form.get("criterion", ""),
                                       "met": choice, "note": form.get("note", ""),
                                       "error": problem})


@bp.post("/<int:submission_id>/evidence/withdraw")
@role_required(Role.ASSESSOR)
def withdraw_evidence(submission_id: int):
    """Take a passage off its criterion (it is kept, marked withdrawn)."""
    sub, task, work = _markable(submission_id)
    try:
        evidence.withdraw_evidence(work, current_user, _number(request.form.get("evidence_id")),
                                   utcnow())
    except (evidence.EvidenceError, marking.MarkingError) as exc:
        flash(str(exc), "error")
    else:
        flash("Passage removed from the evidence.", "success")
    return redirect(url_for("marking.mark", submission_id=sub.id) + "#evidence-heading")


@bp.route("/<int:submission_id>/release", methods=["GET", "POST"])
@role_required(Role.ASSESSOR)
def release(submission_id: int):
    """A summary of the saved marking to confirm; confirming releases it to the learner."""
    sub, task, work = _markable(submission_id)
    back = url_for("marking.mark", submission_id=sub.id)
    error = ""
    if request.method == "POST":
        try:
            marking.release_draft(work, task, current_user, request.form.get("digest", ""),
                                  utcnow())
        except marking.MarkingError as exc:
            error = str(exc)
        else:
            flash(f"Decision released to {sub.learner.name}.", "success")
            return redirect(url_for("marking.queue"))
    draft = marking.draft_decision(work, current_user)
    decided = sub.status not in marking.WAITING and not sub.reassess
    if draft is None or decided:
        flash(error or ("This work has already been decided." if decided else
                        "There is no saved marking to release: mark the work first."), "error")
        return redirect(back)
    criteria = {c.criterion_id: (c.met, c.comment) for c in draft.criteria}
    undecided, achieved = marking.outcome_of(task.criteria, criteria)
    if refusal := marking.release_refusal(undecided, achieved, draft.feedback, draft.actions):
        flash(refusal, "error")
        return redirect(back)
    attached = evidence.current(work, current_user)
    return render_template("marking/release.html", sub=sub, task=task, work=work,
                           decision=draft, criteria=criteria, catalog=get_catalog(),
                           evidence=attached, criterion_numbers=evidence.criterion_numbers(
                               get_catalog(), task.criteria),
                           digest=marking.decision_digest(draft), error=error,
                           resubmissions_left=resubmissions_left(sub, task)), \
        422 if error else 200
