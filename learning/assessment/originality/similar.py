"""Similar meaning in the originality check: store sentence vectors, find reworded passages."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from learning.assessment.originality.models import SentenceVectors, TextSource
from learning.core.extensions import db

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: Shown to the assessor when only the same words could be compared.
UNAVAILABLE = ("Similar meaning was not checked: the language model package is not installed "
               "on this server, so only passages in the same words were compared.")
#: An answer sentence this close to a sentence of the task's question restates the question.
QUESTION_SAME = 0.60
#: Reworded sources shown per answer, strongest first.
LIMIT = 5
#: Stored vectors multiplied at a time (float16 to float32 in pieces, to bound memory).
CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class SimilarPassage:
    """One answer sentence (or run of them) beside the source sentence it rewords."""

    answer_start: int
    answer_end: int
    source_start: int
    source_end: int
    answer_text: str
    source_text: str
    #: Cosine similarity 0..1 of the two sentences' vectors.
    score: float


@dataclass(frozen=True)
class SimilarMatch:
    """A source some of whose sentences the answer says again in other words."""

    source_id: int
    kind: str
    label: str
    owner_user_id: int | None
    ref: str | None
    #: The mean score of the passages shown.
    score: float
    passages: tuple[SimilarPassage, ...]


# ---- the model, loaded once per process ----

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def model() -> Any | None:
    """The embedding model, or None when its package (or numpy) is not installed."""
    with _lock:
        if "model" not in _loaded:
            try:
                from learning.assessment.originality import semantic
                _loaded["model"] = semantic.Model()
            except ImportError as exc:
                log.warning("originality: similar meaning is off (%s)", exc)
                _loaded["model"] = None
        return _loaded["model"]


def reset() -> None:
    """Forget the loaded model and the vectors held in memory (tests; after an install)."""
    with _lock:
        _loaded.clear()
        _matrix.clear()


def _semantic() -> Any:
    # Imported when used: it needs numpy, which only the full requirements install.
    from learning.assessment.originality import semantic
    return semantic


# ---- writing ----

def store(source: TextSource) -> bool:
    """Make and store the vectors of a source's sentences (again); caller commits.

    False, storing nothing, when the model is not installed: `reindex` adds them later.
    """
    embedder = model()
    if embedder is None:
        return False
    import numpy as np

    sentences = _semantic().sentences(source.text)
    vectors = embedder.embed([s.text for s in sentences]).astype(np.float16)
    db.session.execute(delete(SentenceVectors).where(SentenceVectors.source_id == source.id))
    db.session.add(SentenceVectors(source_id=source.id, model=embedder.name,
                                   spans=[[s.start, s.end] for s in sentences],
                                   vectors=vectors.tobytes()))
    return True


def forget(source_ids: Any) -> None:
    """Remove the vectors of these sources (a select of ids, or a list); caller commits."""
    db.session.execute(delete(SentenceVectors).where(SentenceVectors.source_id.in_(source_ids)))


# ---- the vectors in memory ----

class _Matrix:
    """Every stored sentence vector of one model, in one float16 array, kept up to date.

    Each check asks the database for the count and the newest id of the stored rows (one
    cheap query): new rows are appended, and anything else (rows deleted or re-made, by
    another process too) loads everything again. So several web processes stay correct.
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.model = ""
        self.count = 0
        self.last_id = 0
        self.blocks: list[Any] = []  # float16 arrays, one per load
        self.rows_source: list[Any] = []  # int64 arrays: the source id of each row
        self._joined: tuple[Any, Any] | None = None

    def refresh(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        count, last = db.session.execute(
            select(func.count(), func.max(SentenceVectors.id))
            .where(SentenceVectors.model == name)).one()
        last = last or 0
        if name != self.model or last < self.last_id:
            self.clear()
            self.model = name
        if (count, last) != (self.count, self.last_id):
            new = db.session.execute(
                select(SentenceVectors.id, SentenceVectors.source_id, SentenceVectors.vectors)
                .where(SentenceVectors.model == name, SentenceVectors.id > self.last_id)
                .order_by(SentenceVectors.id)).all()
            if self.count + len(new) != count:  # some rows went or were re-made: start again
                self.clear()
                self.model = name
                new = db.session.execute(
                    select(SentenceVectors.id, SentenceVectors.source_id,
                           SentenceVectors.vectors)
                    .where(SentenceVectors.model == name).order_by(SentenceVectors.id)).all()
            dims = _semantic().DIMS
            parts = [np.frombuffer(v, dtype=np.float16).reshape(-1, dims) for _, _, v in new]
            if parts:
                self.blocks.append(np.concatenate(parts))
                self.rows_source.append(np.concatenate(
                    [np.full(len(p), sid, dtype=np.int64) for (_, sid, _), p in
                     zip(new, parts, strict=True)]))
                self._joined = None
            self.count = count
            self.last_id = max([self.last_id] + [row_id for row_id, _, _ in new])
        if self._joined is None:
            dims = _semantic().DIMS
            self._joined = (np.concatenate(self.blocks) if self.blocks
                            else np.zeros((0, dims), dtype=np.float16),
                            np.concatenate(self.rows_source) if self.rows_source
                            else np.zeros(0, dtype=np.int64))
            self.blocks = [self._joined[0]]
            self.rows_source = [self._joined[1]]
        return self._joined


_matrix = _Matrix()


# ---- checking (reads only) ----

def check(text: str, same_words: list[tuple[int, int]], exclude_owner_user_id: int | None = None,
          exclude_ref: str | None = None, ignore: str | None = None,
          limit: int = LIMIT) -> tuple[list[SimilarMatch], str]:
    """Reworded passages of the answer, by source, and a note for the assessor.

    `same_words` are the answer's spans already matched word for word: a sentence mostly
    inside them is shown as "same words" and not again here. The note is UNAVAILABLE when the
    model is not installed (the word-level check still ran), "" otherwise.
    """
    embedder = model()
    if embedder is None:
        return [], UNAVAILABLE
    import numpy as np

    sem = _semantic()
    answer = sem.sentences(text)
    if not answer:
        return [], ""
    vectors = embedder.embed([s.text for s in answer])
    if ignore and ignore.strip():
        question = embedder.embed([s.text for s in sem.sentences(ignore)])
        if len(question):
            # A sentence restating the question is in every answer: it never counts.
            restated = (vectors @ question.T).max(axis=1) >= QUESTION_SAME
            vectors[restated] = 0.0
    for i, s in enumerate(answer):
        if _covered(s.start, s.end, same_words):
            vectors[i] = 0.0
    with _lock:
        matrix, rows_source = _matrix.refresh(embedder.name)
    if not len(matrix):
        return [], ""
    best = np.full(len(rows_source), -1.0, dtype=np.float32)
    for start in range(0, len(matrix), CHUNK_ROWS):
        block = matrix[start:start + CHUNK_ROWS].astype(np.float32) @ vectors.T
        best[start:start + CHUNK_ROWS] = block.max(axis=1)
    # Cheap filter before the exact rule: a source needs RUN_MIN sentences above PAIR_MIN, or
    # one above PAIR_ALONE.
    hot = best >= sem.PAIR_MIN
    ids, counts = np.unique(rows_source[hot], return_counts=True)
    strong = set(np.unique(rows_source[best >= sem.PAIR_ALONE]).tolist())
    wanted = [int(i) for i, c in zip(ids, counts, strict=True) if c >= sem.RUN_MIN or i in strong]
    if not wanted:
        return [], ""
    query = (select(TextSource, SentenceVectors.spans, SentenceVectors.vectors)
             .join(SentenceVectors, SentenceVectors.source_id == TextSource.id)
             .where(TextSource.id.in_(wanted), SentenceVectors.model == embedder.name))
    if exclude_owner_user_id is not None:
        # A learner resubmitting their own work is not copying it.
        query = query.where((TextSource.owner_user_id.is_(None))
                            | (TextSource.owner_user_id != exclude_owner_user_id))
    if exclude_ref is not None:
        query = query.where((TextSource.ref.is_(None)) | (TextSource.ref != exclude_ref))
    matches = []
    for source, spans, blob in db.session.execute(query):
        theirs = np.frombuffer(blob, dtype=np.float16).reshape(-1, sem.DIMS).astype(np.float32)
        pairs = sem.flagged(vectors @ theirs.T)
        if not pairs:
            continue
        passages = tuple(SimilarPassage(
            answer_start=answer[p.answer].start, answer_end=answer[p.answer].end,
            source_start=spans[p.source][0], source_end=spans[p.source][1],
            answer_text=answer[p.answer].text,
            source_text=source.text[spans[p.source][0]:spans[p.source][1]],
            score=round(p.score, 3)) for p in pairs)
        matches.append(SimilarMatch(
            source_id=source.id, kind=source.kind, label=source.label,
            owner_user_id=source.owner_user_id, ref=source.ref,
            score=round(sum(p.score for p in passages) / len(passages), 3), passages=passages))
    matches.sort(key=lambda m: (-len(m.passages), -m.score, m.source_id))
    return matches[:limit], ""


def _covered(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """More than half of the sentence's characters are inside spans matched word for word."""
    inside = sum(max(0, min(end, b) - max(start, a)) for a, b in spans)
    return inside * 2 > end - start
