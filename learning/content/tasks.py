"""Written assessment tasks (content/tasks/*.yaml): the question, guidance and marking guide."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from learning.content.outdated import find_outdated
from learning.core.problems import Problem
from learning.core.yamlfile import SLUG, LineDict, load_file

VERBS = ("explain", "analyse", "describe")
_REQUIRED = ("slug", "title", "criteria", "modules", "command_verb", "verb_guidance", "question",
             "guidance", "word_count", "resubmissions_allowed", "marking_guide")
_GUIDE_KEYS = {"criterion", "met_when", "refer_when", "example_strong_points"}


@dataclass(frozen=True)
class GuideEntry:
    criterion: str
    met_when: tuple[str, ...]
    refer_when: tuple[str, ...]
    example_strong_points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    slug: str
    title: str
    criteria: tuple[str, ...]
    modules: tuple[str, ...]
    command_verb: str
    verb_guidance: str
    question: str
    guidance: str
    min_words: int
    max_words: int
    resubmissions_allowed: int
    marking_guide: tuple[GuideEntry, ...]
    path: str


def load_task(path: Path, label: str, known_criteria: set[str] | None,
              known_modules: set[str] | None) -> tuple[Task | None, list[Problem]]:
    """One task file: the Task (None when it has any error) and every problem found."""
    data, problems = load_file(path, label)
    if problems:
        return None, problems
    if not isinstance(data, LineDict):
        return None, [Problem(label, 1, "a task file must be a YAML mapping")]
    problems = _key_problems(data, label)
    if problems:
        return None, problems
    problems = [Problem(label, data.line_of(key), message)
                for key, message in field_problems(data, known_criteria, known_modules)]
    guide, guide_problems = _marking_guide(data, label)
    problems += guide_problems
    if not problems:
        problems += _uncovered_criteria(data, guide, label)
    problems += _outdated_terms(data, label)
    if any(p.level == "error" for p in problems):
        return None, problems
    return _task(data, guide, label), problems


def _key_problems(data: LineDict, label: str) -> list[Problem]:
    problems = [Problem(label, data.line_of(k), f"unknown key '{k}'") for k in data
                if k not in _REQUIRED]
    return problems + [Problem(label, data.line, f"missing required key '{k}'")
                       for k in _REQUIRED if k not in data]


def field_problems(data: dict, known_criteria: set[str] | None,
                   known_modules: set[str] | None) -> Iterator[tuple[str, str]]:
    """(key, message) for each field of the wrong kind, or naming something that does not
    exist; `data` has every required key. The marking guide is checked on its own."""
    if not isinstance(data["slug"], str) or not SLUG.match(data["slug"]):
        yield "slug", "slug may use only lower-case letters, digits and hyphens"
    for key in ("title", "verb_guidance", "question", "guidance"):
        if not _text(data[key]):
            yield key, f"'{key}' must be text"
    if data["command_verb"] not in VERBS:
        yield "command_verb", f"command_verb must be one of {', '.join(VERBS)}"
    if not _strings(data["criteria"]):
        yield "criteria", "criteria must list at least one criterion id"
    else:
        for c in _unknown(data["criteria"], known_criteria):
            yield "criteria", f"unknown criterion '{c}' (define it in content/units.yaml)"
    if not isinstance(data["modules"], list):
        yield "modules", "modules must be a list of module slugs"
    else:
        for m in _unknown(data["modules"], known_modules):
            yield "modules", f"unknown module '{m}'"
    if not _word_count_ok(data["word_count"]):
        yield "word_count", "word_count must be {min: N, max: M} with 0 < N < M"
    if not _whole_number(data["resubmissions_allowed"]):
        yield "resubmissions_allowed", ("resubmissions_allowed must be a whole number, "
                                        "0 or more")


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _strings(value) -> bool:
    return isinstance(value, list) and bool(value) and all(_text(v) for v in value)


def _unknown(names: list, known: set[str] | None) -> list:
    """The names not in `known` (None: nothing to check against yet)."""
    return [] if known is None else [n for n in names if n not in known]


def _word_count_ok(value) -> bool:
    """{min: N, max: M} with 0 < N < M."""
    return (isinstance(value, dict) and isinstance(value.get("min"), int)
            and isinstance(value.get("max"), int) and 0 < value["min"] < value["max"])


def _whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _marking_guide(data: LineDict, label: str) -> tuple[tuple[GuideEntry, ...], list[Problem]]:
    """The entries without problems, and the problems of the others."""
    entries = data["marking_guide"]
    if not isinstance(entries, list) or not entries:
        return (), [Problem(label, data.line_of("marking_guide"),
                            "marking_guide must have an entry per criterion")]
    guide: list[GuideEntry] = []
    problems: list[Problem] = []
    for entry in entries:
        found = _guide_entry_problems(entry, data, label)
        problems += found
        if not found:
            guide.append(GuideEntry(entry["criterion"], tuple(entry["met_when"]),
                                    tuple(entry["refer_when"]),
                                    tuple(entry.get("example_strong_points") or ())))
    return tuple(guide), problems


def _guide_entry_problems(entry, data: LineDict, label: str) -> list[Problem]:
    line = getattr(entry, "line", data.line_of("marking_guide"))
    if not isinstance(entry, LineDict):
        return [Problem(label, line, "each marking_guide entry is a mapping")]
    problems = [Problem(label, entry.line_of(k), f"unknown key '{k}'") for k in entry
                if k not in _GUIDE_KEYS]
    if entry.get("criterion") not in (data["criteria"] or []):
        problems.append(Problem(label, line, f"marking_guide criterion "
                                f"'{entry.get('criterion')}' is not in the task's criteria"))
    return problems + [Problem(label, entry.line_of(k),
                               f"'{k}' must be a non-empty list of sentences")
                       for k in ("met_when", "refer_when") if not _strings(entry.get(k))]


def _uncovered_criteria(data: LineDict, guide: tuple[GuideEntry, ...],
                        label: str) -> list[Problem]:
    """The first of the task's criteria that the marking guide has no entry for."""
    covered = {g.criterion for g in guide}
    missing = [c for c in data["criteria"] if c not in covered]
    if not missing:
        return []
    return [Problem(label, data.line_of("marking_guide"),
                    f"marking_guide has no entry for criterion '{missing[0]}'")]


