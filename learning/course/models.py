"""Module progress: one row per learner and module, keyed by the module's slug."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learning.core.extensions import Model
from learning.core.types import UTCDateTime, utcnow


class ModuleProgress(Model):
    __tablename__ = "module_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "module_slug", name="uq_module_progress_learner_module"),
        CheckConstraint("completed_at IS NULL OR completed_at >= started_at",
                        name="completed_after_started"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Refers to content by its stable slug, not a foreign key: content lives in files.
    module_slug: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Which version of the module text the learner had when they completed it.
    completed_version: Mapped[str | None] = mapped_column(String(64))
