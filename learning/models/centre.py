"""Centres (a college or training provider): cohorts belong to one; coordinators to some."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.extensions import db
from learning.models.types import UTCDateTime, utcnow


class Centre(db.Model):
    __tablename__ = "centre"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CentreMember(db.Model):
    """A coordinator's membership of a centre: they manage that centre's cohorts."""

    __tablename__ = "centre_member"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
