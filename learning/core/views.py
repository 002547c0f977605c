"""The home page, the health check and the metrics."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from learning.core import metrics, readiness
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


@bp.get("/metrics")
@csrf.exempt
def prometheus_metrics():
    """For Prometheus: requests, latency and the outbox, to a scraper that sends
    "Authorization: Bearer <METRICS_TOKEN>". Without METRICS_TOKEN there is no such page."""
    refused = metrics.refusal(request.headers.get("Authorization"),
                              current_app.config.get("METRICS_TOKEN") or "")
    if refused == 401:
        return Response("Send Authorization: Bearer <METRICS_TOKEN>.\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    if refused:
        abort(refused)
    return metrics.exposition()
