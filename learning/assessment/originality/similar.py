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
#: Numbers of each vector the coarse pass compares (see _Matrix), and the similarity a stored
#: sentence needs in it to count: every sentence pair the rule reported in the labelled set
#: scored 0.408 or more on these 64 numbers, and 9 in 10 pairs of all sentences less than 0.44.
PREFIX_DIMS = 64
PREFIX_MIN = 0.40
#: Sources the exact rule is applied to per check, the closest in the coarse pass first.
CANDIDATES = 50
#: Stored vectors multiplied at a time (a block fits the CPU's cache better than the whole).
CHUNK_ROWS = 32_768


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
    """The first PREFIX_DIMS numbers of every stored sentence vector of one model, as float32
    unit vectors in one array, kept up to date: what the first, coarse pass multiplies.

    float32 because numpy multiplies it with BLAS, several times faster than float16 (which
    must be converted on every check); PREFIX_DIMS because WordLlama is trained so that a
    vector's start is a coarser vector of its own (Matryoshka), at a quarter of the memory:
    20,000 answers of ~20 sentences take about 100 MB.

    Each check asks the database for the count and the newest id of the stored rows (one
    cheap query): new rows are appended, and anything else (rows deleted or re-made, by
    another process too) loads everything again. So several web processes stay correct.
    A source's sentences are consecutive rows; `where` says which, with its ref.
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.model = ""
        self.count = 0
        self.last_id = 0
        self.blocks: list[Any] = []  # float32 arrays, joined on the next read
        self.owners: list[Any] = []  # int64 arrays: the source's owner (-1: none) per row
        self.sources: list[Any] = []  # int64 arrays: the source id of each row
        self.rows = 0
        #: source id -> (first row, row after its last, ref)
        self.where: dict[int, tuple[int, int, str | None]] = {}

    def _load(self, name: str, after: int) -> list[Any]:
        return list(db.session.execute(
            select(SentenceVectors.id, SentenceVectors.source_id, SentenceVectors.vectors,
                   TextSource.owner_user_id, TextSource.ref)
            .join(TextSource, TextSource.id == SentenceVectors.source_id)
            .where(SentenceVectors.model == name, SentenceVectors.id > after)
            .order_by(SentenceVectors.id)))

    def refresh(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(prefix vectors, owner per row, source id per row), up to date with the database."""
        import numpy as np

        count, last = db.session.execute(
            select(func.count(), func.max(SentenceVectors.id))
            .where(SentenceVectors.model == name)).one()
        last = last or 0
        if name != self.model or last < self.last_id:
            self.clear()
            self.model = name
        if (count, last) != (self.count, self.last_id):
            new = self._load(name, self.last_id)
            if self.count + len(new) != count:  # some rows went or were re-made: start again
                self.clear()
                self.model = name
                new = self._load(name, 0)
            dims = _semantic().DIMS
            # One buffer and np.repeat rather than arrays per row: 20,000 rows load in a
            # fraction of the time.
            lengths = np.array([len(row[2]) // (2 * dims) for row in new], dtype=np.int64)
            if len(new):
                full = np.frombuffer(b"".join(row[2] for row in new),
                                     dtype=np.float16).reshape(-1, dims)
                self.blocks.append(prefix(full))
                self.owners.append(np.repeat(np.array(
                    [-1 if row[3] is None else row[3] for row in new], dtype=np.int64), lengths))
                self.sources.append(np.repeat(np.array([row[1] for row in new], dtype=np.int64),
                                              lengths))
            for row, length in zip(new, lengths.tolist(), strict=True):
                self.where[row[1]] = (self.rows, self.rows + length, row[4])
                self.rows += length
            self.count = count
            self.last_id = max([self.last_id] + [row[0] for row in new])
        if len(self.blocks) != 1:
            self.blocks = [np.concatenate(self.blocks) if self.blocks
                           else np.zeros((0, PREFIX_DIMS), dtype=np.float32)]
            self.owners = [np.concatenate(self.owners) if self.owners
                           else np.zeros(0, dtype=np.int64)]
            self.sources = [np.concatenate(self.sources) if self.sources
                            else np.zeros(0, dtype=np.int64)]
        return self.blocks[0], self.owners[0], self.sources[0]


def prefix(vectors: np.ndarray) -> np.ndarray:
    """The first PREFIX_DIMS numbers of each vector, as float32 unit vectors."""
    import numpy as np

    head = np.ascontiguousarray(vectors[:, :PREFIX_DIMS], dtype=np.float32)
    norms = np.linalg.norm(head, axis=1, keepdims=True)
    return head / np.maximum(norms, 1e-6)


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
    vectors = _answer_vectors(embedder, answer, same_words, ignore)
    with _lock:
        matrix, owners, sources = _matrix.refresh(embedder.name)
        where = _matrix.where
    if not len(matrix):
        return [], ""
    # The coarse pass: for every stored sentence, its best similarity to an answer sentence.
    head = prefix(vectors).T.copy()
    best = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), CHUNK_ROWS):
        np.max(matrix[start:start + CHUNK_ROWS] @ head, axis=1,
               out=best[start:start + CHUNK_ROWS])
    if exclude_owner_user_id is not None:
        # A learner resubmitting their own work is not copying it.
        best[owners == exclude_owner_user_id] = -1.0
    wanted = _closest(best, sources, where, exclude_ref)
    if not wanted:
        return [], ""
    # The exact rule, on the full stored vectors of the closest sources only.
    rows = db.session.execute(
        select(TextSource, SentenceVectors.spans, SentenceVectors.vectors)
        .join(SentenceVectors, SentenceVectors.source_id == TextSource.id)
        .where(TextSource.id.in_(wanted), SentenceVectors.model == embedder.name))
    matches = []
    for source, spans, blob in rows:
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


