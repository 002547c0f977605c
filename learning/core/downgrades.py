"""Migration downgrades keep the data they would drop, and the upgrade back puts it back.

A downgrade that drops a table or a column holding people's data first copies its rows to a
side table named `kept_<table>` (or `kept_<table>__<column>`), made with CREATE TABLE ... AS
SELECT, so it carries no constraint or index whose name the upgrade would need again. The
upgrade that creates the table again copies the rows back and drops the side table. An older
version of the app never reads the side tables; a backup includes them.

Used from migrations/versions only (alembic's `op` is bound there).
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

log = logging.getLogger("alembic.runtime.migration")

PREFIX = "kept_"


class KeptDataInTheWay(RuntimeError):
    """A side table from an earlier downgrade is still there: refuse rather than mix them."""


def kept_name(table: str, column: str | None = None) -> str:
    return f"{PREFIX}{table}__{column}" if column else f"{PREFIX}{table}"


def keep_table(table: str) -> None:
    """Before a downgrade drops `table`: copy its rows aside (nothing when it is empty)."""
    bind = op.get_bind()
    side = kept_name(table)
    _refuse_if_there(bind, side)
    if _sql(bind, "SELECT count(*) FROM {table}", table=table).scalar_one():
        _sql(bind, "CREATE TABLE {side} AS SELECT * FROM {table}", side=side, table=table)
        log.info("Kept the rows of %s in %s until the upgrade back.", table, side)


def restore_table(table: str) -> None:
    """After an upgrade creates `table` again: put back the rows a downgrade kept."""
    bind = op.get_bind()
    side = kept_name(table)
    if not inspect(bind).has_table(side):
        return
    columns = [c["name"] for c in inspect(bind).get_columns(side)]
    _sql(bind, "INSERT INTO {table} ({columns}) SELECT {columns} FROM {side}",
         table=table, side=side, columns=columns)
    _sql(bind, "DROP TABLE {side}", side=side)
    if bind.dialect.name == "postgresql":
        _carry_on_numbering(bind, table)
    log.info("Put back the rows of %s kept by a downgrade.", table)


def keep_column(table: str, column: str, key: str = "id") -> None:
    """Before a downgrade drops `table.column`: copy its values aside, by `key`."""
    bind = op.get_bind()
    side = kept_name(table, column)
    _refuse_if_there(bind, side)
    if _sql(bind, "SELECT 1 FROM {table} WHERE {column} IS NOT NULL",
            table=table, column=column).first():
        _sql(bind, "CREATE TABLE {side} AS SELECT {key}, {column} FROM {table} "
                   "WHERE {column} IS NOT NULL", side=side, key=key, column=column, table=table)
        log.info("Kept %s.%s in %s until the upgrade back.", table, column, side)


def restore_column(table: str, column: str, key: str = "id") -> None:
    """After an upgrade adds `table.column` again: put back the values a downgrade kept."""
    bind = op.get_bind()
    side = kept_name(table, column)
    if not inspect(bind).has_table(side):
        return
    _sql(bind, "UPDATE {table} SET {column} = (SELECT k.{column} FROM {side} k "
               "WHERE k.{key} = {table}.{key}) WHERE {key} IN (SELECT {key} FROM {side})",
         table=table, column=column, key=key, side=side)
    _sql(bind, "DROP TABLE {side}", side=side)
    log.info("Put back %s.%s kept by a downgrade.", table, column)


def _sql(bind: Connection, statement: str, values: dict | None = None,
         **names: str | list[str]):
    """Run a statement about the tables and columns named in it. The names come from the
    migration files, never from input, and are quoted here (a list becomes `a, b`)."""
    quote = bind.dialect.identifier_preparer.quote
    quoted = {k: ", ".join(map(quote, v)) if isinstance(v, list) else quote(v)
              for k, v in names.items()}
    return bind.execute(text(statement.format(**quoted)), values or {})


def _refuse_if_there(bind: Connection, side: str) -> None:
    if inspect(bind).has_table(side):
        raise KeptDataInTheWay(
            f"{side} is still there from an earlier downgrade, so this downgrade would mix "
            f"two copies. Nothing was changed. Upgrade to head (which puts {side} back), or "
            f"look at it and drop it yourself if it is not needed.")


def _carry_on_numbering(bind: Connection, table: str) -> None:
    """PostgreSQL: the id sequence starts after the rows put back, not at 1."""
    for column in inspect(bind).get_pk_constraint(table)["constrained_columns"]:
        sequence = bind.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                {"t": bind.dialect.identifier_preparer.quote(table),
                                 "c": column}).scalar()
        if sequence:
            _sql(bind, "SELECT setval(:sequence, (SELECT max({column}) FROM {table}))",
                 {"sequence": sequence}, column=column, table=table)
