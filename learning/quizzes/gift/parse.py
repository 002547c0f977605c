"""Reading Moodle GIFT text into our questions, with file:line problems for what can't come in."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from learning.core.problems import Problem
from learning.core.rendering import render_text, sanitiser_losses, strip_tags
from learning.quizzes.questions import Checker, build_question, letter_id, locate, slugify
from learning.quizzes.types import Question

# Escaped characters become private-use placeholders first, so that splitting on
# `{ } = ~ # :` never sees them; they turn back into the plain characters at the end.
_PLACEHOLDERS = {ch: chr(0xE000 + i) for i, ch in enumerate("\\~=#{}:")}
_NEWLINE = chr(0xE010)  # `\n` in GIFT text is a line break
_RESTORE = str.maketrans({v: k for k, v in _PLACEHOLDERS.items()} | {_NEWLINE: "\n"})
_FORMAT = re.compile(r"^\s*\[(markdown|html|plain|moodle)\]", re.IGNORECASE)
_TITLE = re.compile(r"^\s*::(.*?)::", re.DOTALL)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
#: Moodle's true/false answers, compared exactly (qformat_gift::readquestion): `{true}` is a
#: short answer whose answer is "true".
_TRUEFALSE = ("T", "TRUE", "F", "FALSE")
#: Comments of ours that Moodle ignores: `// joinedup:ids a b c`, `// joinedup:ordering`,
#: `// joinedup:marks 2` (written by gift_export so a round trip loses nothing).
_OURS = re.compile(r"^joinedup:(id|ids|ordering|marks|lenient|case-sensitive)\b\s*(.*)$")
_MOODLE_ID = re.compile(r"\[id:([^\]]+)\]")


def parse_gift(text: str, path_label: str) -> tuple[list[Question], list[Problem]]:
    """Every question GIFT `text` holds that we support, and a Problem for each one we skip.

    Problems carry the line where the question starts. Text with no answer block is a
    description (shown, not answered). Skipped: essays (`{}`) as warnings, and anything
    malformed, as errors.
    """
    ck = Checker(path_label)
    questions: list[Question] = []
    taken: set[str] = set()
    category, category_path, ordinal = "", "", 0
    for block in _blocks(text.removeprefix("\ufeff")):
        comments = [line.strip()[2:].strip() for _, line in block if _is_comment(line)]
        lines = [(n, line) for n, line in block if not _is_comment(line)]
        if lines and lines[0][1].strip().startswith("$CATEGORY:"):
            category_path = lines[0][1].strip().removeprefix("$CATEGORY:").strip()
            category = _category(category_path)
            lines = lines[1:]
        if not lines:
            continue
        ordinal += 1
        start = lines[0][0]
        reader = _QuestionReader(ck, start, comments)
        data = reader.read("\n".join(line for _, line in lines))
        if data is None:
            continue
        data["id"] = _question_id(reader.title, comments, ordinal, taken)
        # A name or path that says no more than the id or category is not kept, so that
        # our own exports (which write the id as the title) come back unchanged.
        if reader.title and reader.title != data["id"]:
            data["name"] = reader.title
        elif not reader.title:  # Moodle names an untitled question after its text
            data["name"] = moodle_default_name(reader.moodle_text)
        if category:
            data["category"] = category
        if category_path and category_path != category:
            data["category_path"] = category_path
        question = build_question(locate(data, start), ck, ordinal)
        if question is not None:
            questions.append(question)
            tags = [t for c in comments for t in re.findall(r"\[tag:([^\]]*)\]", c)]
            if tags:
                ck.warn(start, f"question '{question.id}' has Moodle tags "
                               f"({', '.join(tags)}), which are not imported")
            if reader.converted:
                ck.warn(start, f"question '{question.id}' has "
                               f"{' and '.join(f'[{c}]' for c in reader.converted)} text in a "
                               f"[{reader.question_format}] question; it was converted to "
                               f"[{reader.question_format}] (we keep one format per question)")
            if reader.dropped:
                ck.warn(start, f"question '{question.id}' has HTML that will not be shown: "
                               f"{', '.join(reader.dropped)}; check the wording")
    return questions, ck.problems


def _is_comment(line: str) -> bool:
    return line.strip().startswith("//")


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Questions are separated by blank lines; each line keeps its 1-based number."""
    blocks: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            blocks[-1].append((number, line))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _category(path: str) -> str:
    """`$course$/top/Roles and duties` -> 'roles-and-duties' (the last real segment)."""
    parts = [p.strip() for p in path.split("/") if p.strip()]
    parts = [p for p in parts if not (p.startswith("$") and p.endswith("$")) and p != "top"]
    return slugify(parts[-1], 60) if parts else ""


