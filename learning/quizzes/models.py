"""Quiz attempts and answers; an attempt keeps a snapshot of exactly what the learner saw."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.core.extensions import Model
from learning.core.types import UTCDateTime, utcnow


class AttemptState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class QuizAttempt(Model):
    __tablename__ = "quiz_attempt"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_slug", "number", name="uq_quiz_attempt_number"),
        CheckConstraint("state IN ('in_progress', 'submitted')", name="known_state"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("state = 'in_progress' OR submitted_at IS NOT NULL",
                        name="submitted_has_time"),
        # At most one open attempt per learner and quiz: two tabs pressing Start get one.
        Index("uq_quiz_attempt_open", "user_id", "quiz_slug", unique=True,
              sqlite_where=text("state = 'in_progress'"),
              postgresql_where=text("state = 'in_progress'")),
        # A quiz's submitted attempts, with who and the score: statistics and the score
        # chart for one quiz read this index alone.
        Index("ix_quiz_attempt_quiz", "quiz_slug", "state", "user_id", "percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Content is referred to by slug; the version hash says which text of the file was used.
    quiz_slug: Mapped[str] = mapped_column(String(100))
    quiz_version: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default=AttemptState.IN_PROGRESS.value)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set when the quiz has a time limit; enforced on the server.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: True when the server submitted the attempt because time ran out.
    timed_out: Mapped[bool] = mapped_column(default=False)
    #: The quiz settings at the start (pass mark, feedback rules...), copied so that a later
    #: edit of the quiz file cannot rewrite this attempt's result or what it may show.
    settings: Mapped[dict] = mapped_column(JSON)
    #: The questions exactly as shown, in display order, with option order.
    questions: Mapped[list] = mapped_column(JSON)
    marks: Mapped[float | None]
    max_marks: Mapped[float]
    percent: Mapped[float | None]
    passed: Mapped[bool | None]

    answers: Mapped[list[QuizAnswer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", lazy="selectin",
        order_by="QuizAnswer.id")

    @property
    def is_open(self) -> bool:
        return self.state == AttemptState.IN_PROGRESS

    def answer_for(self, question_id: str) -> QuizAnswer | None:
        return next((a for a in self.answers if a.question_id == question_id), None)


class QuizAnswer(Model):
    """The learner's latest answer to one question in one attempt."""

    __tablename__ = "quiz_answer"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id", name="uq_quiz_answer_question"),
        # Below 0 only for a single choice with a negative weight (as in Moodle).
        CheckConstraint("score IS NULL OR (score >= -1 AND score <= 1)", name="score_range"),
        CheckConstraint("marks IS NULL OR marks >= 0", name="marks_not_negative"),
        # The statistics add up scores and marks of a quiz's answers from this index alone.
        Index("ix_quiz_answer_scores", "attempt_id", "marks", "score", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id"))
    question_id: Mapped[str] = mapped_column(String(100))
    #: Canonical answer (JSON); null when the question was left blank.
    answer: Mapped[dict | list | str | float | bool | None] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Immediate-feedback quizzes lock a question once the learner checks it.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: -1..1 share of the question's marks, set when graded (negative: see grading.SingleChoice).
    score: Mapped[float | None]
    #: The question's marks as this attempt showed it (its snapshot), set when graded: the
    #: statistics add up marks in SQL without reading every snapshot.
    marks: Mapped[float | None]
    #: When the learner flagged the question for review (Moodle's flag); null when not flagged.
    #: A flag on a question not answered yet gives it a row with a null answer.
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    attempt: Mapped[QuizAttempt] = relationship(back_populates="answers")
