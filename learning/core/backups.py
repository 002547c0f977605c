"""Backups: the whole database in one file, taken while the app runs, and putting one back.

SQLite is copied with its online backup API (a consistent copy even while the app writes;
copying the file itself is not: recent changes may still be in its -wal file). PostgreSQL is
dumped with `pg_dump -Fc` and put back with `pg_restore` into psql, in one transaction.
Those programs run with fixed arguments, never through a shell (hence the nosec marks).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, cast

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"

#: URL query parameters that libpq also reads from the environment.
_PG_PARAMS = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
              "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "host": "PGHOST",
              "port": "PGPORT", "options": "PGOPTIONS"}

#: Run before the restored objects, in the same transaction: the app's tables go, whatever
#: revision they are at (a newer migration's table would otherwise stay behind). Dropping
#: each table, not the schema, needs only ownership of the tables.
CLEAR_PUBLIC_SCHEMA = """\
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.tablename);
  END LOOP;
  FOR r IN SELECT sequence_name FROM information_schema.sequences
           WHERE sequence_schema = 'public' LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS public.%I CASCADE', r.sequence_name);
  END LOOP;
END $$;
"""


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    """A backup file: which kind of database it holds, and at which migration."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    revision: str | None


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: nothing to back up.")
    return Path(database).resolve()


def shown(url: str | URL) -> str:
    """The database's address as it may be printed: never with its password."""
    return make_url(url).render_as_string(hide_password=True)


def stamped_name(url: str | URL, now: datetime | None = None) -> str:
    """A backup file name that sorts by time: joined-up-20270115T020000Z.sqlite3 (or .dump)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"joined-up-{stamp}.{'sqlite3' if is_sqlite(url) else 'dump'}"


# ---- creating ----

def create(url: str | URL, target: Path) -> Path:
    """Write a backup of the database to `target` (a new file; a folder gets a dated name).

    The file appears complete or not at all, readable by its owner only (it holds personal
    data and password hashes).
    """
    if target.is_dir():
        target = target / stamped_name(url)
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file name (or a folder, "
                          "where the backup gets a dated name). A backup is never overwritten.")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder: create it first.")
    partial = target.with_name(f".{target.name}.partial")
    try:
        if is_sqlite(url):
            _sqlite_copy(sqlite_path(url), partial, live=True)
        else:
            _pg_dump(make_url(url), partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
        _sync_folder(target.parent)
    except OSError as exc:
        raise BackupError(f"{target}: cannot be written ({exc.strerror or exc}).") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


def _sqlite_copy(source: Path, target: Path, live: bool) -> None:
    """Copy an SQLite database page by page in one read transaction; check the copy."""
    if not source.is_file():
        raise BackupError(f"{source}: no such database file.")
    try:
        src = (sqlite3.connect(source, timeout=30) if live
               else sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True))
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                # A backup is one self-contained file, without a -wal beside it.
                dst.execute("PRAGMA journal_mode=DELETE")
                problems = [row[0] for row in dst.execute("PRAGMA quick_check")]
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: could not be copied ({exc}).") from exc
    if problems != ["ok"]:
        raise BackupError(f"{source}: the copy fails SQLite's check ({'; '.join(problems[:3])}).")
    with open(target, "rb") as copy:
        os.fsync(copy.fileno())


def _pg_dump(url: URL, target: Path) -> None:
    pg_dump = _tool("pg_dump")
    _run([pg_dump, "--format=custom", "--no-password", f"--file={target}"], url,
         f"pg_dump of {shown(url)} failed")


# ---- reading a backup ----

def describe(path: Path) -> Backup:
    """What a backup file holds, or BackupError when it is not a backup of this app."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    if head == SQLITE_MAGIC:
        return Backup(path, "sqlite", _sqlite_revision(path))
    if head.startswith(PG_MAGIC):
        return Backup(path, "postgresql", _pg_revision(path))
    raise BackupError(f"{path} is not a backup made by `flask backup create` (neither an SQLite "
                      "database nor a pg_dump custom-format archive).")


def _sqlite_revision(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: not a Joined Up database ({exc}).") from exc
    return row[0] if row else None


def _pg_revision(path: Path) -> str | None:
    pg_restore = _tool("pg_restore")
    result = subprocess.run(  # nosec B603
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)],
        capture_output=True, text=True, check=False, env=_pg_env(None))
    if result.returncode != 0:
        raise BackupError(f"{path}: pg_restore cannot read it ({_last_line(result.stderr)}).")
    found = re.search(r"^COPY [\w.\"]*alembic_version .*?;\n(\w+)\n", result.stdout,
                      re.MULTILINE)
    return found.group(1) if found else None


