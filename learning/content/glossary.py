"""The course glossary (content/glossary.yaml): terms, what they stand for, plain meanings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from learning.content.outdated import find_outdated
from learning.core.problems import Problem
from learning.core.yamlfile import LineDict, load_file

_KEYS = {"term", "stands_for", "meaning", "see_also", "historical"}


@dataclass(frozen=True)
class Term:
    term: str
    meaning: str
    stands_for: str | None = None
    see_also: tuple[str, ...] = ()
    historical: bool = False

    @property
    def anchor(self) -> str:
        """A stable id for links: `term-` plus the term in lower case with hyphens."""
        return "term-" + re.sub(r"[^a-z0-9]+", "-", self.term.lower()).strip("-")


def load_glossary(path: Path, label: str) -> tuple[tuple[Term, ...], list[Problem]]:
    """Read and check the glossary; a missing file is allowed (no glossary yet)."""
    if not path.exists():
        return (), []
    data, problems = load_file(path, label)
    if problems:
        return (), problems
    if not isinstance(data, LineDict) or not isinstance(data.get("terms"), list):
        return (), [Problem(label, 1, "expected a top-level 'terms:' list")]
    terms: list[Term] = []
    seen: dict[str, int] = {}
    see_also_lines: dict[str, int] = {}
    for raw in data["terms"]:
        term, found = _read_term(raw, label, seen)
        problems += found
        if term is not None:
            see_also_lines[term.term] = raw.line_of("see_also")
            terms.append(term)
    known = {t.term for t in terms}
    problems += [Problem(label, see_also_lines[t.term],
                         f"term '{t.term}': see_also names unknown term '{other}'")
                 for t in terms for other in t.see_also if other not in known]
    return tuple(sorted(terms, key=lambda t: t.term.lower())), problems


def _read_term(raw, label: str, seen: dict[str, int]) -> tuple[Term | None, list[Problem]]:
    """One entry of `terms`: the Term (None if it cannot be used) and its problems.

    `seen` holds the line of each term read so far; a usable term is added to it.
    """
    line = getattr(raw, "line", 1)
    if not isinstance(raw, LineDict):
        return None, [Problem(label, line, "each glossary entry must be a mapping")]
    allowed = ", ".join(sorted(_KEYS))
    problems = [Problem(label, raw.line_of(key), f"unknown key '{key}' (allowed: {allowed})")
                for key in raw if key not in _KEYS]
    term, meaning = raw.get("term"), raw.get("meaning")
    refusal = _refusal(term, meaning, seen)
    if refusal:
        return None, [*problems, Problem(label, line, refusal)]
    assert isinstance(term, str) and isinstance(meaning, str)  # _refusal found no problem
    seen[term] = line
    historical = bool(raw.get("historical", False))
    if not historical:
        problems += [Problem(label, raw.line_of("meaning"),
                             f"term '{term}': outdated term '{matched}' in a current entry "
                             f"({outdated.advice}); mark it historical: true if it describes "
                             "the past", outdated.level)
                     for outdated, matched in find_outdated(meaning)]
    return Term(term.strip(), " ".join(meaning.split()), (raw.get("stands_for") or None),
                tuple(raw.get("see_also") or []), historical), problems


def _refusal(term, meaning, seen: dict[str, int]) -> str:
    """Why an entry cannot be used at all ("" if it can)."""
    if not isinstance(term, str) or not term.strip():
        return "glossary entry needs a 'term'"
    if not isinstance(meaning, str) or not meaning.strip():
        return f"term '{term}' needs a 'meaning'"
    if term in seen:
        return f"term '{term}' is already defined at line {seen[term]}"
    return ""
