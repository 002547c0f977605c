"""The only module that calls Markdown and bleach: Markdown (or HTML, or plain text) in,
sanitised HTML out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

import bleach
import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup, escape

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

# <b> and <i>: Moodle's HTML (GIFT [html] and [moodle] text) uses them for bold and italics.
_TAGS = [
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody",
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
#: tel: lets a phone user call a helpline from the urgent help page with one tap.
_PROTOCOLS = ["http", "https", "mailto", "tel"]

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


class _GlossaryTreeprocessor(Treeprocessor):
    """Links the first use of each glossary term in a module to its glossary entry."""

    SKIP = {"a", "code", "pre", "abbr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self, md, links: dict[str, tuple[str, str]]):
        super().__init__(md)
        self.links = links
        names = sorted(links, key=len, reverse=True)  # longest first: "UK GDPR" before "GDPR"
        self.pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
        self.done: set[str] = set()

    def _split(self, text: str) -> tuple[str, list[etree.Element]]:
        """Text before the first new link, and the links (each carrying the text after it)."""
        head, last = text, 0
        links: list[etree.Element] = []
        for m in self.pattern.finditer(text):
            term = m.group(1)
            if term in self.done:
                continue
            self.done.add(term)
            href, title = self.links[term]
            a = etree.Element("a", {"href": href, "class": "glossary-link"})
            if title:
                a.set("title", title)
            a.text = term
            if links:
                links[-1].tail = text[last:m.start()]
            else:
                head = text[:m.start()]
            links.append(a)
            last = m.end()
        if not links:
            return text, []
        links[-1].tail = text[last:]
        return head, links

    def _walk(self, el: etree.Element) -> None:
        if el.text and el.tag not in self.SKIP:
            el.text, new = self._split(el.text)
            for i, a in enumerate(new):
                el.insert(i, a)
        for child in list(el):
            if child.tag not in self.SKIP:
                self._walk(child)
            if child.tail and el.tag not in self.SKIP:
                child.tail, new = self._split(child.tail)
                at = list(el).index(child) + 1
                for i, a in enumerate(new):
                    el.insert(at + i, a)

    def run(self, root: etree.Element) -> None:
        if self.links:
            self._walk(root)


class _CalloutExtension(Extension):
    def __init__(self, links: dict[str, tuple[str, str]] | None = None):
        super().__init__()
        self.links = links or {}

    def extendMarkdown(self, md):  # noqa: N802 (Markdown's API name)
        # Priorities below 20 run after inline parsing, so the tree holds final text.
        md.treeprocessors.register(_CalloutTreeprocessor(md), "joined_up_callouts", 5)
        md.treeprocessors.register(_GlossaryTreeprocessor(md, self.links),
                                   "joined_up_glossary", 4)


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
    if tag == "a" and name == "class":
        return value == "glossary-link"
    return name in _ATTRS.get(tag, ())


def sanitise(html: str) -> str:
    """Strip every tag and attribute not on the allow-list (scripts, handlers, styles...)."""
    return bleach.clean(html, tags=_TAGS, attributes=_allowed_attribute, protocols=_PROTOCOLS,
                        strip=True)


def _sanitised_markup(html: str) -> Markup:
    """The one place rendered Markdown becomes Markup: only after bleach has cleaned it."""
    clean = sanitise(html)
    # bandit B704 (Markup on a variable): safe, bleach has just kept only allow-listed tags.
    return Markup(clean)  # nosec B704


def render_content(text: str, glossary: dict[str, tuple[str, str]] | None = None) -> Rendered:
    """Render a module's Markdown body, with its table of contents, sanitised.

    `glossary` maps a term to (link, title): the first use of each term is linked.
    """
    md = markdown.Markdown(
        extensions=[*_CONTENT_EXTENSIONS, _CalloutExtension(glossary)],
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"}},
        output_format="html",
    )
    raw = md.convert(text)
    toc = _toc_entries(getattr(md, "toc_tokens", []))
    return Rendered(_sanitised_markup(raw), toc, tuple(_flatten(toc)))


#: Moodle's text formats (FORMAT_MARKDOWN, FORMAT_HTML, FORMAT_MOODLE, FORMAT_PLAIN): how
#: a quiz question's text is written. Our own quizzes are Markdown; GIFT imports keep theirs.
TEXT_FORMATS = ("markdown", "html", "moodle", "plain")


def render_text(text: str | None, text_format: str | None = "markdown") -> Markup:
    """Render short quiz text (question text, answers, feedback) by its format, sanitised.

    Markdown as Markdown; "html" as an HTML fragment; "moodle" as HTML with its line breaks
    kept; "plain" escaped, line breaks kept (see the render_* functions below). A missing
    format (a view stored before formats existed) is Markdown. Cached by the text itself:
    the same question or feedback is rendered once per process, however many learners see it.
    """
    if not text:
        return Markup("")
    fmt = text_format or "markdown"
    if fmt != "markdown":
        return _RENDERERS[fmt](text)
    if len(text) > _CACHE_TEXT_UP_TO:  # long answers are rendered each time, not kept
        return _render_text_cached.__wrapped__(text)
    return _render_text_cached(text)


_CACHE_TEXT_UP_TO = 2000


@lru_cache(maxsize=8192)
def _render_text_cached(text: str) -> Markup:
    return _sanitised_markup(markdown.markdown(text, extensions=_TEXT_EXTENSIONS,
                                               output_format="html"))


def render_html_fragment(text: str) -> Markup:
    """Moodle's FORMAT_HTML: the HTML as written, through the same allow-list as Markdown's
    output, so scripts, handlers, styles and javascript: links are gone."""
    return _sanitised_markup(text)


def render_moodle(text: str) -> Markup:
    """Moodle's FORMAT_MOODLE (text_to_html): HTML allowed and each line break kept as <br>,
    in a <div> as Moodle's (the text may hold paragraphs of its own)."""
    return _sanitised_markup('<div class="text_to_html">' + _line_breaks(text) + "</div>")


