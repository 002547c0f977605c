"""Test fixtures: one app per session, a clean database per test, small factories."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import g, request_started
from sqlalchemy import event
from werkzeug.security import generate_password_hash

from learning import MIGRATIONS, create_app
from learning.core.config import settings_for_tests
from learning.core.extensions import db
from learning.people import membership as cohorts
from learning.people.models import Centre, CentreMember, Cohort, Role, User, UserRole

#: The small course written for the tests (modules, units, glossary, tasks and quizzes), so
#: that editing the real course in content/ and quizzes/ never breaks an unrelated test.
DATA = Path(__file__).parent / "data"
COURSE_CONTENT = DATA / "content"
COURSE_QUIZZES = DATA / "quizzes"
#: Reference essays written for the tests: the "published" texts the originality check knows.
ESSAYS = DATA / "essays"

PASSWORD = "correct-horse-battery"
# Cheap hashing in tests only: scrypt's cost would dominate the suite's run time.
_FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def _postgres_database(base_url: str):
    """Create a throwaway database beside the one named in TEST_DATABASE_URL."""
    import psycopg

    name = f"joined_up_test_{secrets.token_hex(4)}"
    admin_url = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base_url.rsplit("/", 1)[0] + f"/{name}"

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` test PostgreSQL's own behaviour (SKIP LOCKED, pg_dump): the
    SQLite run does not collect them at all, so a fresh clone's `make test` skips nothing;
    `make test-postgres` (TEST_DATABASE_URL, as .ci/run sets) runs them."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    kept = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def fixture_settings(database_url: str, **overrides) -> dict:
    """Test settings for an app that reads the fixture course in tests/data/."""
    return settings_for_tests(database_url, **{"CONTENT_DIR": COURSE_CONTENT,
                                               "QUIZ_DIR": COURSE_QUIZZES, **overrides})


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    if base and base.startswith("postgresql"):
        url, drop = _postgres_database(base)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def stamp_head(engine) -> None:
    """Mark a schema made by create_all as at the migrations' head, as `flask db upgrade`
    leaves it, so /healthz finds the schema it needs."""
    with engine.begin() as conn:
        MigrationContext.configure(conn).stamp(ScriptDirectory(str(MIGRATIONS)), "heads")


def _fresh_g(sender, **extra) -> None:
    """Tests hold one app context for the whole test, so `g` outlives a request; in production
    every request has its own. Start each request with an empty `g` (the user Flask-Login
    loaded, Flask-WTF's CSRF token), as a new request would."""
    for name in list(vars(g)):
        g.pop(name)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    # Password checks are bounded per server (people/password_checks.py); tests of other
    # rules send bursts of logins and get room for all of them. test_password_checks.py sets
    # the bound it tests.
    app = create_app(fixture_settings(database_url, PASSWORD_CHECKS_AT_ONCE=64,
                                      PASSWORD_CHECK_DIR=str(
                                          tmp_path_factory.mktemp("password-checks"))))
    request_started.connect(_fresh_g, app)
    with app.app_context():
        db.create_all()
        stamp_head(db.engine)
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts with empty tables (faster than recreating the schema)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    app.extensions["login_limiter"].reset()  # failed logins per client address
    with app.app_context():
        yield
        db.session.remove()
        try:
            _summary_matches_a_recompute()
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())


def _summary_matches_a_recompute() -> None:
    """After every test, whatever it wrote and through whichever path: the completion matrix's
    stored summary (learning/reports/summary.py) holds exactly what working it out from
    scratch gives, so a write that forgets to keep it up to date fails the test that made it."""
    from learning.reports import summary

    layout = summary.current_layout()
    if summary.saved_layout() == summary.layout_json(layout):
        problems = summary.differences(layout)
        assert not problems, "matrix summary out of date:\n" + "\n".join(problems[:10])


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """make_user(role="learner", email=None, name=None, roles=None, active=True) -> User."""
    counter = iter(range(1, 10_000))

    def make(role: str | Role = Role.LEARNER, email: str | None = None, name: str | None = None,
             roles: list[str | Role] | None = None, active: bool = True) -> User:
        n = next(counter)
        roles = roles or [role]
        user = User(email=email or f"{Role(roles[0]).value}{n}@example.test",
                    name=name or f"{Role(roles[0]).label} {n}", password_hash=_FAST_HASH,
                    active=active)
        user.roles = [UserRole(role=str(Role(r))) for r in roles]
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_centre(app):
    """make_centre(name=None, coordinators=()) -> Centre."""
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, coordinators=()) -> Centre:
        centre = Centre(name=name or f"Centre {next(counter)}")
        db.session.add(centre)
        db.session.flush()
        for user in coordinators:
            db.session.add(CentreMember(centre_id=centre.id, user_id=user.id))
        db.session.commit()
        return centre

    return make


