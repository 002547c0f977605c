"""Similar meaning: sentences as vectors, and the rule telling a reworded copy from shared ideas."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

#: The model: WordLlama's l2_supercat, whose 16 MB of weights ship inside the `wordllama`
#: wheel (docs/originality.md compares it with tokenlearn-static-model).
MODEL_NAME = "wordllama-l2_supercat-256"
DIMS = 256

#: A sentence pair this similar (cosine) may be the same idea reworded. Alone it proves
#: nothing: two learners answering one criterion write sentences this close all the time
#: (tests/data/paraphrase/labelled.yaml: independent answers reach 0.58).
PAIR_MIN = 0.35
#: Sentences in a row that must each match the source, in the source's order, before a
#: source is reported: rewording keeps the order of the original, shared ideas do not.
RUN_MIN = 3
#: ...and their mean similarity.
RUN_MEAN_MIN = 0.45
#: A sentence this close to one in a source is reported on its own (a near copy).
PAIR_ALONE = 0.85
#: How far a run may step over sentences (a sentence added or dropped while rewording).
MAX_STEP = 2
#: Sentences shorter than this (in words) are joined to the next: "Firstly." carries no meaning.
MIN_WORDS = 5

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n\s*\n")
_WORD = re.compile(r"\w+")


class Sentence(NamedTuple):
    """A sentence of a text: its character span and its words as written."""

    start: int
    end: int
    text: str


def sentences(text: str) -> list[Sentence]:
    """The text's sentences with their spans; a very short one is joined to the next."""
    text = text or ""
    pieces: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        pieces.append((start, m.start()))
        start = m.end()
    pieces.append((start, len(text)))
    out: list[Sentence] = []
    pending: int | None = None
    for a, b in pieces:
        chunk = text[a:b]
        lead = len(chunk) - len(chunk.lstrip())
        a, b = a + lead, a + len(chunk.rstrip())
        if a >= b:
            continue
        begin = a if pending is None else pending
        if len(_WORD.findall(text[begin:b])) < MIN_WORDS:
            pending = begin
            continue
        out.append(Sentence(begin, b, text[begin:b]))
        pending = None
    if pending is not None:
        end = len(text.rstrip())
        if out:  # a short last sentence belongs to the one before it
            last = out.pop()
            out.append(Sentence(last.start, end, text[last.start:end]))
        else:
            out.append(Sentence(pending, end, text[pending:end]))
    return out


@dataclass(frozen=True)
class Pair:
    """One answer sentence and the source sentence it means much the same as."""

    answer: int
    source: int
    score: float


def runs(sims: np.ndarray, pair_min: float = PAIR_MIN,
         max_step: int = MAX_STEP) -> list[list[Pair]]:
    """Chains of sentence pairs in the order of both texts, longest first.

    `sims[i, j]` is the similarity of answer sentence i and source sentence j. A chain takes
    pairs at or above `pair_min` whose answer and source sentences both move forward by
    1..max_step each step: the shape a paragraph-by-paragraph rewording leaves. Chains share
    no answer sentence.
    """
    if sims.size == 0:
        return []
    n, m = sims.shape
    # Longest chain ending at each cell, a row at a time (numpy over the row: a check runs
    # this for up to 50 sources), with the cell each one continues.
    ok = sims >= pair_min
    length = np.zeros((n, m), dtype=np.int32)
    prev_i = np.full((n, m), -1, dtype=np.int32)
    prev_j = np.full((n, m), -1, dtype=np.int32)
    columns = np.arange(m, dtype=np.int32)
    for i in range(n):
        best = np.ones(m, dtype=np.int32)
        bi = np.full(m, -1, dtype=np.int32)
        bj = np.full(m, -1, dtype=np.int32)
        for di in range(1, min(max_step, i) + 1):
            for dj in range(1, min(max_step, m - 1) + 1):
                longer = np.zeros(m, dtype=np.int32)
                longer[dj:] = length[i - di, :-dj] + 1
                better = longer > best  # strictly: the nearest earlier cell wins a tie
                best = np.where(better, longer, best)
                bi = np.where(better, i - di, bi)
                bj = np.where(better, columns - dj, bj)
        length[i] = np.where(ok[i], best, 0)
        prev_i[i] = np.where(ok[i], bi, -1)
        prev_j[i] = np.where(ok[i], bj, -1)
    cells = np.argwhere(ok)
    back = {(int(i), int(j)): (int(prev_i[i, j]), int(prev_j[i, j]))
            for i, j in cells if prev_i[i, j] >= 0}
    found: list[list[Pair]] = []
    used: set[int] = set()
    order = sorted(((int(length[i, j]), float(sims[i, j]), int(i), int(j)) for i, j in cells),
                   reverse=True)
    for _, _, i, j in order:
        if i in used:
            continue
        chain: list[Pair] = []
        cell: tuple[int, int] | None = (i, j)
        while cell is not None and cell[0] not in used:
            chain.append(Pair(cell[0], cell[1], float(sims[cell])))
            cell = back.get(cell)
        chain.reverse()
        used.update(p.answer for p in chain)
        found.append(chain)
    return found


def flagged(sims: np.ndarray, pair_min: float = PAIR_MIN, run_min: int = RUN_MIN,
            run_mean_min: float = RUN_MEAN_MIN, pair_alone: float = PAIR_ALONE) -> list[Pair]:
    """The answer-source sentence pairs to show the assessor, or none.

    Reported: every chain of at least `run_min` pairs whose mean is at least `run_mean_min`,
    and any single pair at or above `pair_alone`. Anything less is what two answers to the same
    question share by nature.
    """
    shown: dict[int, Pair] = {}
    for chain in runs(sims, pair_min):
        if len(chain) >= run_min and sum(p.score for p in chain) / len(chain) >= run_mean_min:
            shown.update({p.answer: p for p in chain})
    if sims.size:
        for i, j in np.argwhere(sims >= pair_alone):
            if int(i) not in shown:
                shown[int(i)] = Pair(int(i), int(j), float(sims[i, j]))
    return [shown[i] for i in sorted(shown)]


class Model:
    """The embedding model, loaded once per process from the files inside its package."""

    name = MODEL_NAME

    def __init__(self) -> None:
        import wordllama  # optional: similar.model() turns its absence into the fallback

        # cache_dir = the package itself: its weights/ and tokenizers/ folders are what
        # WordLlama looks for there, and disable_download makes a missing file an error
        # instead of a download from the model hub.
        self._model: Any = wordllama.WordLlama.load(
            config="l2_supercat", dim=DIMS, cache_dir=Path(wordllama.__file__).parent,
            disable_download=True)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, float32."""
        if not texts:
            return np.zeros((0, DIMS), dtype=np.float32)
        vectors = np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)
        return vectors.reshape(len(texts), DIMS)
