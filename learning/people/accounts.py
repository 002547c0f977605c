"""Accounts: creating people, granting roles, checking passwords."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from learning.core import audit
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.names import name_problem
from learning.core.types import utcnow
from learning.people import password_checks, passwords, sessions, throttle
from learning.people.models import Role, User, UserRole

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH

# Checked against when an account has no password to check (unknown email, invited and not
# yet set): made by the same generate_password_hash as real ones, so it costs the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password-just-for-timing")


class AccountError(ValueError):
    """A rule about accounts was broken; the message is safe to show to the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


class TooManyAttempts(AccountError):
    """Too many failed logins for this email address in a row: wait before the next try."""

    def __init__(self, wait: timedelta):
        self.wait = wait
        super().__init__("Too many failed attempts to log in with this email address. Try "
                         f"again in {throttle.in_words(wait)}. If you have forgotten your "
                         "password, ask your training coordinator to reset it.")


def _email_key(email: str) -> str:
    # A hash, so the audit log and the throttle do not collect mistyped addresses in clear.
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]


def authenticate(email: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this email and password, or None (never says which part failed).

    Each try is counted for the address before its password is checked (people/throttle.py):
    after MAX_FAILURES in a row, TooManyAttempts says how long to wait, whether or not the
    address has an account, so guessing is slowed down without revealing which exist.
    Raises password_checks.Busy when the server's password-check turns stay taken.
    """
    key = _email_key(email)
    # A turn first (password_checks.Busy if none comes free soon), so a login turned away
    # as busy has counted no try against the address and checked nothing.
    with password_checks.login_turn():
        wait = throttle.claim(key, now or utcnow())
        if wait is not None:
            raise TooManyAttempts(wait)
        user = find_by_email(email)
        matches = _password_matches(user, password)
    if user is None or not matches or not user.active:
        failed = AuditEvent(action="login.failed", subject_type="email", subject_id=key,
                            detail={})
        db.session.add(failed)
        db.session.commit()
        return None
    throttle.succeeded(key)
    user.last_login_at = utcnow()
    audit.record("login", actor=user, subject=user)
    db.session.commit()
    return user


def _password_matches(user: User | None, password: str) -> bool:
    """Exactly one hash check of the same cost, whatever kind of account `user` is; the
    caller holds a password_checks turn.

    An unknown address and an invited account with no password yet are checked against
    _DUMMY_HASH, so the time a login takes does not tell which kind of account an address has.
    """
    stored = user.password_hash if user is not None else None
    matches = check_password_hash(stored or _DUMMY_HASH, password)
    return bool(stored) and matches


class WeakPassword(AccountError):
    """A new password is too short or too easy to guess; the message says what to do."""


def check_password_rules(password: str, email: str = "", name: str = "") -> None:
    """Every new password passes here (people/passwords.py): long enough, hard to guess."""
    wrong = passwords.problem(password, passwords.personal_words(email, name))
    if wrong is not None:
        raise WeakPassword(wrong)


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
        check_password_rules(password, email, name)
        user.set_password(password)
    for role in roles:
        user.roles.append(UserRole(role=str(Role(role))))
    try:  # the same address added twice at once: the unique email decides, no 500
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as exc:
        raise AccountError(f"An account with the email {email} already exists.") from exc
    audit.record("user.create", actor=actor, subject=user, roles=[str(r) for r in roles])
    return user


#: Extra time a coordinator may give in timed quizzes (percent of the limit): the usual
#: access arrangements (25% is the most common).
EXTRA_TIME_CHOICES = (0, 10, 25, 50, 100)


def set_extra_time(learner: User, percent: int, actor: User) -> bool:
    """Give a learner extra time in timed quizzes (from their next attempt); False when it
    is unchanged. The caller commits."""
    if percent not in EXTRA_TIME_CHOICES:
        raise AccountError("Choose one of the amounts of extra time offered.")
    if not learner.has_role(Role.LEARNER):
        raise AccountError("Extra time is for learners.")
    if learner.extra_time_percent == percent:
        return False
    audit.record("user.extra_time", actor=actor, subject=learner,
                 before=learner.extra_time_percent, after=percent)
    learner.extra_time_percent = percent
    return True


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
    check_password_rules(new, user.email, user.name)
    user.set_password(new)
    ended = sessions.end_all(user, "password")
    audit.record("user.change_password", actor=user, subject=user, sessions_ended=ended)
    db.session.commit()