def _outdated_terms(data: LineDict, label: str) -> list[Problem]:
    # The learner-facing text must be current; the marking guide may name outdated ideas
    # as reasons for referral, so it is not scanned.
    problems = []
    for key in ("question", "guidance", "verb_guidance"):
        text = data[key] if isinstance(data[key], str) else ""
        for i, text_line in enumerate(text.splitlines()):
            problems += [Problem(label, data.line_of(key) + 1 + i,
                                 f"outdated term '{matched}' in {key}: {term.advice}",
                                 term.level)
                         for term, matched in find_outdated(text_line)]
    return problems


def _task(data: LineDict, guide: tuple[GuideEntry, ...], label: str) -> Task:
    return Task(
        slug=data["slug"], title=data["title"].strip(), criteria=tuple(data["criteria"]),
        modules=tuple(data["modules"]), command_verb=data["command_verb"],
        verb_guidance=" ".join(data["verb_guidance"].split()), question=data["question"],
        guidance=data["guidance"], min_words=data["word_count"]["min"],
        max_words=data["word_count"]["max"],
        resubmissions_allowed=data["resubmissions_allowed"], marking_guide=guide, path=label,
    )


def load_tasks(directory: Path, root: Path, known_criteria: set[str] | None,
               known_modules: set[str] | None) -> tuple[tuple[Task, ...], list[Problem]]:
    """Every task file in content/tasks/; bad files are reported and left out."""
    if not directory.is_dir():
        return (), []
    tasks: list[Task] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.y*ml")):
        label = str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) \
            else str(path)
        task, found = load_task(path, label, known_criteria, known_modules)
        problems += found
        if task is None:
            continue
        if task.slug in seen:
            problems.append(Problem(label, 1, f"task slug '{task.slug}' is also used by "
                                    f"{seen[task.slug]}"))
            continue
        seen[task.slug] = label
        tasks.append(task)
    return tuple(tasks), problems
