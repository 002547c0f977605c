"""Password hashing a few at a time per server, so a login storm leaves CPU for every page.

A password check (scrypt, as werkzeug makes it) costs about 100 ms of one core, on purpose:
that is what makes a stolen hash slow to guess, and it stays. But 300 learners logging in
within ten seconds would ask for 30 seconds of CPU, every core would be hashing, and every
other request would queue behind them. So a check (or a new hash) first takes one of
PASSWORD_CHECKS_AT_ONCE turns (half the cores by default). A login that finds every turn
taken gets a "busy, trying again" answer (people/views/auth.py) at once, unless it is the
only one waiting: a sync worker that waits serves nobody else.

The turns are lock files (flock) in PASSWORD_CHECK_DIR, shared by every worker process and
thread on the server: gunicorn's sync workers are separate processes, so a lock inside one
process would bound nothing. The kernel frees a turn when its holder ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

#: How long the one login allowed to wait for a turn (login_turn) waits before it is told
#: the site is busy: a turn comes free every 100 ms or so while logins are checked.
LOGIN_WAIT = 0.5
#: Changing or setting a password is rare: it waits as long as it takes, within reason.
LONG_WAIT = 15.0
#: Seconds after which a busy login tries again (the page adds a little at random).
RETRY_AFTER = 2
_POLL = 0.01


class Busy(Exception):
    """Every turn stayed taken for the whole wait: try again in a few seconds."""

    retry_after = RETRY_AFTER


def default_turns() -> int:
    """Half the cores this process may use (at least one): the rest serve everyone else."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, cores // 2)


def _turns() -> tuple[int, Path]:
    config = current_app.config
    directory = Path(config.get("PASSWORD_CHECK_DIR")
                     or Path(current_app.instance_path) / "password-checks")
    directory.mkdir(parents=True, exist_ok=True)
    return max(1, int(config.get("PASSWORD_CHECKS_AT_ONCE") or default_turns())), directory


def _lock(path: Path) -> int | None:
    """The open file `path`, locked for this caller; None if someone else holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _take(directory: Path, count: int) -> int | None:
    """A held turn (an open, locked file), or None when all `count` are taken."""
    for n in range(count):
        if (fd := _lock(directory / f"turn-{n}.lock")) is not None:
            return fd
    return None


def _wait_for(directory: Path, count: int, wait: float) -> int:
    deadline = time.monotonic() + wait
    while (fd := _take(directory, count)) is None:
        if time.monotonic() >= deadline:
            raise Busy
        time.sleep(_POLL)
    return fd


@contextmanager
def turn(wait: float | None = None) -> Iterator[None]:
    """Hold one of the server's password-check turns; Busy if none comes free within `wait`
    seconds (LONG_WAIT unless given)."""
    count, directory = _turns()
    fd = _wait_for(directory, count, LONG_WAIT if wait is None else wait)
    try:
        yield
    finally:
        _release(fd)


@contextmanager
def login_turn() -> Iterator[None]:
    """A login's turn: at once if one is free. Otherwise one login on the server (the first
    to ask) waits up to LOGIN_WAIT for the next turn, and any other is Busy at once: a sync
    worker that waits serves nobody else, and in a storm the turns are never idle anyway,
    as logins told to try again keep arriving."""
    count, directory = _turns()
    fd = _take(directory, count)
    if fd is None:
        waiting = _lock(directory / "waiting.lock")
        if waiting is None:
            raise Busy
        try:
            fd = _wait_for(directory, count, LOGIN_WAIT)
        finally:
            _release(waiting)
    try:
        yield
    finally:
        _release(fd)


def matches(stored: str, password: str, wait: float | None = None) -> bool:
    """Whether `password` matches the hash `stored`, checked in a turn."""
    with turn(wait):
        return check_password_hash(stored, password)


def make(password: str, wait: float | None = None) -> str:
    """A new hash of `password` (scrypt, werkzeug's default), made in a turn."""
    with turn(wait):
        return generate_password_hash(password)
