"""Which criteria each module teaches (`teaches:` in its front matter), and whether every
criterion a unit lists is taught somewhere."""

from __future__ import annotations

import difflib
import html
from typing import Any

from learning.core.problems import Problem
from learning.core.yamlfile import LineDict, LineList

#: (criterion id, headings of the sections that teach it); no headings = the whole module.
Teaches = tuple[tuple[str, tuple[str, ...]], ...]

TEACHES_SHAPE = ("'teaches' must list the criterion ids the module teaches, or map each id to "
                 "the ## or ### headings of the sections that teach it")


def read_teaches(meta: LineDict, label: str,
                 known_criteria: set[str] | None) -> tuple[Teaches, list[Problem]]:
    """The module's `teaches` field: ids (and section headings), and what is wrong with it."""
    raw = meta.get("teaches")
    line = meta.line_of("teaches")
    entries: list[tuple[Any, Any, int]]  # (criterion id, sections as written, line)
    if isinstance(raw, LineList):
        entries = [(cid, (), raw.item_lines[i]) for i, cid in enumerate(raw)]
    elif isinstance(raw, LineDict):
        entries = [(cid, raw[cid], raw.line_of(cid)) for cid in raw]
    else:
        return (), [Problem(label, line, TEACHES_SHAPE)]
    if not entries:
        return (), [Problem(label, line, "'teaches' must name at least one criterion id")]
    problems: list[Problem] = []
    teaches: list[tuple[str, tuple[str, ...]]] = []
    seen: set[str] = set()
    for cid, sections, at in entries:
        message = _entry_problem(cid, sections, seen, known_criteria)
        if message:
            problems.append(Problem(label, at, message))
            continue
        seen.add(cid)
        teaches.append((cid, tuple(str(section).strip() for section in sections)))
    return tuple(teaches), problems


def _entry_problem(cid, sections, seen: set[str], known: set[str] | None) -> str:
    """What is wrong with one entry of `teaches` ("" if nothing)."""
    if not isinstance(cid, str) or not cid.strip():
        return "each entry of 'teaches' must be a criterion id such as CYP33-2.3"
    if known is not None and cid not in known:
        return f"unknown criterion '{cid}' in teaches (define it in content/units.yaml)"
    if cid in seen:
        return f"criterion '{cid}' is named twice in teaches"
    if sections == ():  # listed on its own: the whole module teaches it
        return ""
    if sections is None or (isinstance(sections, list) and not sections):
        return (f"teaches: give '{cid}' the headings of the sections that teach it, or list "
                "the id on its own if the whole module does")
    if not isinstance(sections, list) or not all(isinstance(s, str) and s.strip()
                                                 for s in sections):
        return f"teaches: '{cid}' must map to a list of section headings"
    return ""


def section_problems(teaches: Teaches, headings: tuple[tuple[int, str], ...], label: str,
                     line: int) -> list[Problem]:
    """Each section `teaches` names must be a ## or ### heading of the module, as written."""
    titles = [html.unescape(title) for _level, title in headings]
    problems = []
    for cid, sections in teaches:
        for section in sections:
            if section in titles:
                continue
            close = difflib.get_close_matches(section, titles, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(label, line, f"teaches: '{cid}' names the section "
                                    f"'{section}', but the module has no ## or ### heading "
                                    f"'{section}'{hint}"))
    return problems


def untaught_criteria(units_label: str, criteria: list[tuple[str, str, int]],
                      taught: set[str]) -> list[Problem]:
    """A criterion a unit lists (id, unit id, line in units.yaml) that no module teaches."""
    return [Problem(units_label, at, f"criterion '{cid}' is listed for unit {unit} but no "
                    "module teaches it: add it to a module's 'teaches', or remove it here and "
                    "say in the unit's 'not_covered' that the course does not teach it")
            for cid, unit, at in criteria if cid not in taught]
