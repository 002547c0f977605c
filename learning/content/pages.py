"""Stand-alone course pages (content/pages/*.md), such as the urgent help page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from learning.content.frontmatter import (
    Reference,
    check_body,
    key_problems,
    reference_problem,
    references_of,
    split_front_matter,
)
from learning.content.readability import Readability, measure
from learning.core.problems import Problem
from learning.core.rendering import Rendered, render_content, strip_tags
from learning.core.yamlfile import SLUG, LineDict, load_text

#: The page every module and the dashboard link to: what to do about a child at risk now.
URGENT_HELP_SLUG = "worried-about-a-child"
#: Where pages are served (the course domain's view); modules link to pages by this path.
PAGES_PATH = "/help"
URGENT_HELP_PATH = f"{PAGES_PATH}/{URGENT_HELP_SLUG}"

def links_to(rendered_html: str, path: str) -> bool:
    """Whether rendered HTML holds a link to `path` (a #fragment after it is fine)."""
    return re.search(r'href="' + re.escape(path) + r'(?:#[^"]*)?"', rendered_html) is not None


_REQUIRED = {"slug": str, "title": str, "last_reviewed": dt.date, "references": list}
_OPTIONAL: dict[str, type] = {"summary": str}


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    last_reviewed: dt.date
    references: tuple[Reference, ...]
    rendered: Rendered
    readability: Readability
    path: str
    summary: str = ""


def load_page(path: Path, label: str) -> tuple[Page | None, list[Problem]]:
    """One page file: the Page (None when it has any error) and every problem found."""
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
    if not isinstance(meta, LineDict):
        return None, [Problem(label, 2, "front matter must be a YAML mapping of keys to values")]
    problems = key_problems(meta, label, _REQUIRED, _OPTIONAL)
    if problems:
        return None, problems
    if not SLUG.match(meta["slug"]):
        problems.append(Problem(label, meta.line_of("slug"),
                                "slug may use only lower-case letters, digits and hyphens"))
    problems += [Problem(label, meta["references"].item_lines[i], message)
                 for i, ref in enumerate(meta["references"]) if (message := reference_problem(ref))]
    problems += check_body(body, label, body_line)
    if not body.strip():
        problems.append(Problem(label, body_line, "the page has no text after the front matter"))
    if any(p.level == "error" for p in problems):
        return None, problems
    # No glossary links: pages are open to people who are not logged in, and the glossary
    # is not.
    rendered = render_content(body)
    return Page(slug=meta["slug"], title=meta["title"].strip(),
                last_reviewed=meta["last_reviewed"], references=references_of(meta),
                rendered=rendered, readability=measure(strip_tags(str(rendered.html))),
                path=label, summary=(meta.get("summary") or "").strip()), problems


def load_pages(folder: Path, label_of) -> tuple[tuple[Page, ...], list[Problem]]:
    """Every page in `folder`, by file name; the urgent help page must be among them."""
    pages: list[Page] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        page, found = load_page(path, label_of(path))
        problems += found
        if page is None:
            continue
        if page.slug in seen:
            problems.append(Problem(page.path, 2, f"slug '{page.slug}' is also used by "
                                    f"{seen[page.slug]}"))
            continue
        seen[page.slug] = page.path
        pages.append(page)
    if URGENT_HELP_SLUG not in seen:
        problems.append(Problem(label_of(folder / f"{URGENT_HELP_SLUG}.md"), 0,
                                f"the page '{URGENT_HELP_SLUG}' (what to do if you are worried "
                                "about a child now) is missing or could not be loaded: every "
                                "module links to it"))
    return tuple(pages), problems
