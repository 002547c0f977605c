"""Reports at scale: the completion matrix and the CSV exports over 20,000 learners.

Builds a throwaway database (SQLite in a temporary folder, or the PostgreSQL database named
by --database-url, whose tables are dropped and re-created) holding 200 cohorts of learners
with a realistic spread of progress: modules, quiz attempts, written submissions with
referrals and resubmissions, decisions, IQA samples and deadlines. Then prints, for an admin
and for one centre's coordinator: the matrix page's time and SQL query count (first page, and
a filtered, RAG-sorted page), and for each CSV export the time to the first byte, the total
time, its size and the peak Python memory while streaming (tracemalloc). Nothing is asserted.

    .venv/bin/python bench/reports.py [--learners 20000] [--cohorts 200] [--seed 1]
                                      [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 5000


def _insert(db, table, rows: list[dict]) -> None:
    from sqlalchemy import insert

    for i in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[i:i + BATCH])


def build(app, learners: int, cohort_count: int, seed: int) -> dict:
    """Bulk-insert the data set; returns ids the timings need and row counts."""
    from learning.assessment.models import (
        CriterionDecision,
        Decision,
        DraftVersion,
        Submission,
        SubmittedWork,
    )
    from learning.cohorts.items import items_for
    from learning.cohorts.models import Deadline
    from learning.core.extensions import db
    from learning.course.models import ModuleProgress
    from learning.iqa.models import IqaSample
    from learning.people.models import (
        Centre,
        CentreMember,
        Cohort,
        CohortStaff,
        Enrolment,
        User,
        UserRole,
    )
    from learning.quizzes.models import QuizAttempt

    rng = random.Random(seed)
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    items = items_for(catalog, quizzes)
    modules = [i for i in items if i.kind == "module"]
    module_quiz = {q.modules[0]: q.slug for q in quizzes.values() if len(q.modules) == 1}
    tasks = [i for i in items if i.kind == "task"]
    units = sorted({u for t in tasks for u in t.units}) or [None]
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    counts: dict[str, int] = {}

    def ids_from(start: int, n: int) -> list[int]:
        return list(range(start, start + n))

    # People: learners, then per cohort two assessors and an IQA, a coordinator per centre.
    centres = max(1, cohort_count // 10)
    users, roles = [], []
    next_id = 1

    def person(role: str, name: str) -> int:
        nonlocal next_id
        uid = next_id
        next_id += 1
        users.append({"id": uid, "email": f"{role}{uid}@bench.example.org", "name": name,
                      "password_hash": None, "active": True, "created_at": now})
        roles.append({"user_id": uid, "role": role, "granted_at": now})
        return uid

    first_names = ["Ada", "Ben", "Cal", "Dee", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo",
                   "Kai", "Lia", "Mo", "Nia", "Oli", "Pia", "Raj", "Sue", "Tom", "Uma"]
    learner_ids = [person("learner", f"{rng.choice(first_names)} Learner{n:05d}")
                   for n in range(learners)]
    admin_id = person("admin", "Bench Admin")
    coordinators = [person("coordinator", f"Coordinator {c}") for c in range(centres)]
    assessors = [[person("assessor", f"Assessor {c}-{k}") for k in range(2)]
                 for c in range(cohort_count)]
    iqas = [person("iqa", f"IQA {c}") for c in range(cohort_count)]
    _insert(db, User.__table__, users)
    _insert(db, UserRole.__table__, roles)
    counts["users"] = len(users)

    _insert(db, Centre.__table__, [{"id": c + 1, "name": f"Centre {c + 1}", "created_at": now}
                                   for c in range(centres)])
    _insert(db, CentreMember.__table__, [{"centre_id": c + 1, "user_id": uid, "added_at": now}
                                         for c, uid in enumerate(coordinators)])
    cohort_rows, staff, deadlines = [], [], []
    for c in range(cohort_count):
        start = today - timedelta(days=rng.randint(30, 200))
        cohort_rows.append({"id": c + 1, "name": f"Cohort {c + 1:03d}", "starts_on": start,
                            "ends_on": start + timedelta(days=270),
                            "unit_id": units[c % len(units)], "centre_id": c % centres + 1,
                            "archived": False, "created_at": now})
        staff += [{"cohort_id": c + 1, "user_id": a, "role": "assessor", "assigned_at": now}
                  for a in assessors[c]]
        staff.append({"cohort_id": c + 1, "user_id": iqas[c], "role": "iqa",
                      "assigned_at": now})
        for k, m in enumerate(modules):
            deadlines.append({"cohort_id": c + 1, "item_kind": "module", "item_slug": m.slug,
                              "due_on": start + timedelta(days=21 * (k + 1)), "set_at": now})
    _insert(db, Cohort.__table__, cohort_rows)
    _insert(db, CohortStaff.__table__, staff)
    _insert(db, Deadline.__table__, deadlines)
    counts["deadlines"] = len(deadlines)

    enrolments, progress, attempts = [], [], []
    subs, drafts, works, decisions, criteria, samples = [], [], [], [], [], []
    ids = {"sub": 1, "draft": 1, "work": 1, "decision": 1}
    task_criteria = {t.slug: t.criteria for t in catalog.tasks}
    for n, uid in enumerate(learner_ids):
        cohort = n % cohort_count
        unit = cohort_rows[cohort]["unit_id"]
        enrolments.append({"cohort_id": cohort + 1, "user_id": uid,
                           "enrolled_at": now - timedelta(days=200)})
        pace = rng.betavariate(2, 2)
        done = int(pace * (len(modules) + 1))
        when = now - timedelta(days=rng.randint(60, 180))
        for k, m in enumerate(modules[:done + 1]):
            when += timedelta(days=rng.randint(2, 12))
            finished = k < done and when < now
            progress.append({"user_id": uid, "module_slug": m.slug, "started_at": when,
                             "last_viewed_at": when, "completed_at":
                             when + timedelta(hours=2) if finished else None})
            quiz = module_quiz.get(m.slug)
            if quiz and finished:
                for number in range(1, rng.choice((2, 2, 3)) + 1):
                    percent = min(100.0, round(rng.gauss(78, 14), 1))
                    percent = max(0.0, percent)
                    at = when + timedelta(hours=3, days=number)
                    attempts.append({
                        "user_id": uid, "quiz_slug": quiz, "quiz_version": "bench",
                        "number": number, "state": "submitted", "started_at": at,
                        "submitted_at": at + timedelta(minutes=15), "timed_out": False,
                        "settings": {"pass_mark": 80, "counts_toward_completion": True},
                        "questions": [], "marks": percent / 10, "max_marks": 10,
                        "percent": percent, "passed": percent >= 80})
                    if percent >= 80:
                        break
        if pace < 0.45:
            continue
        for t in (t for t in tasks if t.applies_to(unit)):
            if rng.random() < 0.3:
                continue
            sid = ids["sub"]
            ids["sub"] += 1
            outcomes = rng.choice((["achieved"], ["achieved"], ["referred", "achieved"],
                                   [None], ["referred", None], ["referred", "referred"],
                                   ["referred"]))
            at = now - timedelta(days=rng.randint(10, 90))
            for number, outcome in enumerate(outcomes, 1):
                did, wid = ids["draft"], ids["work"]
                ids["draft"] += 1
                ids["work"] += 1
                text = f"Answer by learner {uid}, round {number}. " * 20
                drafts.append({"id": did, "submission_id": sid, "number": number,
                               "text": text, "word_count": 160, "saved_at": at,
                               "kind": "save"})
                works.append({"id": wid, "submission_id": sid, "number": number, "text": text,
                              "word_count": 160, "draft_version_id": did, "submitted_at": at,
                              "declared_at": at, "sources": ""})
                if outcome:
                    dec = ids["decision"]
                    ids["decision"] += 1
                    released = at + timedelta(days=rng.choice((1, 2, 4, 6, 9, 13, 20, 30)))
                    decisions.append({"id": dec, "work_id": wid,
                                      "assessor_id": assessors[cohort][0],
                                      "outcome": outcome, "feedback": "Clear and accurate.",
                                      "actions": "" if outcome == "achieved" else "Add more.",
                                      "created_at": released, "updated_at": released,
                                      "released_at": released, "release_number": 1})
                    criteria += [{"decision_id": dec, "criterion_id": c,
                                  "met": outcome == "achieved", "comment": "Fine."}
                                 for c in task_criteria[t.slug]]
                    if rng.random() < 0.1:
                        samples.append({"decision_id": dec, "reason": "plan",
                                        "sampled_at": released})
                at += timedelta(days=rng.randint(8, 20))
            status = outcomes[-1] or "submitted"
            subs.append({"id": sid, "learner_id": uid, "task_slug": t.slug, "status": status,
                         "created_at": now - timedelta(days=100), "submitted_at": at,
                         "reassess": False})
    for table, rows, name in ((Enrolment.__table__, enrolments, "enrolments"),
                              (ModuleProgress.__table__, progress, "module_progress"),
                              (QuizAttempt.__table__, attempts, "quiz_attempts"),
                              (Submission.__table__, subs, "submissions"),
                              (DraftVersion.__table__, drafts, "draft_versions"),
                              (SubmittedWork.__table__, works, "submitted_work"),
                              (Decision.__table__, decisions, "decisions"),
                              (CriterionDecision.__table__, criteria, "criterion_decisions"),
                              (IqaSample.__table__, samples, "iqa_samples")):
        _insert(db, table, rows)
        counts[name] = len(rows)
    db.session.commit()
    return {"admin": admin_id, "coordinator": coordinators[0], "counts": counts,
            "learner": learner_ids[0], "quiz": next(iter(module_quiz.values()))}


def rebuild_summary() -> float:
    """Seconds to work out every learner's matrix summary row from scratch (the bulk inserts
    above bypass the session, so nothing has built it yet)."""
    from learning.core.extensions import db
    from learning.reports import summary

    started = time.perf_counter()
    summary.rebuild(summary.current_layout(), force=True)
    db.session.commit()
    return time.perf_counter() - started


def _client_as(app, user_id: int):
    """A test client logged in as this user: a login session row, its token in the cookie."""
    from learning.core.extensions import db
    from learning.people import sessions
    from learning.people.models import User

    with app.app_context():
        token = sessions.start(db.session.get(User, user_id), remember=False)
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def time_page(app, user_id: int, url: str, runs: int = 5) -> tuple[float, float, int, int]:
    """Median seconds (wall clock, and this process's CPU time), SQL statements and page size
    for GET url as this user. The CPU time leaves out other work on a shared machine; with
    SQLite the database's work is in it, with PostgreSQL only ours."""
    from sqlalchemy import event

    from learning.core.extensions import db

    client = _client_as(app, user_id)
    times, cpu, statements = [], [], []

    def count(*args):
        statements.append(1)

    size = 0
    with app.app_context():
        engine = db.engine
    for _ in range(runs):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        size = len(response.get_data())
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), statistics.median(cpu), len(statements), size