#: When the factory's learners joined their cohorts: the start of an academic year, before the
#: tests' fixed deadline dates, so none of those dates was set before they joined.
FIXTURE_JOINED = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_cohort(app):
    """make_cohort(name, learners=(), assessors=(), iqas=(), centre=None,
    joined=FIXTURE_JOINED) -> Cohort."""
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, learners=(), assessors=(), iqas=(),
             centre: Centre | None = None, joined: datetime | None = FIXTURE_JOINED) -> Cohort:
        cohort = Cohort(name=name or f"Cohort {next(counter)}",
                        centre_id=centre.id if centre else None)
        db.session.add(cohort)
        db.session.flush()
        for learner in learners:
            enrolment = cohorts.enrol(learner, cohort)
            if joined is not None:  # joined=None: today, as enrolling does
                enrolment.enrolled_at = joined
        for assessor in assessors:
            cohorts.assign_staff(assessor, cohort, Role.ASSESSOR)
        for iqa in iqas:
            cohorts.assign_staff(iqa, cohort, Role.IQA)
        db.session.commit()
        return cohort

    return make


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Auth:
    """Log a test client in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password: str = PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        page = self.client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": token})

    def logout(self):
        page = self.client.get("/dashboard")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return Auth(client)


def post_form(client, page_url: str, post_url: str | None = None, data: dict | None = None,
              **kwargs):
    """GET a page, take its CSRF token, POST the form (to post_url, default the same page)."""
    page = client.get(page_url)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(post_url or page_url, data={**(data or {}), "csrf_token": token}, **kwargs)


@pytest.fixture
def count_queries(app):
    """with count_queries() as q: ...  then q.count is the number of SQL statements run."""

    @contextlib.contextmanager
    def counting():
        class Counter:
            count = 0
            statements: list[str] = []

        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, *args):
            counter.count += 1
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


# ---- browser tests (Playwright driving Debian's Chromium) ----

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not chromium_available():
        pytest.skip("Chromium not installed (apt-get install -y chromium): browser tests skipped")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


# ---- the outbox: email is sent by a worker, run inline here ----

class FakeSMTP:
    """Stands in for smtplib.SMTP: keeps each message it is handed in `sent`."""

    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port, self.timeout = host, port, timeout

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        type(self).sent.append(message)


@pytest.fixture
def deliver_outbox(app, monkeypatch):
    """Mail is on (MAIL_SERVER set, SMTP faked); `deliver_outbox()` commits the test's session,
    runs the worker inline over every job that is due (at `now`, if given) and returns the
    emails handed to the SMTP server by that run."""
    import smtplib

    from learning.core.worker import run_pending

    class Recording(FakeSMTP):
        sent: list = []

    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setattr(smtplib, "SMTP", Recording)

    def deliver(now=None) -> list:
        db.session.commit()
        before = len(Recording.sent)
        run_pending(app, now=now)
        db.session.expire_all()
        return Recording.sent[before:]

    return deliver


# ---- mail servers that misbehave ----

class SilentSMTP:
    """A mail server on 127.0.0.1 that accepts connections and then says nothing, ever (until
    released): the server that once held a submission for the whole SMTP timeout."""

    def __init__(self):
        import socket

        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.connected = threading.Event()  # set at the first connection
        self._release = threading.Event()
        self._held: list = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._release.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            self._held.append(conn)  # accepted, and never a word in reply
            self.connected.set()
        for conn in self._held:
            conn.close()

    def release(self) -> None:
        """Hang up on everyone and stop listening."""
        self._release.set()
        self._thread.join(5)
        self._listener.close()


@pytest.fixture
def silent_smtp():
    server = SilentSMTP()
    yield server
    server.release()
