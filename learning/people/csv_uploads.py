"""An enrolment CSV waiting between its preview and "Import": kept in the database, claimed once.

Nothing a request needs lives on one server's disk, so the preview may be made by one app
server and the confirmation handled by another. An upload is its uploader's alone, lasts an
hour, and is claimed by one conditional UPDATE: of two presses of "Import" (a double click,
two tabs) exactly one imports, and the other finds it taken.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update

from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import CsvUpload, User

LIFETIME = timedelta(hours=1)
#: Claimed uploads are kept this long after their upload, so a second press of "Import"
#: can be told what became of the first; their text is emptied when they are claimed.
KEEP_CLAIMED = timedelta(days=1)


class Missing(Enum):
    """Why an upload cannot be imported now."""

    UNKNOWN = "unknown"  # no such upload, or not this person's
    EXPIRED = "expired"
    CLAIMED = "claimed"  # imported (or being imported) by an earlier press


@dataclass(frozen=True)
class Claimed:
    token: str
    filename: str
    text: str
    rows: int


def store(actor: User, filename: str, text: str, rows: int,
          now: datetime | None = None) -> str:
    """Keep a checked file for its uploader; returns its random token. The caller commits."""
    now = now or utcnow()
    remove_old(now)
    token = secrets.token_urlsafe(24)
    db.session.add(CsvUpload(token=token, actor_id=actor.id, filename=filename[:200],
                             text=text, rows=rows, created_at=now,
                             expires_at=now + LIFETIME))
    return token


def claim(token: str, actor: User, now: datetime | None = None) -> Claimed | Missing:
    """Take the upload for importing, once: a conditional UPDATE whose row count decides.

    The caller commits the claim with the import (or what it queues), so a failed import
    rolls the claim back too. Only the uploader may claim it; to anyone else it is unknown.
    """
    now = now or utcnow()
    row = db.session.execute(select(CsvUpload.filename, CsvUpload.text, CsvUpload.rows,
                                    CsvUpload.expires_at, CsvUpload.confirmed_at)
                             .where(CsvUpload.token == token,
                                    CsvUpload.actor_id == actor.id)).one_or_none()
    if row is None:
        return Missing.UNKNOWN
    if row.confirmed_at is not None:
        return Missing.CLAIMED
    if row.expires_at <= now:
        return Missing.EXPIRED
    taken = cast(CursorResult[Any], db.session.execute(
        update(CsvUpload).where(CsvUpload.token == token, CsvUpload.actor_id == actor.id,
                                CsvUpload.confirmed_at.is_(None), CsvUpload.expires_at > now)
        .values(confirmed_at=now, text="")
        .execution_options(synchronize_session=False))).rowcount
    if taken != 1:
        return Missing.CLAIMED  # another press claimed it between our read and our write
    return Claimed(token, row.filename, row.text, row.rows)


def discard(token: str, actor: User) -> None:
    """Forget an upload that can no longer be imported (its check failed at import time)."""
    db.session.execute(delete(CsvUpload).where(CsvUpload.token == token,
                                               CsvUpload.actor_id == actor.id)
                       .execution_options(synchronize_session=False))


def remove_old(now: datetime) -> int:
    """Forget abandoned uploads past their hour, and claimed ones past KEEP_CLAIMED."""
    return cast(CursorResult[Any], db.session.execute(
        delete(CsvUpload).where(
            (CsvUpload.confirmed_at.is_(None) & (CsvUpload.expires_at <= now))
            | (CsvUpload.created_at < now - KEEP_CLAIMED))
        .execution_options(synchronize_session=False))).rowcount
