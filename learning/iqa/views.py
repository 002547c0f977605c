"""Internal quality assurance pages: the sample, picking by hand, reviews, plans, the report."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from learning.assessment import evidence, writing_activity
from learning.assessment.originality.fingerprints import highlight
from learning.assessment.originality.grouping import group_matches
from learning.content.access import get_catalog
from learning.core import audit
from learning.core.extensions import db
from learning.core.incoming import db_int
from learning.core.permissions import require, role_required
from learning.core.types import utcnow
from learning.iqa import reviews as iqa
from learning.iqa import sampling
from learning.iqa.forms import AddToSampleForm, PlanForm, ReviewForm
from learning.iqa.models import IqaReview
from learning.people.models import Role, User

bp = Blueprint("iqa", __name__, url_prefix="/iqa")

_PLANNERS = (Role.IQA, Role.COORDINATOR, Role.ADMIN)


def _task_titles() -> dict[str, str]:
    return {t.slug: t.title for t in get_catalog().tasks}


@bp.get("/")
@role_required(Role.IQA)
def sample():
    """The IQA's sample: decisions still to review first, then those already reviewed."""
    assessor_id = request.args.get("assessor", type=db_int)
    reviewed = {"no": False, "yes": True}.get(request.args.get("reviewed", ""))
    rows = iqa.sample_rows(current_user, assessor_id, reviewed)
    return render_template("iqa/sample.html", rows=rows, titles=_task_titles(),
                           assessors=iqa.assessors_in_scope(current_user, as_iqa=True),
                           assessor_id=assessor_id, reviewed=request.args.get("reviewed", ""))


@bp.get("/decisions")
@role_required(Role.IQA)
def decisions():
    """Released decisions not in the sample, so the IQA can add any of them by hand."""
    page = iqa.unsampled_decisions(current_user, request.args.get("page", 1, type=db_int))
    return render_template("iqa/decisions.html", page=page, titles=_task_titles())


@bp.post("/decisions/<int:decision_id>/sample")
@role_required(Role.IQA)
def add_to_sample(decision_id: int):
    """Add a released decision in one of the IQA's cohorts to the sample, then open it."""
    decision = iqa.released_decision(decision_id)
    if decision is None:
        abort(404)
    require(iqa.may_sample(current_user, decision))
    if not AddToSampleForm().validate_on_submit():
        abort(400)
    sample = iqa.add_to_sample(decision, current_user, utcnow())
    flash("The decision is in your sample.", "success")
    return redirect(url_for("iqa.review", sample_id=sample.id))


@bp.route("/samples/<int:sample_id>", methods=["GET", "POST"])
@role_required(Role.IQA)
def review(sample_id: int):
    """A sampled decision with the answer, the marking guide and the assessor's reasons;
    the IQA records agree or disagree."""
    sample = iqa.get_sample(sample_id)
    if sample is None:
        abort(404)
    require(iqa.can_review(current_user, sample))
    sub = sample.decision.work.submission
    task = next((t for t in get_catalog().tasks if t.slug == sub.task_slug), None)
    # An assessor who is also an IQA must not quality-assure their own decisions.
    own_decision = sample.decision.assessor_id == current_user.id
    if own_decision and request.method == "POST":
        abort(403)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            iqa.record_review(sample, current_user, form.verdict.data, form.comments.data,
                              form.action.data, task.title if task else sub.task_slug,
                              utcnow())
        except iqa.ReviewError as exc:
            form.verdict.errors.append(str(exc))
        else:
            flash("Your review is saved." if form.verdict.data == "agree" else
                  "Your review is saved. The assessor has been asked to make a new decision.",
                  "success")
            return redirect(url_for("iqa.review", sample_id=sample.id))
    work = sample.decision.work
    report = work.originality_report or {}
    decision_shows = evidence.shown([sample.decision], {work.id: work.evidence}, get_catalog())
    page = render_template("iqa/review.html", sample=sample, sub=sub, task=task,
                           work=work, decision=sample.decision,
                           sources=group_matches(report),
                           process=writing_activity.report_for(work),
                           highlighted=highlight(work.text, [tuple(s) for s in
                                                             report.get("spans", [])]),
                           catalog=get_catalog(), form=form, own_decision=own_decision,
                           shown=decision_shows.get(sample.decision.id),
                           status=iqa.review_status(sample), later=iqa.later_decisions(sample),
                           correctable={r.id for r in sample.reviews
                                        if r.iqa_id == current_user.id
                                        and iqa.can_correct(current_user, r)})
    if request.method == "GET":  # who opened this learner's work (after rendering: see audit)
        audit.record_view("view.iqa_review", current_user, sub.learner_id, sample_id=sample.id,
                          submission_id=sub.id, decision_id=sample.decision_id)
    return page


