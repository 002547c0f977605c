"""Where everyone lands after logging in: the dashboard (reads every domain)."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from learning.assessment import marking_target, submissions
from learning.cohorts import deadlines
from learning.cohorts.items import items_for
from learning.content.access import get_catalog
from learning.core import dates
from learning.core.types import utcnow
from learning.course import progress
from learning.people import membership as cohorts
from learning.people.models import Role
from learning.people.permissions import STAFF_ROLES
from learning.quizzes import attempts
from learning.quizzes.access import get_quizzes, quizzes_for_module
from learning.reports import todo

bp = Blueprint("home", __name__)


@bp.get("/dashboard")
@login_required
def dashboard():
    """Where everyone lands after logging in: a to-do list per role held, then progress for
    learners and links for staff."""
    catalog = get_catalog()
    is_learner = current_user.has_role(Role.LEARNER)
    mine = cohorts.current_cohorts(current_user)  # read once: units, tasks and the list
    units = cohorts.unit_ids_of(mine)
    # Each quiz's best attempt: beside its module, and what the completion rule needs.
    best = attempts.best_results(current_user) if is_learner else {}
    course = progress.course_progress(
        catalog, current_user, rule=progress.learner_rule(catalog, current_user, units),
        passed=best) if is_learner else None
    today = dates.today()
    items = items_for(catalog, get_quizzes())
    due = (deadlines.learner_deadlines(current_user, items, today, units,
                                       {slug for slug, a in best.items() if a.passed})
           if is_learner else [])
    tasks = submissions.tasks_for(current_user, catalog, units) if is_learner else []
    task_status = submissions.submissions_by_task(current_user) if is_learner else {}
    target = current_app.config.get("MARKING_TARGET_WORKING_DAYS",
                                    marking_target.MARKING_TARGET_DAYS)
    zone = dates.zone_name()
    # A to-do list per role held (a fixed number of statements each: learning/reports/todo.py).
    return render_template(
        "home/dashboard.html",
        todo_learner=todo.learner_todo(course, due, tasks, task_status) if is_learner else None,
        todo_assessor=todo.assessor_todo(current_user, utcnow(), today, target, zone)
        if current_user.has_role(Role.ASSESSOR) else None,
        todo_iqa=todo.iqa_todo(current_user) if current_user.has_role(Role.IQA) else None,
        todo_coordinator=todo.coordinator_todo(current_user, items, today, target, zone)
        if current_user.has_role(Role.COORDINATOR) else None,
        task_titles={t.slug: t.title for t in catalog.tasks},
        course=course,
        due=due,
        tasks=tasks,
        task_status=task_status,
        criteria=progress.criteria_progress(catalog, course, units) if course else [],
        cohorts=mine,
        best=best,
        module_quizzes={m.slug: quizzes_for_module(m.slug) for m in catalog.modules},
        is_staff=current_user.has_role(*STAFF_ROLES),
    )
