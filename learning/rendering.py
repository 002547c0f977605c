"""The only module that calls Markdown and bleach: Markdown in, sanitised HTML out."""

from __future__ import annotations

import xml.etree.ElementTree as etree
from dataclasses import dataclass

import bleach
import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

#: Call-out box types authors may use with `!!! type "Title"`; anything else is a content error.
CALLOUT_TYPES = {
    "key-point": "Key point",
    "reflect": "Reflect",
    "history": "History",
    "example": "Example",
    "scenario": "Scenario",
    "model-answer": "Model answer",
    "note": "Note",
}

_TAGS = [
    "a", "abbr", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h2", "h3",
    "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "ul",
]
_ATTRS = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "div": ["class", "role"],
    "p": ["class"],
    "h2": ["id"], "h3": ["id"], "h4": ["id"], "h5": ["id"], "h6": ["id"],
    "th": ["scope", "colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
    "ol": ["start"],
}
_PROTOCOLS = ["http", "https", "mailto"]

_CONTENT_EXTENSIONS = ["tables", "toc", "attr_list", "def_list", "admonition", "sane_lists"]
_TEXT_EXTENSIONS = ["sane_lists"]


class _CalloutTreeprocessor(Treeprocessor):
    """Turns admonition divs into role="note" boxes; not landmarks, as a page has many."""

    def run(self, root: etree.Element) -> None:
        for el in root.iter("div"):
            classes = (el.get("class") or "").split()
            if "admonition" not in classes:
                continue
            kind = next((c for c in classes if c != "admonition"), "note")
            el.set("class", f"callout callout-{kind}")
            el.set("role", "note")
            title = el.find("p")
            if title is not None and "admonition-title" in (title.get("class") or ""):
                title.set("class", "callout-title")


class _CalloutExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802 (Markdown's API name)
        # After admonition (which runs as a block processor) and before inline rendering ends.
        md.treeprocessors.register(_CalloutTreeprocessor(md), "joined_up_callouts", 5)


@dataclass(frozen=True)
class TocEntry:
    level: int
    id: str
    title: str
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True)
class Rendered:
    html: Markup
    toc: tuple[TocEntry, ...]
    headings: tuple[tuple[int, str], ...]  # (level, text) in document order, for checks


def _toc_entries(tokens: list[dict]) -> tuple[TocEntry, ...]:
    return tuple(
        TocEntry(t["level"], t["id"], t["name"], _toc_entries(t.get("children", [])))
        for t in tokens
    )


def _flatten(entries: tuple[TocEntry, ...]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for e in entries:
        out.append((e.level, e.title))
        out.extend(_flatten(e.children))
    return out


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "div" and name == "role":
        return value == "note"
    return name in _ATTRS.get(tag, ())


def sanitise(html: str) -> str:
    """Strip every tag and attribute not on the allow-list (scripts, handlers, styles...)."""
    return bleach.clean(html, tags=_TAGS, attributes=_allowed_attribute, protocols=_PROTOCOLS,
                        strip=True)


def render_content(text: str) -> Rendered:
    """Render a course module's Markdown body, with its table of contents, sanitised."""
    md = markdown.Markdown(
        extensions=[*_CONTENT_EXTENSIONS, _CalloutExtension()],
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"}},
        output_format="html",
    )
    raw = md.convert(text)
    toc = _toc_entries(getattr(md, "toc_tokens", []))
    return Rendered(Markup(sanitise(raw)), toc, tuple(_flatten(toc)))


def render_text(text: str | None) -> Markup:
    """Render user-written Markdown (answers, feedback): no headings above h3, sanitised."""
    if not text:
        return Markup("")
    raw = markdown.markdown(text, extensions=_TEXT_EXTENSIONS, output_format="html")
    return Markup(sanitise(raw))


def strip_tags(html: str) -> str:
    """Plain text from HTML, for word counts and readability figures."""
    return bleach.clean(html, tags=[], strip=True)


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_text
