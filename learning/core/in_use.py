"""Which processes use the database, so that a restore never pulls it from under the app.

Every process of the app that opens the database is counted, whatever it is (gunicorn,
`flask run`, `flask worker`, a command), and it stops counting when it ends, however it ends:

- SQLite: the first connection takes a shared lock (flock) on a file beside the database and
  the process holds it until it exits; the kernel drops it then, so no stale mark is left
  behind, even after a crash. A restore takes the lock exclusively, or refuses.
- PostgreSQL: every connection names itself APP_NAME (application_name), so
  `pg_stat_activity` lists the connected processes, on every app server at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

#: application_name of every PostgreSQL connection the app opens (config.engine_options).
APP_NAME = "joined-up"

log = logging.getLogger(__name__)
_held: dict[str, int] = {}  # lock file -> the descriptor this process holds its lock on
_guard = threading.Lock()


class InUse(Exception):
    """Another process of the app uses the database."""


def lock_file(database: Path) -> Path:
    """The file whose lock marks an SQLite database as in use."""
    return database.with_name(database.name + ".in-use")


def mark_in_use(database: Path) -> None:
    """Count this process as a user of the SQLite database until it exits.

    Waits while a restore holds the lock, so nothing reads a database being replaced.
    """
    path = str(lock_file(database))
    with _guard:
        if path in _held:
            return
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            # The app works on without the mark (a restore then cannot see this process):
            # never fail to serve over it.
            log.warning("cannot mark %s as in use (%s): give the app's user write access "
                        "to that folder", database, exc.strerror or exc)
            return
        fcntl.flock(fd, fcntl.LOCK_SH)
        _held[path] = fd


def in_use_elsewhere(database: Path) -> bool:
    """Whether another process holds the database's lock (this process's own is ignored)."""
    with _exclusive_fd(lock_file(database)) as fd:
        return fd is None


@contextlib.contextmanager
def only_user(database: Path) -> Iterator[None]:
    """Hold the SQLite database for this process alone, or raise InUse at once.

    Other processes that open it meanwhile wait; afterwards this process counts as an
    ordinary user again.
    """
    with _exclusive_fd(lock_file(database)) as fd:
        if fd is None:
            raise InUse(f"another process is using {database}")
        yield


@contextlib.contextmanager
def _exclusive_fd(path: Path) -> Iterator[int | None]:
    """Yield the lock's descriptor while held exclusively, or None when another process has it.

    Either way this process is an ordinary (shared) user afterwards: it has opened, or is
    about to open, the database.
    """
    key = str(path)
    with _guard:
        fd = _held.get(key)
        if fd is None:
            fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o600)
            _held[key] = fd  # our own connections meanwhile must not wait for our own lock
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            got = True
        except BlockingIOError:
            got = False
    try:
        yield fd if got else None
    finally:
        # Back to shared. Also after a refused conversion, which may have dropped the lock.
        fcntl.flock(fd, fcntl.LOCK_SH)


def holders(database: Path) -> list[int]:
    """Linux: the process ids that hold the database's lock, besides this one (for messages)."""
    try:
        inode = lock_file(database).stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    pids = set()
    for line in lines:  # "1: FLOCK  ADVISORY  READ  1234 08:01:5678 0 EOF"
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
            pids.add(int(fields[4]))
    return sorted(pids - {os.getpid()})


def other_connections(conn: Connection) -> list[dict]:
    """PostgreSQL: the app's connections to this database other than `conn` itself."""
    rows = conn.execute(text(
        "SELECT pid, client_addr, backend_start, state FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = :name "
        "AND pid <> pg_backend_pid() ORDER BY backend_start"), {"name": APP_NAME})
    return [dict(row._mapping) for row in rows]