# ---- restoring ----

def restore_sqlite(url: str | URL, backup: Backup) -> None:
    """Replace the SQLite database file with the backup's; the caller holds it alone.

    The copy is made beside the database and renamed over it, so the database is the old
    one or the new one, never half of each. Its old -wal and -shm files go first: left
    behind, SQLite would apply the old database's last changes to the restored one.
    """
    database = sqlite_path(url)
    incoming = database.with_name(f".{database.name}.restoring")
    incoming.unlink(missing_ok=True)
    try:
        _sqlite_copy(backup.path, incoming, live=False)
        if database.exists():  # the app's user must still own it, if root restores
            old = database.stat()
            os.chmod(incoming, old.st_mode & 0o777)
            if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                os.chown(incoming, old.st_uid, old.st_gid)
        for suffix in ("-wal", "-shm", "-journal"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        os.replace(incoming, database)
        _sync_folder(database.parent)
    except OSError as exc:
        raise BackupError(f"{database}: cannot be replaced ({exc.strerror or exc}).") from exc
    finally:
        incoming.unlink(missing_ok=True)


def restore_postgresql(url: str | URL, backup: Backup) -> None:
    """Replace every table with the backup's, in one transaction: all of it or nothing.

    pg_restore turns the archive into SQL and psql runs it after dropping the tables there
    are now. psql commits only when its input ends cleanly, so if pg_restore fails part way
    psql is killed first, and the server rolls the transaction back.
    """
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    pg_url = make_url(url)
    env = _pg_env(pg_url)
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as load_err:
        load = subprocess.Popen(  # nosec B603
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--no-password",
             "--set=ON_ERROR_STOP=1", "--file=-"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=load_err, env=env)
        dump = subprocess.Popen(  # nosec B603
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(backup.path)],
            stdout=subprocess.PIPE, stderr=dump_err, env=env)
        dump_ok = False
        try:
            dump_ok = _feed(dump, load)
        finally:
            if not dump_ok and load.poll() is None:
                load.kill()  # before its input ends: never commit half a restore
            for process in (dump, load):
                if process.stdin:
                    _close(process.stdin)
                if process.stdout:
                    process.stdout.close()
                process.wait()
        if load.returncode != 0 and dump_ok:
            raise BackupError(f"Restoring into {shown(pg_url)} failed "
                              f"({_last_line(_read(load_err))}). Nothing was changed.")
        if not dump_ok:
            raise BackupError(f"pg_restore could not read {backup.path} "
                              f"({_last_line(_read(dump_err))}). Nothing was changed.")


def _feed(dump: subprocess.Popen, load: subprocess.Popen) -> bool:
    """Pipe the SQL into psql; True when pg_restore wrote all of it (psql's stdin stays open)."""
    source, sink = cast(IO[bytes], dump.stdout), cast(IO[bytes], load.stdin)  # both PIPEs
    try:
        sink.write(CLEAR_PUBLIC_SCHEMA.encode())
        shutil.copyfileobj(source, sink, 1 << 20)
    except BrokenPipeError:  # psql stopped at an error; its message says which
        dump.kill()
        dump.wait()
        return True  # pg_restore is not to blame: psql's message is the one to show
    return dump.wait() == 0


def _close(stream) -> None:
    with contextlib.suppress(BrokenPipeError):  # psql may have gone already
        stream.close()


# ---- helpers ----

def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found on PATH. Install the PostgreSQL client "
                          "programs, the server's major version or newer (Debian and Ubuntu: "
                          "apt-get install postgresql-client).")
    return found


def _pg_env(url: URL | None) -> dict[str, str]:
    """The environment for pg_dump, pg_restore and psql: the connection comes from
    DATABASE_URL through libpq's PG* variables, so the password is never on a command line
    (where `ps` shows it to every user of the machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if url is None:
        return env
    values = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username,
              "PGPASSWORD": url.password, "PGDATABASE": url.database}
    for param, variable in _PG_PARAMS.items():
        value = url.query.get(param)
        if isinstance(value, str) and not values.get(variable):
            values[variable] = value
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    return env


def _run(command: list[str], url: URL, failure: str) -> None:
    result = subprocess.run(  # nosec B603
        command, capture_output=True, text=True, check=False, env=_pg_env(url))
    if result.returncode != 0:
        raise BackupError(f"{failure}: {_last_line(result.stderr)}")


def _read(file) -> str:
    file.seek(0)
    return file.read().decode(errors="replace")


def _last_line(output: str) -> str:
    """The line of a tool's output that says what went wrong."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"error:|ERROR:|FATAL:", line)]
    return (errors or lines or ["no message"])[0 if errors else -1]


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
