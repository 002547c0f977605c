"""Two app servers on one PostgreSQL database behave as one site: a login on one is a login on
the other, failed logins count on both, and two workers at once send each email once.

Real processes (gunicorn, `flask worker --once`) on a throwaway database, shared by this
module's tests (in the order written: the login before the lock-out) to keep it quick.
PostgreSQL only: servers on several machines need a database they share, and SQLite is one
file on one machine.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from flask_migrate import upgrade

from learning import MIGRATIONS, create_app
from learning.core import jobs
from learning.core.extensions import db
from learning.people.models import User, UserRole
from learning.people.notifications import EMAIL
from tests.conftest import (
    _FAST_HASH,
    COURSE_CONTENT,
    COURSE_QUIZZES,
    PASSWORD,
    _postgres_database,
    csrf_from,
)

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EMAILS = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SinkSMTP(socketserver.ThreadingTCPServer):
    """A mail server that keeps every message, and holds the first one until a second
    connection is open at the same time: proof that two workers were sending at once."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.messages: list[str] = []
        self.open = 0
        self.overlapped = threading.Event()
        self.lock = threading.Lock()


class _SinkHandler(socketserver.StreamRequestHandler):
    server: SinkSMTP

    def _say(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        with self.server.lock:
            self.server.open += 1
            if self.server.open > 1:
                self.server.overlapped.set()
        try:
            self._say("220 sink")
            while line := self.rfile.readline().decode(errors="replace"):
                verb = line[:4].upper()
                if verb == "DATA":
                    self._say("354 go on")
                    lines = []
                    while (part := self.rfile.readline().decode(errors="replace")) \
                            not in (".\r\n", ""):
                        lines.append(part)
                    # The first message waits (5 s at most) for another worker's connection.
                    self.server.overlapped.wait(5)
                    with self.server.lock:
                        self.server.messages.append("".join(lines))
                    self._say("250 kept")
                elif verb == "QUIT":
                    self._say("221 bye")
                    return
                else:
                    self._say("250 ok")
        finally:
            with self.server.lock:
                self.server.open -= 1


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated throwaway database with one learner and EMAILS emails queued, a mail sink,
    and the environment every process of the site shares."""
    base = os.environ["TEST_DATABASE_URL"]
    url, drop = _postgres_database(base)
    setup = create_app({**_settings(url), "MAIL_SERVER": "127.0.0.1"})
    with setup.app_context():
        upgrade(directory=str(MIGRATIONS))
        learner = User(email="amira@example.org", name="Amira Khan", password_hash=_FAST_HASH,
                       active=True)
        learner.roles = [UserRole(role="learner")]
        db.session.add(learner)
        db.session.flush()
        for n in range(EMAILS):
            jobs.enqueue(EMAIL, {"user_id": learner.id, "to": learner.email,
                                 "message": f"Message number {n}.", "link": "",
                                 "secret_link": False})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    sink = SinkSMTP()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("FLASK_") and name not in ("REDIS_URL", "DATABASE_URL")}
    env.update(APP_ENV="production", SECRET_KEY="s" * 40, DATABASE_URL=url,
               SESSION_COOKIE_SECURE="0", CONTENT_DIR=str(COURSE_CONTENT),
               QUIZ_DIR=str(COURSE_QUIZZES), LOGIN_LIMIT_PER_ADDRESS="1000 per minute",
               PASSWORD_CHECK_DIR=str(tmp_path_factory.mktemp("checks")), MAIL_SERVER="127.0.0.1",
               MAIL_PORT=str(sink.server_address[1]), SITE_URL="http://127.0.0.1")
    yield {"url": url, "env": env, "sink": sink}
    sink.shutdown()
    sink.server_close()
    drop()


def _settings(url: str) -> dict:
    from tests.conftest import fixture_settings

    return fixture_settings(url)


@pytest.fixture(scope="module")
def servers(site):
    """Two gunicorn servers (one worker each) on the site's database: their base URLs."""
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}",
                               "--no-control-socket", "app:app"], cwd=ROOT, env=site["env"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, proc in zip(bases, procs, strict=True):
            _wait_until_up(base, proc)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_until_up(base: str, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{base} stopped: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):  # refused, reset, or not yet answering
            time.sleep(0.1)
    pytest.fail(f"{base} did not answer /healthz within {timeout} s")


class Browser:
    """One person's browser: cookies are kept per host name, not per port (RFC 6265), so
    both servers on 127.0.0.1 get the same cookies, as two servers behind one proxy do."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, url: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(url))

    def post(self, url: str, data: dict) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(url, data=body, method="POST"))

    def _open(self, request) -> tuple[int, str, str]:
        """(status, final URL, page) after redirects; an error status is an answer too."""
        try:
            with self.opener.open(request, timeout=10) as answer:
                return answer.status, answer.url, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode()

    def log_in(self, base: str, password: str) -> tuple[int, str, str]:
        _, _, page = self.get(f"{base}/login")
        return self.post(f"{base}/login", {"email": "amira@example.org", "password": password,
                                           "csrf_token": csrf_from(page)})


def test_a_login_on_one_server_is_a_login_on_the_other(servers):
    a, b = servers
    browser = Browser()
    status, landed, _ = browser.log_in(a, PASSWORD)
    assert (status, landed) == (200, f"{a}/dashboard")
    status, landed, page = browser.get(f"{b}/dashboard")
    assert (status, landed) == (200, f"{b}/dashboard")
    assert "Amira Khan" in page
    # Logging out on B ends the session A knows too (it is a row both read).
    _, _, page = browser.get(f"{b}/dashboard")
    browser.post(f"{b}/logout", {"csrf_token": csrf_from(page)})
    _, landed, _ = browser.get(f"{a}/dashboard")
    assert landed.startswith(f"{a}/login")


def test_failed_logins_on_one_server_count_on_the_other(servers):
    a, b = servers
    browser = Browser()
    for n in range(10):  # the free tries, half on each server
        status, _, page = browser.log_in(a if n % 2 else b, "not-the-password-at-all")
        assert status == 422 and "The email address or password is not correct." in page
    status, _, page = browser.log_in(b, "not-the-password-at-all")
    assert status == 429
    assert "Too many failed attempts to log in with this email address. Try again in 30 " \
           "seconds." in page
    status, _, page = browser.log_in(a, PASSWORD)  # the right password waits too
    assert status == 429 and "Try again in" in page


def test_two_workers_at_once_send_each_email_once(site):
    """Two `flask worker --once` processes start together on EMAILS queued emails; the sink
    holds the first message until the other worker connects, so they overlap."""
    command = [sys.executable, "-m", "flask", "--app", "app", "worker", "--once"]
    procs = [subprocess.Popen(command, cwd=ROOT, env=site["env"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    ran = [int(re.search(r"Ran (\d+) job", out).group(1)) for out, _ in outputs]
    sink = site["sink"]
    assert sink.overlapped.is_set(), "the two workers never sent at the same time"
    assert sum(ran) == EMAILS and all(ran), ran
    sent = sorted(re.search(r"Message number (\d+)\.", m).group(1) for m in sink.messages)
    assert sent == sorted(str(n) for n in range(EMAILS))  # each once, none twice
