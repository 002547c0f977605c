"""Internal quality assurance: sampling plans, sampled decisions and the IQA's verdicts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.assessment.models import Decision
from learning.core.extensions import Model
from learning.core.types import UTCDateTime, utcnow
from learning.people.models import User


class SamplingPlan(Model):
    """How much of one assessor's work is sampled; new assessors are sampled more."""

    __tablename__ = "sampling_plan"
    __table_args__ = (CheckConstraint("rate >= 0 AND rate <= 100", name="rate_percent"),)

    assessor_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    #: Percentage of released decisions drawn into the sample.
    rate: Mapped[int]
    new_assessor: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class IqaSample(Model):
    """A released decision chosen for IQA review, by the plan or by hand."""

    __tablename__ = "iqa_sample"
    __table_args__ = (
        UniqueConstraint("decision_id", name="uq_iqa_sample_decision"),
        CheckConstraint("reason IN ('plan', 'manual')", name="known_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"))
    reason: Mapped[str] = mapped_column(String(10))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who picked it by hand (null for the plan).
    sampled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    decision: Mapped[Decision] = relationship()
    reviews: Mapped[list[IqaReview]] = relationship(back_populates="sample",
                                                    order_by="IqaReview.id")


class IqaReview(Model):
    """The IQA's verdict on a sampled decision; append-only."""

    __tablename__ = "iqa_review"
    __table_args__ = (
        CheckConstraint("verdict IN ('agree', 'disagree')", name="known_verdict"),
        CheckConstraint("verdict = 'agree' OR action <> ''", name="disagree_needs_action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("iqa_sample.id"), index=True)
    iqa_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    verdict: Mapped[str] = mapped_column(String(10))
    comments: Mapped[str] = mapped_column(Text, default="")
    #: What the assessor must do (required when disagreeing).
    action: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set when the assessor releases a new decision that answers the action.
    action_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sample: Mapped[IqaSample] = relationship(back_populates="reviews")
    iqa: Mapped[User] = relationship()
