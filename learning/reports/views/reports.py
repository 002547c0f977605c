"""Reports for coordinators, admins, assessors and IQAs: the completion matrix, CSV downloads,
charts, a learner's timeline and their portfolio (also for the learner themselves)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from learning.cohorts.items import Item, items_for
from learning.content.access import get_catalog
from learning.core import audit, dates
from learning.core.extensions import db
from learning.core.incoming import db_int
from learning.core.permissions import require, role_required
from learning.core.types import utcnow
from learning.people.models import Cohort, Role, User
from learning.people.permissions import STAFF_ROLES
from learning.quizzes.access import get_quizzes
from learning.reports import (
    charts,
    conflicts,
    export_columns,
    export_jobs,
    exports,
    matrix,
    portfolio,
    summary,
)
from learning.reports.matrix_rules import RAG_RULE, CellStatus

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _today() -> date:
    """Today in the UK calendar: deadlines are UK dates."""
    return dates.today()


def _items() -> tuple[Item, ...]:
    return items_for(get_catalog(), get_quizzes())


def _filters() -> matrix.Filters:
    """The matrix filters from the query string; unknown values are ignored."""
    args = request.args
    status = args.get("status", "")
    sort = args.get("sort", "name")
    return matrix.Filters(
        cohort_id=args.get("cohort", type=db_int),
        assessor_id=args.get("assessor", type=db_int),
        status=status if status in matrix.STATUSES else "",
        overdue_only=args.get("overdue") == "1",
        q=args.get("q", "").strip()[:100],
        sort=sort if sort in matrix.SORTS else "name",
    )


def _filter_args(filters: matrix.Filters) -> dict:
    """The filters as query-string arguments, for links that keep them."""
    args = {"cohort": filters.cohort_id, "assessor": filters.assessor_id,
            "status": filters.status, "overdue": "1" if filters.overdue_only else None,
            "q": filters.q, "sort": filters.sort if filters.sort != "name" else None}
    return {k: v for k, v in args.items() if v}


@bp.get("/")
@role_required(*STAFF_ROLES)
def index():
    """The reports available, with the downloads."""
    return render_template("reports/index.html", cohorts=matrix.cohort_options(current_user),
                           cohort_id=request.args.get("cohort", type=db_int),
                           prepared=export_jobs.kept_for(current_user),
                           names=export_jobs.NAMES, explained={
                               "matrix": export_columns.MATRIX,
                               "quizzes": export_columns.QUIZZES,
                               "decisions": export_columns.DECISIONS})


@bp.get("/conflicts")
@role_required(Role.ADMIN)
def conflict_list():
    """Admins: people who hold two roles over the same work (learner and assessor, ...)."""
    return render_template("reports/conflicts.html", conflicts=conflicts.conflicts())


@bp.get("/matrix")
@role_required(*STAFF_ROLES)
def completion_matrix():
    """Learners by modules, quizzes and written tasks, with a RAG status (fixed query count)."""
    filters = _filters()
    today = _today()
    page = matrix.matrix_page(current_user, _items(), filters, today,
                              request.args.get("page", 1, type=db_int))
    if filters.cohort_id is not None:  # one cohort: only its unit's columns
        page = matrix.for_one_unit(page, db.session.scalar(
            select(Cohort.unit_id).where(Cohort.id == filters.cohort_id)))
    return render_template("reports/matrix.html", page=page, filters=filters, today=today,
                           args=_filter_args(filters),
                           cohorts=matrix.cohort_options(current_user),
                           assessors=matrix.assessor_options(current_user),
                           statuses=matrix.STATUSES, sorts=matrix.SORTS,
                           rule=RAG_RULE, CellStatus=CellStatus)


def _csv(lines, name: str) -> Response:
    """Stream CSV text as a download; the first bytes leave before any query runs."""
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(name, _today())}"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/matrix.csv")
@role_required(*STAFF_ROLES)
def matrix_csv():
    """The matrix with the page's filters as CSV, every learner (sorted by name); streamed,
    or above EXPORT_INLINE_ROWS rows prepared by the worker (reports/export_jobs.py)."""
    from learning.reports.views.exports import large_page

    items, filters, today = _items(), _filters(), _today()
    rows = matrix.count_rows(current_user, items, filters, today)
    if rows > export_jobs.inline_rows():
        return large_page(rows)
    return _csv(exports.matrix_csv(current_user, items, filters, today), "completion-matrix")


@bp.get("/quiz-results.csv")
@role_required(*STAFF_ROLES)
def quiz_results_csv():
    """Every submitted quiz attempt by learners in the viewer's cohorts."""
    return _csv(exports.quiz_results_csv(current_user, get_quizzes(), _filters()),
                "quiz-results")


