"""Learner pages against a one-query ceiling: req/s and share under gunicorn, in one run.

Seeds a throwaway database (SQLite in a temporary folder, or the empty PostgreSQL database
named by --database-url, whose tables are dropped and re-created) with one cohort of learners
who have progress, deadlines, a submission and notifications. Then:

1. In-process, through Flask's test client: SQL statements and milliseconds per page.
2. Under gunicorn (sync workers) driven by wrk: req/s of a route that runs `SELECT 1` and
   returns a few bytes (the ceiling: what this app and server can do at all), of the module
   page and of the learner dashboard, each as a share of the ceiling. The routes are taken in
   turn for --rounds rounds, so a busy machine slows them alike: the share is the median of
   each round's share. The workers' CPU time per request is printed too, a steadier figure
   when other work shares the machine.
   Every request carries a learner's session cookie (wrk cycles through them) and any answer
   but 200 is counted and printed.
3. The resident memory of each gunicorn worker after the load.

The ceiling route is mounted only in this script's gunicorn (`bench.pages:bench_app()`),
never in the shipped app. Nothing is asserted; the figures are printed with the load average.

    .venv/bin/python bench/pages.py [--learners 40] [--workers 4] [--duration 5]
                                    [--rounds 5] [--connections 8] [--database-url URL]

Needs wrk (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-long"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CEILING = "/bench/one-query"


def bench_app():
    """The app as served, plus the ceiling route (gunicorn calls this in this script only)."""
    from sqlalchemy import text

    from learning import create_app
    from learning.core.extensions import db

    app = create_app()

    @app.get(CEILING)
    def one_query():
        return str(db.session.execute(text("SELECT 1")).scalar()), 200, {
            "Content-Type": "text/plain"}

    return app


def seed(database_url: str, learners: int) -> list[str]:
    """Schema and learners (cheap password hashes: we time pages, not login); their emails."""
    from werkzeug.security import generate_password_hash

    from bench.schema import fresh_schema
    from learning import create_app
    from learning.assessment import submissions
    from learning.cohorts.models import Deadline
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db
    from learning.core.types import utcnow
    from learning.course import progress
    from learning.people import membership
    from learning.people.models import Cohort, Notification, User, UserRole

    app = create_app(settings_for_tests(database_url))
    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        fresh_schema(db)
        catalog = app.extensions["catalog"]
        unit = catalog.units[0].id if catalog.units else None
        cohort = Cohort(name="Bench cohort", unit_id=unit)
        db.session.add(cohort)
        db.session.flush()
        now = utcnow()
        for i, module in enumerate(catalog.modules[:4]):  # one passed, three to come
            db.session.add(Deadline(cohort_id=cohort.id, item_kind="module",
                                    item_slug=module.slug,
                                    due_on=(now + timedelta(days=14 * i - 7)).date()))
        emails = []
        task = next(iter(catalog.tasks), None)
        for i in range(learners):
            user = User(email=f"learner{i}@bench.example.org", name=f"Learner {i}",
                        password_hash=fast)
            user.roles = [UserRole(role="learner")]
            db.session.add(user)
            db.session.flush()
            membership.enrol(user, cohort)
            for module in catalog.modules[: i % (len(catalog.modules) + 1)]:
                progress.mark_complete(user, module)
            if task is not None and i % 2:
                sub = submissions.get_or_create(user, task)
                submissions.save_draft(sub, "A first draft about agencies working together.",
                                       None, now)
            for n in range(i % 3):
                db.session.add(Notification(user_id=user.id, kind="bench",
                                            message=f"Message {n}", link="/dashboard"))
            emails.append(user.email)
        db.session.commit()
        db.engine.dispose()
    return emails


def module_slugs() -> list[str]:
    from learning.content.catalog import load_catalog

    return [m.slug for m in load_catalog(ROOT / "content").modules]


def log_in(base: str, email: str) -> str:
    """Log in through the form; the Cookie header a browser would then send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD,
                                   "csrf_token": CSRF.search(page).group(1)}).encode()
    opener.open(base + "/login", data=data, timeout=30).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def check(base: str, path: str, cookie: str) -> None:
    """Refuse to time a page that is not the real page (a redirect to /login would be fast)."""
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200 or response.geturl() != base + path:
            raise SystemExit(f"{path} answered {response.status} at {response.geturl()}")


LUA = """
cookies = {%(cookies)s}
paths = {%(paths)s}
i = 0
bad = 0
request = function()
  i = i + 1
  local path = paths[(math.floor(i / #cookies) %% #paths) + 1]
  return wrk.format("GET", path, {["Cookie"] = cookies[(i %% #cookies) + 1]})
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("NOT200 %%d\\nP50 %%d\\nP99 %%d\\n", total,
           latency:percentile(50), latency:percentile(99)))
end
"""


def lua_list(values: list[str]) -> str:
    return ", ".join('"' + v.replace('"', '\\"') + '"' for v in values)


def worker_cpu_seconds(master: int) -> float:
    """CPU time (user + system) the gunicorn workers have used so far."""
    total = 0
    for pid in subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                              capture_output=True, text=True).stdout.split():
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def wrk(base: str, script: Path, duration: int, connections: int, master: int) -> dict:
    cpu = worker_cpu_seconds(master)
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-s", str(script),
         base + "/"], capture_output=True, text=True, check=True).stdout
    cpu = worker_cpu_seconds(master) - cpu
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    figures["cpu_ms"] = 1000 * cpu / max(requests, 1)
    for key in ("NOT200", "P50", "P99"):
        figures[key] = int(re.search(rf"^{key} (\d+)$", out, re.M).group(1))
    return figures


