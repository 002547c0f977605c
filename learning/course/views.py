"""The learner's side of the course: overview, module pages, completion, glossary, help pages."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from jinja2.environment import TemplateModule

from learning.content.access import get_catalog
from learning.content.catalog import Catalog, Module, ModuleCompletion
from learning.content.pages import PAGES_PATH, URGENT_HELP_SLUG
from learning.core.permissions import role_required
from learning.course import completion, progress
from learning.course.forms import CompletionForm, UndoCompletionForm
from learning.people import membership as cohorts
from learning.people.models import Role
from learning.quizzes import attempts
from learning.quizzes.access import get_quizzes, quizzes_for_module, unit_quizzes

bp = Blueprint("course", __name__)


@bp.app_template_global()
def urgent_help_url() -> str:
    """Where "what to do if you are worried about a child now" lives, for every template."""
    return url_for("course.page", slug=URGENT_HELP_SLUG)


def _module_or_404(slug: str):
    module = get_catalog().module(slug)
    if module is None:
        abort(404)
    return module


@bp.get("/course")
@login_required
def overview():
    """Every module in order, with the criteria it covers, its time and the learner's status."""
    catalog = get_catalog()
    units = cohorts.unit_ids_for(current_user)
    best = attempts.best_results(current_user)
    course = progress.course_progress(catalog, current_user,
                                      rule=progress.learner_rule(catalog, current_user, units),
                                      passed=best)
    return render_template(
        "course/overview.html", course=course, catalog=catalog, units=units,
        is_learner=current_user.has_role(Role.LEARNER),
        module_quizzes={m.slug: quizzes_for_module(m.slug) for m in catalog.modules},
        unit_quizzes=unit_quizzes(), best=best)


@bp.get("/glossary")
@login_required
def glossary():
    """Every term and acronym the course uses; modules link first uses here."""
    terms = get_catalog().glossary
    return render_template("course/glossary.html", terms=terms,
                           anchors={t.term: t.anchor for t in terms})


@bp.get(f"{PAGES_PATH}/<slug>")
def page(slug: str):
    """A stand-alone help page, such as what to do if you are worried about a child now.

    Open without logging in: someone worried about a child must never meet a login form first.
    """
    found = get_catalog().page(slug)
    if found is None:
        abort(404)
    return render_template("course/page.html", page=found)


@bp.get("/course/<slug>")
@login_required
def module(slug: str):
    """One module; opening it starts it for a learner, who is told when it counts as
    complete (their unit's rule, learning.course.completion) and where they stand."""
    catalog = get_catalog()
    mod = _module_or_404(slug)
    row = progress.record_visit(current_user, mod) if current_user.has_role(Role.LEARNER) \
        else None
    prev, nxt = catalog.neighbours(slug)
    units = cohorts.unit_ids_for(current_user)
    rule = progress.learner_rule(catalog, current_user, units)
    counting = completion.counting_quizzes(slug, get_quizzes().values())
    # The quiz results are read only when the rule asks for them (one query).
    needs_quiz = row is not None and rule is not ModuleCompletion.READ and bool(counting)
    best = attempts.best_results(current_user) if needs_quiz else {}
    return render_template(
        "course/module.html", module=mod, catalog=catalog, prev=prev, next=nxt,
        body=_module_body(catalog, mod, units),
        status=progress.status_of(row, completion.passed_each(counting, best), rule),
        read=row is not None and row.completed_at is not None,
        rule_words=completion.rule_words(rule, counting),
        counting=counting if needs_quiz else (), best=best,
        is_learner=row is not None,
        complete_form=CompletionForm(), undo_form=UndoCompletionForm(),
        quizzes=quizzes_for_module(slug),
    )


def _module_body(catalog: Catalog, module: Module, units: set[str]) -> TemplateModule:
    """The module's text, outcomes, criteria and references, rendered once per process for
    each set of units: they change only when the course files do, which needs a restart.

    A rendered template module goes into the page as the HTML it rendered (autoescaped).
    """
    bodies = current_app.extensions.setdefault("course.module_bodies", {})
    key = (module.slug, frozenset(units))
    cached = bodies.get(key)
    if cached is None or cached[0] is not catalog:  # a new catalog (tests swap it) starts over
        body = current_app.jinja_env.get_template("course/_module_body.html").make_module(
            {"module": module, "catalog": catalog, "units": units})
        cached = bodies[key] = (catalog, body)
    return cached[1]


@bp.post("/course/<slug>/complete")
@role_required(Role.LEARNER)
def complete(slug: str):
    """Mark a module as complete, then on to its quiz if not yet passed, else the next
    module: completing a module never skips past the quiz that checks it."""
    mod = _module_or_404(slug)
    marked = CompletionForm().validate_on_submit()
    if marked:
        progress.mark_complete(current_user, mod)
    best = attempts.best_results(current_user)
    quiz = progress.quiz_to_take(quizzes_for_module(slug), best)
    if marked:
        rule = progress.learner_rule(get_catalog(), current_user)
        still = [q for q in completion.counting_quizzes(slug, get_quizzes().values())
                 if not completion.passed_each([q], best)[0]]
        if rule is not ModuleCompletion.READ and still:
            flash(f"'{mod.title}' is marked as read. It is complete when you pass its quiz.",
                  "success")
        else:
            flash(f"'{mod.title}' is marked as complete.", "success")
    if quiz is not None:
        flash(f"Next, check what you have learned: {quiz.title}.", "info")
        return redirect(url_for("quiz.quiz", slug=quiz.slug))
    _, nxt = get_catalog().neighbours(slug)
    return redirect(url_for("course.module", slug=nxt.slug) if nxt
                    else url_for("course.overview"))


@bp.post("/course/<slug>/incomplete")
@role_required(Role.LEARNER)
def incomplete(slug: str):
    """Undo a completion made by mistake."""
    mod = _module_or_404(slug)
    if UndoCompletionForm().validate_on_submit():
        progress.mark_incomplete(current_user, mod)
        flash(f"'{mod.title}' is marked as not complete.", "success")
    return redirect(url_for("course.module", slug=slug))
