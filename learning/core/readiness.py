"""Fit to serve? The course files loaded cleanly and the database schema is the code's."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from learning.core.config import SQLITE_BUSY_TIMEOUT_MS, ConfigError
from learning.core.problems import Problem

log = logging.getLogger(__name__)

#: How long /healthz lets the database take before it answers 503 "timeout": well inside the
#: few seconds a load balancer waits for a health check.
HEALTH_TIMEOUT_MS = 2000
#: Content errors listed on stderr when start-up is refused; `flask content check` has all.
SHOWN_PROBLEMS = 10
UPGRADE = "Run `flask --app app db upgrade` first."
#: The exit status when start-up is refused: gunicorn's "application failed to load" (its
#: master stops rather than restart workers that fail the same way); `flask worker` too.
NOT_READY_EXIT = 4


class NotReady(ConfigError):
    """Raised at start-up when this code must not serve: app.py prints it and exits."""


@dataclass(frozen=True)
class Migrations:
    """What the code's migration scripts say: the head revision(s) and every revision."""

    heads: frozenset[str]
    known: frozenset[str]


def read_migrations(directory: Path) -> Migrations:
    """Read the migration scripts once (at start-up), not on every health check."""
    scripts = ScriptDirectory(str(directory))
    return Migrations(heads=frozenset(scripts.get_heads()),
                      known=frozenset(rev.revision for rev in scripts.walk_revisions()))


def database_heads(connection: Connection) -> frozenset[str]:
    """The revision(s) in the database's alembic_version table; empty when it has none."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def schema_problem(found: frozenset[str], code: Migrations) -> str | None:
    """Why the database schema is not the one this code was written for, or None."""
    if found == code.heads:
        return None
    if not found:
        return f"the database has no schema yet. {UPGRADE}"
    unknown = sorted(found - code.known)
    if unknown:
        return (f"the database schema is at revision {', '.join(unknown)}, which this code's "
                "migrations do not know: newer code has migrated it. Deploy that code, or "
                "downgrade the database with it (`flask --app app db downgrade`).")
    return (f"the database schema is behind this code (database at {', '.join(sorted(found))}, "
            f"code needs {', '.join(sorted(code.heads))}). {UPGRADE}")


def content_problem(problems: Iterable[Problem]) -> str | None:
    """The course files' errors as one message, or None; warnings do not stop start-up."""
    errors = sorted(p for p in problems if p.level == "error")
    if not errors:
        return None
    shown = "\n".join(f"  {p}" for p in errors[:SHOWN_PROBLEMS])
    more = f"\n  … and {len(errors) - SHOWN_PROBLEMS} more" if len(errors) > SHOWN_PROBLEMS else ""
    return (f"{len(errors)} {'error' if len(errors) == 1 else 'errors'} in the course files "
            "(a module, task or quiz with an error is left out, and learners' work on it "
            f"cannot be reached):\n{shown}{more}\n"
            "Fix them and start again: `flask --app app content check` lists every problem.")


def serving(environ: Mapping[str, str] | None = None,
            context: click.Context | None = None) -> bool:
    """True when app.py is being loaded to serve requests: by gunicorn (or any WSGI server)
    or by `flask run`. False for every other flask command (db upgrade, content check,
    seed-demo...), which must work on a database or a course that is not ready."""
    environ = os.environ if environ is None else environ
    if environ.get("FLASK_RUN_FROM_CLI") != "true":  # set by Flask's command line only
        return True
    context = context or click.get_current_context(silent=True)
    return context is not None and context.info_name == "run"


def check_ready(app: Flask, engine: Engine) -> None:
    """Refuse to serve (NotReady) with a broken course or a schema that is not the code's.

    A database that cannot be reached does not stop start-up: /healthz says 503 until it
    answers, and the app recovers by itself when it does.
    """
    problem = content_problem(app.extensions["content_problems"])
    if problem:
        raise NotReady(problem)
    try:
        with engine.connect() as connection:
            found = database_heads(connection)
    except SQLAlchemyError as exc:
        log.warning("start-up: the database did not answer (%s); /healthz says 503 until "
                    "it does", exc.__class__.__name__)
        return
    finally:
        # gunicorn --preload forks after this: workers must not share this connection.
        engine.dispose()
    problem = schema_problem(found, app.extensions["migrations"])
    if problem:
        raise NotReady(problem)


@dataclass(frozen=True)
class Health:
    status: int
    reason: str
    detail: str = ""

    def as_json(self) -> dict:
        body = {"status": "ok" if self.status == 200 else "unavailable", "reason": self.reason}
        return {**body, "detail": self.detail} if self.detail else body


def health(engine: Engine, code: Migrations) -> Health:
    """The database answers, in time, with the schema this code needs."""
    try:
        with engine.connect() as connection, _time_limit(connection):
            connection.execute(text("SELECT 1"))
            found = database_heads(connection)
    except DBAPIError as exc:
        if _timed_out(exc):
            return Health(503, "timeout", "the database did not answer in time")
        return Health(503, "unreachable", "the database cannot be reached")
    except SQLAlchemyError:
        return Health(503, "unreachable", "the database cannot be reached")
    problem = schema_problem(found, code)
    if problem:
        log.warning("healthz: %s", problem)
        return Health(503, "schema", "the database schema is not the one this code needs")
    return Health(200, "ready")


@contextmanager
def _time_limit(connection: Connection) -> Iterator[None]:
    """Within this block, a statement that waits longer than HEALTH_TIMEOUT_MS fails."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # SQLite waits for another's lock for the busy timeout, then fails
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {HEALTH_TIMEOUT_MS}")
    elif connection.dialect.name == "postgresql":  # LOCAL: ends with this transaction
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {HEALTH_TIMEOUT_MS}")
    try:
        yield
    finally:
        try:
            connection.rollback()
            if sqlite:  # the pooled connection goes back with the app's usual patience
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        except SQLAlchemyError:
            connection.invalidate()  # never back in the pool with the short limit


def _timed_out(exc: DBAPIError) -> bool:
    """PostgreSQL cancelled the statement (57014) or a lock wait (55P03); SQLite stayed
    locked past the busy timeout; or connecting took longer than connect_timeout."""
    if getattr(exc.orig, "sqlstate", None) in {"57014", "55P03"}:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "timeout" in message