@bp.get("/decisions.csv")
@role_required(*STAFF_ROLES)
def decisions_csv():
    """Every released assessment decision, with each criterion met or not yet met."""
    return _csv(exports.decisions_csv(current_user, get_catalog(), _filters()),
                "assessment-decisions")


@bp.get("/charts")
@role_required(*STAFF_ROLES)
def charts_page():
    """Completion over time, quiz scores and marking turnaround, as SVG with data tables."""
    filters = matrix.Filters(cohort_id=request.args.get("cohort", type=db_int))
    summary.ensure_built(summary.current_layout())  # the charts add up its learner figures
    quizzes = get_quizzes()
    quiz = quizzes.get(request.args.get("quiz", ""))
    cohorts = matrix.scope_cohort_ids(current_user, filters)
    learners = matrix.learners_in(cohorts)
    catalog = get_catalog()
    added_up = charts.added_up(learners)
    figures = [
        charts.completion_chart(cohorts, [m.slug for m in catalog.modules], _today(),
                                modules=[i for i in items_for(catalog, quizzes)
                                         if i.kind == "module"]),
        charts.quiz_chart(learners, quiz, added_up),
        charts.turnaround_chart(learners, added_up),
    ]
    return render_template("reports/charts.html", charts=figures, filters=filters,
                           cohorts=matrix.cohort_options(current_user),
                           quizzes=sorted(quizzes.values(), key=lambda q: q.title),
                           quiz_slug=quiz.slug if quiz else "")


def _learner(user_id: int) -> User:
    learner = db.session.get(User, user_id)
    if learner is None or not learner.has_role(Role.LEARNER):
        abort(404)
    return learner


@bp.get("/learners/<int:user_id>")
@role_required(*STAFF_ROLES)
def learner(user_id: int):
    """The old address of the timeline: staff have one learner page, at /staff/learners/N
    (which checks who may see the learner)."""
    return redirect(url_for("staff.learner", user_id=user_id))


def _portfolio(user_id: int) -> portfolio.Portfolio:
    learner = _learner(user_id)
    require(portfolio.can_open_portfolio(current_user, learner))
    return portfolio.build_portfolio(portfolio.load_record(learner), get_catalog(),
                                     get_quizzes())


@bp.get("/learners/<int:user_id>/portfolio")
@login_required
def learner_portfolio(user_id: int):
    """The portfolio page: modules, quiz results, final answers with decisions, history, IQA."""
    page = render_template("reports/portfolio.html", p=_portfolio(user_id),
                           catalog=get_catalog(), generated_at=utcnow())
    audit.record_view("view.portfolio", current_user, user_id)
    return page


@bp.get("/learners/<int:user_id>/portfolio.html")
@login_required
def portfolio_file(user_id: int):
    """The portfolio as one self-contained HTML file (its CSS inside), to keep or send on.

    The file is opened offline, so it cannot link to our stylesheet; the inline <style> is
    allowed for this response alone, by its hash, and scripts stay blocked.
    """
    p = _portfolio(user_id)
    css = render_template("reports/_portfolio_css.html")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
              "base-uri 'none'; form-action 'none'")
    html = render_template("reports/portfolio_file.html", p=p, catalog=get_catalog(),
                           generated_at=utcnow(), css=css, policy=policy)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = policy + "; frame-ancestors 'none'"
    response.headers["Cache-Control"] = "no-store"
    download = request.args.get("download") == "1"
    if download:
        slug = re.sub(r"[^a-z0-9]+", "-", p.record.learner.name.lower()).strip("-") or "learner"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="portfolio-{slug}-{_today().isoformat()}.html"')
    audit.record_view("view.portfolio_file", current_user, user_id, download=download)
    return response

