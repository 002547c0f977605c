"""Written assessment tasks (content/tasks/*.yaml): the question, guidance and marking guide."""

from __future__ import annotations

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


def _strings(value) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, str) and v.strip() for v in value)


def load_task(path: Path, label: str, known_criteria: set[str] | None,
              known_modules: set[str] | None) -> tuple[Task | None, list[Problem]]:
    data, problems = load_file(path, label)
    if problems:
        return None, problems
    if not isinstance(data, LineDict):
        return None, [Problem(label, 1, "a task file must be a YAML mapping")]
    problems = [Problem(label, data.line_of(k), f"unknown key '{k}'") for k in data
                if k not in _REQUIRED]
    problems += [Problem(label, data.line, f"missing required key '{k}'") for k in _REQUIRED
                 if k not in data]
    if problems:
        return None, problems

    def bad(key: str, message: str) -> None:
        problems.append(Problem(label, data.line_of(key), message))

    if not isinstance(data["slug"], str) or not SLUG.match(data["slug"]):
        bad("slug", "slug may use only lower-case letters, digits and hyphens")
    for key in ("title", "verb_guidance", "question", "guidance"):
        if not isinstance(data[key], str) or not data[key].strip():
            bad(key, f"'{key}' must be text")
    if data["command_verb"] not in VERBS:
        bad("command_verb", f"command_verb must be one of {', '.join(VERBS)}")
    if not _strings(data["criteria"]):
        bad("criteria", "criteria must list at least one criterion id")
    elif known_criteria is not None:
        for c in data["criteria"]:
            if c not in known_criteria:
                bad("criteria", f"unknown criterion '{c}' (define it in content/units.yaml)")
    if not isinstance(data["modules"], list):
        bad("modules", "modules must be a list of module slugs")
    elif known_modules is not None:
        for m in data["modules"]:
            if m not in known_modules:
                bad("modules", f"unknown module '{m}'")
    wc = data["word_count"]
    if not (isinstance(wc, dict) and isinstance(wc.get("min"), int)
            and isinstance(wc.get("max"), int) and 0 < wc["min"] < wc["max"]):
        bad("word_count", "word_count must be {min: N, max: M} with 0 < N < M")
    r = data["resubmissions_allowed"]
    if not isinstance(r, int) or isinstance(r, bool) or r < 0:
        bad("resubmissions_allowed", "resubmissions_allowed must be a whole number, 0 or more")
    guide: list[GuideEntry] = []
    if not isinstance(data["marking_guide"], list) or not data["marking_guide"]:
        bad("marking_guide", "marking_guide must have an entry per criterion")
    else:
        for entry in data["marking_guide"]:
            line = getattr(entry, "line", data.line_of("marking_guide"))
            if not isinstance(entry, LineDict):
                problems.append(Problem(label, line, "each marking_guide entry is a mapping"))
                continue
            for k in entry:
                if k not in _GUIDE_KEYS:
                    problems.append(Problem(label, entry.line_of(k), f"unknown key '{k}'"))
            if entry.get("criterion") not in (data["criteria"] or []):
                problems.append(Problem(label, line, f"marking_guide criterion "
                                        f"'{entry.get('criterion')}' is not in the task's "
                                        "criteria"))
            for k in ("met_when", "refer_when"):
                if not _strings(entry.get(k)):
                    problems.append(Problem(label, entry.line_of(k) if k in entry else line,
                                            f"'{k}' must be a non-empty list of sentences"))
            if problems:
                continue
            guide.append(GuideEntry(entry["criterion"], tuple(entry["met_when"]),
                                    tuple(entry["refer_when"]),
                                    tuple(entry.get("example_strong_points") or ())))
        covered = {g.criterion for g in guide}
        for c in data["criteria"] if isinstance(data["criteria"], list) else []:
            if c not in covered and not problems:
                bad("marking_guide", f"marking_guide has no entry for criterion '{c}'")
    # The learner-facing text must be current; the marking guide may name outdated ideas
    # as reasons for referral, so it is not scanned.
    for key in ("question", "guidance", "verb_guidance"):
        text = data[key] if isinstance(data[key], str) else ""
        for i, text_line in enumerate(text.splitlines()):
            for term, matched in find_outdated(text_line):
                problems.append(Problem(label, data.line_of(key) + 1 + i,
                                        f"outdated term '{matched}' in {key}: {term.advice}",
                                        term.level))
    if any(p.level == "error" for p in problems):
        return None, problems
    return Task(
        slug=data["slug"], title=data["title"].strip(), criteria=tuple(data["criteria"]),
        modules=tuple(data["modules"]), command_verb=data["command_verb"],
        verb_guidance=" ".join(data["verb_guidance"].split()), question=data["question"],
        guidance=data["guidance"], min_words=wc["min"], max_words=wc["max"],
        resubmissions_allowed=r, marking_guide=tuple(guide), path=label,
    ), problems


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
