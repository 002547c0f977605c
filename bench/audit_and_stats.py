"""The audit log at a million rows and quiz statistics at 130,000 attempts.

Builds a throwaway database (SQLite in a temporary folder, or the PostgreSQL database named by
--database-url, whose tables are dropped and re-created) holding 20,000 learners in 200
cohorts, 130,000 submitted quiz attempts at the course's quizzes (each with the snapshot the
learner saw and one answer row per question, graded by the real grader) and a million audit
events of every kind spread over two years. Then prints, for the admin's audit log (first
page, a late page, filtered by action, by who, by dates), a learner's data export, and the
quiz statistics page (admin, and one centre's coordinator): the median time (wall clock and
this process's CPU) and SQL query count. Nothing is asserted.

    .venv/bin/python bench/audit_and_stats.py [--audit 1000000] [--attempts 130000]
                                              [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 10000
LEARNERS, COHORTS = 20000, 200


def _insert(db, table, rows: list[dict]) -> None:
    from sqlalchemy import insert

    connection = db.session.connection()
    for i in range(0, len(rows), BATCH):
        connection.execute(insert(table), rows[i:i + BATCH])


def build_people(db, now: datetime) -> dict:
    from learning.people.models import Centre, CentreMember, Cohort, Enrolment, User, UserRole

    users, roles, enrolments = [], [], []
    for uid in range(1, LEARNERS + 1):
        users.append({"id": uid, "email": f"learner{uid}@bench.example.org",
                      "name": f"Learner {uid:05d}", "password_hash": None, "active": True,
                      "created_at": now})
        roles.append({"user_id": uid, "role": "learner", "granted_at": now})
        enrolments.append({"cohort_id": uid % COHORTS + 1, "user_id": uid,
                           "enrolled_at": now - timedelta(days=400)})
    admin, coordinator = LEARNERS + 1, LEARNERS + 2
    for uid, role in ((admin, "admin"), (coordinator, "coordinator")):
        users.append({"id": uid, "email": f"{role}@bench.example.org", "name": f"Bench {role}",
                      "password_hash": None, "active": True, "created_at": now})
        roles.append({"user_id": uid, "role": role, "granted_at": now})
    _insert(db, User.__table__, users)
    _insert(db, UserRole.__table__, roles)
    _insert(db, Centre.__table__, [{"id": c + 1, "name": f"Centre {c + 1}", "created_at": now}
                                   for c in range(COHORTS // 10)])
    _insert(db, CentreMember.__table__, [{"centre_id": 1, "user_id": coordinator,
                                          "added_at": now}])
    _insert(db, Cohort.__table__, [{"id": c + 1, "name": f"Cohort {c + 1:03d}",
                                    "centre_id": c % (COHORTS // 10) + 1, "archived": False,
                                    "created_at": now} for c in range(COHORTS)])
    _insert(db, Enrolment.__table__, enrolments)
    return {"admin": admin, "coordinator": coordinator}


def _answer(question, rng: random.Random):
    """A plausible answer: right about two times in three."""
    if question.type in ("single", "multiple"):
        right = [o.id for o in question.options if o.weight > 0]
        wrong = [o.id for o in question.options if o.weight <= 0] or right
        pick = right if rng.random() < 0.66 else [rng.choice(wrong)]
        return pick if question.type == "multiple" else pick[0]
    if question.type == "truefalse":
        return question.answer if rng.random() < 0.66 else not question.answer
    if question.type == "short" and question.text_answers:
        return question.text_answers[0].text if rng.random() < 0.66 else "not sure"
    return None


def build_attempts(app, db, count: int, now: datetime, rng: random.Random) -> int:
    """Submitted attempts with snapshots and graded answers (a few snapshots per quiz, reused:
    the rows are as large as the real ones)."""
    from learning.quizzes import grading
    from learning.quizzes.attempts import _snapshot
    from learning.quizzes.models import QuizAnswer, QuizAttempt
    from learning.quizzes.questions import question_from_snapshot

    quizzes = list(app.extensions["quizzes"].values())
    shapes = {}
    for quiz in quizzes:
        shapes[quiz.slug] = []
        for seed in range(8):
            snapshot = _snapshot(quiz, seed)
            questions = [question_from_snapshot(item["question"]) for item in snapshot]
            shapes[quiz.slug].append((snapshot, questions))
    attempts, answers = [], []
    numbers: dict[tuple[int, str], int] = {}
    answer_id = 1
    for attempt_id in range(1, count + 1):
        quiz = quizzes[attempt_id % len(quizzes)]
        user_id = rng.randint(1, LEARNERS)
        number = numbers[(user_id, quiz.slug)] = numbers.get((user_id, quiz.slug), 0) + 1
        snapshot, questions = rng.choice(shapes[quiz.slug])
        given = {q.id: grading.normalise_answer(q, _answer(q, rng)) for q in questions}
        result = grading.grade_attempt(questions, given)
        at = now - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440))
        attempts.append({
            "id": attempt_id, "user_id": user_id, "quiz_slug": quiz.slug,
            "quiz_version": quiz.version, "number": number, "state": "submitted",
            "started_at": at, "submitted_at": at + timedelta(minutes=12), "timed_out": False,
            "settings": quiz.settings.to_snapshot(), "questions": snapshot,
            "marks": result.total_marks, "max_marks": sum(q.marks for q in questions),
            "percent": result.percent,
            "passed": result.passed(float(quiz.settings.pass_mark))})
        for g in result.grades:
            answers.append({"id": answer_id, "attempt_id": attempt_id,
                            "question_id": g.question_id, "answer": given.get(g.question_id),
                            "saved_at": at, "score": g.score, "marks": g.max_marks})
            answer_id += 1
        if len(attempts) >= BATCH:
            _insert(db, QuizAttempt.__table__, attempts)
            _insert(db, QuizAnswer.__table__, answers)
            attempts, answers = [], []
    _insert(db, QuizAttempt.__table__, attempts)
    _insert(db, QuizAnswer.__table__, answers)
    return answer_id - 1


ACTIONS = [("login", 40), ("login.failed", 12), ("view.learner_record", 8),
           ("view.marking", 6), ("view.portfolio", 3), ("quiz.start", 10), ("quiz.submit", 10),
           ("submission.submit", 3), ("decision.release", 3), ("cohort.enrol", 2),
           ("deadline.set", 1), ("user.create", 1), ("user.grant_role", 1),
           ("password.change", 1)]


def build_audit(db, count: int, now: datetime, rng: random.Random) -> None:
    from learning.core.audit import AuditEvent

    names = [a for a, _ in ACTIONS]
    weights = [w for _, w in ACTIONS]
    rows = []
    for n in range(count):
        action = rng.choices(names, weights)[0]
        actor = rng.randint(1, LEARNERS + 2)
        at = now - timedelta(seconds=rng.randint(0, 730 * 86400))
        if action == "login.failed":
            subject = ("email", f"{rng.getrandbits(128):032x}"[:32])
            actor = None
        elif action.startswith("view."):
            subject = ("User", str(rng.randint(1, LEARNERS)))
        else:
            subject = ("User", str(actor))
        rows.append({"at": at, "actor_id": actor, "action": action, "subject_type": subject[0],
                     "subject_id": subject[1], "detail": {"n": n}})
        if len(rows) >= BATCH:
            _insert(db, AuditEvent.__table__, rows)
            rows = []
    _insert(db, AuditEvent.__table__, rows)


def _client_as(app, user_id: int):
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


def time_page(app, user_id: int, url: str, runs: int = 5) -> tuple[float, float, int]:
    """Median wall and CPU seconds and SQL statements for GET url as this user."""
    from sqlalchemy import event

    from learning.core.extensions import db

    client = _client_as(app, user_id)
    times, cpu, statements = [], [], []

    def count(*args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    for _ in range(runs):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        response.get_data()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), statistics.median(cpu), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--attempts", type=int, default=130_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from learning import create_app
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db

    tmp = tempfile.TemporaryDirectory(prefix="bench-audit-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    app = create_app(settings_for_tests(url))
    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"database: {url.split('@')[-1] if '@' in url else url}")
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        people = build_people(db, now)
        answers = build_attempts(app, db, args.attempts, now, rng)
        build_audit(db, args.audit, now, rng)
        db.session.commit()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        print(f"built in {time.perf_counter() - started:.0f}s: {args.attempts:,} attempts, "
              f"{answers:,} answers, {args.audit:,} audit events")
        db.session.remove()
    quiz = next(iter(app.extensions["quizzes"]))
    learner = 17
    pages = [
        ("audit log, first page", people["admin"], "/admin/audit"),
        ("audit log, page 2,000", people["admin"], "/admin/audit?page=2000"),
        ("audit log, one action", people["admin"], "/admin/audit?action=deadline.set"),
        ("audit log, one action, page 50", people["admin"],
         "/admin/audit?action=login.failed&page=50"),
        ("audit log, done by (email)", people["admin"],
         "/admin/audit?actor=learner1234%40"),
        ("audit log, one week", people["admin"],
         f"/admin/audit?date_from={(now - timedelta(days=30)).date()}"
         f"&date_to={(now - timedelta(days=23)).date()}"),
        ("a learner's data export (zip)", people["admin"], f"/admin/people/{learner}/data.zip"),
        ("quiz statistics, admin", people["admin"], f"/quizzes/{quiz}/statistics"),
        ("quiz statistics, one centre", people["coordinator"], f"/quizzes/{quiz}/statistics"),
    ]
    print("\npage (median of 5)                     wall s    CPU s  queries")
    for label, user_id, page_url in pages:
        seconds, cpu, queries = time_page(app, user_id, page_url)
        print(f"  {label:<37}{seconds:7.3f}  {cpu:7.3f}  {queries:7d}")
    with app.app_context():
        db.session.remove()
        if args.database_url:
            db.drop_all()
        db.engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