def _question_id(title: str, comments: list[str], ordinal: int, taken: set[str]) -> str:
    """Our `// joinedup:id`, else Moodle's `// [id:...]` if usable, else the slugified
    title, else q<ordinal>; unique."""
    wanted = ""
    for comment in comments:
        match = _MOODLE_ID.search(comment)
        if match:
            wanted = slugify(match.group(1), 60)
    for comment in comments:
        ours = _OURS.match(comment)
        if ours and ours.group(1) == "id":
            wanted = slugify(ours.group(2), 60) or wanted
    wanted = wanted or slugify(title, 60) or f"q{ordinal}"
    candidate, n = wanted, 2
    while candidate in taken:
        candidate, n = f"{wanted}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _protect(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        pair = text[i : i + 2]
        if len(pair) == 2 and pair[0] == "\\" and (pair[1] in _PLACEHOLDERS or pair[1] == "n"):
            out.append(_NEWLINE if pair[1] == "n" else _PLACEHOLDERS[pair[1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class _QuestionReader:
    """Reads one question's GIFT text into the plain-dict form build_question checks."""

    def __init__(self, ck: Checker, line: int, comments: list[str]) -> None:
        self.ck, self.line = ck, line
        self.title, self.format = "", ""
        #: The question text as Moodle stores it (format marker gone, escapes restored,
        #: `_____` for a missing word), which Moodle names an untitled question after.
        self.moodle_text = ""
        #: What showing the HTML will leave out (images, scripts, styles, other links...).
        self.dropped: list[str] = []
        #: Formats of pieces marked differently from the question text, converted to it.
        self.converted: list[str] = []
        self.ours: dict[str, str] = {}
        for comment in comments:
            match = _OURS.match(comment)
            if match:
                self.ours[match.group(1)] = match.group(2).strip()

    @property
    def label(self) -> str:
        return f"question '{self.title}'" if self.title else "question"

    def error(self, message: str) -> None:
        self.ck.error(self.line, f"{self.label} {message}")

    def read(self, raw: str) -> dict[str, Any] | None:
        text = _protect(raw)
        title = _TITLE.match(text)
        if title:
            self.title = title.group(1).translate(_RESTORE).strip()
            text = text[title.end() :]
        opening = text.find("{")
        if opening < 0 and "}" in text:  # Moodle's braceerror too
            self.error("has a '}' with no '{' before it; a blank line inside an answer block "
                       "ends the question there (write '\\}' for a brace in text)")
            return None
        if opening < 0:  # Moodle's "description": text shown among the questions, 0 marks
            format_match = _FORMAT.match(text)
            if format_match:
                self.format = format_match.group(1).lower()
                text = text[format_match.end() :]
            self.moodle_text = text.translate(_RESTORE).strip()
            return {"type": "description", "text": self.text(text, own_marker=False),
                    "text_format": self.question_format}
        closing = text.find("}", opening)
        if closing < 0:
            self.error("has a '{' that is never closed (write '\\{' for a brace in text)")
            return None
        inner, before, after = text[opening + 1 : closing], text[:opening], text[closing + 1 :]
        if "{" in inner:
            self.error("has a '{' inside its answer block (write '\\{' for a brace)")
            return None
        if "{" in after or "}" in after or "}" in before:
            self.error("has more than one answer block, or a stray brace")
            return None
        format_match = _FORMAT.match(before)
        if format_match:
            self.format = format_match.group(1).lower()
            before = before[format_match.end() :]
        # qformat_gift::readquestion: the text before the braces, and "_____" and the text
        # after them when there is any, trimmed.
        self.moodle_text = (before + ("_____" + after if after.strip() else "")
                            ).translate(_RESTORE).strip()
        # Each side of a missing word is converted on its own, so the gap's "___" is never
        # taken for text to escape.
        if after.strip():
            body = (self.text(before.lstrip(), own_marker=False, strip=False) + "___"
                    + self.text(after.rstrip(), own_marker=False, strip=False))
        else:  # Moodle trims the text around the answers (no line break before them)
            body = self.text(before, own_marker=False)
        data: dict[str, Any] = {"text": body.strip(), "text_format": self.question_format}
        split = inner.rfind("####")
        if split >= 0:
            data["general_feedback"] = self.text(inner[split + 4 :])
            inner = inner[:split]
        answers = self.answers(inner.strip())
        if answers is None:
            return None
        marks = self.ours.get("marks", "")
        if re.fullmatch(_NUM, marks):
            data["marks"] = float(marks)
        return data | answers

    @property
    def question_format(self) -> str:
        """The question text's [format] marker, else Moodle's default for GIFT, [moodle]
        (qformat_gift::parse_text_with_format's $defaultformat)."""
        return self.format or "moodle"

    def text(self, raw: str, own_marker: bool = True, strip: bool = True) -> str:
        """A piece of text to show, kept as written in the question's format.

        Moodle gives each piece its own [format] marker, else the question text's
        (parse_text_with_format with the question's format as default). We keep one format
        per question, so a piece marked with another one is converted to the question's,
        with a warning. What the sanitiser will leave out of HTML is named in a warning too.
        """
        fmt = own = self.question_format
        match = _FORMAT.match(raw) if own_marker else None
        if match:
            own, raw = match.group(1).lower(), raw[match.end() :]
        # Escapes are restored first, as Moodle's parse_text_with_format does, so that an
        # exported `href="http\://..."` is a URL again before the HTML is read.
        raw = raw.translate(_RESTORE)
        if strip:
            raw = raw.strip()
        if own != fmt:
            raw = self.convert(raw, own, fmt, strip)
        if fmt in ("html", "moodle"):
            self.dropped += [d for d in sanitiser_losses(raw) if d not in self.dropped]
        return raw

    def convert(self, raw: str, own: str, fmt: str, strip: bool) -> str:
        """Text written in format `own`, rewritten in format `fmt` (the question's)."""
        if own not in self.converted:
            self.converted.append(own)
        if fmt == "markdown":
            return self.to_markdown(raw, own, strip)
        if own == "plain":  # every character shown as typed: escaped for HTML
            text = html.escape(raw, quote=False)
            return text.replace("\n", "<br>\n") if fmt == "html" else text
        as_html = (str(render_text(raw)) if own == "markdown"
                   else raw.replace("\n", "<br>\n") if own == "moodle" else raw)
        if fmt == "html":
            return as_html
        if fmt == "moodle":  # HTML whose line breaks would otherwise become <br>
            return as_html.replace("\n", " ")
        # Plain: the words without tags; Markdown is left as typed, which is how it reads.
        return raw if own == "markdown" else html.unescape(strip_tags(as_html))

    def to_markdown(self, raw: str, own: str, strip: bool) -> str:
        """[html], [moodle] or [plain] text as Markdown that shows the same."""
        if own == "plain":
            return "<br>\n".join(markdown_literal(line) for line in raw.split("\n"))
        if own == "moodle":
            raw = raw.replace("\n", "<br>")
        converter = _HtmlToText()
        converter.feed(raw)
        converter.close()
        self.dropped += [d for d in converter.dropped if d not in self.dropped]
        converted = converter.result()
        if not strip:  # keep the spaces around a missing word's gap
            lead, tail = raw[: len(raw) - len(raw.lstrip())], raw[len(raw.rstrip()) :]
            converted = (" " if lead else "") + converted + (" " if tail else "")
        return converted

    def raw(self, text: str) -> str:
        """An answer matched against what learners type (a short answer, a matching answer):
        its format marker dropped and escapes restored, but never converted, as Moodle keeps
        these as typed."""
        match = _FORMAT.match(text)
        if match:
            text = text[match.end() :]
        return text.translate(_RESTORE).strip()

    def answers(self, body: str) -> dict[str, Any] | None:
        if not body:
            self.ck.warn(self.line, f"{self.label} is an essay question ({{}}); essays are "
                                    "not supported, so it is not imported")
            return None
        # The order of Moodle's qformat_gift::readquestion: `#` numerical, any `~` a choice,
        # `=` with `->` matching, T/TRUE/F/FALSE (before any `#`) true/false, else short answer.
        if body.startswith("#"):
            return self.numerical(body[1:])
        if "~" in body:
            return self.choice_or_short(body)
        if "=" in body and "->" in body:
            return self.matching(body)
        if body.partition("#")[0].strip() in _TRUEFALSE:
            return self.truefalse(body)
        return self.short(body)

    def items(self, body: str) -> list[tuple[str, float | None, str, str]] | None:
        """`=a#fb ~%50%b` -> [(marker, weight or None, text, feedback)], raw text kept."""
        pieces = re.split(r"([=~])", body)
        if pieces[0].strip():
            shown = pieces[0].strip().translate(_RESTORE)
            self.error(f"has '{shown[:40]}' before its first answer; "
                       "answers start with '=' or '~'")
            return None
        out = []
        for marker, piece in zip(pieces[1::2], pieces[2::2], strict=True):
            piece = piece.strip()
            weight = None
            match = _WEIGHT.match(piece)
            if match:
                weight, piece = float(match.group(1)), piece[match.end() :]
            elif piece.startswith("%"):
                self.error(f"has a weight in '{piece[:20]}' that is not like %50% or %-25%")
                return None
            value, _, feedback = piece.partition("#")
            out.append((marker, weight, value, feedback))
        return out

    def short(self, body: str) -> dict[str, Any] | None:
        """`{=a =%50%b}`, or `{Paris}` with no `=` (Moodle splits on `=` and keeps what is
        before the first one too). Compared as Moodle compares, unless our export said it
        was lenient."""
        pieces = body.split("=")
        if not pieces[0].strip():
            pieces = pieces[1:]
        answers = []
        for piece in pieces:
            piece = piece.strip()
            weight = None
            match = _WEIGHT.match(piece)
            if match:
                weight, piece = float(match.group(1)), piece[match.end() :]
            value, _, feedback = piece.partition("#")
            answers.append({"text": self.raw(value),
                            "fraction": 1.0 if weight is None else weight / 100,
                            "feedback": self.text(feedback)})
        return {"type": "short", "answers": answers, "lenient": "lenient" in self.ours,
                "case_sensitive": "case-sensitive" in self.ours}

    def choice_or_short(self, body: str) -> dict[str, Any] | None:
        items = self.items(body)
        if items is None:
            return None
        # Like Moodle: one `=` makes it single choice; only `~` (with %weights%) is multiple.
        single = any(marker == "=" for marker, *_ in items)
        options = [
            {"id": letter_id(i), "text": self.text(v), "feedback": self.text(fb),
             "weight": w if w is not None else (100.0 if marker == "=" else 0.0)}
            for i, (marker, w, v, fb) in enumerate(items)
        ]
        self.apply_ids(options)
        return {"type": "single" if single else "multiple", "options": options}

    def truefalse(self, body: str) -> dict[str, Any]:
        head, *feedback = body.split("#", 2)
        answer = head.strip() in ("T", "TRUE")
        # GIFT gives the feedback for a wrong answer first: {T#said false#said true}.
        wrong = self.text(feedback[0]) if feedback else ""
        right = self.text(feedback[1]) if len(feedback) > 1 else ""
        return {"type": "truefalse", "answer": answer,
                "feedback_true": right if answer else wrong,
                "feedback_false": wrong if answer else right}

    def matching(self, body: str) -> dict[str, Any] | None:
        pieces = body.split("=")
        if pieces[0].strip():
            shown = pieces[0].strip().translate(_RESTORE)
            self.error(f"has '{shown[:40]}' before its first pair; pairs start with '='")
            return None
        pairs: list[dict[str, str]] = []
        distractors: list[str] = []
        for piece in pieces[1:]:
            if "->" not in piece:
                shown = piece.strip().translate(_RESTORE)
                self.error(f"has matching pair '{shown[:40]}' without '->'")
                return None
            prompt, _, answer = piece.partition("->")
            if prompt.strip():
                pairs.append({"id": letter_id(len(pairs)), "prompt": self.text(prompt),
                              "answer": self.raw(answer)})
            else:  # `= -> answer` is an extra answer that matches no prompt
                distractors.append(self.raw(answer))
        numbered = [p["prompt"] for p in pairs] == [str(n) for n in range(1, len(pairs) + 1)]
        if "ordering" in self.ours and numbered and not distractors:
            items = [{"text": p["answer"]} for p in pairs]
            self.apply_ids(items)
            return {"type": "ordering", "items": items}
        if "ordering" in self.ours:
            self.ck.warn(self.line, f"{self.label} is marked joinedup:ordering but is not "
                                    "numbered 1, 2, 3...; imported as matching")
        self.apply_ids(pairs)
        return {"type": "matching", "pairs": pairs, "distractors": distractors}

    def numerical(self, body: str) -> dict[str, Any] | None:
        # As Moodle: everything from the first `~` is the feedback for any other answer
        # (a `*` answer at 0%); the rest splits on `=`, each piece `%w%spec#feedback`.
        body, tilde, other = body.partition("~")
        pieces = body.split("=")
        if not pieces[0].strip():
            pieces = pieces[1:]
        if not pieces:
            self.error("has no numerical answer; write a number, number:tolerance or min..max")
            return None
        answers = []
        for piece in pieces:
            piece = piece.strip()
            weight = None
            match = _WEIGHT.match(piece)
            if match:
                weight, piece = float(match.group(1)), piece[match.end() :]
            value, _, feedback = piece.partition("#")
            spec = re.sub(r"\s+", "", value)
            answer: dict[str, Any] = {
                "fraction": (100.0 if weight is None else weight) / 100,
                "feedback": self.text(feedback),
            }
            if match := re.fullmatch(rf"({_NUM})\.\.({_NUM})", spec):
                answer.update(min=float(match.group(1)), max=float(match.group(2)))
            elif match := re.fullmatch(rf"({_NUM}):({_NUM})", spec):
                answer.update(value=float(match.group(1)), tolerance=float(match.group(2)))
            elif re.fullmatch(_NUM, spec):
                answer["value"] = float(spec)
            elif spec == "*":  # Moodle's "any other number" answer, written with a weight
                answer["any"] = True
            else:
                shown = value.strip().translate(_RESTORE)
                self.error(f"has numerical answer '{shown[:30]}'; write a number, "
                           "number:tolerance or min..max")
                return None
            answers.append(answer)
        if tilde:
            answers.append({"any": True, "fraction": 0.0,
                            "feedback": self.text(other.partition("#")[2])})
        return {"type": "numerical", "answers": answers}

    def apply_ids(self, entries: list[dict[str, Any]]) -> None:
        """Use the ids from a `// joinedup:ids ...` comment when there is one per entry."""
        ids = self.ours.get("ids", "").split()
        if len(ids) == len(entries) and ids:
            for entry, given in zip(entries, ids, strict=True):
                entry["id"] = given


_TAG = re.compile(r"<.*?>")  # PHP's '/<.*?>/' without /s: a tag does not span lines
_PIECE = re.compile(r"(<.+?>)?([^<>]*)", re.DOTALL)
_ENTITY = re.compile(r"&[0-9a-z]{2,8};|&#[0-9]{1,7};|&#x[0-9a-f]{1,6};", re.IGNORECASE)


def moodle_default_name(text: str, ideal: int = 80) -> str:
    """The name Moodle gives a question without a title: qformat_default::
    create_default_question_name, i.e. clean_question_name(shorten_text($questiontext, 80)).

    shorten_text (lib/moodlelib.php) keeps text whose tag-free length is at most 80; longer
    text is cut so that it and "..." make 80 characters (tags uncounted, an entity counted as
    one), back to just after the last space or "." before the cut when there is one, and
    "..." added. clean_param(PARAM_TEXT) then strips the tags, and the result is trimmed.
    Entities are decoded here, since our names are shown as plain text.
    """
    if len(_TAG.sub("", text)) > ideal:
        text = _shorten(text, ideal)
    return html.unescape(re.sub(r"<[^>]*>", "", text)).strip()


def _shorten(text: str, ideal: int, ending: str = "...") -> str:
    total, out = len(ending), []
    for match in _PIECE.finditer(text):
        tag, piece = match.group(1) or "", match.group(2)
        out.append(tag)
        length = len(_ENTITY.sub(" ", piece))
        if total + length > ideal:
            left, entities = ideal - total, 0
            for entity in _ENTITY.finditer(piece):
                if entity.start() + 1 - entities > left:
                    break
                left -= 1
                entities += len(entity.group())
            limit = breakpos = left + entities
            while breakpos > 0:
                char = piece[breakpos : breakpos + 1]
                if char in (".", " ") or len(char.encode()) > 2:
                    breakpos += 1
                    break
                breakpos -= 1
            if breakpos == 0 or breakpos > limit:
                breakpos = limit
            out.append(piece[:breakpos])
            break
        out.append(piece)
        total += length
        if total >= ideal:
            break
    return "".join(out) + ending


_MD_INLINE = str.maketrans({"\\": "\\\\", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[",
                            "]": "\\]", "&": "&amp;", "<": "&lt;"})
#: What would make a line a heading, quote or list item: "# ", "> ", "- ", "+ ", "1. ".
_MD_LINE_START = re.compile(r"^(\s*)(#|>|[-+](?=\s|$)|\d+(?=[.)](?:\s|$)))")


def markdown_literal(text: str, line_start: bool = True) -> str:
    """Text that Markdown shows exactly as written: `*`, `_`, `[`... backslash-escaped, `&`
    and `<` as entities, and (at the start of a line) what would begin a heading or list."""
    text = text.translate(_MD_INLINE)
    if line_start:
        text = _MD_LINE_START.sub(lambda m: m.group(1) + m.group(2) + "\\"
                                  if m.group(2)[0].isdigit() else m.group(1) + "\\" + m.group(2),
                                  text)
    return text


class _HtmlToText(HTMLParser):
    """HTML to Markdown-ish plain text: paragraphs, line breaks, lists, bold, italics, links.

    Everything else (images, tables, styles) is dropped and named in `dropped`.
    """

    _BLOCKS = {"p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
               "section", "pre"}
    #: Tags whose loss changes nothing a learner needs (wrappers); others are named when
    #: dropped, since x<sup>2</sup> read as x2 or a lost underline can change the meaning.
    _HARMLESS = {"span", "small", "html", "body"}
    _MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.links: list[str | None] = []
        self.dropped: list[str] = []

    def drop(self, what: str) -> None:
        if what not in self.dropped:
            self.dropped.append(what)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if dict(attrs).get("style"):  # Moodle's editor writes italics, colours... as styles
            self.drop("styling (style=...)")
        if tag in ("script", "style"):
            self.skipping += 1
            self.drop(f"a <{tag}> block")
        elif tag == "br":
            self.out.append("<br>\n")  # a hard line break (Markdown keeps the <br>)
        elif tag in self._BLOCKS:
            self.out.append("\n\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in self._MARKS:
            self.out.append(self._MARKS[tag])
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if re.match(r"(https?:|mailto:)", href) else None)
            self.out.append("[" if self.links[-1] else "")
            if href and not self.links[-1]:
                self.drop(f"a link to '{href[:60]}'")
        elif tag == "img":
            src = dict(attrs).get("src") or ""
            self.drop(f"an image ('{src[:60]}')" if src else "an image")
        elif tag in ("table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"):
            self.drop("a table")
        elif tag not in self._HARMLESS:
            self.drop(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCKS:
            self.out.append("\n\n")
        elif tag in self._MARKS:
            self.out.append(self._MARKS[tag])
        elif tag == "a" and self.links:
            href = self.links.pop()
            self.out.append(f"]({href})" if href else "")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = re.sub(r"\s+", " ", data)  # HTML collapses whitespace
        at_line_start = not self.out or self.out[-1].endswith("\n")
        self.out.append(markdown_literal(data.lstrip() if at_line_start else data,
                                         line_start=at_line_start))

    def result(self) -> str:
        text = "".join(self.out).replace("\xa0", " ")  # &nbsp; is everywhere in Moodle HTML
        text = re.sub(r"[ \t]+", " ", text)  # spaces from adjacent text pieces
        text = re.sub(r" ?\n ?", "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()
