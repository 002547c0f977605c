"""Target dates per cohort for modules, quizzes and written tasks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learning.core.extensions import Model
from learning.core.types import UTCDateTime, utcnow


class Deadline(Model):
    __tablename__ = "deadline"
    __table_args__ = (
        UniqueConstraint("cohort_id", "item_kind", "item_slug", name="uq_deadline_item"),
        CheckConstraint("item_kind IN ('module', 'quiz', 'task')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    item_kind: Mapped[str] = mapped_column(String(10))
    #: The module, quiz or task slug (content is referred to by slug, not a foreign key).
    item_slug: Mapped[str] = mapped_column(String(100))
    #: The last day to finish, in the centre's (UK) calendar.
    due_on: Mapped[date]
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
