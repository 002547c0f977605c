"""Serving and `flask worker` refuse a broken course or a schema behind the code; commands run.

These run the real entry points (app.py under python, flask and gunicorn) in a subprocess,
against the database the suite uses (SQLite, or PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from alembic.script import ScriptDirectory

from learning import MIGRATIONS
from learning.core.problems import Problem
from learning.core.readiness import Migrations, content_problem, schema_problem, serving
from tests.conftest import COURSE_CONTENT, COURSE_QUIZZES, _postgres_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HEAD = ScriptDirectory(str(MIGRATIONS)).get_revision("head")
TASK = "tasks/cyp33-explain-partnership.yaml"

PYTHON_IMPORT = [sys.executable, "-c", "import app"]  # what gunicorn app:app does first


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def empty_database(tmp_path):
    """A database with nothing in it, of the kind the suite runs on."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base and base.startswith("postgresql"):
        url, drop = _postgres_database(base)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'joined-up.sqlite3'}"


@pytest.fixture
def course(tmp_path):
    """A copy of the test course, for a test to break."""
    content = tmp_path / "content"
    shutil.copytree(COURSE_CONTENT, content)
    return content


@pytest.fixture
def run(empty_database, course):
    """run(command) -> CompletedProcess, in production mode on that database and course."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("FLASK_") and name not in (
               "SECRET_KEY", "REDIS_URL", "LOGIN_LIMIT_PER_ADDRESS", "DATABASE_URL")}
    env.update(APP_ENV="production", SECRET_KEY="k" * 32, DATABASE_URL=empty_database,
               CONTENT_DIR=str(course), QUIZ_DIR=str(COURSE_QUIZZES))

    def run_(command: list[str], timeout: int = 60, **more_env) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(command, cwd=ROOT, env={**env, **more_env},
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:  # a server that started: it should not have
            pytest.fail(f"{command} was still running after {timeout}s: {exc.stderr!r}")

    return run_


def _refused(done: subprocess.CompletedProcess, message: str) -> None:
    assert done.returncode == 4, done.stderr  # gunicorn's "application failed to load"
    assert f"Joined Up cannot start: {message}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def _break_task_file(course: Path) -> None:
    path = course / TASK
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("command_verb: explain", "command_verb: ponder"), encoding="utf-8")


def test_a_broken_task_file_stops_serving_but_not_the_commands(run, course):
    """Today a task file with an error is left out, and every learner's work on that task
    answers 404; serving must refuse instead, while db upgrade and content check still run."""
    _break_task_file(course)
    upgrade = run(_flask("db", "upgrade"))
    assert upgrade.returncode == 0, upgrade.stderr
    done = run(PYTHON_IMPORT)
    _refused(done, "1 error in the course files")
    assert f"content/{TASK}:" in done.stderr and "flask --app app content check" in done.stderr
    check = run(_flask("content", "check"))
    assert check.returncode == 1
    assert f"content/{TASK}:" in check.stderr and "1 errors" in check.stdout


def test_gunicorn_stops_on_a_broken_course_rather_than_restart_workers(run, course):
    _break_task_file(course)
    done = run([str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{_free_port()}",
                "--no-control-socket", "app:app"])
    assert done.returncode != 0
    assert "Joined Up cannot start: 1 error in the course files" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_broken_quiz_file_stops_serving(run, tmp_path):
    quizzes = tmp_path / "quizzes"
    shutil.copytree(COURSE_QUIZZES, quizzes)
    (quizzes / "unit-review.yaml").write_text("slug: unit-review\ntitle: [unclosed\n",
                                              encoding="utf-8")
    done = run(PYTHON_IMPORT, QUIZ_DIR=str(quizzes))
    _refused(done, "1 error in the course files")
    assert "quizzes/unit-review.yaml:3: invalid YAML" in done.stderr


def test_a_schema_behind_the_code_stops_serving_until_db_upgrade(run):
    """Today /healthz says ok and submitting fails with "no such table"."""
    behind = run(_flask("db", "upgrade", HEAD.down_revision))
    assert behind.returncode == 0, behind.stderr
    message = (f"the database schema is behind this code (database at {HEAD.down_revision}, "
               f"code needs {HEAD.revision}). Run `flask --app app db upgrade` first.")
    _refused(run(PYTHON_IMPORT), message)
    _refused(run(_flask("run", "--port", str(_free_port()))), message)
    upgrade = run(_flask("db", "upgrade"))  # a command: it runs on a schema behind
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"-> {HEAD.revision}" in upgrade.stderr
    ready = run(PYTHON_IMPORT)
    assert ready.returncode == 0, ready.stderr


def test_an_empty_database_stops_serving(run):
    _refused(run(PYTHON_IMPORT), "the database has no schema yet. Run `flask --app app db "
                                 "upgrade` first.")


def test_a_database_that_does_not_answer_does_not_stop_start_up(run, tmp_path):
    """It may be restarting: the app starts, /healthz says 503 until it answers."""
    done = run(PYTHON_IMPORT, DATABASE_URL=f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")
    assert done.returncode == 0, done.stderr
    assert "start-up: the database did not answer (OperationalError)" in done.stderr


# ---- `flask worker` makes the same checks ----

def _worker_refused(done, message: str) -> None:
    assert done.returncode == 4, done.stderr
    assert f"Joined Up's worker cannot start: {message}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_the_worker_refuses_a_schema_behind_the_code(run):
    """Today it starts, and every job that touches a new table fails and is retried."""
    behind = run(_flask("db", "upgrade", HEAD.down_revision))
    assert behind.returncode == 0, behind.stderr
    message = (f"the database schema is behind this code (database at {HEAD.down_revision}, "
               f"code needs {HEAD.revision}). Run `flask --app app db upgrade` first.")
    _worker_refused(run(_flask("worker", "--once")), message)
    _worker_refused(run(_flask("worker", "--poll", "0.1"), timeout=30), message)  # serving too
    assert run(_flask("db", "upgrade")).returncode == 0
    ready = run(_flask("worker", "--once"))
    assert ready.returncode == 0, ready.stderr
    assert "Ran 0 jobs" in ready.stdout


def test_the_worker_refuses_a_broken_course(run, course):
    assert run(_flask("db", "upgrade")).returncode == 0
    _break_task_file(course)
    done = run(_flask("worker", "--once"))
    _worker_refused(done, "1 error in the course files")
    assert "flask --app app content check" in done.stderr


def test_the_worker_names_the_kinds_of_job_it_runs(run):
    assert run(_flask("db", "upgrade")).returncode == 0
    done = run(_flask("worker", "--once"))
    assert done.returncode == 0, done.stderr
    assert ("worker: runs jobs of kinds email, enrolment-import, originality-reindex, "
            "originality-similar, "
            "report-export") in done.stderr


# ---- the decisions, without a subprocess ----

CODE = Migrations(heads=frozenset({"c"}), known=frozenset({"a", "b", "c"}))


@pytest.mark.parametrize(("found", "says"), [
    ({"c"}, None),
    ({"b"}, "the database schema is behind this code (database at b, code needs c)"),
    (set(), "the database has no schema yet"),
    ({"z"}, "the database schema is at revision z, which this code's migrations do not know"),
])
def test_schema_problem(found, says):
    problem = schema_problem(frozenset(found), CODE)
    assert (problem is None) if says is None else says in problem


def test_content_problem_counts_errors_and_lets_warnings_pass():
    warning = Problem("content/a.md", 3, "long sentence", level="warning")
    assert content_problem([warning]) is None
    errors = [Problem(f"content/t{i:02}.yaml", i, "missing key") for i in range(12)]
    message = content_problem([warning, *errors])
    assert message.startswith("12 errors in the course files")
    assert "content/t00.yaml:0: missing key" in message and "t09.yaml" in message
    assert "t10.yaml" not in message and "… and 2 more" in message


@pytest.mark.parametrize(("environ", "command", "serves"), [
    ({}, None, True),  # gunicorn, uwsgi, python -c 'import app'
    ({"FLASK_RUN_FROM_CLI": "true"}, "run", True),
    ({"FLASK_RUN_FROM_CLI": "true"}, "db", False),
    ({"FLASK_RUN_FROM_CLI": "true"}, "content", False),
    ({"FLASK_RUN_FROM_CLI": "true"}, None, False),
])
def test_serving_means_a_wsgi_server_or_flask_run(environ, command, serves):
    context = click.Context(click.Command(command), info_name=command) if command else None
    assert serving(environ, context) is serves
