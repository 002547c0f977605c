"""`flask backup create` and `flask backup restore`, on SQLite and (with TEST_DATABASE_URL)
PostgreSQL: a populated database comes back row for row, and a running app blocks a restore."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text, update

from learning import create_app
from learning.core import in_use
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.people.models import User
from tests.conftest import _postgres_database, fixture_settings
from tests.dbstate import OtherProcess, count, differences, populate, snapshot

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
PG_BASE = os.environ.get("TEST_DATABASE_URL", "")

#: PostgreSQL joins when the suite is given one (`make test-postgres`, as .ci/run does); the
#: SQLite run does not collect it at all, so a fresh clone's `make test` skips nothing.
BACKENDS = ["sqlite"] + ([pytest.param("postgresql", marks=pytest.mark.postgres)]
                         if PG_BASE.startswith("postgresql") else [])


@pytest.fixture(params=BACKENDS)
def own_app(request, tmp_path):
    """An app with a database of its own, migrated to head, its instance folder in tmp."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'live.sqlite3'}", None
    else:
        url, drop = _postgres_database(PG_BASE)
    app = create_app(fixture_settings(url))
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        yield app
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def _run(app, *args, input=None):
    db.session.remove()  # like a separate process: hold no connection across the command
    return app.test_cli_runner().invoke(args=["backup", *args], input=input)


