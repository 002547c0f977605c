"""Joined Up: create_app wires config, extensions, catalog, blueprints, errors and CLI."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from learning import cli
from learning.content.catalog import load_catalog
from learning.core import (
    dates,
    errors,
    in_use,
    incoming,
    metrics,
    proxies,
    readiness,
    rendering,
    requestlog,
)
from learning.core.config import SQLITE_BUSY_TIMEOUT_MS, from_environment
from learning.core.extensions import csrf, db, login_manager, migrate
from learning.quizzes.loader import load_quizzes

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"


def create_app(config: dict | None = None, serving: bool = True) -> Flask:
    """Build the app. `config` replaces reading the environment (tests pass their own);
    `serving` is False for flask commands that answer no requests (see from_environment)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(config if config is not None
                      else from_environment(Path(app.instance_path), serving))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # First, so their before_request runs before all others and their after_request last.
    requestlog.init_app(app)
    metrics.init_app(app)
    proxies.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS),
                     render_as_batch=True)  # SQLite needs batch mode to alter tables
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"

    for domain in DOMAINS:  # register every table with the metadata (Alembic reads it)
        if importlib.util.find_spec(f"learning.{domain}.models"):
            importlib.import_module(f"learning.{domain}.models")
    from learning.people import sessions

    session_limits = sessions.limits_from(app.config)

    @login_manager.user_loader
    def load_user(token: str):
        return sessions.load(token, session_limits)

    catalog = load_catalog(Path(app.config["CONTENT_DIR"]))
    for problem in catalog.problems:
        log.warning("content: %s", problem)
    app.extensions["catalog"] = catalog
    quizzes, quiz_problems = load_quizzes(Path(app.config["QUIZ_DIR"]),
                                          {m.slug for m in catalog.modules},
                                          catalog.sections())
    for problem in quiz_problems:
        log.warning("quizzes: %s", problem)
    app.extensions["quizzes"] = quizzes
    # What app.py checks before serving, and /healthz on every call (core/readiness.py).
    app.extensions["content_problems"] = (*catalog.problems, *quiz_problems)
    app.extensions["migrations"] = readiness.read_migrations(MIGRATIONS)

    rendering.init_app(app)
    dates.init_app(app)
    incoming.init_app(app)  # before the blueprints: their routes use its <int:...>
    _register_blueprints(app)
    errors.init_app(app)
    for domain in DOMAINS:
        if importlib.util.find_spec(f"learning.{domain}.cli"):
            importlib.import_module(f"learning.{domain}.cli").init_app(app)
    cli.init_app(app)
    _security_headers(app)
    return app


#: The domain packages, lowest first: each may import only those before it (and core).
DOMAINS = ("core", "people", "content", "quizzes", "assessment", "iqa", "course", "cohorts",
           "reports", "privacy")

#: Blueprints, each a module with `bp`: one per area of the site, inside its domain.
BLUEPRINTS = (
    "core.views",
    "people.views.auth",
    "people.views.invitations",
    "people.views.notifications",
    "people.views.admin",
    "people.views.admin_accounts",
    "course.views",
    "quizzes.views",
    "assessment.views.tasks",
    "assessment.views.marking",
    "assessment.views.originality_admin",
    "iqa.views",
    "cohorts.views",
    "reports.views.home",
    "reports.views.staff",
    "reports.views.reports",
    "reports.views.exports",
    "privacy.views",
)


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        module = importlib.import_module(f"learning.{name}")
        app.register_blueprint(module.bp)
        if hasattr(module, "init_app"):
            module.init_app(app)


#: Strict-Transport-Security: one year, for this host only (not includeSubDomains: a college
#: may serve other sites on its subdomains over plain HTTP).
HSTS_MAX_AGE = 365 * 24 * 3600


def _security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Served over HTTPS (production): browsers must never try plain HTTP here again,
            # for a year. Off in development and tests, which run on plain http://127.0.0.1.
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
        return response


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys and use WAL so readers do not block the writer; count this
    process as a user of the database file (a restore refuses while there are others).

    synchronous=NORMAL: in WAL mode a commit no longer waits for the disk (fsync) each time,
    only at checkpoints. A commit survives the app or a worker crashing; after a power cut
    or an operating-system crash the last commits before it may be lost, but the database
    is never corrupt (docs/deploy.md).
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    # Before the first read: this waits while a restore is replacing the file.
    files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"]
    if files and files[0]:  # "" for an in-memory database
        in_use.mark_in_use(Path(files[0]))
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
