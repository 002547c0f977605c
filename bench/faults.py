"""Fault tests: a burst of autosaves and submissions while the service is hurt; prints the figures.

The real app runs under gunicorn on 127.0.0.1 with a throwaway database. Learners (one thread
each) log in, then autosave their answer again and again (a longer text each time, as the
writing page does) and finally submit it. Meanwhile one fault is applied:

- ``kill``: ``kill -9`` of one gunicorn worker, later of the master and every worker, then a
  restart of gunicorn (as systemd would).
- ``postgres``: PostgreSQL stopped in "immediate" mode (a crash), then started again
  (needs ``--database-url postgresql+psycopg://...``, root and ``pg_ctlcluster``).
- ``mail``: MAIL_SERVER points at a server that accepts connections and never answers.

Afterwards the newest save the app acknowledged to each learner (a 200 with a version number,
or a 409 that kept the text as a conflict version) and every submission it confirmed are looked
up in the database. (Autosaves within ten minutes replace each other by design, so an older
acknowledged autosave is expected to have been superseded by a newer one.)

    .venv/bin/python bench/faults.py kill|postgres|mail [--learners 30] [--seconds 20]
                                     [--database-url URL] [--workers 4]

Nothing is asserted: the figures are printed (requests, errors, acknowledged saves lost,
submissions lost; lost must be 0).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-long"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BASED_ON = re.compile(r'name="based_on"[^>]*value="([^"]*)"')
WORDS = ("Partnership working means the agencies around a child share what they know, agree "
         "who does what and check that the plan is working for the child and family. ")


def _env(database_url: str, tmp: Path, mail_port: int | None) -> dict[str, str]:
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-" + "k" * 40,
           "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": "0"}
    if mail_port:
        env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mail_port))
    return env


def _flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", *args], cwd=ROOT,
                   env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def seed(env: dict[str, str], learners: int) -> str:
    """Migrate, then one centre, cohort, assessor and the learners; returns the task slug."""
    from werkzeug.security import generate_password_hash

    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db
    from learning.people import accounts, membership
    from learning.people.models import Centre, Cohort, Role

    _flask(env, "db", "upgrade")
    app = create_app(settings_for_tests(env["DATABASE_URL"]))
    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        centre = Centre(name="Bench centre")
        cohort = Cohort(name="Bench cohort")
        db.session.add_all([centre, cohort])
        db.session.flush()
        cohort.centre_id = centre.id
        assessor = accounts.create_user("assessor@bench.example.org", "Bench Assessor", None,
                                        [Role.ASSESSOR])
        assessor.password_hash = fast
        membership.assign_staff(assessor, cohort, Role.ASSESSOR)
        for i in range(learners):
            learner = accounts.create_user(f"learner{i}@bench.example.org", f"Learner {i}",
                                           None, [Role.LEARNER])
            learner.password_hash = fast
            membership.enrol(learner, cohort)
        db.session.commit()
        from learning.content.access import get_catalog
        slug = sorted(task.slug for task in get_catalog().tasks)[0]
        db.engine.dispose()
    return slug


class Learner:
    """One learner's browser: a cookie jar, and a log of what the server acknowledged."""

    def __init__(self, base: str, index: int, slug: str, stats: Counter, lock: threading.Lock):
        self.base, self.index, self.slug, self.stats, self.lock = base, index, slug, stats, lock
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.acknowledged: list[str] = []  # the texts the server said it saved
        self.submitted = False
        self.submit_times: list[float] = []
        self.token = ""
        self.based_on = ""

    def _count(self, key: str) -> None:
        with self.lock:
            self.stats[key] += 1

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        self._count("requests")
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.read().decode(), response.geturl()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                self._count(f"errors: HTTP {exc.code}")
            return exc.code, exc.read().decode(errors="replace"), exc.geturl()
        except (OSError, ValueError) as exc:  # refused, reset, timed out: the server was down
            self._count(f"errors: {type(exc).__name__}")
            return 0, "", ""

    def login(self) -> bool:
        status, page, _ = self.request("/login")
        if status != 200:
            return False
        status, _, url = self.request("/login", {
            "email": f"learner{self.index}@bench.example.org", "password": PASSWORD,
            "csrf_token": CSRF.search(page).group(1)})
        return status == 200 and "/login" not in url

    def open_editor(self) -> bool:
        status, page, _ = self.request(f"/tasks/{self.slug}")
        if status != 200 or not CSRF.search(page):
            return False
        self.token = CSRF.search(page).group(1)
        found = BASED_ON.search(page)
        self.based_on = found.group(1) if found else ""
        return True

    def autosave(self, round_: int) -> None:
        text = WORDS * (3 + round_) + f"marker-{self.index}-{round_}"
        status, body, _ = self.request(f"/tasks/{self.slug}/autosave", {
            "csrf_token": self.token, "text": text, "based_on": self.based_on})
        if status == 200:
            self.based_on = str(json.loads(body)["version"])
            self.acknowledged.append(text)
        elif status == 409 and '"conflict"' in body:
            self.acknowledged.append(text)  # kept as a conflict version, as the page says
            self.open_editor()
        elif status in (0, 400, 401, 302) and not self.open_editor():
            # The server was down, or the session is gone: reload the page, as a person would.
            self.login() and self.open_editor()

    def submit(self) -> None:
        for _ in range(20):  # a person presses Submit again until it answers
            status, page, _ = self.request(f"/tasks/{self.slug}/submit")
            if status == 200 and CSRF.search(page):
                began = time.perf_counter()
                status, page, _ = self.request(f"/tasks/{self.slug}/submit", {
                    "csrf_token": CSRF.search(page).group(1), "declaration": "y",
                    "sources": ""})
                if status == 200 and ("Your answer is submitted" in page
                                      or "already been submitted" in page):
                    self.submit_times.append(time.perf_counter() - began)
                    self.submitted = True
                    return
            elif status == 302 or (status == 0):
                self.login()
            time.sleep(0.5)

    def run(self, until: float) -> None:
        while not (self.login() and self.open_editor()):
            time.sleep(0.5)
        round_ = 0
        while time.monotonic() < until:
            self.autosave(round_)
            round_ += 1
            time.sleep(0.2)
        self.submit()


