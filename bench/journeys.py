"""Mixed journeys under locust: p50/p95/max and errors per request type, and worker memory.

For each number of simulated people in --users and each worker kind in --kinds (sync: gunicorn
sync workers; gthread: `--worker-class gthread --threads 4`), one after the other:

1. seeds a fresh database (SQLite in a temporary folder, or the empty PostgreSQL database named
   by --database-url, whose tables are dropped and re-created): one cohort on the first unit,
   a learner account for every simulated learner, assessors assigned to the cohort, and half
   the learners with an answer already submitted to a second task, so the marking queue has
   work from the start (cheap password hashes: bench/login_storm.py times logins);
2. serves the real app under gunicorn (--workers workers) on 127.0.0.1;
3. runs locust headless (bench/locustfile.py: learners log in once, then read a module,
   start a quiz, answer, submit, autosave a draft and submit it once; assessors open the
   marking queue, open a piece of work and release a decision), starting the people over
   --ramp seconds and stopping --duration seconds after the first;
4. prints, per request type: count, failures, p50, p95 and max in ms (locust's figures, for the
   whole run including the ramp; locust rounds percentiles above 100 ms to two significant
   figures, so a p95 can read a little above the max), the load average before and after,
   the gunicorn workers' CPU time per request, and each worker's resident memory after the
   load.

Locust runs on the same 2-core machine as the server, so the figures include its share of
the CPU. Nothing is asserted.

    .venv/bin/python bench/journeys.py [--users 50,200,500] [--kinds sync,gthread]
                                       [--workers 4] [--duration 45] [--ramp 10]
                                       [--wait 2-5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-long"
DRAFT = ("Each agency holds part of the picture: the nursery sees the child every day, the "
         "health visitor sees development, and the police see what happens at night. ") * 4
ORDER = ["login page", "login", "dashboard", "module page", "quiz page", "quiz start",
         "quiz attempt page", "quiz answer (autosave)", "quiz submit", "quiz review",
         "task page", "task draft (autosave)", "task submit", "marking queue", "marking page",
         "mark and release", "Aggregated"]


def seed(database_url: str, learners: int, assessors: int) -> dict:
    """Schema, cohort, accounts and waiting work; the slugs the journeys use."""
    from werkzeug.security import generate_password_hash

    from bench.schema import fresh_schema
    from learning import create_app
    from learning.assessment import submissions
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db
    from learning.core.types import utcnow
    from learning.people import membership
    from learning.people.models import Cohort, Role, User, UserRole

    app = create_app(settings_for_tests(database_url))
    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        fresh_schema(db)
        catalog = app.extensions["catalog"]
        unit = catalog.units[0]
        criteria = {c.id for c in unit.criteria}
        tasks = [t for t in catalog.tasks if set(t.criteria) <= criteria]
        if len(tasks) < 2:
            raise SystemExit(f"unit {unit.id} needs two writing tasks for the journeys")
        quizzes = app.extensions.get("quizzes") or {}
        cohort = Cohort(name="Bench cohort", unit_id=unit.id)
        db.session.add(cohort)
        db.session.flush()
        for i in range(assessors):
            user = User(email=f"assessor{i}@bench.example.org", name=f"Assessor {i}",
                        password_hash=fast)
            user.roles = [UserRole(role="assessor")]
            db.session.add(user)
            db.session.flush()
            membership.assign_staff(user, cohort, Role.ASSESSOR)
        now = utcnow()
        for i in range(learners):
            user = User(email=f"learner{i}@bench.example.org", name=f"Learner {i}",
                        password_hash=fast)
            user.roles = [UserRole(role="learner")]
            db.session.add(user)
            db.session.flush()
            membership.enrol(user, cohort)
            if i % 2 == 0:  # work waiting for the assessors
                sub = submissions.get_or_create(user, tasks[1])
                submissions.save_draft(sub, f"Learner {i}. {DRAFT}", None, now)
                submissions.submit(sub, tasks[1], user, True, "", now)
        db.session.commit()
        db.engine.dispose()
    modules = [m.slug for m in catalog.modules if {cid for cid, _ in m.teaches} & criteria]
    quiz = next((slug for slug in sorted(quizzes) if slug.endswith("-check")), None)
    return {"modules": modules or [m.slug for m in catalog.modules], "task": tasks[0].slug,
            "quiz": quiz or "partnership-working-check"}


def worker_memory(master: int) -> list[int]:
    """Resident memory of each gunicorn worker, in MB."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(master)], capture_output=True,
                         text=True).stdout.split()
    return [int(kb) // 1024 for kb in out]


def worker_cpu_seconds(master: int) -> float:
    """CPU time (user + system) the gunicorn workers have used so far."""
    total = 0
    for pid in subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                              capture_output=True, text=True).stdout.split():
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def serve(args, database_url: str, tmp: Path, kind: str) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-secret-key-" + "x" * 32,
           "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": "0",
           "PASSWORD_CHECKS_AT_ONCE": "64", "PASSWORD_CHECK_DIR": str(tmp / "turns"),
           "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute"}
    worker = ["--worker-class", "gthread", "--threads", "4"] if kind == "gthread" else []
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn if gunicorn.exists() else "gunicorn"), "-w", str(args.workers), *worker,
         "-b", f"127.0.0.1:{args.port}", "--no-control-socket", "--access-logfile", "/dev/null",
         "--error-logfile", str(tmp / "gunicorn.err"), "app:app"],
        cwd=ROOT, env=env, start_new_session=True,
        stderr=(tmp / "app.err").open("w"))  # the app's own error log, counted after the run
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit(f"gunicorn did not start: see {tmp / 'gunicorn.err'}")