@bp.route("/reviews/<int:review_id>/correct", methods=["GET", "POST"])
@role_required(Role.IQA)
def correct(review_id: int):
    """The IQA who wrote a review corrects it, until the assessor acts on it."""
    review = db.session.get(IqaReview, review_id)
    if review is None:
        abort(404)
    sample = iqa.get_sample(review.sample_id)
    if sample is None:
        abort(404)
    require(review.iqa_id == current_user.id and iqa.can_review(current_user, sample))
    back = url_for("iqa.review", sample_id=sample.id)
    if not iqa.can_correct(current_user, review):
        flash("The assessor has acted on this review (or another review followed it), so it "
              "can no longer be corrected. Add a new review instead.", "error")
        return redirect(back)
    sub = sample.decision.work.submission
    task = next((t for t in get_catalog().tasks if t.slug == sub.task_slug), None)
    form = ReviewForm(data={"verdict": review.verdict, "comments": review.comments,
                            "action": review.action})
    if form.validate_on_submit():
        try:
            iqa.correct_review(review, current_user, form.verdict.data, form.comments.data,
                               form.action.data, task.title if task else sub.task_slug,
                               utcnow())
        except iqa.ReviewError as exc:
            flash(str(exc), "error")
            return redirect(back)
        flash("Your review is corrected.", "success")
        return redirect(back)
    return render_template("iqa/correct.html", form=form, sample=sample, sub=sub, task=task,
                           review=review)


@bp.route("/plans", methods=["GET", "POST"])
@role_required(*_PLANNERS)
def plans():
    """Sampling plan per assessor: a random percentage, and every decision for new assessors."""
    rows = iqa.plan_rows(current_user)
    forms = {}
    for row in rows:
        form = PlanForm(prefix=f"plan-{row.assessor.id}", formdata=None,
                        data={"rate": row.plan.rate, "new_assessor": row.plan.new_assessor})
        form.rate.label.text = f"Percentage of {row.assessor.name}'s decisions sampled at random"
        forms[row.assessor.id] = form
    failed = None
    if request.method == "POST":
        assessor = db.session.get(User, request.form.get("assessor", type=db_int) or 0)
        if assessor is None:
            abort(404)
        require(iqa.may_plan_for(current_user, assessor))
        form = PlanForm(prefix=f"plan-{assessor.id}")
        form.rate.label.text = forms[assessor.id].rate.label.text
        if form.validate_on_submit():
            sampling.save_plan(assessor, form.rate.data, form.new_assessor.data, current_user,
                               utcnow())
            flash(f"Sampling plan for {assessor.name} saved.", "success")
            return redirect(url_for("iqa.plans"))
        forms[assessor.id] = failed = form
    return render_template("iqa/plans.html", rows=rows, forms=forms, failed=failed,
                           default_rate=sampling.DEFAULT_RATE)


@bp.get("/report")
@role_required(*_PLANNERS)
def report():
    """Per assessor: decisions released and sampled, agreement rate and open actions."""
    return render_template("iqa/report.html", rows=iqa.report(current_user))
