"""Text fingerprints for the originality check: words with their places, shingles, winnowing."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

#: Words per shingle. Five words rarely repeat by chance, yet one swapped word only breaks
#: the five shingles that contain it.
K = 5
#: Winnowing window, in shingles: one fingerprint is kept from every WINDOW consecutive ones.
WINDOW = 4
#: Winnowing guarantees that any run of K + WINDOW - 1 shared words shares a stored
#: fingerprint, so the shortest passage we report is exactly what the index can always find.
MIN_PASSAGE_WORDS = K + WINDOW - 1
#: Two matching runs this many words apart (or closer) are one passage: a swapped, added or
#: dropped word inside a copied sentence does not split it.
MAX_GAP = K - 1
#: A shingle repeated more often than this in one source is boilerplate; more pairs add nothing.
_MAX_PLACES = 8

# A word: letters or digits (any script, with combining accents), joined by apostrophes or
# hyphens, so "GP's", "GP’s" and "GPs" or "multi-agency" and "multiagency" are the same word.
_CHAR = r"[\w\u0300-\u036f]"
_JOIN = "'’‘ʼ\\-‐‑"
_WORD = re.compile(rf"{_CHAR}+(?:[{_JOIN}]{_CHAR}+)*")
_DROP = str.maketrans("", "", "'’‘ʼ-‐‑_")


class Token(NamedTuple):
    """A normalised word and where it stands in the original text (character offsets)."""

    word: str
    start: int
    end: int


class Passage(NamedTuple):
    """A matching passage: character spans in the answer and in the source."""

    answer_start: int
    answer_end: int
    source_start: int
    source_end: int


@dataclass(frozen=True)
class Analysis:
    """A text taken apart once: its words, their places, and the hash of each shingle.

    Parallel lists rather than Token objects: answers and candidates are analysed on every
    check, and building hundreds of small objects per text was most of the cost.
    """

    text: str
    words: list[str]
    starts: list[int]
    ends: list[int]
    #: hashes[i] is the shingle of words i .. i + K - 1.
    hashes: list[int]

    @property
    def word_count(self) -> int:
        return len(self.words)

    @property
    def tokens(self) -> list[Token]:
        return [Token(*t) for t in zip(self.words, self.starts, self.ends, strict=True)]


@lru_cache(maxsize=100_000)
def normalise_word(raw: str) -> str:
    """Case, accents, apostrophes and hyphens do not count: 'Naïve' -> 'naive'."""
    if raw.isascii():
        return raw.translate(_DROP).lower()
    bare = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    return bare.translate(_DROP).casefold()


def _split(text: str) -> tuple[list[str], list[int], list[int]]:
    words, starts, ends = [], [], []
    for m in _WORD.finditer(text):
        word = normalise_word(m.group())
        if word:  # "___" normalises to nothing
            start, end = m.span()
            words.append(word)
            starts.append(start)
            ends.append(end)
    return words, starts, ends


def tokenise(text: str) -> list[Token]:
    """Words in order, normalised, with their character spans; punctuation is dropped."""
    return analyse(text).tokens


_TWO64 = 1 << 64
_MASK = _TWO64 - 1
_BASE = 0x100000001B3  # odd, so every word's place in the shingle changes the hash
_TOP = pow(_BASE, K - 1, 1 << 64)


@lru_cache(maxsize=100_000)
def word_hash(word: str) -> int:
    """64 bits of blake2b: the same in every process, unlike hash()."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")


def _signed(h: int) -> int:
    return h - _TWO64 if h >> 63 else h  # PostgreSQL bigint is signed


def shingle_hash(words: Sequence[str]) -> int:
    """The signed 64-bit hash of K normalised words: a polynomial in their blake2b hashes."""
    h = 0
    for word in words:
        h = (h * _BASE + word_hash(word)) & _MASK
    return _signed(h)


def analyse(text: str) -> Analysis:
    """Split a text into words and hash its shingles (the one pass everything else uses)."""
    words, starts, ends = _split(text)
    values = [word_hash(w) for w in words]
    hashes = []
    if len(values) >= K:
        # Rolling: each next shingle drops its first word and adds one, two multiplications.
        h = 0
        for v in values[:K]:
            h = (h * _BASE + v) & _MASK
        hashes.append(_signed(h))
        for out, new in zip(values, values[K:], strict=False):
            h = ((h - out * _TOP) * _BASE + new) & _MASK
            hashes.append(h - _TWO64 if h >> 63 else h)  # _signed, inlined: the hot loop
    return Analysis(text, words, starts, ends, hashes)


def shingle_hashes(text: str) -> list[int]:
    """The hash of every K-word shingle, in order; empty when the text has fewer than K words."""
    return analyse(text).hashes