def render_plain(text: str) -> Markup:
    """Moodle's FORMAT_PLAIN: the text exactly as typed (every character escaped), line
    breaks kept, in one paragraph."""
    # bandit B704: safe, every character is escaped and only <p> and <br> are added.
    return Markup("<p>" + _line_breaks(str(escape(text))) + "</p>")  # nosec B704


def _line_breaks(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>\n")


_RENDERERS = {"html": render_html_fragment, "moodle": render_moodle, "plain": render_plain}


#: What a choice label, a matching prompt or an ordering item may hold: it sits inside a
#: <label>, where only phrasing content is allowed.
_INLINE_TAGS = ["strong", "em", "b", "i", "code", "a", "sub", "sup", "br"]
_ONE_PARAGRAPH = re.compile(r"\A<p>(.*)</p>\Z", re.DOTALL)


def render_inline(text: str | None, text_format: str | None = "markdown") -> Markup:
    """Render a short label (a choice, a prompt, an item) inline, by its format, sanitised.

    Labels come from the same authors as question text (and from GIFT imports), so `*red*`
    in Markdown or `<i>red</i>` in HTML shows as emphasis, not as typed. A label Markdown
    would make a list or heading of ("1. Listen") is shown as typed, since a <label> cannot
    hold blocks; HTML block tags in a label are dropped, keeping their text.
    """
    if not text:
        return Markup("")
    fmt = text_format or "markdown"
    if fmt == "plain":
        # bandit B704: safe, every character is escaped and only <br> is added.
        return Markup(_line_breaks(str(escape(text))))  # nosec B704
    if fmt in ("html", "moodle"):
        return _clean_inline(_line_breaks(text) if fmt == "moodle" else text)
    return _render_inline_cached(text)


def _clean_inline(html: str) -> Markup:
    clean = bleach.clean(html, tags=_INLINE_TAGS, attributes=_allowed_attribute,
                         protocols=_PROTOCOLS, strip=True)
    # bandit B704: safe, bleach has just removed every tag and attribute not allowed above.
    return Markup(clean.strip())  # nosec B704


@lru_cache(maxsize=8192)
def _render_inline_cached(text: str) -> Markup:
    html = markdown.markdown(text, extensions=_TEXT_EXTENSIONS, output_format="html")
    match = _ONE_PARAGRAPH.match(html.strip())
    if match is None or "<p>" in match.group(1):
        return escape(text)
    return _clean_inline(match.group(1))


# ---- what learners and assessors write ----
# Answers, feedback and comments are people's own words, up to 60,000 characters, and any of
# it may be hostile. Python-Markdown (and markdown-it-py, and cmark with a sanitiser after it)
# take seconds on inputs such as 40,000 "[" or 30,000 "*a", or nest 60,000 blockquotes, so
# people's text gets a small format of its own, rendered in one pass: paragraphs (a blank
# line), line breaks, "-", "*" or "1." lists, "#" lines as bold lead-ins (never headings, so a
# page keeps its heading order), **bold** and *italic*. Every character is HTML-escaped first
# and only the tags below are ever written, with no attributes: there is no HTML left to
# sanitise, whatever was typed. bench/render.py prints the times.

ANSWER_TAGS = frozenset({"p", "br", "ul", "ol", "li", "strong", "em"})
_BULLET = re.compile(r"^[ \t]{0,3}[-*+][ \t]+(.*)$")
_NUMBER = re.compile(r"^[ \t]{0,3}\d{1,9}[.)][ \t]+(.*)$")
_LEAD = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t#]*$")
# The inner classes exclude the delimiter, so each attempt stops at the next "*" or "_":
# matching is linear, whatever the input.
_STRONG = re.compile(r"(\*\*|__)(?=\S)([^*_\n]*?\S)\1")
_EM = re.compile(r"(?<![\w*])([*_])(?=\S)([^*_\n]*?\S)\1(?![\w*])")


def _inline(text: str) -> str:
    # Run once over the whole escaped text: the patterns never cross a line, and a list's
    # "* " marker (a space after the star) is never taken for emphasis.
    if "*" not in text and "_" not in text:
        return text
    text = _STRONG.sub(r"<strong>\2</strong>", text)
    return _EM.sub(r"<em>\2</em>", text)


def _block(lines: list[str]) -> str:
    """One block (lines between blank lines): a list, or a paragraph with line breaks."""
    for pattern, tag in ((_BULLET, "ul"), (_NUMBER, "ol")):
        items = [pattern.match(line) for line in lines]
        if all(items):
            body = "".join(f"<li>{m.group(1)}</li>" for m in items if m)
            return f"<{tag}>{body}</{tag}>"
    out = []
    for line in lines:
        lead = _LEAD.match(line) if "#" in line else None
        out.append(f"<strong>{lead.group(1)}</strong>" if lead else line)
    return "<p>" + "<br>".join(out) + "</p>"


def render_answer(text: str | None) -> Markup:
    """Render what a person wrote (an answer, feedback, a comment) in linear time, escaped."""
    if not text:
        return Markup("")
    escaped = _inline(str(escape(text.replace("\r\n", "\n").replace("\r", "\n"))))
    blocks, current = [], []
    for line in escaped.split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(_block(current))
            current = []
    if current:
        blocks.append(_block(current))
    html = "\n".join(blocks)
    # bandit B704: safe, every character was escaped above and only ANSWER_TAGS, without
    # attributes, were added.
    return Markup(html)  # nosec B704


def stored_or_rendered(html: str | None, text: str) -> Markup:
    """HTML kept with a saved text (render_answer's output), or the text rendered now."""
    if html is None:
        return render_answer(text)
    # bandit B704: safe, `html` is render_answer's output, stored with the version by the
    # assessment code (never taken from a request), as safe as rendering the text again.
    return Markup(html)  # nosec B704


def strip_tags(html: str) -> str:
    """Plain text from HTML, for word counts and readability figures."""
    return bleach.clean(html, tags=[], strip=True)


class _Losses(HTMLParser):
    """What sanitise() will leave out of an HTML fragment, named for an import's warning."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lost: list[str] = []

    def lose(self, what: str) -> None:
        if what not in self.lost:
            self.lost.append(what)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.lose(f"a <{tag}> block")
            return
        if tag == "img":
            src = dict(attrs).get("src") or ""
            self.lose(f"an image ('{src[:60]}')" if src else "an image")
            return
        if tag not in _TAGS and tag not in ("span", "html", "body"):
            self.lose(f"<{tag}>")
        for name, value in attrs:
            if name == "style" and value:
                self.lose("styling (style=...)")
            elif name.startswith("on"):
                self.lose(f"a script ({name}=...)")
            elif tag == "a" and name == "href" and value:
                scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
                if scheme and scheme not in _PROTOCOLS:
                    self.lose(f"a link to '{value[:60]}'")


def sanitiser_losses(html: str) -> list[str]:
    """The tags, attributes and links that rendering this HTML will drop (images, scripts,
    styles, tags off the allow-list, links that are not http(s), mailto or tel), in order.

    <span> (without a style) is not named: it carries nothing a learner needs. The text
    inside a dropped tag is kept, so only the tag is named.
    """
    parser = _Losses()
    parser.feed(html)
    parser.close()
    return parser.lost


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_text
    app.jinja_env.filters["markdown_inline"] = render_inline
    app.jinja_env.filters["answer"] = render_answer
