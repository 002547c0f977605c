"""Set-password links: invitations for new accounts and password resets, single use, expiring.

Only the SHA-256 of a token is stored with the link; the raw token exists in the link shown to
the person who created it and in the email. An email waiting in the outbox holds the link
until the worker has sent it (no page shows it), so a copy of the database hands out no
working link other than those of unsent emails."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, select, update

from learning.core import audit, jobs
from learning.core.dates import uk_datetime
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people import accounts, sessions
from learning.people import notifications as notify
from learning.people.models import Invitation, User

INVITE = "invite"
RESET = "reset"
#: How long each kind of link works for.
LIFETIMES = {INVITE: timedelta(days=7), RESET: timedelta(hours=24)}
#: The public page's path; the `invitations.set_password` route must match (a test checks).
LINK_PATH = "/set-password/{token}"


class LinkError(accounts.AccountError):
    """A link cannot be used; the message is safe to show and says what to do next."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class IssuedLink:
    """A new link: the raw token is here and nowhere else, so show or send it now."""

    invitation: Invitation
    user: User
    token: str

    @property
    def path(self) -> str:
        return LINK_PATH.format(token=self.token)

    @property
    def expires_at(self) -> datetime:
        return self.invitation.expires_at


#: A set-password link's path, wherever it was written into text.
_LINK_IN_TEXT = re.compile(re.escape(LINK_PATH.split("{", 1)[0]) + r"[^\s\"'<>]+")


def mask_links(text: str) -> str:
    """`text` with the token of every set-password link in it hidden (for admins' pages)."""
    return _LINK_IN_TEXT.sub(LINK_PATH.format(token="(hidden)"), text)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, purpose: str = INVITE, actor: User | None = None,
          now: datetime | None = None) -> IssuedLink:
    """Create a link for `user` to set a password; audited, and the caller commits."""
    if purpose not in LIFETIMES:
        raise ValueError(f"unknown purpose {purpose!r}")
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(user_id=user.id, token_hash=token_hash(token), purpose=purpose,
                            created_at=now, expires_at=now + LIFETIMES[purpose],
                            created_by_id=actor.id if actor is not None else None)
    db.session.add(invitation)
    audit.record("invitation.create", actor=actor, subject=user, purpose=purpose,
                 expires_at=invitation.expires_at.isoformat(timespec="minutes"))
    return IssuedLink(invitation, user, token)


def email_message(link: IssuedLink) -> str:
    """The words of the email that carries a set-password link."""
    site = current_app.config.get("SITE_NAME", "Joined Up")
    if link.invitation.purpose == INVITE:
        return (f"You have an account on {site}. Use this link to set your password "
                f"before {uk_datetime(link.expires_at)}.")
    return (f"Use this link to set a new password for {site} before "
            f"{uk_datetime(link.expires_at)}.")


def email_link(link: IssuedLink) -> bool:
    """Queue an email with the link when mail is on (the caller commits); True if queued.

    Not `notify.notify`: its in-app copy would keep the raw token in the database. The
    outbox keeps it only until the email is sent, and never shows it (`secret_link`).
    """
    return notify.queue_email(link.user, email_message(link), link.path, secret_link=True)


def email_links(links: list[IssuedLink]) -> int:
    """Queue one email per link in a few multi-row INSERTs (a CSV import's thousands of new
    learners); the caller commits. Returns how many were queued (none when mail is off)."""
    if not links or not notify.mail_on():
        return 0
    return jobs.enqueue_many(notify.EMAIL, (notify.email_payload(
        link.user, email_message(link), link.path, secret_link=True) for link in links))


def find(token: str, now: datetime | None = None) -> Invitation:
    """The invitation a token belongs to if it can still be used; otherwise LinkError."""
    now = now or utcnow()
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise LinkError("This link is not recognised. Check that you copied the whole link, "
                        "or ask your training coordinator for a new one.", 404)
    if invitation.used_at is not None:
        raise LinkError("This link has already been used. If you set your password with it, "
                        "log in. If not, ask your training coordinator for a new link.", 410)
    if invitation.expires_at <= now:
        raise LinkError(f"This link expired on {uk_datetime(invitation.expires_at)}. Ask your "
                        "training coordinator for a new one.", 410)
    user = db.session.get(User, invitation.user_id)
    if user is None or not user.active:
        raise LinkError("This account has been deactivated, so its password cannot be set. "
                        "Ask your training coordinator if you think that is wrong.", 403)
    return invitation


def use(token: str, password: str, now: datetime | None = None) -> User:
    """Set the password through a link, once only; commits and returns the user."""
    now = now or utcnow()
    invitation = find(token, now)
    user = db.session.get_one(User, invitation.user_id)
    accounts.check_password_rules(password, user.email, user.name)
    # Conditional update: of two requests racing with one link, exactly one wins.
    # Session.execute is typed as returning Result; for an UPDATE it is a CursorResult.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now))).rowcount
    if claimed != 1:
        db.session.rollback()
        raise LinkError("This link has already been used. If you set your password with it, "
                        "log in. If not, ask your training coordinator for a new link.", 410)
    # Older links would otherwise still work after the person has chosen a password.
    db.session.execute(update(Invitation).where(
        Invitation.user_id == invitation.user_id, Invitation.used_at.is_(None),
        Invitation.id != invitation.id).values(used_at=now))
    user.set_password(password)
    ended = sessions.end_all(user, "password")  # a reset ends every session, as a change does
    audit.record("user.set_password", actor=user, subject=user, purpose=invitation.purpose,
                 sessions_ended=ended)
    db.session.commit()
    return user


def links_for(user: User) -> list[Invitation]:
    """Every link made for a person, newest first (hashes only: none can be shown again)."""
    return list(db.session.scalars(select(Invitation).where(Invitation.user_id == user.id)
                                   .order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def link_status(invitation: Invitation, now: datetime | None = None) -> str:
    """Where a link stands, in words."""
    now = now or utcnow()
    if invitation.used_at is not None:
        return "Used or replaced"
    if invitation.expires_at <= now:
        return "Expired"
    return "Waiting to be used"
