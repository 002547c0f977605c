"""Staff views of learners' progress, scoped to the cohorts each person may see."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from learning.content.access import get_catalog
from learning.content.catalog import ModuleCompletion
from learning.core import audit
from learning.core.extensions import db
from learning.core.incoming import db_int
from learning.core.permissions import require, role_required
from learning.course import progress
from learning.people import membership as cohorts
from learning.people.models import Role, User
from learning.people.permissions import STAFF_ROLES, can_view_learner
from learning.quizzes.access import get_quizzes
from learning.quizzes.attempts import passed_by
from learning.reports import criteria as criteria_report
from learning.reports import portfolio

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/learners")
@role_required(*STAFF_ROLES)
def learners():
    """Learners in the viewer's cohorts with how far each has got (fixed number of queries)."""
    catalog = get_catalog()
    cohort_id = request.args.get("cohort", type=db_int)
    rows = cohorts.visible_learners(current_user, cohort_id)
    ids = [r.learner.id for r in rows]
    progress_rows = progress.rows_for(ids)
    rules = progress.rules_for(catalog, ids)
    # Quiz results matter only to a learner whose rule asks for them (one query if any).
    strict = [i for i in ids if rules[i] is not ModuleCompletion.READ]
    passed = {i: set() for i in ids} | passed_by(strict)
    items = [(r, progress.course_progress(catalog, r.learner, progress_rows,
                                          rule=rules[r.learner.id],
                                          passed=passed[r.learner.id])) for r in rows]
    return render_template("staff/learners.html", items=items,
                           cohorts=cohorts.visible_cohorts(current_user), cohort_id=cohort_id,
                           module_count=len(catalog.modules))


@bp.get("/learners/<int:user_id>")
@role_required(*STAFF_ROLES)
def learner(user_id: int):
    """The staff's one page about a learner: progress module by module, then everything they
    did, newest first, and the way to their portfolio; only for staff who may see them."""
    learner = db.session.get(User, user_id)
    if learner is None or not learner.has_role(Role.LEARNER):
        abort(404)
    require(can_view_learner(current_user, learner))
    record = portfolio.load_record(learner)
    page = render_template("staff/learner.html", learner=learner, record=record,
                           course=portfolio.record_progress(record, get_catalog()),
                           events=portfolio.timeline(record, get_catalog(), get_quizzes()),
                           may_open_portfolio=portfolio.can_open_portfolio(current_user,
                                                                           learner))
    audit.record_view("view.learner", current_user, learner.id)
    return page


@bp.get("/criteria")
@role_required(*STAFF_ROLES)
def criteria():
    """Progress per assessment criterion across the cohorts the viewer may see."""
    return render_template("staff/criteria.html",
                           rows=criteria_report.criteria_progress(current_user, get_catalog()))
