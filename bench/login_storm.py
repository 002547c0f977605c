"""Login storm: 300 logins within 10 s, and what they do to everyone else's pages.

Runs the real app under gunicorn with a throwaway SQLite database (or --database-url, an
empty database whose tables are dropped and re-created). Learners have real password hashes
(scrypt, as in production). A few learners, logged in beforehand, keep reading module pages
and their dashboard throughout; then --logins learners log in, their first tries spread
evenly over --spread seconds. Logins are sent as the login page's script sends them: a
"busy" answer (503 with X-Login-Busy) is tried again after Retry-After plus up to 3 s at
random.

Each configuration in --turns (PASSWORD_CHECKS_AT_ONCE; 0 = the default, half the cores;
a large number = no bound in practice) gets its own server and a fresh set of sessions, one
after the other in the same run. Printed per configuration: time to log in (first try to
logged in), busy answers, errors, and the other pages' p50 and p95 before and during the
storm. Nothing is asserted.

    .venv/bin/python bench/login_storm.py [--logins 300] [--spread 10] [--readers 8]
                                          [--workers 4] [--turns 64,0] [--database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import multiprocessing
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-long-enough"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 after the login is success: we do not need the dashboard


def seed(database_url: str, learners: int) -> None:
    """Schema and learners, all with one real scrypt hash of the same password."""
    from werkzeug.security import generate_password_hash

    from bench.schema import fresh_schema
    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db
    from learning.people.models import User, UserRole

    app = create_app(settings_for_tests(database_url))
    real = generate_password_hash(PASSWORD)  # the production method and cost
    with app.app_context():
        fresh_schema(db)
        for i in range(learners):
            user = User(email=f"learner{i}@bench.example.org", name=f"Learner {i}",
                        password_hash=real)
            user.roles = [UserRole(role="learner")]
            db.session.add(user)
        db.session.commit()
        db.engine.dispose()


def client():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def log_in(base: str, email: str, opener=None) -> tuple[object, float, int]:
    """Log in as the page's script would (retrying when busy): opener, seconds, busy answers."""
    opener = opener or client()
    page = opener.open(base + "/login", timeout=120).read().decode()
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD,
                                   "csrf_token": CSRF.search(page).group(1)}).encode()
    started, busy = time.perf_counter(), 0
    while True:
        try:
            opener.open(urllib.request.Request(base + "/login", data=data,
                                               headers={"X-Login-Script": "1"}),
                        timeout=120).read()
            raise RuntimeError(f"{email}: the login was not accepted")
        except urllib.error.HTTPError as answer:
            # Close now: gunicorn's worker waits (up to 2 s) for the client to close its end
            # before it takes the next request, and a browser closes at once.
            answer.close()
            if answer.code == 302:
                return opener, time.perf_counter() - started, busy
            if answer.code == 503 and answer.headers.get("X-Login-Busy"):
                busy += 1
                time.sleep(int(answer.headers.get("Retry-After", "2")) + random.random() * 3)
                continue
            raise


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def serve(args, database_url: str, tmp: Path, turns: int) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-secret-key-" + "x" * 32,
           "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": "0",
           "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
           "PASSWORD_CHECKS_AT_ONCE": str(turns),
           "PASSWORD_CHECK_DIR": str(tmp / f"turns-{turns}")}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn if gunicorn.exists() else "gunicorn"), "-w", str(args.workers),
         "-b", f"127.0.0.1:{args.port}", "--no-control-socket", "--access-logfile", "/dev/null",
         "--error-logfile", str(tmp / "gunicorn.err"), "app:app"],
        # stdout: the app's request log, a line per request (not wanted here)
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit((tmp / "gunicorn.err").read_text()[-2000:])


