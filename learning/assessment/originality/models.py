"""Texts the originality check compares answers with, and their fingerprints."""

from __future__ import annotations

import enum
from datetime import datetime

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
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.core.extensions import Model
from learning.core.types import UTCDateTime, utcnow


class SourceKind(enum.StrEnum):
    REFERENCE = "reference"
    SUBMISSION = "submission"


class TextSource(Model):
    """One text answers are compared with: a known online essay, or a learner's submission."""

    __tablename__ = "text_source"
    __table_args__ = (
        CheckConstraint("kind IN ('reference', 'submission')", name="known_kind"),
        CheckConstraint("kind = 'submission' OR (owner_user_id IS NULL AND ref IS NULL)",
                        name="reference_unowned"),
        CheckConstraint("word_count >= 0", name="word_count_not_negative"),
        # A reference essay is stored once however often it is loaded. Submissions are unique
        # per learner only: two learners handing in the same text are the case we look for.
        Index("uq_text_source_reference", "content_hash", unique=True,
              sqlite_where=sql_text("kind = 'reference'"),
              postgresql_where=sql_text("kind = 'reference'")),
        Index("uq_text_source_submission", "owner_user_id", "content_hash", unique=True,
              sqlite_where=sql_text("kind = 'submission'"),
              postgresql_where=sql_text("kind = 'submission'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: Shown to the assessor: the reference file name, or which submission this is.
    label: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    #: The learner who wrote a submission; their own earlier work is never reported as copied.
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: The submission version this text came from (the submissions model's id, as text).
    ref: Mapped[str | None] = mapped_column(String(100), index=True)
    #: SHA-256 of the normalised words, so a retyped copy of the same text is a duplicate.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    word_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    fingerprints: Mapped[list[Fingerprint]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<TextSource {self.id} {self.kind} {self.label!r}>"


class Fingerprint(Model):
    """A winnowed shingle hash of a source; the (hash, source_id) index finds candidates."""

    __tablename__ = "text_fingerprint"
    __table_args__ = (
        # Covering index: the candidate query reads only this index, never the table.
        Index("ix_text_fingerprint_hash", "hash", "source_id"),
    )

    source_id: Mapped[int] = mapped_column(
        ForeignKey("text_source.id", ondelete="CASCADE"), primary_key=True)
    #: Index of the shingle's first word in the source.
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: blake2b-64 of the shingle, as a signed 64-bit integer (PostgreSQL bigint is signed).
    hash: Mapped[int] = mapped_column(BigInteger)

    source: Mapped[TextSource] = relationship(back_populates="fingerprints")


class SentenceVectors(Model):
    """A source's sentences as vectors for the "similar meaning" check (semantic.py).

    Derived data, like the fingerprints: `reindex` makes it again from the source's text.
    One row per source (not per sentence) keeps loading 20,000 answers' vectors to one query.
    """

    __tablename__ = "text_sentence_vectors"

    #: Grows with every row written, so a process holding the vectors in memory can load
    #: only what is new (semantic matrix in similar.py).
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("text_source.id", ondelete="CASCADE"), unique=True)
    #: Which model made them: vectors of another model are not comparable and are made again.
    model: Mapped[str] = mapped_column(String(60), index=True)
    #: [[start, end], ...]: each sentence's character span in the source's text.
    spans: Mapped[list] = mapped_column(JSON)
    #: float16 unit vectors, row after row (len(spans) x dims x 2 bytes).
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
