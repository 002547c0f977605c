"""The Alembic migrations build exactly the schema the models describe."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from learning import create_app
from learning.core.config import settings_for_tests
from learning.core.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


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