def _stream(app, user_id: int, url: str) -> tuple[float, float, int, int]:
    client = _client_as(app, user_id)
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    first = None
    size = lines = 0
    for chunk in response.response:
        if first is None:
            first = time.perf_counter() - started
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(data)
        lines += data.count(b"\n")
    response.close()
    total = time.perf_counter() - started
    return first or total, total, size, lines


def time_export(app, user_id: int, url: str) -> tuple[float, float, float, int, int]:
    """(first byte s, total s, peak MiB, bytes, lines) for streaming a CSV export. Timed
    without tracing; the peak of Python allocations is taken on a second, traced run."""
    first, total, size, lines = _stream(app, user_id, url)
    tracemalloc.start()
    _stream(app, user_id, url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return first, total, peak / 2**20, size, lines


def time_writes(app, info: dict) -> None:
    """What keeping the matrix summary up to date adds to a write: the time and statements of
    a commit that refreshes one learner's rows, and one that refreshes a cohort's."""
    from sqlalchemy import event

    from learning.cohorts import deadlines
    from learning.core.extensions import db
    from learning.core.types import utcnow
    from learning.course import progress
    from learning.people.models import Cohort, User

    print("\nwrite, with its summary refresh         wall s    CPU s  queries")
    with app.app_context():
        learner = db.session.get(User, info["learner"])
        coordinator = db.session.get(User, info["coordinator"])
        cohort = db.session.get(Cohort, 1)
        modules = app.extensions["catalog"].modules
        slug = modules[-1].slug
        writes = [
            ("a learner completes a module", lambda: progress.mark_complete(learner,
                                                                            modules[-1])),
            ("a cohort's deadline changes (100)", lambda: deadlines.save_deadlines(
                cohort, {("module", slug): utcnow().date()}, coordinator, utcnow())),
        ]
        for label, write in writes:
            statements = []

            def count(*args, found=statements):
                found.append(1)

            event.listen(db.engine, "before_cursor_execute", count)
            started, started_cpu = time.perf_counter(), time.process_time()
            write()
            seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            event.remove(db.engine, "before_cursor_execute", count)
            print(f"  {label:<37}{seconds:7.3f}  {cpu:7.3f}  {len(statements):7d}")
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20000)
    parser.add_argument("--cohorts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db

    tmp = tempfile.TemporaryDirectory(prefix="bench-reports-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    app = create_app(settings_for_tests(url))
    app.config["WTF_CSRF_ENABLED"] = False
    print(f"database: {url.split('@')[-1] if '@' in url else url}")
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        info = build(app, args.learners, args.cohorts, args.seed)
        print(f"built in {time.perf_counter() - started:.1f}s: "
              + ", ".join(f"{k} {v:,}" for k, v in info["counts"].items()))
        summary_seconds = rebuild_summary()
        print(f"matrix summary rebuilt from scratch in {summary_seconds:.2f}s "
              "(flask reports rebuild-summary)")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        else:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.session.remove()

    print("\npage (median of 5)                    wall s    CPU s  queries   KiB")
    pages = [
        ("admin, first page", info["admin"], "/reports/matrix"),
        ("admin, red only, sorted by RAG", info["admin"],
         "/reports/matrix?status=red&sort=rag"),
        ("admin, overdue, search 'Ada'", info["admin"], "/reports/matrix?overdue=1&q=Ada"),
        ("admin, sorted by progress", info["admin"], "/reports/matrix?sort=progress-desc"),
        ("admin, one cohort", info["admin"], "/reports/matrix?cohort=7&sort=progress"),
        ("coordinator (one centre), first page", info["coordinator"], "/reports/matrix"),
        ("admin, charts", info["admin"], "/reports/charts"),
        ("admin, charts, one quiz", info["admin"],
         f"/reports/charts?quiz={info['quiz']}"),
    ]
    for label, user_id, page_url in pages:
        seconds, cpu, queries, size = time_page(app, user_id, page_url)
        print(f"  {label:<37}{seconds:7.3f}  {cpu:7.3f}  {queries:7d}  {size / 1024:6.0f}")

    time_writes(app, info)

    print("\nCSV export (admin, everything)  first byte s  total s  peak MiB   MiB   lines")
    for label, export_url in (("completion matrix", "/reports/matrix.csv"),
                              ("quiz results", "/reports/quiz-results.csv"),
                              ("assessment decisions", "/reports/decisions.csv")):
        first, total, peak, size, lines = time_export(app, info["admin"], export_url)
        print(f"  {label:<30}{first:10.3f}{total:10.2f}{peak:10.1f}{size / 2**20:7.1f}"
              f"{lines:8d}")
    with app.app_context():
        db.session.remove()
        if args.database_url:
            db.drop_all()
        db.engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
