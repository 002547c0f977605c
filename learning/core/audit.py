"""Append-only audit records (who did what, to what, when) and the one way to write them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.core.extensions import Model, db
from learning.core.types import UTCDateTime, utcnow


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        # The log is read newest first (at, then id), whole or for one action (also one
        # action's events over a time, such as failed logins), or about one subject (a
        # person's data export, their failed logins by email hash): each reads its index in
        # order and stops at the page, however many millions of rows there are.
        Index("ix_audit_event_at_id", "at", "id"),
        Index("ix_audit_event_action_at", "action", "at", "id"),
        Index("ix_audit_event_subject", "subject_type", "subject_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Null for actions by the system or the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


def record(action: str, actor: Any = None, subject: Any = None, **detail) -> AuditEvent:
    """Add an audit event to the session (committed with the caller's change).

    `actor` is a person (anything with an `id`); core knows no domain's models.
    """
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=str(subject.id) if subject is not None and hasattr(subject, "id") else None,
        detail=detail,
    )
    db.session.add(event)
    return event


def record_view(action: str, actor: Any, learner_id: int, **detail) -> None:
    """Someone opened or downloaded a learner's work or record: one INSERT, committed now.

    The event is about the learner (subject "User", so the audit log and the learner's data
    export find it). Call it after the page is rendered: the commit expires what the session
    holds, and the page must not load it again. A learner opening their own work is not
    recorded; the log answers "who else has seen it?".
    """
    if actor is not None and actor.id == learner_id:
        return
    db.session.add(AuditEvent(actor_id=actor.id if actor is not None else None, action=action,
                              subject_type="User", subject_id=str(learner_id), detail=detail))
    db.session.commit()
