"""Cohorts: a group of learners with assigned assessors and an internal quality assurer."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.extensions import db
from learning.models.types import UTCDateTime, utcnow
from learning.models.user import User


class Cohort(db.Model):
    __tablename__ = "cohort"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                        name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    #: The qualification unit the cohort studies (an id from content/units.yaml, e.g. CYP33),
    #: so learners see their own unit's criteria wording; null shows every unit.
    unit_id: Mapped[str | None] = mapped_column(String(20))
    #: The centre that runs the cohort; its coordinators manage it.
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    #: Archived cohorts drop out of day-to-day lists; nothing in them is deleted.
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="cohort")
    staff: Mapped[list[CohortStaff]] = relationship(back_populates="cohort")


class Enrolment(db.Model):
    """A learner's membership of a cohort. Leaving sets left_at, so history is kept."""

    __tablename__ = "enrolment"
    __table_args__ = (
        Index("ix_enrolment_current", "user_id", "left_at"),
        CheckConstraint("left_at IS NULL OR left_at >= enrolled_at", name="left_after_enrolled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    user: Mapped[User] = relationship()


class CohortStaff(db.Model):
    """An assessor or IQA assigned to a cohort; assignments scope what staff may see."""

    __tablename__ = "cohort_staff"
    __table_args__ = (CheckConstraint("role IN ('assessor', 'iqa')", name="staff_role"),)

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="staff")
    user: Mapped[User] = relationship()
