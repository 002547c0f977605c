"""Notifications: in-app messages now, and email through the outbox (sent by `flask worker`)."""

from __future__ import annotations

import logging
import re
import smtplib
from email.message import EmailMessage
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, or_, select, update

from learning.core import jobs
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import Notification, User

log = logging.getLogger(__name__)

#: The kind of job that sends one email (registered with the outbox below).
EMAIL = "email"
#: What an admin sees instead of a set-password link (the link is the password).
HIDDEN_LINK = "(a set-password link, hidden)"


def notify(user: User, kind: str, message: str, link: str = "") -> Notification:
    """Add an in-app notification, and queue it as an email if mail is on; the caller commits.

    Nothing here waits on the network: the email goes in the outbox with the action.
    """
    note = Notification(user_id=user.id, kind=kind, message=message[:300], link=link[:300])
    db.session.add(note)
    if user.unread_notifications is not None:  # someone notified in their own request
        user.unread_notifications += 1
    queue_email(user, message, link)
    return note


def mail_on() -> bool:
    """Email is sent with MAIL_SERVER set; in development without it the worker prints it."""
    config = current_app.config
    return bool(config.get("MAIL_SERVER")) or config.get("APP_ENV") == "development"


def email_payload(user: User, message: str, link: str, secret_link: bool = False
                  ) -> dict[str, Any]:
    """What the outbox keeps for one email. `secret_link`: the link is a set-password link,
    masked on the admins' page and removed from the payload once the email is sent."""
    return {"user_id": user.id, "to": user.email, "message": message, "link": link,
            "secret_link": secret_link}


def queue_email(user: User, message: str, link: str = "", secret_link: bool = False) -> bool:
    """Put an email to `user` in the outbox (the caller commits); False when mail is off."""
    if not mail_on():
        return False
    jobs.enqueue(EMAIL, email_payload(user, message, link, secret_link))
    return True


#: Line breaks of every kind (and other control characters): in a header, a line break from a
#: learner's name or a task's title would start a header of its own.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_text(value: str) -> str:
    """One line of plain text for an email header, whatever a name or title held.

    Every header of every email passes here. (Python's email package refuses a header with a
    line break, which would otherwise fail the job that sends the email, on every attempt.)
    """
    return " ".join(_CONTROL.sub(" ", value).split())


def build_email(payload: dict[str, Any], config: Any) -> EmailMessage:
    """The email a payload describes, with the site's sender, name and address."""
    message, link = str(payload.get("message", "")), str(payload.get("link", ""))
    mail = EmailMessage()
    mail["From"] = header_text(config.get("MAIL_DEFAULT_SENDER", "joined-up@localhost"))
    mail["To"] = header_text(str(payload.get("to", "")))
    mail["Subject"] = header_text(f"{config.get('SITE_NAME', 'Joined Up')}: "
                                  f"{header_text(message)[:60]}")
    base = config.get("SITE_URL", "").rstrip("/")
    mail.set_content(f"{message}\n\n{base}{link}\n" if link else f"{message}\n")
    return mail


def deliver_email(payload: dict[str, Any], context: jobs.Context) -> dict[str, Any] | None:
    """The outbox's handler for one email: hand it to the SMTP server, or fail the attempt.

    Runs in the worker, never in a request. Every SMTP step waits at most MAIL_TIMEOUT
    seconds. Returns the payload without a set-password link once it is sent.
    """
    config = current_app.config
    mail = build_email(payload, config)
    server = config.get("MAIL_SERVER")
    if not server:
        if config.get("APP_ENV") != "development":
            raise RuntimeError("MAIL_SERVER is not set for the worker")
        log.info("development, so not sent: email to %s\n%s", mail["To"], mail.get_content())
        return _without_secret(payload)
    try:
        with smtplib.SMTP(server, int(config.get("MAIL_PORT", 25)),
                          timeout=float(config.get("MAIL_TIMEOUT", 10))) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        # The server will never take this address: trying again cannot help.
        raise jobs.GiveUp(f"the mail server refused the address: {exc}") from exc
    return _without_secret(payload)


def _without_secret(payload: dict[str, Any]) -> dict[str, Any] | None:
    if not payload.get("secret_link"):
        return None
    return {**payload, "link": HIDDEN_LINK}


def describe_email(payload: dict[str, Any]) -> str:
    """An email in one line for the outbox page: a set-password link is never shown."""
    link = str(payload.get("link") or "")
    if link and payload.get("secret_link"):
        link = HIDDEN_LINK
    text = f"Email to {payload.get('to', '?')}: {payload.get('message', '')}"
    return f"{text} {link}" if link else text


jobs.register(EMAIL, deliver_email, describe_email)


def unread_count_of(user_id):
    """How many unread notifications the user `user_id` (a column or a value) has: a
    subquery, so the session loader reads it in the same statement as the user."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).scalar_subquery()


def unread_count(user: User) -> int:
    """The menu's count: as read with the user at the start of the request, if it was."""
    if user.unread_notifications is not None:
        return user.unread_notifications
    return db.session.scalar(select(unread_count_of(user.id))) or 0


def recent(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def like_literal(text: str) -> str:
    """`text` as a LIKE pattern that matches only itself (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _links_to(page, page_like):
    """A notification's link names this page: the path itself, or with a #fragment."""
    return or_(Notification.link == page, Notification.link.like(page_like, escape="\\"))


def unread_here_of(user_id, page, page_like):
    """How many of the user's unread notifications link to `page` (values or bind
    parameters; `page_like` is like_literal(page) + "#%"): a subquery for the session loader."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None),
        _links_to(page, page_like)).scalar_subquery()


def mark_read_for_page(user: User, path: str) -> int:
    """Mark read the user's unread notifications that link to this page (any #fragment
    ignored); the caller commits. Costs a statement only when the session loader saw one."""
    if not user.unread_here:
        return 0
    done = cast(CursorResult[Any], db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None),
        _links_to(path, like_literal(path) + "#%")).values(read_at=utcnow())))
    count = done.rowcount or 0
    user.unread_here = 0
    if user.unread_notifications is not None:
        user.unread_notifications = max(user.unread_notifications - count, 0)
    return count


def mark_all_read(user: User) -> None:
    db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(
        read_at=utcnow()))
    user.unread_notifications = 0
    db.session.commit()