def stop(server: subprocess.Popen) -> None:
    """Stop gunicorn; threaded workers finish their requests first (up to its 30 s grace)."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)


def run(args, users: int, kind: str, database_url: str, tmp: Path) -> dict:
    assessors = max(2, users // 20 + 1)
    slugs = seed(database_url, users + 10, assessors)
    server = serve(args, database_url, tmp, kind)
    prefix = tmp / f"locust-{users}-{kind}"
    env = {**os.environ, "BENCH_PASSWORD": PASSWORD, "BENCH_MODULES": ",".join(slugs["modules"]),
           "BENCH_QUIZ": slugs["quiz"], "BENCH_TASK": slugs["task"], "BENCH_WAIT": args.wait}
    locust = Path(sys.executable).parent / "locust"
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    cpu = worker_cpu_seconds(server.pid)
    try:
        subprocess.run(
            [str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "-u", str(users), "-r", f"{users / args.ramp:g}", "-t", f"{args.duration}s",
             "--host", f"http://127.0.0.1:{args.port}", "--csv", str(prefix), "--only-summary",
             "--stop-timeout", "5", "--loglevel", "ERROR"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.duration + 120)
        load_after = Path("/proc/loadavg").read_text().split()[:3]
        memory = worker_memory(server.pid)
        cpu = worker_cpu_seconds(server.pid) - cpu
    finally:
        stop(server)
    log = (tmp / "app.err").read_text(errors="replace")
    locked = log.count("database is locked") // 2  # the driver's error and SQLAlchemy's
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = row
    failures = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        with failures_csv.open(newline="") as f:
            failures = [(r["Name"], r["Occurrences"], r["Error"][:160]) for r in csv.DictReader(f)]
    return {"rows": rows, "failures": failures, "memory": memory, "load": (load_before,
            load_after), "assessors": assessors, "slugs": slugs, "cpu": cpu,
            "locked": locked}


def report(users: int, kind: str, result: dict, args) -> None:
    threads = "4 threads each (gthread)" if kind == "gthread" else "sync"
    print(f"\n{users} users ({result['assessors']} assessor accounts, locust weights learner "
          f"19 : assessor 1), gunicorn {args.workers} workers, {threads}; wait {args.wait} s "
          f"between steps; {args.duration} s incl. {args.ramp} s ramp")
    print(f"load average before {' '.join(result['load'][0])}, after "
          f"{' '.join(result['load'][1])}")
    print(f"  {'request':<26}{'count':>7}{'errors':>7}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}")
    rows = result["rows"]
    for name in ORDER + sorted(set(rows) - set(ORDER)):
        row = rows.get(name)
        if row is None:
            continue
        print(f"  {name:<26}{row['Request Count']:>7}{row['Failure Count']:>7}"
              f"{row['50%']:>8}{row['95%']:>8}{float(row['Max Response Time']):>8.0f}")
    total = int(rows["Aggregated"]["Request Count"]) if "Aggregated" in rows else 0
    print(f"  gunicorn workers' CPU: {result['cpu']:.1f} s in all, "
          f"{1000 * result['cpu'] / max(total, 1):.1f} ms per request (steadier than the "
          "timings on a busy machine)")
    print(f"  worker memory after the load: {', '.join(f'{m} MB' for m in result['memory'])}")
    if result["locked"]:
        print(f"  the app logged {result['locked']} 'database is locked' errors (SQLite's "
              "busy timeout ran out: a 503 for the request)")
    for name, times, error in result["failures"][:5]:
        print(f"  failure x{times} {name}: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="50,200,500", help="simulated people, comma-separated")
    parser.add_argument("--kinds", default="sync,gthread", help="worker kinds: sync, gthread")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--duration", type=int, default=45, help="seconds per run, with the ramp")
    parser.add_argument("--ramp", type=float, default=10, help="seconds to start everyone")
    parser.add_argument("--wait", default="2-5", help="seconds between a person's steps (range)")
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-journeys-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    db_kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"Mixed journeys, {db_kind}, {os.cpu_count()} CPUs (locust on the same machine)")
    try:
        for kind in args.kinds.split(","):
            for users in (int(u) for u in args.users.split(",")):
                if not args.database_url:
                    Path(tmp / "bench.sqlite3").unlink(missing_ok=True)
                report(users, kind, run(args, users, kind, database_url, tmp), args)
                sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
