"""How a quiz's answers are written out for learners: as a person would write them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_STAR = re.compile(r"\\\*|\*")


def as_written(pattern: str) -> str:
    """An accepted short answer without its wildcard marks: "*care board*" → "care board".

    A literal star (written `\\*` in the quiz file) stays a star; spacing is tidied.
    """
    text = _STAR.sub(lambda m: "*" if m.group() == "\\*" else "", pattern)
    return " ".join(text.split())


def accepted_answers(answers: Iterable[Mapping[str, Any]]) -> list[str]:
    """The fully right answers, each once (ignoring case), as a learner would type them.

    A pattern that is only wildcards accepts anything and says nothing, so it is left out.
    """
    shown: list[str] = []
    seen: set[str] = set()
    for answer in answers:
        if float(answer.get("fraction", 0)) != 1:
            continue
        text = as_written(str(answer.get("text", "")))
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            shown.append(text)
    return shown
