"""A fresh schema for a bench's throwaway database, stamped at the migrations' head.

A server refuses to start on a database whose schema is not the code's (core/readiness.py),
so a bench that serves the app under gunicorn makes its tables with create_all (which
tests/test_migrations.py keeps identical to the migrations) and stamps the head, as
`flask db upgrade` would leave them.
"""

from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def fresh_schema(db) -> None:
    """Drop everything (the alembic_version table too), create the tables, stamp the head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.create_all()
    with db.engine.begin() as conn:
        MigrationContext.configure(conn).stamp(ScriptDirectory(str(MIGRATIONS)), "heads")
