"""The Alembic migrations build exactly the schema the models describe, and walking them
down to nothing and back up again, on SQLite and PostgreSQL, keeps every learner's data."""

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from learning import create_app
from learning.core.config import settings_for_tests
from learning.core.extensions import db
from learning.people.models import User
from tests.conftest import _postgres_database, fixture_settings
from tests.dbstate import differences, populate, snapshot

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
PG_BASE = os.environ.get("TEST_DATABASE_URL", "")


def test_upgrade_from_empty_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app(settings_for_tests(url))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(inspect(conn).get_table_names())
        engine.dispose()
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"user", "user_role", "cohort", "enrolment", "module_progress"} <= tables


#: PostgreSQL joins when the suite is given one (`make test-postgres`, as .ci/run does); the
#: SQLite run does not collect it at all, so a fresh clone's `make test` skips nothing.
BACKENDS = ["sqlite"] + ([pytest.param("postgresql", marks=pytest.mark.postgres)]
                         if PG_BASE.startswith("postgresql") else [])
#: Dropped on the way down on purpose (see their migrations): failed-login counters and
#: login sessions, which only the code that reads them makes safe. Nobody's data.
#: The migration that added user.erased_at (whose downgrade keeps the column aside).
ERASED_AT = "f2ccdb73980e"
NOT_KEPT = frozenset({"login_throttle", "login_session",
                      # derived from text_source (kept): `originality reindex` makes it again
                      "text_sentence_vectors"})
#: Compared apart from the time it was made: the matrix's record of which course it was built
#: for carries the time of the rebuild.
REBUILT = frozenset({"matrix_summary_layout"})


@pytest.fixture(params=BACKENDS)
def migrated_app(request, tmp_path):
    """An app on a database of its own, migrated to head."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'walk.sqlite3'}", None
    else:
        url, drop = _postgres_database(PG_BASE)
    app = create_app(fixture_settings(url))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        yield app
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_down_to_base_and_back_up_keeps_every_row(migrated_app):
    """Every downgrade, in one multi-step command, on a populated database: each table's
    rows are kept aside, and the way back up puts back every row as it was."""
    populate(migrated_app)
    before = snapshot(db.engine)
    assert all(before[t] for t in ("user", "draft_version", "submitted_work", "decision",
                                   "criterion_decision", "iqa_review", "quiz_answer",
                                   "text_source", "text_fingerprint", "invitation", "centre",
                                   "deadline", *NOT_KEPT))
    db.session.remove()

    downgrade(directory=MIGRATIONS, revision="base")
    left = _tables() - {"alembic_version"}
    assert left and all(name.startswith("kept_") for name in left), left
    assert "kept_user__erased_at" in left and "kept_cohort__unit_id" in left

    upgrade(directory=MIGRATIONS)
    _rebuild_summary(migrated_app)
    after = snapshot(db.engine)
    assert not [name for name in _tables() if name.startswith("kept_")]
    assert differences({k: v for k, v in before.items() if k not in NOT_KEPT | REBUILT},
                       {k: v for k, v in after.items() if k not in NOT_KEPT | REBUILT}) == []
    assert len(after["matrix_summary_layout"]) == len(before["matrix_summary_layout"])
    assert after["login_session"] == [] and after["login_throttle"] == []
    # New rows are numbered after the ones put back (PostgreSQL sequences carry on).
    db.session.add(User(email="after@example.test", name="After", active=True))
    db.session.commit()


def test_down_one_step_and_back_keeps_every_row(migrated_app):
    """The same, one migration at a time, each committed on its own."""
    populate(migrated_app)
    before = snapshot(db.engine, leave_out=NOT_KEPT | REBUILT)
    db.session.remove()
    steps = 0
    while _current_revision() is not None:
        downgrade(directory=MIGRATIONS, revision="-1")
        steps += 1
    assert steps == len(list(ScriptDirectory(MIGRATIONS).walk_revisions()))
    upgrade(directory=MIGRATIONS)
    _rebuild_summary(migrated_app)
    assert differences(before, snapshot(db.engine, leave_out=NOT_KEPT | REBUILT)) == []


def _rebuild_summary(app) -> None:
    """The completion matrix's summary is worked out from the rows, not kept through a
    downgrade: the command deploy.md runs after an upgrade makes it again, the same."""
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-summary"])
    assert result.exit_code == 0, result.output


def test_downgrade_refuses_to_mix_two_kept_copies(migrated_app, capfd):
    """A side table left from an earlier downgrade stops the next one, changing nothing."""
    populate(migrated_app)
    db.session.remove()
    downgrade(directory=MIGRATIONS, revision=ERASED_AT)  # the next step down drops erased_at
    at = _current_revision()
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept_user__erased_at (id INTEGER, erased_at TIMESTAMP)"))
    before = snapshot(db.engine)
    with pytest.raises(SystemExit):  # `flask db downgrade` prints the message, exits 1
        downgrade(directory=MIGRATIONS, revision="-1")
    assert ("Error: kept_user__erased_at is still there from an earlier downgrade"
            in capfd.readouterr().err)
    assert _current_revision() == at
    assert differences(before, snapshot(db.engine)) == []


def _current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
