"""Course Markdown files (modules and pages): front matter, body checks and references."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from learning.content.outdated import find_outdated
from learning.core.problems import Problem
from learning.core.rendering import CALLOUT_TYPES
from learning.core.yamlfile import LineDict

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CALLOUT = re.compile(r"^!!!\s+([A-Za-z0-9_-]+)(?:\s+\"[^\"]*\")?\s*$")
_RAW_HTML = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(\s[^>]*)?>|<!--")
_CODE_SPAN = re.compile(r"`[^`]*`")

KIND_WORDS = {str: "text", int: "a whole number", list: "a list",
              dt.date: "a date like 2026-11-23"}


@dataclass(frozen=True)
class Reference:
    title: str
    publisher: str
    year: int | None = None
    url: str | None = None


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (front matter, body, line number where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1:]), i + 2
    return None, text, 1


def is_kind(value, kind: type) -> bool:
    """isinstance, as an author means it: true is not a number, a date and time not a date."""
    if kind is int and isinstance(value, bool):
        return False
    if kind is dt.date and isinstance(value, dt.datetime):
        return False
    return isinstance(value, kind)


def key_problems(meta: LineDict, label: str, required: dict[str, type],
                 optional: dict[str, type]) -> list[Problem]:
    """Unknown keys, and required keys that are missing or hold the wrong kind of value."""
    allowed = ", ".join([*required, *optional])
    problems = [Problem(label, meta.line_of(key), f"unknown key '{key}' (allowed: {allowed})")
                for key in meta if key not in required and key not in optional]
    for key, kind in required.items():
        if key not in meta:
            problems.append(Problem(label, meta.line, f"missing required key '{key}'"))
        elif not is_kind(meta[key], kind):
            problems.append(Problem(label, meta.line_of(key),
                                    f"'{key}' must be {KIND_WORDS[kind]}"))
    return problems


def reference_problem(ref) -> str:
    """What is wrong with one entry of `references` ("" if nothing)."""
    if not isinstance(ref, dict) or not all(k in ref for k in ("title", "publisher")):
        return ("each reference needs a title and a publisher (and a year where the document "
                "has one)")
    if "year" in ref and not isinstance(ref["year"], int):
        return "a reference's year must be a number"
    return ""


def references_of(meta: LineDict) -> tuple[Reference, ...]:
    """The `references` list as Reference values (checked by reference_problem first)."""
    return tuple(Reference(r["title"], r["publisher"], r.get("year"), r.get("url"))
                 for r in meta["references"])


def check_body(body: str, label: str, first_line: int) -> list[Problem]:
    """Problems in the Markdown body: headings, raw HTML, call-outs, outdated terms."""
    problems: list[Problem] = []
    in_fence = False
    in_history = False
    last_level = 1  # the page's h1 is the module title
    for offset, line in enumerate(body.splitlines()):
        n = first_line + offset
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if line.strip() and not line.startswith((" ", "\t")):
            in_history = False
        callout = _CALLOUT.match(line)
        if callout:
            kind = callout.group(1)
            if kind not in CALLOUT_TYPES:
                problems.append(Problem(label, n, f"unknown call-out '!!! {kind}' (use one of: "
                                        + ", ".join(CALLOUT_TYPES) + ")"))
            in_history = kind == "history"
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if level == 1:
                problems.append(Problem(label, n, "level-1 heading in the body: the page title "
                                        "is the only h1, so start sections at ##"))
            elif level > last_level + 1:
                problems.append(Problem(label, n, f"heading jumps from h{last_level} to h{level}; "
                                        "do not skip levels"))
            last_level = level
        prose = _CODE_SPAN.sub("", line)
        if _RAW_HTML.search(prose):
            problems.append(Problem(label, n, "raw HTML is not allowed in content; use Markdown"))
        if not in_history:
            for term, matched in find_outdated(prose):
                problems.append(Problem(
                    label, n, f"outdated term '{matched}' outside a '!!! history' block: "
                    f"{term.advice}", term.level))
    return problems
