"""Exam-start surge: many learners start the same quiz within seconds; prints req/s and p95.

Runs the real app under gunicorn on 127.0.0.1 with a throwaway database (or --database-url,
an empty database whose tables are dropped and re-created) and creates learners. Every
learner logs in and opens the quiz first (not timed: bench/login_storm.py times logins).
Then each learner, one thread each, presses Start at a moment spread evenly over --spread
seconds (0: all together), saves answers three times (the first is "first answer"), each
after --think seconds on average (half to one and a half times that, at random), and
submits. Figures are printed per phase; nothing is asserted.

    .venv/bin/python bench/quiz_start.py [--learners 300] [--spread 10] [--think 5] [--workers 4]
                                         [--threads 1] [--quiz end-of-unit]
                                         [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.cookiejar
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
import urllib.parse
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-long"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def seed(database_url: str, learners: int) -> None:
    """Create the schema and the learners (cheap password hashes: we time the quiz, not login)."""
    from werkzeug.security import generate_password_hash

    from bench.schema import fresh_schema
    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db
    from learning.people.models import User, UserRole

    app = create_app(settings_for_tests(database_url))
    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        fresh_schema(db)
        for i in range(learners):
            user = User(email=f"learner{i}@bench.example.org", name=f"Learner {i}",
                        password_hash=fast)
            user.roles = [UserRole(role="learner")]
            db.session.add(user)
        db.session.commit()
        db.engine.dispose()


class Learner:
    def __init__(self, base: str, index: int, timings: dict, lock: threading.Lock):
        self.base, self.index, self.timings, self.lock = base, index, timings, lock
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, phase: str | None, path: str, data: dict | None = None) -> tuple[str, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        started = time.perf_counter()
        with self.opener.open(self.base + path, data=body, timeout=60) as response:
            text = response.read().decode()
            url = response.geturl()
        if phase:
            with self.lock:
                self.timings[phase].append(time.perf_counter() - started)
        return text, url

    def ready(self, quiz: str) -> None:
        """Log in and open the quiz's page, where the Start button is."""
        page, _ = self.request(None, "/login")
        self.request(None, "/login", {"email": f"learner{self.index}@bench.example.org",
                                      "password": PASSWORD,
                                      "csrf_token": CSRF.search(page).group(1)})
        page, _ = self.request(None, f"/quizzes/{quiz}")
        self.token = CSRF.search(page).group(1)

    def run(self, quiz: str, at: float, think: float) -> None:
        time.sleep(max(0.0, at - time.perf_counter()))  # this learner's moment to press Start
        token = self.token
        rng = random.Random(self.index)
        html, url = self.request("start", f"/quizzes/{quiz}/start", {"csrf_token": token})
        attempt = re.search(r"/attempts/(\d+)", url).group(1)
        fields = sorted(set(re.findall(r'name="(q-[a-z0-9-]+)"', html)))
        radios = dict(re.findall(r'name="(q-[a-z0-9-]+)" value="([^"]+)"', html))
        for round_ in range(3):
            time.sleep(rng.uniform(think / 2, think * 1.5))  # reading, choosing
            answers = {f: radios.get(f, "1") for f in fields[: (round_ + 1) * 5]}
            self.request("first-answer" if round_ == 0 else "save-answer",
                         f"/attempts/{attempt}/autosave", {"csrf_token": token, **answers})
        self.request("submit", f"/attempts/{attempt}/submit", {"csrf_token": token})


def worker_cpu_seconds(master: int) -> float:
    """CPU time (user + system) the gunicorn workers have used so far."""
    total = 0
    for pid in subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                              capture_output=True, text=True).stdout.split():
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--spread", type=float, default=10,
                        help="seconds over which the learners press Start (0: all at once)")
    parser.add_argument("--think", type=float, default=5,
                        help="seconds (on average) before each save: reading and choosing")
    parser.add_argument("--quiz", default="end-of-unit")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=8769)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from learning.quizzes.loader import load_quizzes

    quizzes, _ = load_quizzes(ROOT / "quizzes")
    quiz = args.quiz if args.quiz in quizzes else next(iter(sorted(quizzes)), None)
    if quiz is None:
        print("No quizzes in quizzes/: nothing to benchmark.")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="bench-quiz-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    seed(database_url, args.learners)
    # Logins are not timed here: no bound on password checks (their hashes are cheap anyway).
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-secret-key-" + "x" * 32,
           "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": "0",
           "PASSWORD_CHECKS_AT_ONCE": "64", "PASSWORD_CHECK_DIR": str(tmp / "turns"),
           "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn if gunicorn.exists() else "gunicorn"), "-w", str(args.workers),
         "--threads", str(args.threads), "-b", f"127.0.0.1:{args.port}", "--no-control-socket",
         "--access-logfile", "/dev/null", "--error-logfile", str(tmp / "gunicorn.err"), "app:app"],
        # stdout: the app's request log, a line per request (not wanted here)
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        timings: dict[str, list[float]] = defaultdict(list)
        lock = threading.Lock()
        learners = [Learner(base, i, timings, lock) for i in range(args.learners)]
        errors: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=8) as pool:  # everyone logged in, not timed
            list(pool.map(lambda lr: lr.ready(quiz), learners))
        load_before = os.getloadavg()
        cpu = worker_cpu_seconds(server.pid)
        began = time.perf_counter() + 0.5
        with ThreadPoolExecutor(max_workers=args.learners) as pool:
            futures = [pool.submit(lr.run, quiz, began + i * args.spread / args.learners,
                                   args.think) for i, lr in enumerate(learners)]
            for f in futures:
                try:
                    f.result()
                except Exception as exc:  # a failed learner is reported, not fatal
                    errors.append(exc)
            elapsed = time.perf_counter() - began
        cpu = worker_cpu_seconds(server.pid) - cpu
        load_after = os.getloadavg()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    db_kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"quiz '{quiz}', {args.learners} learners pressing Start over {args.spread:g} s, "
          f"about {args.think:g} s before each save, "
          f"gunicorn {args.workers} workers x {args.threads} threads, {db_kind}, "
          f"{os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (the load "
          "generator runs on the same machine)")
    total = sum(len(v) for v in timings.values())
    print(f"{total} timed requests in {elapsed:.1f} s after Start: {total / elapsed:.0f} req/s; "
          f"{len(errors)} learners failed")
    for phase in ("start", "first-answer", "save-answer", "submit"):
        values = timings.get(phase, [])
        if values:
            median, p95 = statistics.median(values) * 1000, percentile(values, 95) * 1000
            print(f"  {phase:12} n={len(values):4}  median {median:6.0f} ms  p95 {p95:6.0f} ms"
                  f"  max {max(values) * 1000:6.0f} ms")
    print(f"  server CPU (gunicorn workers) per learner, Start to submit: "
          f"{1000 * cpu / args.learners:.0f} ms (steadier than the timings on a busy machine)")
    for exc in errors[:3]:
        print(f"  error: {exc!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
