"""Login sessions: one row per login, so logout and password changes end sessions for good."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from flask import has_request_context, request
from flask_login import login_user
from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.orm import contains_eager

from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import LoginSession, Role, User
from learning.people.notifications import like_literal, unread_count_of, unread_here_of

#: last_seen_at is written at most this often (an idle timeout measured in hours does not
#: need a write on every page view).
TOUCH_EVERY = timedelta(minutes=5)
STAFF_ROLES = (Role.ASSESSOR, Role.IQA, Role.COORDINATOR, Role.ADMIN)


@dataclass(frozen=True)
class Limits:
    """How long a session may sit idle, and how long remember-me may last at most."""

    idle: timedelta = timedelta(hours=8)
    remember: timedelta = timedelta(days=30)


def limits_from(config) -> Limits:
    days = min(int(config.get("REMEMBER_ME_DAYS", 30)), 30)  # never more than 30 days
    return Limits(idle=timedelta(hours=float(config.get("SESSION_IDLE_HOURS", 8))),
                  remember=timedelta(days=days))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(user: User, remember: bool, now: datetime | None = None) -> str:
    """Open a session for `user` and return its token ("<id>:<secret>"); the caller commits."""
    secret = secrets.token_urlsafe(32)
    now = now or utcnow()
    row = LoginSession(user_id=user.id, secret_hash=_hash(secret), remember=remember,
                       created_at=now, last_seen_at=now)
    db.session.add(row)
    db.session.flush()
    return f"{row.id}:{secret}"


def log_in(user: User, remember: bool = False) -> None:
    """From a view: open a session for `user`, commit, and hand its token to Flask-Login."""
    user.session_token = start(user, remember)
    db.session.commit()
    login_user(user, remember=remember)


def idle_limit(user: User, row: LoginSession, limits: Limits) -> timedelta:
    """Staff sessions end after `idle`; a learner who chose remember-me stays for `remember`."""
    if row.remember and not user.has_role(*STAFF_ROLES):
        return limits.remember
    return limits.idle


def is_live(row: LoginSession, user: User, now: datetime, limits: Limits) -> bool:
    """Pure: may this session still be used at `now`?"""
    if row.ended_at is not None or not user.active:
        return False
    if now - row.created_at > limits.remember:  # remember-me has a hard ceiling
        return False
    return now - row.last_seen_at <= idle_limit(user, row, limits)


def _parse(token: str) -> tuple[int, str] | None:
    head, _, secret = (token or "").partition(":")
    if not head.isdigit() or not secret or len(head) > 18:
        return None
    return int(head), secret


@cache  # built once per process: building it took longer than running it
def _session_and_user():
    """The login session, its user with their roles, the user's unread count, and how many
    unread notifications link to the page being opened (bind parameters here, here_like)."""
    return (select(LoginSession, User, unread_count_of(LoginSession.user_id),
                   unread_here_of(LoginSession.user_id, bindparam("here"),
                                  bindparam("here_like")))
            .join(User, User.id == LoginSession.user_id)
            .outerjoin(User.roles).options(contains_eager(User.roles))
            .where(LoginSession.id == bindparam("session_id")))


def load(token: str, limits: Limits, now: datetime | None = None) -> User | None:
    """The user whose live session this token names, or None (Flask-Login's user loader).

    Every page needs the session, the user, their roles and their unread count (the menu
    shows it), so one statement reads all four; the count is kept on the user for the page.
    """
    parsed = _parse(token)
    if parsed is None:
        return None
    here = request.path if has_request_context() else ""
    if "\x00" in here:  # PostgreSQL refuses NUL in text: no notification links there anyway
        here = ""
    found = db.session.execute(_session_and_user(), {
        "session_id": parsed[0], "here": here, "here_like": like_literal(here) + "#%",
    }).unique().first()
    if found is None:
        return None
    row, user, unread, unread_here = found
    if not hmac.compare_digest(row.secret_hash, _hash(parsed[1])):
        return None
    now = now or utcnow()
    if user is None or not is_live(row, user, now, limits):
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user.session_token = token
    user.unread_notifications = unread
    user.unread_here = unread_here
    return user


def end(token: str | None, reason: str = "logout") -> None:
    """End the session this token names (logout); the caller commits."""
    parsed = _parse(token or "")
    if parsed is None:
        return
    db.session.execute(update(LoginSession)
                       .where(LoginSession.id == parsed[0], LoginSession.ended_at.is_(None))
                       .values(ended_at=utcnow(), end_reason=reason))


def end_all(user: User, reason: str) -> int:
    """End every session of `user` (password changed, deactivated, a role removed).

    Returns how many were live. The caller commits.
    """
    result = cast(CursorResult[Any], db.session.execute(
        update(LoginSession).where(LoginSession.user_id == user.id,
                                   LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)))
    return result.rowcount