class Gunicorn:
    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path):
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
        self.process = subprocess.Popen(
            [str(gunicorn), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "30", "--no-control-socket", "--access-logfile", "/dev/null",
             "--error-logfile", str(self.log), "app:app"],
            # stdout: the app's request log, a line per request (not wanted here)
            cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL)
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)

    def kill_one_worker(self) -> None:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                             text=True).stdout.split()
        if out:
            os.kill(int(out[0]), signal.SIGKILL)

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(15)


def blackhole() -> tuple[socket.socket, list[socket.socket]]:
    """A 'mail server' that accepts every connection and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(100)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return server, held


def check(env: dict[str, str], slug: str, learners: list[Learner]) -> tuple[int, int, int]:
    """(acknowledged saves, learners whose newest acknowledged text is lost, submissions lost)."""
    from sqlalchemy import select

    from learning import create_app
    from learning.assessment.models import DraftVersion, Submission, SubmittedWork
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db
    from learning.people.models import User

    app = create_app(settings_for_tests(env["DATABASE_URL"]))
    with app.app_context():
        lost_saves = lost_submissions = acknowledged = 0
        for lr in learners:
            user = db.session.scalar(select(User).where(
                User.email == f"learner{lr.index}@bench.example.org"))
            sub = db.session.scalar(select(Submission).where(
                Submission.learner_id == user.id, Submission.task_slug == slug))
            stored = set() if sub is None else set(db.session.scalars(
                select(DraftVersion.text).where(DraftVersion.submission_id == sub.id)))
            acknowledged += len(lr.acknowledged)
            # Autosaves within ten minutes replace each other (the newest is kept), so the
            # promise is about the newest text each learner was told was saved.
            lost_saves += bool(lr.acknowledged) and lr.acknowledged[-1] not in stored
            if lr.submitted and (sub is None or db.session.scalar(select(SubmittedWork.id).where(
                    SubmittedWork.submission_id == sub.id).limit(1)) is None):
                lost_submissions += 1
        db.engine.dispose()
    return acknowledged, lost_saves, lost_submissions


def _pg(action: str) -> None:
    subprocess.run(["pg_ctlcluster", "15", "main", action, *(["-m", "immediate"]
                                                              if action == "stop" else [])],
                   check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fault", choices=("kill", "postgres", "mail"))
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.fault == "postgres" and not (args.database_url or "").startswith("postgresql"):
        parser.error("the postgres fault needs --database-url postgresql+psycopg://...")

    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'faults.sqlite3'}"
    mail_server, held = blackhole() if args.fault == "mail" else (None, [])
    env = _env(database_url, tmp, mail_server.getsockname()[1] if mail_server else None)
    slug = seed(env, args.learners)
    server = Gunicorn(env, args.port, args.workers, tmp / "gunicorn.err")
    worker = None
    if args.fault == "mail" and _has_worker():
        worker = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app",
                                   "worker"], cwd=ROOT, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server.start()
    stats: Counter = Counter()
    lock = threading.Lock()
    base = f"http://127.0.0.1:{args.port}"
    learners = [Learner(base, i, slug, stats, lock) for i in range(args.learners)]
    until = time.monotonic() + args.seconds
    threads = [threading.Thread(target=lr.run, args=(until,)) for lr in learners]
    began = time.perf_counter()
    events: list[str] = []
    try:
        for t in threads:
            t.start()
        if args.fault == "kill":
            time.sleep(args.seconds * 0.25)
            server.kill_one_worker()
            events.append(f"{time.perf_counter() - began:5.1f} s  kill -9 one worker")
            time.sleep(args.seconds * 0.25)
            server.kill_all()
            events.append(f"{time.perf_counter() - began:5.1f} s  kill -9 master and workers")
            time.sleep(1)
            server.start()
            events.append(f"{time.perf_counter() - began:5.1f} s  gunicorn started again")
        elif args.fault == "postgres":
            time.sleep(args.seconds * 0.3)
            _pg("stop")
            events.append(f"{time.perf_counter() - began:5.1f} s  PostgreSQL stopped (immediate)")
            time.sleep(5)
            _pg("start")
            events.append(f"{time.perf_counter() - began:5.1f} s  PostgreSQL started")
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
    finally:
        server.stop()
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(15)
        if mail_server is not None:
            mail_server.close()
            for conn in held:
                conn.close()
    acknowledged, lost_saves, lost_submissions = check(env, slug, learners)
    shutil.rmtree(tmp, ignore_errors=True)

    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"fault '{args.fault}': {args.learners} learners, {args.seconds:.0f} s burst, "
          f"gunicorn {args.workers} sync workers, {kind}, {os.cpu_count()} CPUs")
    for event in events:
        print(f"  {event}")
    errors = sum(v for k, v in stats.items() if k.startswith("errors"))
    print(f"requests {stats['requests']} in {elapsed:.1f} s; errors {errors} "
          + ", ".join(f"{k[8:]} {v}" for k, v in sorted(stats.items()) if k.startswith("errors")))
    submitted = sum(lr.submitted for lr in learners)
    print(f"acknowledged saves {acknowledged}; learners whose newest acknowledged save is lost "
          f"{lost_saves}; submissions confirmed "
          f"{submitted}/{args.learners}, lost {lost_submissions}")
    times = [t for lr in learners for t in lr.submit_times]
    if times:
        print(f"submit: median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms")
    return 0


def _has_worker() -> bool:
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "--help"],
                         cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "APP_ENV": "development"}).stdout
    return re.search(r"^\s+worker\b", out, re.M) is not None


if __name__ == "__main__":
    raise SystemExit(main())
