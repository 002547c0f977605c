"""Taking quizzes: intro and history, attempt pages, autosave, submit, review, statistics."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from learning.content.access import get_catalog
from learning.core.dates import uk_datetime
from learning.core.extensions import db
from learning.core.incoming import db_int
from learning.core.permissions import require, role_required
from learning.core.types import utcnow
from learning.people.models import Role
from learning.quizzes import attempts as svc
from learning.quizzes import display, reading
from learning.quizzes import statistics as quiz_reports
from learning.quizzes.access import get_quizzes
from learning.quizzes.forms import StartForm, SubmitAttemptForm
from learning.quizzes.models import QuizAttempt

bp = Blueprint("quiz", __name__)
bp.add_app_template_filter(display.accepted_answers, "accepted_answers")


def _quiz_or_404(slug: str):
    quiz = get_quizzes().get(slug)
    if quiz is None:
        abort(404)
    return quiz


def _own_attempt(attempt_id: int) -> QuizAttempt:
    """Only the learner who made an attempt may open it."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None:
        abort(404)
    require(attempt.user_id == current_user.id)
    return attempt


def answers_from_form(views: list[dict], form: MultiDict) -> dict:
    """Raw answers for the questions shown, from the form fields each type uses."""
    raw = {}
    for view in views:
        name = f"q-{view['id']}"
        kind = view["type"]
        if kind == "multiple":
            if f"{name}-shown" in form:  # unticking every box is an answer too
                raw[view["id"]] = form.getlist(name)
        elif kind == "matching":
            if any(f"{name}-{p['id']}" in form for p in view["prompts"]):
                raw[view["id"]] = {p["id"]: form.get(f"{name}-{p['id']}", "")
                                   for p in view["prompts"]}
        elif kind == "ordering":
            if any(f"{name}-{i['id']}" in form for i in view["items"]):
                raw[view["id"]] = {i["id"]: form.get(f"{name}-{i['id']}", "")
                                   for i in view["items"]}
        elif name in form:
            raw[view["id"]] = form.get(name)
    return raw


def _pages(attempt: QuizAttempt) -> list[list[int]]:
    """Question indexes per page, as the quiz's layout says.

    One per page puts a description on the page of the question after it (it introduces
    that question), or of the last question when none follows, so every page has a question.
    """
    count = len(attempt.questions)
    if attempt.settings.get("layout") != "one_per_page":
        return [list(range(count))]
    pages: list[list[int]] = []
    waiting: list[int] = []
    for i, item in enumerate(attempt.questions):
        waiting.append(i)
        if not svc.is_description(item["view"]):
            pages.append(waiting)
            waiting = []
    if waiting and pages:
        pages[-1] += waiting
    return pages or [waiting]


@bp.get("/quizzes/<slug>")
@login_required
def quiz(slug: str):
    """A quiz's introduction, its rules, the learner's attempts and the start button."""
    quiz = _quiz_or_404(slug)
    now = utcnow()
    history = svc.attempts_for(current_user, slug)
    for attempt in history:
        if svc.close_if_overdue(attempt, now, get_catalog()):
            flash("Time ran out on your last attempt, so it was submitted with the answers "
                  "you had saved.", "info")
    state = svc.eligibility(current_user, quiz, now, history)
    modules = [m for m in (get_catalog().module(s) for s in quiz.modules) if m]
    return render_template("quiz/quiz.html", quiz=quiz, history=history, state=state,
                           modules=modules, form=StartForm(),
                           is_learner=current_user.has_role(Role.LEARNER))


