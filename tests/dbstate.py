"""A populated database for the backup and migration tests, and every row of it to compare."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path
from unittest import mock

from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine
from werkzeug.security import generate_password_hash

from learning.core.extensions import db
from learning.core.types import utcnow

ROOT = Path(__file__).resolve().parent.parent


def populate(app) -> None:
    """The demo data (every role at work: drafts, submissions, decisions, IQA samples, quiz
    attempts, deadlines, notifications), plus what the demo leaves out: a reference essay,
    an IQA review and plan, an invitation, a learner reference, an archived cohort, an
    erased learner, a login session and a failed login."""
    from learning.assessment.originality.index import add_reference_dir
    from learning.iqa import reviews, sampling
    from learning.iqa.models import IqaSample
    from learning.people import invitations
    from learning.people.models import Cohort, User
    from learning.privacy.erasure import erase
    from learning.quizzes.models import QuizAnswer
    from tests.conftest import ESSAYS

    cheap = partial(generate_password_hash, method="pbkdf2:sha256:1000")  # scrypt is slow
    with mock.patch("learning.people.password_checks.generate_password_hash", cheap):
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    now = utcnow()
    add_reference_dir(ESSAYS)
    iqa = db.session.scalar(select(User).where(User.email == "iqa@example.com"))
    admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    assessor = db.session.scalar(select(User).where(User.email == "assessor@example.com"))
    sample = db.session.scalars(select(IqaSample)).first()
    assert sample is not None
    reviews.record_review(sample, iqa, "agree", "Sound decision, well evidenced.", "",
                          "Task", now)
    sampling.save_plan(assessor, 25, False, iqa, now)
    kasia = db.session.scalar(select(User).where(User.email == "kasia@example.com"))
    invitations.issue(kasia, actor=admin, now=now - timedelta(hours=1))
    tom = db.session.scalar(select(User).where(User.email == "tom@example.com"))
    tom.learner_ref = "LR-0042"
    db.session.add(Cohort(name="Old cohort 2019", archived=True, unit_id="EYE22"))
    # A negative score (a single choice's negative weight), which older versions can't hold.
    answer = db.session.scalars(select(QuizAnswer).where(QuizAnswer.score.is_not(None))).first()
    assert answer is not None
    answer.score = -0.5
    db.session.commit()
    erase(db.session.scalar(select(User).where(User.email == "priya@example.com")), admin,
          "Asked for erasure in writing", now)
    db.session.commit()
    from flask import request_started

    from tests.conftest import Auth, _fresh_g

    request_started.connect(_fresh_g, app)  # each request its own `g`, as in production
    Auth(app.test_client()).login("learner@example.com", "demo-password-2026")
    Auth(app.test_client()).login("learner@example.com", "not the password")


def snapshot(engine: Engine, leave_out: frozenset[str] = frozenset()) -> dict[str, list]:
    """Every row of every table in the database (read from the database itself, not from
    the models), each table's rows sorted, so two states compare with ==."""
    meta = MetaData()
    meta.reflect(bind=engine)
    rows = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name not in leave_out:
                # A downgrade's side table (core/downgrades.py) is made by CREATE TABLE AS,
                # whose column types SQLite guesses (a timestamp becomes NUM): read its values
                # as stored, not through the types reflection gives them.
                quoted = conn.dialect.identifier_preparer.quote(table.name)
                query = (text(f"SELECT * FROM {quoted}")  # nosec B608: a reflected name
                         if table.name.startswith("kept_") else select(table))
                rows[table.name] = sorted(
                    (tuple(row) for row in conn.execute(query)), key=repr)
    return rows


def differences(before: dict[str, list], after: dict[str, list]) -> list[str]:
    """What differs, table by table, in words (for the assertion message)."""
    found = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            found.append(f"{name}: {'missing after' if new is None else 'new'}")
        elif old != new:
            gone = [r for r in old if r not in new][:2]
            added = [r for r in new if r not in old][:2]
            found.append(f"{name}: {len(old)} rows -> {len(new)}; lost {gone}; gained {added}")
    return found


class OtherProcess:
    """A second process of the app using the database (as a web server or worker does),
    until it is stopped."""

    def __init__(self, database_url: str):
        code = (
            "import sys\n"
            "from learning import create_app\n"
            "from learning.core.extensions import db\n"
            "from tests.conftest import fixture_settings\n"
            "from sqlalchemy import text\n"
            f"app = create_app(fixture_settings({database_url!r}))\n"
            "with app.app_context():\n"
            "    db.session.execute(text('SELECT 1'))\n"
            "    db.session.commit()\n"
            "    print('ready', flush=True)\n"
            "    sys.stdin.read()\n"
        )
        self.process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "ready", f"the other process did not start: {line!r}"

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
