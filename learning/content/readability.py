"""Readability figures for course text: words, sentences, syllables and Flesch reading ease."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")

#: Words a Level 3 reader meets per minute; used for estimated reading time.
WORDS_PER_MINUTE = 150


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    syllables: int

    @property
    def flesch(self) -> float:
        """Flesch reading ease: 60-70 is plain English; below 50 is hard for most readers."""
        if not self.words or not self.sentences:
            return 0.0
        return round(
            206.835 - 1.015 * (self.words / self.sentences) - 84.6 * (self.syllables / self.words),
            1,
        )

    @property
    def reading_minutes(self) -> int:
        return max(1, round(self.words / WORDS_PER_MINUTE))


def syllables(word: str) -> int:
    """A vowel-group estimate: good enough for a whole text, rough for one word."""
    w = word.lower().strip("'’-")
    if not w:
        return 0
    count = len(_VOWEL_GROUPS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    return max(1, count)


def measure(text: str) -> Readability:
    """Measure plain text (Markdown stripped by the caller)."""
    words = _WORD.findall(text)
    pieces = [p for p in _SENTENCE_END.split(text) if _WORD.search(p)]
    return Readability(len(words), max(1, len(pieces)) if words else 0,
                       sum(syllables(w) for w in words))
