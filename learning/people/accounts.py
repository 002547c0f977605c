"""Accounts: creating people, granting roles, checking passwords."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from learning.core import audit
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.names import name_problem
from learning.core.types import utcnow
from learning.people import sessions
from learning.people.models import Role, User, UserRole

MIN_PASSWORD_LENGTH = 12

# Checked against when the email is unknown, so a failed login takes the same time either way.
_DUMMY_HASH = generate_password_hash("not-a-real-password-just-for-timing")


class AccountError(ValueError):
    """A rule about accounts was broken; the message is safe to show to the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


#: Failed logins for one email address within the window before further tries are refused.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)


class TooManyAttempts(AccountError):
    """Too many failed logins for this email address recently."""


def _email_key(email: str) -> str:
    # A hash, so the audit log of failures does not collect mistyped addresses in clear.
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]


def recent_failures(email: str) -> int:
    since = utcnow() - FAILURE_WINDOW
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "login.failed", AuditEvent.subject_type == "email",
        AuditEvent.subject_id == _email_key(email), AuditEvent.at >= since)) or 0


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (never says which part failed).

    After MAX_FAILURES failures for an address within FAILURE_WINDOW, TooManyAttempts is
    raised instead, whether or not the address has an account, so guessing is slowed down
    without revealing which addresses exist.
    """
    if recent_failures(email) >= MAX_FAILURES:
        raise TooManyAttempts("Too many failed attempts to log in with this email address. "
                              "Wait 15 minutes, or ask your training coordinator to reset "
                              "your password.")
    user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # the same work as a real check
    if user is None or not (user.check_password(password) and user.active):
        failed = AuditEvent(action="login.failed", subject_type="email",
                            subject_id=_email_key(email), detail={})
        db.session.add(failed)
        db.session.commit()
        return None
    user.last_login_at = utcnow()
    audit.record("login", actor=user, subject=user)
    db.session.commit()
    return user


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.")


def create_user(email: str, name: str, password: str | None, roles: Sequence[Role | str],
                actor: User | None = None) -> User:
    """Create an account with the given roles; the caller commits."""
    email = normalise_email(email)
    if problem := name_problem(name, "The name"):
        raise AccountError(problem)
    if find_by_email(email) is not None:
        raise AccountError(f"An account with the email {email} already exists.")
    user = User(email=email, name=name.strip())
    if password is not None:
        check_password_rules(password)
        user.set_password(password)
    for role in roles:
        user.roles.append(UserRole(role=str(Role(role))))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, subject=user, roles=[str(r) for r in roles])
    return user


def grant_role(user: User, role: Role | str, actor: User | None = None) -> bool:
    """Give a role if the user lacks it; True if something changed. The caller commits."""
    role = Role(role)
    if user.has_role(role):
        return False
    user.roles.append(UserRole(role=str(role)))
    audit.record("user.grant_role", actor=actor, subject=user, role=str(role))
    return True


def change_password(user: User, current: str, new: str) -> None:
    """Change a password after checking the current one; commits."""
    if not user.check_password(current):
        raise AccountError("Your current password is not correct.")
    check_password_rules(new)
    user.set_password(new)
    ended = sessions.end_all(user, "password")
    audit.record("user.change_password", actor=user, subject=user, sessions_ended=ended)
    db.session.commit()