@bp.post("/quizzes/<slug>/start")
@role_required(Role.LEARNER)
def start(slug: str):
    """Start a new attempt, or carry on with the open one."""
    quiz = _quiz_or_404(slug)
    if not StartForm().validate_on_submit():
        abort(400)
    try:
        attempt = svc.start_attempt(current_user, quiz, utcnow())
    except svc.QuizError as exc:
        flash(str(exc), "error")
        return redirect(url_for("quiz.quiz", slug=slug))
    return redirect(url_for("quiz.attempt", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    """One page of an open attempt, with the answers saved so far."""
    attempt = _own_attempt(attempt_id)
    now = utcnow()
    if svc.close_if_overdue(attempt, now, get_catalog()):
        flash("Time ran out, so your attempt was submitted with the answers you had saved.",
              "info")
    if not attempt.is_open:
        return redirect(url_for("quiz.review", attempt_id=attempt.id))
    pages = _pages(attempt)
    page = min(max(request.args.get("page", 1, type=db_int), 1), len(pages))
    _quiz_or_404(attempt.quiz_slug)
    # Whether attempts are left matters only once an attempt is submitted (grading.may_reveal),
    # so an open one needs no look at the learner's other attempts.
    items = svc.review_items(attempt, attempts_left=True)
    shown = [(items[i].number, items[i]) for i in pages[page - 1]]
    answered = svc.answered_ids(attempt)
    # Per page of the navigator: are all its questions answered? (Descriptions need nothing.)
    done = [all(v["id"] in answered for v in (attempt.questions[i]["view"] for i in p)
                if not svc.is_description(v)) for p in pages]
    flagged = svc.flagged_ids(attempt)
    page_flagged = [any(attempt.questions[i]["view"]["id"] in flagged for i in p)
                    for p in pages]
    total = sum(1 for item in items if item.number is not None)
    # All questions on one page: the navigator jumps within the page instead of between pages.
    in_page = [(n, item.view["id"], item.view["id"] in answered, item.view["id"] in flagged)
               for n, item in shown if n is not None] if len(pages) == 1 and total > 1 else []
    return render_template("quiz/attempt.html", attempt=attempt, shown=shown, page=page,
                           in_page=in_page,
                           pages=len(pages), seconds_left=svc.seconds_left(attempt, now),
                           answered=len(answered), total=total, page_done=done,
                           page_flagged=page_flagged,
                           immediate=attempt.settings.get("feedback") == "immediate")


@bp.post("/attempts/<int:attempt_id>")
@login_required
def save(attempt_id: int):
    """Save the answers on a page, then go where the button said (next, previous, check...)."""
    attempt = _own_attempt(attempt_id)
    pages = _pages(attempt)
    page = min(max(request.form.get("page", 1, type=db_int), 1), len(pages))
    views = [attempt.questions[i]["view"] for i in pages[page - 1]]
    action = request.form.get("action", "save")
    # "flag:<id>" flags and "unflag:<id>" unflags a question on this page (the page's answers
    # are saved too). Each says what it wants, not "toggle": a double click or a second tab
    # pressing the same button leaves the flag as that button said.
    kind, _, flag_id = action.partition(":")
    flag = flag_id if kind in ("flag", "unflag") and flag_id in {v["id"] for v in views} else None
    raw = answers_from_form(views, request.form)
    try:
        svc.save_answers(attempt, raw, utcnow(),
                         check={v["id"] for v in views} if action == "check" else None,
                         flag=flag, flag_on=kind == "flag")
    except svc.QuizError as exc:
        flash(str(exc), "info")
        return redirect(url_for("quiz.review", attempt_id=attempt.id))
    if flag is not None:
        n = svc.question_numbers(attempt)[[i["view"]["id"] for i in attempt.questions]
                                          .index(flag)]
        now_flagged = flag in svc.flagged_ids(attempt)
        flash(f"Question {n} is flagged for review. Your answers are saved." if now_flagged
              else f"Question {n} is no longer flagged. Your answers are saved.", "success")
        return redirect(url_for("quiz.attempt", attempt_id=attempt.id, page=page,
                                _anchor=f"q-{flag}"))
    if action == "next" and page < len(pages):
        page += 1
    elif action == "prev" and page > 1:
        page -= 1
    elif action == "finish":
        return redirect(url_for("quiz.summary", attempt_id=attempt.id))
    if action == "save":
        flash("Your answers are saved.", "success")
    anchor = f"q-{views[0]['id']}" if action == "check" else None
    return redirect(url_for("quiz.attempt", attempt_id=attempt.id, page=page, _anchor=anchor))


@bp.post("/attempts/<int:attempt_id>/autosave")
@login_required
def autosave(attempt_id: int):
    """Background save from the page's script: same fields as the form, JSON back."""
    attempt = _own_attempt(attempt_id)
    now = utcnow()
    views = [item["view"] for item in attempt.questions]
    try:
        saved = svc.save_answers(attempt, answers_from_form(views, request.form), now)
    except svc.QuizError as exc:
        return jsonify(saved=[], message=str(exc),
                       review=url_for("quiz.review", attempt_id=attempt.id)), 409
    return jsonify(saved=sorted(saved), message=f"Answers saved {uk_datetime(now)}")


@bp.get("/attempts/<int:attempt_id>/summary")
@login_required
def summary(attempt_id: int):
    """Which questions are answered, before the learner submits."""
    attempt = _own_attempt(attempt_id)
    if svc.close_if_overdue(attempt, utcnow(), get_catalog()) or not attempt.is_open:
        return redirect(url_for("quiz.review", attempt_id=attempt.id))
    answered = svc.answered_ids(attempt)
    flagged = svc.flagged_ids(attempt)
    pages = _pages(attempt)
    numbers = svc.question_numbers(attempt)
    rows = [(numbers[n], view, view["id"] in answered,
             next(p for p, idx in enumerate(pages, 1) if n in idx), view["id"] in flagged)
            for n, view in enumerate(svc.views_of(attempt)) if numbers[n] is not None]
    return render_template("quiz/summary.html", attempt=attempt, rows=rows,
                           problems=svc.answer_problems(attempt),
                           form=SubmitAttemptForm(),
                           seconds_left=svc.seconds_left(attempt, utcnow()))


@bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    """Grade the attempt (once, however often this is posted) and show the review."""
    attempt = _own_attempt(attempt_id)
    if not SubmitAttemptForm().validate_on_submit():
        abort(400)
    now = utcnow()
    svc.submit_attempt(attempt, now, timed_out=svc.is_overdue(attempt, now),
                       catalog=get_catalog())
    return redirect(url_for("quiz.review", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    """The result, each answer with its marks, and the feedback the quiz settings allow."""
    attempt = _own_attempt(attempt_id)
    if attempt.is_open and not svc.close_if_overdue(attempt, utcnow(), get_catalog()):
        return redirect(url_for("quiz.attempt", attempt_id=attempt.id))
    quiz = get_quizzes().get(attempt.quiz_slug)
    state = svc.eligibility(current_user, quiz, utcnow()) if quiz else None
    items = svc.review_items(attempt, attempts_left=state is not None
                             and state.attempts_left != 0)
    catalog = get_catalog()
    module = catalog.module(quiz.modules[0]) if quiz and quiz.modules else None
    return render_template("quiz/review.html", attempt=attempt, items=items, quiz=quiz,
                           state=state, module=module, form=StartForm(),
                           read_again=reading.read_again(items, quiz, catalog))


@bp.get("/quizzes/<slug>/statistics")
@role_required(Role.COORDINATOR, Role.ADMIN)
def statistics(slug: str):
    """Moodle-style statistics: attempts, average, pass rate, facility, discrimination."""
    quiz = _quiz_or_404(slug)
    report = quiz_reports.statistics_for(quiz, current_user)
    return render_template("quiz/statistics.html", quiz=quiz, report=report)
