"""The completion matrix's summary (one stored row per current enrolment, so the matrix
filters, sorts and pages in SQL; kept up to date by learning.reports.summary) and large
exports made by the worker."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from learning.core.extensions import Model
from learning.core.types import UTCDateTime, utcnow


class MatrixSummary(Model):
    """What the matrix shows, filters and sorts on for one learner in one cohort.

    Nothing here depends on today's date: `next_due_on` is compared with it when the page is
    read, so an item becomes overdue at midnight without any write.
    """

    __tablename__ = "matrix_summary"
    __table_args__ = (
        CheckConstraint("done >= 0 AND done <= required", name="done_within_required"),
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),
        CheckConstraint("referrals >= 0 AND referred_now >= 0 AND waiting >= 0",
                        name="counts_not_negative"),
        # The matrix reads a scope of cohorts ordered by name; the cohort's average reads the
        # same index.
        Index("ix_matrix_summary_cohort", "cohort_id", "name", "enrolment_id"),
        Index("ix_matrix_summary_name", "name", "enrolment_id"),
    )

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"))
    #: The learner's name and reference as shown, and folded to lower case for the search.
    name: Mapped[str] = mapped_column(String(120))
    learner_ref: Mapped[str | None] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(String(120))
    ref_key: Mapped[str] = mapped_column(String(50), default="")
    #: Items achieved that count toward progress, items that count, and the percentage shown.
    done: Mapped[int]
    required: Mapped[int]
    percent: Mapped[int]
    #: The most referrals on one written task; tasks referred now; tasks waiting for marking.
    referrals: Mapped[int]
    referred_now: Mapped[int]
    waiting: Mapped[int]
    #: Any module opened, quiz attempt or written answer.
    started: Mapped[bool]
    #: Items handed in, one mask per kind (bit i: the i-th item of that kind in the layout).
    module_handed_in: Mapped[int] = mapped_column(BigInteger)
    quiz_handed_in: Mapped[int] = mapped_column(BigInteger)
    task_handed_in: Mapped[int] = mapped_column(BigInteger)
    #: The earliest due date of an item the cohort does and the learner has not handed in,
    #: of those set on or after the day the learner joined the cohort.
    next_due_on: Mapped[date | None]
    #: The UK date the learner joined the cohort: a deadline already past then is not theirs.
    joined_on: Mapped[date | None]


class MatrixSummaryLayout(Model):
    """The one row saying the summary is built, and for which items (a JSON list of kind,
    slug, counts and units): a course edit that changes them means a rebuild."""

    __tablename__ = "matrix_summary_layout"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    layout: Mapped[str] = mapped_column(Text)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MatrixCohortPace(Model):
    """Each cohort's current learners and the items they have achieved in all: its average
    progress, which the RAG rule compares each learner with (kept with the summary rows)."""

    __tablename__ = "matrix_cohort_pace"
    __table_args__ = (CheckConstraint("learners > 0 AND done >= 0", name="counts_positive"),)

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), primary_key=True)
    learners: Mapped[int]
    done: Mapped[int]


class ChartFigures(Model):
    """One learner's quiz attempts by score band and submissions by days to their first
    decision: what the charts add up over the learners in a report, so a chart reads one row
    per learner instead of every attempt (kept with the summary rows; learning.reports.charts
    says what each band holds)."""

    __tablename__ = "chart_figures"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    #: Submitted quiz attempts scoring 0–9%, 10–19% … 90–100% (charts.BANDS).
    score_0: Mapped[int] = mapped_column(default=0)
    score_1: Mapped[int] = mapped_column(default=0)
    score_2: Mapped[int] = mapped_column(default=0)
    score_3: Mapped[int] = mapped_column(default=0)
    score_4: Mapped[int] = mapped_column(default=0)
    score_5: Mapped[int] = mapped_column(default=0)
    score_6: Mapped[int] = mapped_column(default=0)
    score_7: Mapped[int] = mapped_column(default=0)
    score_8: Mapped[int] = mapped_column(default=0)
    score_9: Mapped[int] = mapped_column(default=0)
    #: Submissions by days to their first released decision (charts.TURNAROUND), and the days
    #: added up.
    decided_0: Mapped[int] = mapped_column(default=0)
    decided_1: Mapped[int] = mapped_column(default=0)
    decided_2: Mapped[int] = mapped_column(default=0)
    decided_3: Mapped[int] = mapped_column(default=0)
    decided_4: Mapped[int] = mapped_column(default=0)
    decided_5: Mapped[int] = mapped_column(default=0)
    decided_6: Mapped[int] = mapped_column(default=0)
    decided_days: Mapped[float] = mapped_column(default=0.0)


class ExportFile(Model):
    """A large CSV export made by the worker (reports/export_jobs.py), kept for its requester
    to download until `expires_at`: it holds learners' personal data, so it is never kept
    for long and only the person who asked for it may download it (audited)."""

    __tablename__ = "export_file"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done')", name="known_status"),
        CheckConstraint("bytes >= 0 AND rows >= 0", name="sizes_not_negative"),
        Index("ix_export_file_user", "user_id", "created_at"),
        Index("ix_export_file_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who asked for it: the only person who may download it.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: Which export ("completion-matrix").
    kind: Mapped[str] = mapped_column(String(40))
    #: The report's filters when it was asked for (its scope is the requester's, as on the
    #: page), and the UK date it is made for.
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    #: pending until the worker has written the file; the job says running or failed.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: The outbox job that makes it (no foreign key: finished jobs are forgotten in time).
    job_id: Mapped[int | None] = mapped_column()
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The file's size in bytes (column "bytes").
    size: Mapped[int] = mapped_column("bytes", default=0)
    rows: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