def read(base: str, emails: list[str], stop, out) -> None:
    """In a process of its own (its threads do not compete with the logins' for the GIL):
    each reader asks for a page every 0.2 s; sends back (when it finished, seconds)."""
    readers = [log_in(base, e)[0] for e in emails]
    paths = ["/dashboard", "/course", "/glossary"]
    timings: list[tuple[float, float]] = []
    lock = threading.Lock()

    def loop(opener) -> None:
        while not stop.is_set():
            started = time.time()
            with contextlib.suppress(urllib.error.HTTPError):
                opener.open(base + random.choice(paths), timeout=120).read()
            with lock:
                timings.append((time.time(), time.time() - started))
            time.sleep(0.2)

    threads = [threading.Thread(target=loop, args=(r,)) for r in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.send(timings)


def storm(args, base: str, offset: int) -> dict:
    """Readers read throughout; then the logins. Learners from `offset` on are fresh."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    receive, send = context.Pipe(duplex=False)
    emails = [f"learner{offset + i}@bench.example.org" for i in range(args.readers)]
    reader = context.Process(target=read, args=(base, emails, stop, send))
    reader.start()
    time.sleep(args.quiet)
    storm_began = time.time()
    logins: list[tuple[float, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        time.sleep(i * args.spread / args.logins)
        try:
            _, seconds, busy = log_in(base, f"learner{offset + args.readers + i}@bench.example.org")
            with lock:
                logins.append((seconds, busy))
        except Exception as exc:  # a failed login is reported, not fatal
            with lock:
                errors.append(exc)

    login_threads = [threading.Thread(target=one, args=(i,)) for i in range(args.logins)]
    for t in login_threads:
        t.start()
    for t in login_threads:
        t.join()
    storm_ended = time.time()
    time.sleep(1)
    stop.set()
    timings = receive.recv()
    reader.join()
    before = [s for when, s in timings if when < storm_began]
    during = [s for when, s in timings if storm_began <= when <= storm_ended]
    return {"logins": logins, "errors": errors, "before": before, "during": during,
            "storm": storm_ended - storm_began}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=300)
    parser.add_argument("--spread", type=float, default=10, help="seconds the first tries span")
    parser.add_argument("--readers", type=int, default=8,
                        help="logged-in learners reading pages throughout (one every 0.2 s)")
    parser.add_argument("--quiet", type=float, default=5, help="seconds of reading before")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--turns", default="64,0",
                        help="PASSWORD_CHECKS_AT_ONCE values to compare (0: half the cores)")
    parser.add_argument("--port", type=int, default=8773)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    configurations = [int(t) for t in args.turns.split(",")]
    per_run = args.readers + args.logins
    seed(database_url, per_run * len(configurations))
    load_before = os.getloadavg()
    results = {}
    try:
        for n, turns in enumerate(configurations):
            server = serve(args, database_url, tmp, turns)
            try:
                results[turns] = storm(args, f"http://127.0.0.1:{args.port}", n * per_run)
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()

    db_kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    from learning.people.password_checks import default_turns

    print(f"Login storm, {db_kind}, gunicorn {args.workers} sync workers, {args.logins} logins "
          f"with first tries over {args.spread:g} s, {args.readers} readers (a page every "
          f"0.2 s each), {os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
          "the load generator runs on the same machine")
    print()
    print(f"  {'turns':>12} {'login p50 s':>11} {'p95 s':>6} {'max s':>6} {'busy':>5} "
          f"{'errors':>6} {'storm s':>7} {'others p50/p95 ms before':>25} "
          f"{'others p50/p95 ms during':>25}")
    for turns, r in results.items():
        seconds = [s for s, _ in r["logins"]]
        busy = sum(b for _, b in r["logins"])
        label = f"{turns} (default {default_turns()})" if turns == 0 else str(turns)
        before, during = (f"{percentile(r[k], 50) * 1000:.0f} / {percentile(r[k], 95) * 1000:.0f}"
                          for k in ("before", "during"))
        print(f"  {label:>12} {statistics.median(seconds) if seconds else float('nan'):>11.1f} "
              f"{percentile(seconds, 95):>6.1f} {max(seconds, default=float('nan')):>6.1f} "
              f"{busy:>5} {len(r['errors']):>6} {r['storm']:>7.1f} {before:>25} {during:>25}")
        for exc in r["errors"][:3]:
            print(f"    error: {exc!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
