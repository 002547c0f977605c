"""Login throttling per email address: a counter row, claimed before each password check.

The first MAX_FAILURES tries in a row are free. After that each try must wait, 30 seconds at
first and twice as long after every further failure, up to LONGEST_WAIT: guessing is slowed
to a few tries an hour, while the real person, who knows their password, waits a minute or
two rather than being locked out. A successful login starts the count again, and so do
FAILURE_WINDOW minutes without a try.

The count is per address whether or not it has an account, so the answer never says which.
Each try is claimed with one conditional UPDATE before the password is checked: of any number
of tries arriving together, at most those the rule allows get as far as a password check.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from learning.core.extensions import db
from learning.core.types import UTCDateTime
from learning.people.models import LoginThrottle

#: Tries in a row that need no wait.
MAX_FAILURES = 10
#: The wait after the MAX_FAILURES-th try; it doubles with each further one, up to LONGEST_WAIT.
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=10)
#: A count is forgotten after this long without a try (never shorter than LONGEST_WAIT).
FAILURE_WINDOW = timedelta(minutes=15)


def wait_after(tries: int) -> timedelta | None:
    """Pure: how long the next try must wait after `tries` tries in a row (None: no wait)."""
    if tries < MAX_FAILURES:
        return None
    doublings = min(tries - MAX_FAILURES, 16)  # 30 s * 2**16 is far past the cap already
    return min(FIRST_WAIT * 2 ** doublings, LONGEST_WAIT)


def in_words(wait: timedelta) -> str:
    """Pure: a wait as a person says it, rounded up: "30 seconds", "1 minute", "4 minutes"."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _waits_from(now: datetime, tries):
    """SQL: the wait_until a claim sets, given the try count it sets (`tries`, an expression).

    Every distinct wait is a bound timestamp, so the rule runs in the UPDATE itself, the same
    on SQLite and PostgreSQL, with no date arithmetic in SQL.
    """
    whens: list[tuple[Any, Any]] = [(tries < MAX_FAILURES, null())]
    n = MAX_FAILURES
    while (wait := wait_after(n)) is not None and wait < LONGEST_WAIT:
        whens.append((tries == n, literal(now + wait, UTCDateTime())))
        n += 1
    return case(*whens, else_=literal(now + LONGEST_WAIT, UTCDateTime()))


#: INSERT ... ON CONFLICT DO NOTHING, for the databases that have it.
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _dialect_name() -> str:
    return db.session.get_bind().dialect.name


def _add_row(key: str, now: datetime) -> bool:
    """Make sure the address has a counter row; True if this call added it."""
    values = {"key": key, "tries": 0, "last_try_at": now}
    dialect = _dialect_name()
    if dialect in _INSERTS:
        # RETURNING, not rowcount: psycopg reports no rowcount for this INSERT.
        added = db.session.execute(_INSERTS[dialect](LoginThrottle).values(**values)
                                   .on_conflict_do_nothing(index_elements=["key"])
                                   .returning(LoginThrottle.key))
        return added.first() is not None
    if db.session.get(LoginThrottle, key) is not None:  # other databases: insert and see
        return False
    try:
        db.session.add(LoginThrottle(**values))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _claim_once(key: str, now: datetime) -> bool:
    """One conditional UPDATE: count a try unless the address must still wait."""
    fresh = LoginThrottle.last_try_at < now - FAILURE_WINDOW
    tries = case((fresh, 1), else_=LoginThrottle.tries + 1)
    # Both SET expressions read the row as it was before this UPDATE, in SQLite and PostgreSQL.
    claimed = db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key,
               or_(LoginThrottle.wait_until.is_(None), LoginThrottle.wait_until <= now))
        .values(tries=tries, last_try_at=now, wait_until=_waits_from(now, tries))
        .execution_options(synchronize_session=False))
    return cast(CursorResult[Any], claimed).rowcount == 1


def claim(key: str, now: datetime) -> timedelta | None:
    """Count a try for `key` before its password is checked; commits.

    Returns None when the try may go ahead, or how long the address must still wait.
    """
    for _ in range(3):
        if _add_row(key, now):
            # A new address: clear out counts nobody has added to for a whole window.
            db.session.execute(delete(LoginThrottle).where(
                LoginThrottle.last_try_at < now - FAILURE_WINDOW, LoginThrottle.key != key))
        if _claim_once(key, now):
            db.session.commit()
            return None
        wait_until = db.session.scalar(select(LoginThrottle.wait_until)
                                       .where(LoginThrottle.key == key))
        db.session.commit()
        if wait_until is not None and wait_until > now:
            return wait_until - now
        # The row went (cleared out by another request) or its wait ended in between: again.
    return FIRST_WAIT


def succeeded(key: str) -> None:
    """The password was right: the next try starts a new count. The caller commits."""
    db.session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                       .values(tries=0, wait_until=None)
                       .execution_options(synchronize_session=False))
