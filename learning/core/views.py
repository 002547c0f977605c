"""The home page and the health check."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user

from learning.core import readiness
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
    """For load balancers: 200 when the database answers in time with the schema this code
    needs; 503 with the reason (unreachable, timeout, schema) otherwise."""
    found = readiness.health(db.engine, current_app.extensions["migrations"])
    return jsonify(found.as_json()), found.status