def test_round_trip_of_a_populated_database(own_app, tmp_path):
    populate(own_app)
    before = snapshot(db.engine)
    assert all(before[t] for t in ("user", "submitted_work", "decision", "iqa_review",
                                   "quiz_answer", "text_fingerprint", "invitation",
                                   "login_session", "login_throttle"))
    made = _run(own_app, "create", str(tmp_path))
    assert made.exit_code == 0, made.output
    backup = next(tmp_path.glob("joined-up-*"))
    assert oct(backup.stat().st_mode & 0o777) == "0o600"

    # Life goes on after the backup: a change, a deletion, a new table's worth of rows.
    db.session.execute(update(User).values(name="Changed"))
    db.session.execute(text("DELETE FROM notification"))
    db.session.commit()
    assert snapshot(db.engine) != before

    restored = _run(own_app, "restore", "--yes", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output
    after = snapshot(db.engine, leave_out=frozenset())
    restore_events = [e for e in db.session.scalars(select(AuditEvent))
                      if e.action == "database.restore"]
    assert len(restore_events) == 1
    assert restore_events[0].detail["backup"] == str(backup.resolve())
    after["audit_event"] = [r for r in after["audit_event"] if "database.restore" not in r]
    assert differences(before, after) == []
    # The database as it was before the restore is kept.
    safety = Path(restore_events[0].detail["safety_copy"])
    assert safety.exists() and safety.parent == Path(own_app.instance_path) / "backups"


def test_the_restored_database_takes_new_rows(own_app, tmp_path):
    """PostgreSQL sequences and SQLite rowids carry on after the restored rows."""
    populate(own_app)
    assert _run(own_app, "create", str(tmp_path / "b")).exit_code == 0
    assert _run(own_app, "restore", "--yes", str(tmp_path / "b")).exit_code == 0
    db.session.add(User(email="new@example.test", name="New", active=True))
    db.session.commit()


def test_restore_refused_while_the_app_is_running(own_app, tmp_path):
    populate(own_app)
    backup = tmp_path / "backup"
    assert _run(own_app, "create", str(backup)).exit_code == 0
    db.session.execute(update(User).values(name="After the backup"))
    db.session.commit()
    server = OtherProcess(own_app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        refused = _run(own_app, "restore", "--yes", str(backup))
    finally:
        server.stop()
    assert refused.exit_code == 1
    assert "The app is running" in refused.output
    assert "Traceback" not in refused.output
    names = set(db.session.scalars(select(User.name)))
    assert names == {"After the backup"}, "nothing may change while the app runs"
    # Once it has stopped, the restore goes ahead.
    done = _run(own_app, "restore", "--yes", str(backup))
    assert done.exit_code == 0, done.output
    assert "After the backup" not in set(db.session.scalars(select(User.name)))


def test_restore_asks_first(own_app, tmp_path):
    populate(own_app)
    assert _run(own_app, "create", str(tmp_path / "b")).exit_code == 0
    users = count(db.engine, "user")
    db.session.add(User(email="late@example.test", name="Late", active=True))
    db.session.commit()
    declined = _run(own_app, "restore", str(tmp_path / "b"), input="n\n")
    assert declined.exit_code == 1
    assert "Replace everything in" in declined.output
    assert count(db.engine, "user") == users + 1
    accepted = _run(own_app, "restore", str(tmp_path / "b"), input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert count(db.engine, "user") == users


def test_backup_never_overwrites_a_file(own_app, tmp_path):
    target = tmp_path / "taken"
    target.write_text("an older backup")
    result = _run(own_app, "create", str(target))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_text() == "an older backup"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_restore_refuses_what_is_not_a_backup(tmp_path, backend):
    app = create_app(fixture_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        stray = tmp_path / "notes.txt"
        stray.write_text("not a database")
        result = _run(app, "restore", "--yes", str(stray))
        assert result.exit_code == 1
        assert "is not a backup made by `flask backup create`" in result.output
        assert "Traceback" not in result.output
        db.engine.dispose()


def test_restore_refuses_a_backup_from_a_newer_version(tmp_path):
    import sqlite3

    app = create_app(fixture_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        assert _run(app, "create", str(tmp_path / "b.sqlite3")).exit_code == 0
        with sqlite3.connect(tmp_path / "b.sqlite3") as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
        conn.close()
        result = _run(app, "restore", "--yes", str(tmp_path / "b.sqlite3"))
        assert result.exit_code == 1
        assert "migration ffffffffffff, which this version of Joined Up does not know" \
            in result.output
        db.engine.dispose()


def test_sqlite_restore_drops_a_stale_wal(tmp_path):
    """A process that died (kill -9, power cut) leaves its last changes in the -wal file.
    Moving a damaged database aside leaves that file behind, and SQLite would apply it to
    the restored database at the next open."""
    import subprocess
    import sys

    database = tmp_path / "db.sqlite3"
    app = create_app(fixture_settings(f"sqlite:///{database}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        populate(app)
        assert _run(app, "create", str(tmp_path / "b.sqlite3")).exit_code == 0
        before = snapshot(db.engine)
        db.engine.dispose()
        crash = ("import os, sqlite3, sys\n"
                 "conn = sqlite3.connect(sys.argv[1])\n"
                 "conn.execute('PRAGMA wal_autocheckpoint=0')\n"
                 "conn.execute(\"UPDATE user SET name = 'Only in the WAL'\")\n"
                 "conn.commit()\n"
                 "os._exit(0)\n")  # no close, so no checkpoint: the changes stay in the -wal
        subprocess.run([sys.executable, "-c", crash, str(database)], check=True)
        assert (tmp_path / "db.sqlite3-wal").stat().st_size > 0
        database.rename(tmp_path / "damaged.sqlite3")
        restored = _run(app, "restore", "--yes", str(tmp_path / "b.sqlite3"))
        assert restored.exit_code == 0, restored.output
        after = snapshot(db.engine)
        after["audit_event"] = [r for r in after["audit_event"] if "database.restore" not in r]
        assert differences(before, after) == []
        db.engine.dispose()


def test_in_use_lock_is_shared_by_users_and_taken_alone_by_a_restore(tmp_path):
    import subprocess
    import sys

    database = tmp_path / "x.sqlite3"
    with in_use.only_user(database):
        pass  # nobody else: fine
    code = ("import sys, pathlib\nfrom learning.core import in_use\n"
            f"in_use.mark_in_use(pathlib.Path({str(database)!r}))\n"
            "print('ready', flush=True)\nsys.stdin.read()\n")
    user = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parent.parent,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert user.stdout is not None and user.stdout.readline().strip() == "ready"
        assert in_use.in_use_elsewhere(database)
        assert in_use.holders(database) == [user.pid]
        with pytest.raises(in_use.InUse), in_use.only_user(database):
            pass
    finally:
        assert user.stdin is not None
        user.stdin.close()
        user.wait(timeout=30)
    assert not in_use.in_use_elsewhere(database)  # the kernel let go when it ended


def test_missing_postgresql_programs_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
    app = create_app(fixture_settings("postgresql+psycopg://joinedup:secret@127.0.0.1:1/x"))
    result = _run_outside(app, "create", str(tmp_path))
    assert result.exit_code == 1
    assert "pg_dump was not found on PATH" in result.output
    assert "apt-get install postgresql-client" in result.output
    assert "secret" not in result.output


def test_a_database_that_cannot_be_reached_is_a_message_not_a_traceback(tmp_path):
    app = create_app(fixture_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        assert _run(app, "create", str(tmp_path / "b.sqlite3")).exit_code == 0
        db.engine.dispose()
    elsewhere = create_app(fixture_settings("sqlite:////no/such/folder/db.sqlite3"))
    result = _run_outside(elsewhere, "restore", "--yes", str(tmp_path / "b.sqlite3"))
    assert result.exit_code == 1
    assert "/no/such/folder/db.sqlite3.in-use: No such file or directory" in result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not an error


def _run_outside(app, *args):
    """A command run with no app context held by the test."""
    return app.test_cli_runner().invoke(args=["backup", *args])
