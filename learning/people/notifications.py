"""Notifications: in-app messages, and email through SMTP when MAIL_SERVER is configured."""

from __future__ import annotations

import logging
import re
import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func, select, update

from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import Notification, User

log = logging.getLogger(__name__)


def notify(user: User, kind: str, message: str, link: str = "") -> Notification:
    """Add an in-app notification (the caller commits) and send it by email if configured."""
    note = Notification(user_id=user.id, kind=kind, message=message[:300], link=link[:300])
    db.session.add(note)
    if user.unread_notifications is not None:  # someone notified in their own request
        user.unread_notifications += 1
    send_email(user, message, link)
    return note


#: Line breaks of every kind (and other control characters): in a header, a line break from a
#: learner's name or a task's title would start a header of its own.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_text(value: str) -> str:
    """One line of plain text for an email header, whatever a name or title held.

    Every header of every email passes here. (Python's email package refuses a header with a
    line break, which would otherwise fail the action that sent the email.)
    """
    return " ".join(_CONTROL.sub(" ", value).split())


def send_email(user: User, message: str, link: str) -> None:
    """Email a message and link when MAIL_SERVER is set; log it in development otherwise."""
    config = current_app.config
    server = config.get("MAIL_SERVER")
    if not server:
        if config.get("APP_ENV") == "development":
            log.info("email to %s: %s %s", user.email, message, link)
        return
    mail = EmailMessage()
    mail["From"] = header_text(config.get("MAIL_DEFAULT_SENDER", "joined-up@localhost"))
    mail["To"] = header_text(user.email)
    mail["Subject"] = header_text(f"{config.get('SITE_NAME', 'Joined Up')}: "
                                  f"{header_text(message)[:60]}")
    base = config.get("SITE_URL", "").rstrip("/")
    mail.set_content(f"{message}\n\n{base}{link}\n" if link else f"{message}\n")
    try:
        with smtplib.SMTP(server, int(config.get("MAIL_PORT", 25)), timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        # Email is a courtesy copy: the in-app notification is already stored.
        log.warning("could not email %s: %s", user.email, exc)


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


def mark_all_read(user: User) -> None:
    db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(
        read_at=utcnow()))
    user.unread_notifications = 0
    db.session.commit()
