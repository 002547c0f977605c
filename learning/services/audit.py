"""Write append-only audit records; callers commit with the change they describe."""

from __future__ import annotations

from learning.extensions import db
from learning.models import AuditEvent, User


def record(action: str, actor: User | None = None, subject=None, **detail) -> AuditEvent:
    """Add an audit event to the session (committed with the caller's change)."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=str(subject.id) if subject is not None and hasattr(subject, "id") else None,
        detail=detail,
    )
    db.session.add(event)
    return event
