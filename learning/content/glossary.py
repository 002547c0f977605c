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
        line = getattr(raw, "line", 1)
        if not isinstance(raw, LineDict):
            problems.append(Problem(label, line, "each glossary entry must be a mapping"))
            continue
        for key in raw:
            if key not in _KEYS:
                problems.append(Problem(label, raw.line_of(key), f"unknown key '{key}' "
                                        f"(allowed: {', '.join(sorted(_KEYS))})"))
        term, meaning = raw.get("term"), raw.get("meaning")
        if not isinstance(term, str) or not term.strip():
            problems.append(Problem(label, line, "glossary entry needs a 'term'"))
            continue
        if not isinstance(meaning, str) or not meaning.strip():
            problems.append(Problem(label, line, f"term '{term}' needs a 'meaning'"))
            continue
        if term in seen:
            problems.append(Problem(label, line, f"term '{term}' is already defined at line "
                                    f"{seen[term]}"))
            continue
        seen[term] = line
        historical = bool(raw.get("historical", False))
        if not historical:
            for outdated, matched in find_outdated(meaning):
                problems.append(Problem(label, raw.line_of("meaning"),
                                        f"term '{term}': outdated term '{matched}' in a current "
                                        f"entry ({outdated.advice}); mark it historical: true "
                                        "if it describes the past", outdated.level))
        see_also = raw.get("see_also") or []
        see_also_lines[term.strip()] = raw.line_of("see_also")
        terms.append(Term(term.strip(), " ".join(meaning.split()),
                          (raw.get("stands_for") or None), tuple(see_also), historical))
    known = {t.term for t in terms}
    for t in terms:
        for other in t.see_also:
            if other not in known:
                problems.append(Problem(label, see_also_lines[t.term],
                                        f"term '{t.term}': see_also names unknown term "
                                        f"'{other}'"))
    return tuple(sorted(terms, key=lambda t: t.term.lower())), problems
