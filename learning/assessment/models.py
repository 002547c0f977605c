"""Written assessments: a learner's work on a task, every draft, every submission, decisions."""

from __future__ import annotations

import enum
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.core.extensions import Model
from learning.core.rendering import stored_or_rendered
from learning.core.types import UTCDateTime, utcnow
from learning.people.models import User


class SubmissionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    BEING_MARKED = "being_marked"
    REFERRED = "referred"
    ACHIEVED = "achieved"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "submitted": "Submitted", "being_marked": "Being marked",
                "referred": "Referred", "achieved": "Achieved"}[self.value]


_STATUS_CHECK = "status IN (" + ", ".join(f"'{s.value}'" for s in SubmissionStatus) + ")"


class Submission(Model):
    """One learner's work on one written task, across all drafts and resubmissions."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("learner_id", "task_slug", name="uq_submission_learner_task"),
        CheckConstraint(_STATUS_CHECK, name="known_status"),
        Index("ix_submission_queue", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The task file's stable slug (content/tasks/*.yaml).
    task_slug: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=SubmissionStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the latest round was submitted: the marking queue is ordered by it.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: An IQA disagreed: the assessor must make a new decision (the learner's outcome stands
    #: until they do).
    reassess: Mapped[bool] = mapped_column(default=False)

    learner: Mapped[User] = relationship()
    drafts: Mapped[list[DraftVersion]] = relationship(
        back_populates="submission", order_by="DraftVersion.number")
    rounds: Mapped[list[SubmittedWork]] = relationship(
        back_populates="submission", order_by="SubmittedWork.number")

    @property
    def status_enum(self) -> SubmissionStatus:
        return SubmissionStatus(self.status)

    #: Whether any text was ever saved, when read with the learner's list of submissions
    #: (submissions.submissions_by_task); None when not read that way.
    has_text = None  # type: bool | None
    #: Whether a released decision is waiting for the learner to read it, when read the same
    #: way; None when not.
    unread_feedback = None  # type: bool | None

    @property
    def learner_label(self) -> str:
        """The status as every learner page names it: "Not started" until text is saved
        (opening the writing page makes the record, but starts nothing)."""
        if self.status == SubmissionStatus.DRAFT.value:
            has_text = self.has_text if self.has_text is not None else bool(self.drafts)
            if not has_text:
                return "Not started"
        return self.status_enum.label


class DraftVersion(Model):
    """Every save of a learner's text is kept; nothing is overwritten or deleted."""

    __tablename__ = "draft_version"
    __table_args__ = (
        UniqueConstraint("submission_id", "number", name="uq_draft_version_number"),
        CheckConstraint("kind IN ('save', 'autosave', 'restore', 'conflict')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    #: The text rendered once, when it was saved (core.rendering.render_answer), so pages
    #: never render an answer again.
    html: Mapped[str | None] = mapped_column(Text)
    word_count: Mapped[int]
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: How it was saved. "conflict": text from an out-of-date tab, kept but not made current.
    kind: Mapped[str] = mapped_column(String(10))
    #: The version the browser started from, so an out-of-date tab is detected.
    based_on: Mapped[int | None]

    submission: Mapped[Submission] = relationship(back_populates="drafts")

    @property
    def rendered(self) -> Markup:
        return stored_or_rendered(self.html, self.text)


class WritingActivity(Model):
    """What the writing page's script saw between two saves: typing, active time, pastes.

    One row per save that carried it. Without JavaScript there are none, and the
    writing-process report is built from the versions alone (writing_process.py).
    """

    __tablename__ = "writing_activity"
    __table_args__ = (
        CheckConstraint("typed_chars >= 0 AND active_seconds >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    #: The version the save made or found current. A number, not a key: thinning
    #: (submissions.thin_autosaves) may remove an autosave, and this row must outlive it.
    draft_number: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Characters typed (keyboard, dictation, spelling fixes) since the last recorded save.
    typed_chars: Mapped[int] = mapped_column(default=0)
    #: Seconds spent writing, pauses over two minutes left out.
    active_seconds: Mapped[int] = mapped_column(default=0)
    #: Each paste or drop: {"at": ISO time, "chars": size, "text": first 5,000 characters,
    #: "own": True when it was text cut or copied from this same box}.
    pastes: Mapped[list] = mapped_column(JSON, default=list)


class SubmittedWork(Model):
    """One submission round: the first submission is 1, each resubmission adds one."""

    __tablename__ = "submitted_work"
    __table_args__ = (
        UniqueConstraint("submission_id", "number", name="uq_submitted_work_number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    #: Rendered once, when it was submitted (see DraftVersion.html).
    html: Mapped[str | None] = mapped_column(Text)
    word_count: Mapped[int]
    draft_version_id: Mapped[int] = mapped_column(ForeignKey("draft_version.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The learner ticked "this is my own work" at this time.
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The learner's optional note on their sources or how they wrote the answer.
    sources: Mapped[str] = mapped_column(Text, default="")
    #: Share of the text matching other work (0..1) and the report; for assessors only.
    originality_share: Mapped[float | None]
    originality_report: Mapped[dict | None] = mapped_column(JSON)

    submission: Mapped[Submission] = relationship(back_populates="rounds")

    @property
    def rendered(self) -> Markup:
        return stored_or_rendered(self.html, self.text)
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="work", order_by="Decision.id")
    #: Passages assessors attached to criteria while marking this round (withdrawn ones too).
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="work", order_by=lambda: (Evidence.start_offset, Evidence.id))


class Decision(Model):
    """An assessor's decision on one submission round.

    Editable only while a draft; once released it never changes. A later decision on the
    same round (after an IQA disagreement) is a new row.
    """

    __tablename__ = "decision"
    __table_args__ = (
        CheckConstraint("outcome IN ('achieved', 'referred')", name="known_outcome"),
        CheckConstraint("outcome = 'referred' OR actions = ''", name="actions_only_if_referred"),
        Index("ix_decision_assessor", "assessor_id", "released_at"),
        # One released decision per turn on a round: a second release of the same turn (two
        # assessors, a double click) cannot be stored, whatever the code above it does.
        UniqueConstraint("work_id", "release_number", name="uq_decision_release_number"),
        CheckConstraint("(released_at IS NULL) = (release_number IS NULL)",
                        name="numbered_when_released"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("submitted_work.id"), index=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str] = mapped_column(String(10))
    feedback: Mapped[str] = mapped_column(Text, default="")
    #: What the learner must do before resubmitting (referrals only).
    actions: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: 1 for the first decision released on this round, 2 for one released after an IQA
    #: reopened it, and so on; null while a draft.
    release_number: Mapped[int | None]
    #: Null while a marking draft; set once, on release to the learner.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the learner first opened the feedback page after the release: until then the
    #: dashboard lists it as feedback to read.
    learner_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    work: Mapped[SubmittedWork] = relationship(back_populates="decisions")
    assessor: Mapped[User] = relationship()
    criteria: Mapped[list[CriterionDecision]] = relationship(
        back_populates="decision", order_by="CriterionDecision.id",
        cascade="all, delete-orphan")

    @property
    def is_released(self) -> bool:
        return self.released_at is not None


class CriterionDecision(Model):
    """Met or not yet met, with a comment, for one criterion within a decision."""

    __tablename__ = "criterion_decision"
    __table_args__ = (
        UniqueConstraint("decision_id", "criterion_id", name="uq_criterion_decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"))
    criterion_id: Mapped[str] = mapped_column(String(40))
    met: Mapped[bool]
    comment: Mapped[str] = mapped_column(Text, default="")

    decision: Mapped[Decision] = relationship(back_populates="criteria")


class Evidence(Model):
    """A passage of one submission round that an assessor attached to a criterion as evidence.

    It belongs to the round it was made on (a resubmission starts with none), and it is never
    deleted: removing it sets withdrawn_at, so what a released decision showed can be shown
    again (assessment/evidence.py decides which passages a decision shows).
    """

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("start_offset >= 0 AND end_offset > start_offset",
                        name="passage_not_empty"),
        Index("ix_evidence_work", "work_id", "start_offset"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("submitted_work.id"))
    assessor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    criterion_id: Mapped[str] = mapped_column(String(40))
    #: Character offsets into SubmittedWork.text: text[start_offset:end_offset] == quote.
    start_offset: Mapped[int]
    end_offset: Mapped[int]
    #: The passage itself, kept so a highlight is only drawn where the text still says it.
    quote: Mapped[str] = mapped_column(Text)
    met: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    work: Mapped[SubmittedWork] = relationship(back_populates="evidence")