def _closest(best: np.ndarray, sources: np.ndarray,
             where: dict[int, tuple[int, int, str | None]], exclude_ref: str | None) -> list[int]:
    """The CANDIDATES sources with the most sentences above PREFIX_MIN in the coarse pass
    (at least RUN_MIN of them), and any with a near-identical sentence."""
    import numpy as np

    sem = _semantic()
    weight = np.clip(best - PREFIX_MIN, 0.0, None)
    hot = weight > 0
    if not hot.any():
        return []
    ids, inverse = np.unique(sources[hot], return_inverse=True)
    totals = np.bincount(inverse, weights=weight[hot])
    counts = np.bincount(inverse)
    strong = set(np.unique(sources[best >= sem.PAIR_ALONE]).tolist())
    ranked = sorted((-float(t), int(i)) for i, t, c in zip(ids, totals, counts, strict=True)
                    if c >= sem.RUN_MIN or int(i) in strong)
    return [source_id for _, source_id in ranked
            if exclude_ref is None or where[source_id][2] != exclude_ref][:CANDIDATES]


def _answer_vectors(embedder: Any, answer: list[Any], same_words: list[tuple[int, int]],
                    ignore: str | None) -> np.ndarray:
    """The answer's sentence vectors, zero (matching nothing) for a sentence that restates
    the question, which is in every answer, or that is shown already as same words."""
    vectors = embedder.embed([s.text for s in answer])
    if ignore and ignore.strip():
        question = embedder.embed([s.text for s in _semantic().sentences(ignore)])
        if len(question):
            vectors[(vectors @ question.T).max(axis=1) >= QUESTION_SAME] = 0.0
    for i, s in enumerate(answer):
        if _covered(s.start, s.end, same_words):
            vectors[i] = 0.0
    return vectors


def _covered(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """More than half of the sentence's characters are inside spans matched word for word."""
    inside = sum(max(0, min(end, b) - max(start, a)) for a, b in spans)
    return inside * 2 > end - start