def in_process(database_url: str, emails: list[str], slugs: list[str], repeat: int) -> dict:
    """Statements and ms per page through the test client (no server, no network)."""
    from sqlalchemy import event

    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db

    app = create_app(settings_for_tests(database_url, WTF_CSRF_ENABLED=False))
    with app.app_context():  # each request below has its own context, as in production
        engine = db.engine
    client = app.test_client()
    client.post("/login", data={"email": emails[len(emails) // 2], "password": PASSWORD})
    statements: list[str] = []

    def counted(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", counted)
    results = {}
    for name, path in (("module page", f"/course/{slugs[len(slugs) // 2]}"),
                       ("dashboard", "/dashboard")):
        client.get(path)  # warm: first visit, templates compiled
        statements.clear()
        started = time.perf_counter()
        for _ in range(repeat):
            if client.get(path).status_code != 200:
                raise SystemExit(f"{path} did not answer 200 in process")
        ms = (time.perf_counter() - started) * 1000 / repeat
        results[name] = (len(statements) / repeat, ms)
        if os.environ.get("BENCH_SHOW_SQL"):
            print(f"--- {name}", *statements[: len(statements) // repeat], sep="\n")
    event.remove(engine, "before_cursor_execute", counted)
    engine.dispose()
    return results


def worker_memory(master: int) -> list[int]:
    """Resident MB of each gunicorn worker (children of the master)."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(master)], capture_output=True,
                         text=True).stdout
    return [int(v) // 1024 for v in out.split()]


def serve(args, database_url: str, tmp: Path) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-secret-key-" + "x" * 32,
           "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": "0",
           "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [str(gunicorn if gunicorn.exists() else "gunicorn"), "-w", str(args.workers),
         "-b", f"127.0.0.1:{args.port}", "--no-control-socket", "--access-logfile", "/dev/null",
         "--error-logfile", str(tmp / "gunicorn.err"), "bench.pages:bench_app()"],
        cwd=ROOT, env=env, start_new_session=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=200, help="in-process requests per page")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk")
        return 1

    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    db_kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    emails = seed(database_url, args.learners)
    slugs = module_slugs()
    inproc = in_process(database_url, emails, slugs, args.repeat)

    server = serve(args, database_url, tmp)
    base = f"http://127.0.0.1:{args.port}"
    rounds: dict[str, list[dict]] = {"ceiling": [], "module page": [], "dashboard": []}
    load_before = os.getloadavg()
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            print((tmp / "gunicorn.err").read_text()[-2000:])
            return 1
        cookies = [log_in(base, e) for e in emails]
        paths = {"ceiling": [CEILING], "module page": [f"/course/{s}" for s in slugs],
                 "dashboard": ["/dashboard"]}
        scripts = {}
        for name, route_paths in paths.items():
            check(base, route_paths[0], cookies[0])
            scripts[name] = tmp / f"{name.replace(' ', '-')}.lua"
            scripts[name].write_text(LUA % {"cookies": lua_list(cookies),
                                            "paths": lua_list(route_paths)})
        for name in paths:  # warm every worker (templates, first visits) before timing
            wrk(base, scripts[name], 2, args.connections, server.pid)
        for _ in range(args.rounds):
            for name in paths:
                rounds[name].append(wrk(base, scripts[name], args.duration, args.connections,
                                        server.pid))
        memory = worker_memory(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()

    print(f"Learner pages, {db_kind}, gunicorn {args.workers} sync workers, wrk 2 threads x "
          f"{args.connections} connections, {args.rounds} rounds of {args.duration} s, "
          f"{args.learners} learners, {os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          "(other work on the machine slows every route alike; compare the shares)")
    print()
    print("In process (test client):")
    print(f"  {'page':<12} {'statements':>10} {'ms/page':>8}")
    for name, (statements, ms) in inproc.items():
        print(f"  {name:<12} {statements:>10.1f} {ms:>8.2f}")
    print()
    print("Under gunicorn: share = the route's req/s / the ceiling's req/s in the same round "
          "(median of rounds);")
    print("worker CPU = gunicorn workers' CPU time per request (less moved by other load), "
          "and the share it implies.")
    ceiling = rounds["ceiling"]
    cpu_ceiling = statistics.median(r["cpu_ms"] for r in ceiling)
    print(f"  {'route':<12} {'req/s':>6} {'each round':>18} {'share':>6} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'not 200':>8} {'worker CPU ms':>14} {'CPU share':>10}")
    for name, runs in rounds.items():
        rps = statistics.median(r["rps"] for r in runs)
        each = " ".join(f"{r['rps']:.0f}" for r in runs)
        share = statistics.median(r["rps"] / c["rps"] for r, c in zip(runs, ceiling, strict=True))
        p50 = statistics.median(r["P50"] for r in runs) / 1000
        p99 = statistics.median(r["P99"] for r in runs) / 1000
        bad = sum(r["NOT200"] for r in runs)
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        print(f"  {name:<12} {rps:>6.0f} {each:>18} {100 * share:>5.0f}% {p50:>7.1f} "
              f"{p99:>7.1f} {bad:>8} {cpu:>14.2f} {100 * cpu_ceiling / cpu:>9.0f}%")
    print()
    print(f"worker memory after the load: {', '.join(f'{m} MB' for m in memory)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