def winnow(hashes: Sequence[int], window: int = WINDOW) -> list[tuple[int, int]]:
    """MOSS winnowing: the smallest hash of each window (rightmost on ties), each kept once."""
    if not hashes:
        return []
    window = min(window, len(hashes))
    chosen: list[tuple[int, int]] = []
    last = -1
    for start in range(len(hashes) - window + 1):
        best = start
        for i in range(start + 1, start + window):
            if hashes[i] <= hashes[best]:
                best = i
        if best != last:
            chosen.append((hashes[best], best))
            last = best
    return chosen


def fingerprints(text: str | Analysis) -> list[tuple[int, int]]:
    """(hash, word index) pairs to store in the index for this text."""
    analysis = analyse(text) if isinstance(text, str) else text
    return winnow(analysis.hashes)


def content_hash(text: str | Analysis) -> str:
    """SHA-256 of the normalised words: the same text retyped with other spacing or case."""
    analysis = analyse(text) if isinstance(text, str) else text
    return hashlib.sha256(" ".join(analysis.words).encode()).hexdigest()


def _runs(answer: Analysis, source: Analysis,
          ignore: frozenset[int]) -> list[list[int]]:
    """Runs of consecutive matching shingles on one diagonal, as [a0, a1, s0, s1] word ranges."""
    places: dict[int, list[int]] = defaultdict(list)
    for j, h in enumerate(source.hashes):
        if len(places[h]) < _MAX_PLACES:
            places[h].append(j)
    pairs = [(i, j) for i, h in enumerate(answer.hashes) if h not in ignore
             for j in places.get(h, ())]
    pairs.sort(key=lambda p: (p[1] - p[0], p[0]))
    runs: list[list[int]] = []
    for i, j in pairs:
        run = runs[-1] if runs else None
        if run and run[2] - run[0] == j - i and run[1] - K + 1 == i:
            run[1], run[3] = i + K, j + K
        else:
            runs.append([i, i + K, j, j + K])
    return runs


def _passage_ranges(answer: Analysis, source: Analysis, min_words: int,
                    ignore: frozenset[int] = frozenset()) -> list[list[int]]:
    """Chain runs into passages that do not overlap in the answer, tolerating small edits."""
    passages: list[list[int]] = []
    for run in sorted(_runs(answer, source, ignore), key=lambda r: (r[0], r[0] - r[1])):
        a0, a1, s0, s1 = run
        if passages and a1 <= passages[-1][1]:
            continue  # already covered, e.g. a phrase the source repeats elsewhere
        for p in reversed(passages[-3:]):
            a_gap, s_gap = a0 - p[1], s0 - p[3]
            if -K < a_gap <= MAX_GAP and -K < s_gap <= MAX_GAP:
                p[1], p[3] = max(p[1], a1), max(p[3], s1)
                break
        else:
            if passages and a0 < passages[-1][1]:
                shift = passages[-1][1] - a0  # keep answer passages apart; same shift both sides
                a0, s0 = a0 + shift, s0 + shift
            passages.append([a0, a1, s0, s1])
    return [p for p in passages if p[1] - p[0] >= min_words]


def matched_spans(answer: str | Analysis, source: str | Analysis,
                  min_words: int = MIN_PASSAGE_WORDS,
                  ignore: Iterable[int] = ()) -> list[Passage]:
    """Passages of the answer found in the source, in answer order, as character spans.

    Shingles whose hash is in `ignore` (e.g. the question the learners were set) never match.
    """
    a = analyse(answer) if isinstance(answer, str) else answer
    s = analyse(source) if isinstance(source, str) else source
    return [Passage(a.starts[a0], a.ends[a1 - 1], s.starts[s0], s.ends[s1 - 1])
            for a0, a1, s0, s1 in _passage_ranges(a, s, min_words, frozenset(ignore))]


def merge_spans(spans: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """(start, end) pairs, sorted and with overlapping or touching ones joined."""
    merged: list[list[int]] = []
    for start, end in sorted((s[0], s[1]) for s in spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def match_share(answer: str | Analysis, spans: Iterable[Sequence[int]]) -> float:
    """Share (0..1) of the answer's words inside the spans; Passages count by their answer side."""
    a = analyse(answer) if isinstance(answer, str) else answer
    if not a.words:
        return 0.0
    merged = merge_spans(spans)
    covered, k = 0, 0
    for start, end in zip(a.starts, a.ends, strict=True):
        while k < len(merged) and merged[k][1] < end:
            k += 1
        if k < len(merged) and merged[k][0] <= start:
            covered += 1
    return covered / len(a.words)


def highlight(text: str, spans: Iterable[Sequence[int]]) -> list[tuple[str, bool]]:
    """Cut text into (segment, matched) pieces so a template can mark matches without |safe."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in merge_spans(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces
