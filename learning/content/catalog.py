"""Course modules and qualification units read from content/: validated, rendered once, frozen."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from learning.content.coverage import Teaches, read_teaches, section_problems, untaught_criteria
from learning.content.frontmatter import (
    Reference,
    check_body,
    is_kind,
    key_problems,
    reference_problem,
    references_of,
    split_front_matter,
)
from learning.content.glossary import Term, load_glossary
from learning.content.pages import URGENT_HELP_PATH, Page, links_to, load_pages
from learning.content.readability import Readability, measure
from learning.content.tasks import Task, load_tasks
from learning.core.problems import Problem
from learning.core.rendering import Rendered, TocEntry, render_content, strip_tags
from learning.core.yamlfile import SLUG, LineDict, load_file, load_text

__all__ = ["Catalog", "Criterion", "Module", "ModuleCompletion", "Page", "Reference", "Unit",
           "is_kind", "load_catalog", "load_units", "split_front_matter"]

#: Where the glossary page is served; modules link first uses of terms here.
GLOSSARY_PATH = "/glossary"
_REQUIRED = {
    "slug": str, "title": str, "order": int, "teaches": object, "minutes": int,
    "outcomes": list, "last_reviewed": dt.date, "references": list,
}
_OPTIONAL: dict[str, type] = {"summary": str}


@dataclass(frozen=True)
class Criterion:
    id: str
    number: str
    text: str
    unit_id: str
    #: Line of the criterion's id in units.yaml, for problems that point at it.
    line: int = field(default=0, compare=False)


class ModuleCompletion(StrEnum):
    """A unit's rule for when a module counts as complete (`module_completion:` in units.yaml).

    learning.course.completion applies it; the order here is strictness, least first.
    """

    #: The learner has read it: marked it complete, or passed one of its quizzes.
    READ = "read"
    #: Read, and every quiz of the module that counts toward completion passed (as Moodle's
    #: "view" plus "receive a pass grade").
    READ_AND_QUIZ_PASSED = "read-and-quiz-passed"

    @property
    def strictness(self) -> int:
        return list(ModuleCompletion).index(self)


#: A unit that sets no rule (and a cohort naming no unit) keeps the first behaviour: read.
DEFAULT_MODULE_COMPLETION = ModuleCompletion.READ


@dataclass(frozen=True)
class Unit:
    id: str
    code: str
    title: str
    reference: str
    qualification: str
    criteria: tuple[Criterion, ...]
    #: What parts of the unit this course does not teach, said plainly on the course page.
    not_covered: str = ""
    #: When a module counts as complete for this unit's learners.
    module_completion: ModuleCompletion = DEFAULT_MODULE_COMPLETION


@dataclass(frozen=True)
class Module:
    slug: str
    title: str
    order: int
    #: The criteria the module teaches, in the order `teaches` gives them.
    criteria: tuple[str, ...]
    minutes: int
    outcomes: tuple[str, ...]
    last_reviewed: dt.date
    references: tuple[Reference, ...]
    rendered: Rendered
    readability: Readability
    #: Short hash of the file; stored with progress so we know which text a learner had.
    version: str
    path: str
    summary: str = ""
    #: Each criterion with the headings of the sections that teach it (none: the whole module).
    teaches: Teaches = ()

    def sections_teaching(self, criterion_id: str) -> list[TocEntry]:
        """The module's sections (with their anchors) that teach a criterion, as written."""
        headings = dict(self.teaches).get(criterion_id, ())
        by_title = {html.unescape(e.title): e for e in _walk(self.rendered.toc)}
        return [by_title[h] for h in headings if h in by_title]


    @property
    def sections(self) -> dict[str, str]:
        """Each section heading's text by its anchor (the heading's id on the module page):
        what a quiz question's `teaches:` may point at."""
        return {e.id: html.unescape(e.title) for e in _walk(self.rendered.toc)}


def _walk(entries: tuple[TocEntry, ...]):
    for e in entries:
        yield e
        yield from _walk(e.children)


@dataclass(frozen=True)
class Catalog:
    modules: tuple[Module, ...] = ()
    units: tuple[Unit, ...] = ()
    glossary: tuple[Term, ...] = ()
    tasks: tuple[Task, ...] = ()
    problems: tuple[Problem, ...] = ()
    pages: tuple[Page, ...] = ()
    _by_slug: dict = field(default_factory=dict, compare=False, repr=False)
    _criteria: dict = field(default_factory=dict, compare=False, repr=False)

    def module(self, slug: str) -> Module | None:
        return self._by_slug.get(slug)

    def sections(self) -> dict[str, dict[str, str]]:
        """Every module's sections (anchor: heading) by module slug, for checking quizzes."""
        return {m.slug: m.sections for m in self.modules}

    def page(self, slug: str) -> Page | None:
        return next((p for p in self.pages if p.slug == slug), None)

    def criterion(self, criterion_id: str) -> Criterion | None:
        return self._criteria.get(criterion_id)

    def neighbours(self, slug: str) -> tuple[Module | None, Module | None]:
        slugs = [m.slug for m in self.modules]
        i = slugs.index(slug)
        prev = self.modules[i - 1] if i > 0 else None
        nxt = self.modules[i + 1] if i + 1 < len(self.modules) else None
        return prev, nxt

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def load_units(path: Path, label: str) -> tuple[list[Unit], list[Problem]]:
    """Read units.yaml: qualification units and their criteria, referred to by id."""
    if not path.exists():
        return [], [Problem(label, 0, "units.yaml is missing: modules cannot name their criteria")]
    data, problems = load_file(path, label)
    if problems:
        return [], problems
    if not isinstance(data, LineDict) or not isinstance(data.get("units"), list):
        return [], [Problem(label, 1, "expected a top-level 'units:' list")]
    units: list[Unit] = []
    seen: set[str] = set()
    for raw in data["units"]:
        line = getattr(raw, "line", 1)
        if not isinstance(raw, LineDict):
            problems.append(Problem(label, line, "each unit must be a mapping"))
            continue
        missing = [k for k in ("id", "code", "title", "reference", "qualification", "criteria")
                   if k not in raw]
        if missing:
            problems.append(Problem(label, line, f"unit is missing {', '.join(missing)}"))
            continue
        criteria = []
        for c in raw["criteria"] or []:
            cline = getattr(c, "line", line)
            if not isinstance(c, LineDict) or not all(k in c for k in ("id", "number", "text")):
                problems.append(Problem(label, cline, "each criterion needs id, number and text"))
                continue
            if c["id"] in seen:
                problems.append(Problem(label, c.line_of("id"),
                                        f"criterion id '{c['id']}' is used twice"))
                continue
            seen.add(c["id"])
            criteria.append(Criterion(str(c["id"]), str(c["number"]), str(c["text"]),
                                      str(raw["id"]), c.line_of("id")))
        rule, problem = _module_completion(raw, label)
        if problem:
            problems.append(problem)
        units.append(Unit(str(raw["id"]), str(raw["code"]), str(raw["title"]),
                          str(raw["reference"]), str(raw["qualification"]), tuple(criteria),
                          " ".join(str(raw.get("not_covered") or "").split()), rule))
    return units, problems


def _module_completion(raw: LineDict, label: str) -> tuple[ModuleCompletion, Problem | None]:
    """A unit's `module_completion:` (the default when absent), or a problem naming the line."""
    if "module_completion" not in raw:
        return DEFAULT_MODULE_COMPLETION, None
    value = raw["module_completion"]
    try:
        return ModuleCompletion(value), None
    except ValueError:
        allowed = " or ".join(f"'{r.value}'" for r in ModuleCompletion)
        return DEFAULT_MODULE_COMPLETION, Problem(
            label, raw.line_of("module_completion"),
            f"module_completion of unit '{raw['id']}' is {value!r}: it must be {allowed} "
            "(when a module counts as complete; leave it out for 'read')")


def _check_front_matter(meta, label: str) -> list[Problem]:
    if not isinstance(meta, LineDict):
        return [Problem(label, 2, "front matter must be a YAML mapping of keys to values")]
    problems = key_problems(meta, label, _REQUIRED, _OPTIONAL)
    if "criteria" in meta:  # the key before `teaches`: say what replaced it
        problems = [p for p in problems if "'criteria'" not in p.message
                    and "'teaches'" not in p.message]
        problems.append(Problem(label, meta.line_of("criteria"),
                                "'criteria' is now 'teaches': list the criterion ids the module "
                                "teaches, or map each id to the headings of the sections that "
                                "teach it (docs/authoring.md)"))
    if problems:
        return problems
    return _front_matter_value_problems(meta, label)


def _front_matter_value_problems(meta: LineDict, label: str) -> list[Problem]:
    """Checks of the values, once every required key holds the right kind."""
    problems = []
    if not SLUG.match(meta["slug"]):
        problems.append(Problem(label, meta.line_of("slug"),
                                "slug may use only lower-case letters, digits and hyphens"))
    if meta["minutes"] <= 0:
        problems.append(Problem(label, meta.line_of("minutes"), "minutes must be above 0"))
    if not meta["outcomes"] or not all(isinstance(o, str) and o.strip() for o in meta["outcomes"]):
        problems.append(Problem(label, meta.line_of("outcomes"),
                                "outcomes must be a non-empty list of sentences"))
    references = meta["references"]
    problems += [Problem(label, references.item_lines[i], message)
                 for i, ref in enumerate(references) if (message := reference_problem(ref))]
    return problems


def load_module(path: Path, label: str, known_criteria: set[str] | None,
                glossary: dict[str, tuple[str, str]] | None = None
                ) -> tuple[Module | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(label, 0, f"not UTF-8 text (byte {exc.start})")]
    front, body, body_line = split_front_matter(text)
    if front is None:
        return None, [Problem(label, 1, "missing YAML front matter: start the file with a "
                              "line '---', the keys, then another '---'")]
    meta, problems = load_text(front, label, line_offset=1)
    if problems:
        return None, problems
    problems = _check_front_matter(meta, label)
    if problems:
        return None, problems
    teaches, problems = read_teaches(meta, label, known_criteria)
    problems += check_body(body, label, body_line)
    if not body.strip():
        problems.append(Problem(label, body_line, "the module has no text after the front matter"))
    rendered = render_content(body, glossary)
    problems += section_problems(teaches, rendered.headings, label, meta.line_of("teaches"))
    if not links_to(str(rendered.html), URGENT_HELP_PATH):
        problems.append(Problem(label, body_line, "the module does not link to the page on what "
                                "to do if you are worried about a child now: add a link to "
                                f"{URGENT_HELP_PATH} where it teaches reporting a worry"))
    if any(p.level == "error" for p in problems):
        return None, problems
    module = Module(
        slug=meta["slug"], title=meta["title"].strip(), order=meta["order"],
        criteria=tuple(cid for cid, _ in teaches), minutes=meta["minutes"],
        outcomes=tuple(o.strip() for o in meta["outcomes"]),
        last_reviewed=meta["last_reviewed"],
        references=references_of(meta),
        rendered=rendered,
        readability=measure(strip_tags(str(rendered.html))),
        version=hashlib.sha256(text.encode()).hexdigest()[:16],
        path=label,
        summary=(meta.get("summary") or "").strip(),
        teaches=teaches,
    )
    return module, problems


def load_catalog(content_dir: Path) -> Catalog:
    """Load units and every module under content_dir; never raises for bad files."""
    problems: list[Problem] = []
    if not content_dir.is_dir():
        return Catalog(problems=(Problem(str(content_dir), 0, "content folder not found"),))
    units_path = content_dir / "units.yaml"
    units, unit_problems = load_units(units_path, _rel(units_path, content_dir))
    problems += unit_problems
    known = {c.id for u in units for c in u.criteria} if units else None
    glossary_path = content_dir / "glossary.yaml"
    glossary, glossary_problems = load_glossary(glossary_path, _rel(glossary_path, content_dir))
    problems += glossary_problems
    links = {t.term: (f"{GLOSSARY_PATH}#{t.anchor}", t.stands_for or "") for t in glossary}
    modules: list[Module] = []
    files = [p for p in sorted(content_dir.glob("*.md")) if p.name.lower() != "readme.md"]
    for path in files:
        module, found = load_module(path, _rel(path, content_dir), known, links)
        problems += found
        if module:
            modules.append(module)
    if len(modules) == len(files):  # a module that did not load has its own error already
        taught = {cid for m in modules for cid in m.criteria}
        problems += untaught_criteria(_rel(units_path, content_dir),
                                      [(c.id, u.id, c.line) for u in units for c in u.criteria],
                                      taught)
    by_slug: dict[str, Module] = {}
    orders: dict[int, Module] = {}
    kept: list[Module] = []
    for m in modules:
        if m.slug in by_slug:
            problems.append(Problem(m.path, 2, f"slug '{m.slug}' is also used by "
                                    f"{by_slug[m.slug].path}"))
            continue
        if m.order in orders:
            problems.append(Problem(m.path, 2, f"order {m.order} is also used by "
                                    f"{orders[m.order].path}"))
            continue
        by_slug[m.slug] = m
        orders[m.order] = m
        kept.append(m)
    kept.sort(key=lambda m: m.order)
    tasks, task_problems = load_tasks(content_dir / "tasks", content_dir, known, set(by_slug))
    problems += task_problems
    pages, page_problems = load_pages(content_dir / "pages", lambda p: _rel(p, content_dir))
    problems += page_problems
    criteria = {c.id: c for u in units for c in u.criteria}
    return Catalog(tuple(kept), tuple(units), glossary, tasks, tuple(sorted(problems)), pages,
                   by_slug, criteria)
