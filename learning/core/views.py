"""The home page and the health check."""

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from learning.core.extensions import csrf, db

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Logged-in people go to their dashboard; everyone else sees what the site is."""
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    return render_template("main/index.html")


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok")
