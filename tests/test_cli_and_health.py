"""seed-demo, create-user, health check, error pages, settings."""

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from learning import MIGRATIONS
from learning.core import readiness
from learning.core.config import SQLITE_BUSY_TIMEOUT_MS
from learning.core.extensions import db
from learning.people.models import Cohort, CohortStaff, Enrolment, User


def test_seed_demo_is_idempotent(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Created 9 demo accounts" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert db.session.scalar(select(func.count(User.id))) == 9
    assert db.session.scalar(select(func.count(Cohort.id))) == 1
    assert db.session.scalar(select(func.count(Enrolment.id))) == 5
    assert db.session.scalar(select(func.count()).select_from(CohortStaff)) == 2


def test_seed_demo_gives_every_role_something_to_see(runner, auth, client):
    from learning.assessment.models import Decision, Submission
    from learning.iqa.models import IqaSample
    from learning.quizzes.models import QuizAttempt

    runner.invoke(args=["seed-demo"])
    statuses = sorted(db.session.scalars(select(Submission.status)))
    assert statuses == ["achieved", "referred", "submitted"]
    assert db.session.scalar(select(func.count(Decision.id))) == 2
    assert db.session.scalar(select(func.count(IqaSample.id))) >= 1
    # Each classmate passes the quizzes of the modules read but the last: of the fixture
    # course's two module quizzes, Priya and Jade pass both, Tom the first.
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == 5
    auth.login("assessor@example.com", "demo-password-2026")
    assert "Priya Shah" in client.get("/marking/").get_data(as_text=True)
    auth.logout()
    auth.login("learner@example.com", "demo-password-2026")  # the demo learner starts afresh
    assert "Course: 0 of" in client.get("/dashboard").get_data(as_text=True)


def test_seed_demo_accounts_can_log_in(runner, auth, client):
    runner.invoke(args=["seed-demo"])
    for role in ("learner", "assessor", "iqa", "coordinator", "admin"):
        assert auth.login(f"{role}@example.com", "demo-password-2026").status_code == 302
        auth.logout()


def test_seed_demo_refused_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    monkeypatch.setattr(app, "testing", False)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "only runs with APP_ENV=development" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_create_user(runner):
    result = runner.invoke(args=["create-user", "--email", "Boss@Example.test", "--name", "Boss",
                                 "--role", "admin", "--role", "coordinator",
                                 "--password", "a-long-enough-password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.test"))
    assert user.has_role("admin") and user.has_role("coordinator")
    again = runner.invoke(args=["create-user", "--email", "boss@example.test", "--name", "B",
                                "--role", "admin", "--password", "a-long-enough-password"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "reason": "ready"}


@pytest.fixture
def schema_at():
    """schema_at(revision): put alembic_version at that revision for one test."""
    def at(revision):
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})

    head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.rollback()
    yield at
    at(head)


def test_healthz_503_when_the_schema_is_behind_the_code(app, client, schema_at):
    head = ScriptDirectory(str(MIGRATIONS)).get_revision("head")
    schema_at(head.down_revision)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable", "reason": "schema",
        "detail": "the database schema is not the one this code needs"}
    schema_at("0123456789ab")  # migrated by newer code, which this code does not know
    assert client.get("/healthz").get_json()["reason"] == "schema"


def test_healthz_reads_the_migration_scripts_once_not_per_call(client, monkeypatch):
    def reads_scripts(*args, **kwargs):
        raise AssertionError("the migration scripts are read again")

    monkeypatch.setattr(readiness, "read_migrations", reads_scripts)
    monkeypatch.setattr(readiness, "ScriptDirectory", reads_scripts)
    assert client.get("/healthz").status_code == 200


def test_healthz_503_when_the_database_cannot_be_reached(tmp_path):
    from learning import create_app
    from tests.conftest import fixture_settings

    gone = create_app(fixture_settings(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"))
    response = gone.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "unreachable"


def test_healthz_503_timeout_when_a_statement_is_cancelled(client, monkeypatch):
    """What PostgreSQL's statement_timeout and SQLite's busy timeout raise is a timeout."""
    import sqlite3

    def locked(conn, cursor, statement, *args):
        if "alembic_version" in statement:
            raise OperationalError(statement, {}, sqlite3.OperationalError("database is locked"))

    event.listen(db.engine, "before_cursor_execute", locked)
    try:
        response = client.get("/healthz")
    finally:
        event.remove(db.engine, "before_cursor_execute", locked)
    assert response.status_code == 503
    assert response.get_json()["reason"] == "timeout"


def test_healthz_timeout_is_the_database_s_own_and_is_put_back(app, client):
    """PostgreSQL: a lock held on alembic_version stands for a database that has stopped
    answering, and the health query gives up after its statement timeout instead of hanging.
    SQLite (where another connection cannot freeze readers under WAL): the lowered busy timeout
    is put back on the pooled connection afterwards."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as holder:
            holder.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            response = client.get("/healthz")
            holder.rollback()
        assert response.status_code == 503
        assert response.get_json()["reason"] == "timeout"
        assert client.get("/healthz").status_code == 200  # and ready again once it answers
    else:
        client.get("/healthz")
        with db.engine.connect() as conn:  # the pool's one connection, just used by healthz
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS


def test_500_page_hides_the_stack_trace(database_url):
    from learning import create_app
    from tests.conftest import fixture_settings

    fresh = create_app(fixture_settings(database_url, TESTING=False))

    @fresh.get("/_boom_for_test")
    def boom():
        raise RuntimeError("secret internals")

    response = fresh.test_client().get("/_boom_for_test")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_production_needs_a_secret_key(tmp_path, monkeypatch):
    from learning.core.config import ConfigError, from_environment

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        from_environment(tmp_path)
    monkeypatch.setenv("APP_ENV", "development")
    first = from_environment(tmp_path)["SECRET_KEY"]
    assert len(first) == 64 and from_environment(tmp_path)["SECRET_KEY"] == first


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("given, used", [
    ("postgres://u:p@db.example/joinedup", "postgresql+psycopg://u:p@db.example/joinedup"),
    ("postgresql://u@db/joinedup", "postgresql+psycopg://u@db/joinedup"),
    ("postgresql+psycopg://u@db/joinedup", "postgresql+psycopg://u@db/joinedup"),
    ("sqlite:////srv/joined-up.sqlite3", "sqlite:////srv/joined-up.sqlite3"),
])
def test_database_urls_as_hosts_write_them_are_accepted(given, used):
    from learning.core.config import database_url, engine_options

    assert database_url(given, "sqlite://") == used
    assert engine_options(used).get("pool_pre_ping", False) is (not used.startswith("sqlite"))


def test_an_unreadable_database_url_stops_start_up_with_a_message(tmp_path, monkeypatch):
    from learning.core.config import ConfigError, from_environment

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "not a url at all")
    with pytest.raises(ConfigError, match="DATABASE_URL is not a database address"):
        from_environment(tmp_path)
