"""YAML loading that remembers the line of every value, so problems can say `file:line`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from learning.core.problems import Problem

#: Stable ids for content (modules, tasks, quizzes): lower-case letters, digits, hyphens.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class Located:
    """A value with the 1-based line it came from (0 if unknown, e.g. from a snapshot).

    Mappings hold `dict[str, Located]`, sequences `list[Located]`. `raw` is a plain YAML
    scalar as typed, so a text field written `yes` or `3.10` stays "yes" / "3.10".
    """

    value: Any
    line: int = 0
    raw: str | None = None
    key_lines: dict[str, int] = field(default_factory=dict)

    def get(self, key: str) -> Located | None:
        """The value under `key` if this is a mapping that has it."""
        return self.value.get(key) if isinstance(self.value, dict) else None

    def key_line(self, key: str) -> int:
        """Line of `key` in this mapping (the mapping's own line if unknown)."""
        return self.key_lines.get(key, self.line)


class LineDict(dict):
    """A dict from YAML that knows the line of each key (`.line_of(key)`) and its own line."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A list from YAML that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list


def read_yaml(text: str, label: str, line_offset: int = 0) -> tuple[Located | None, list[Problem]]:
    """Parse one YAML document into Located values, with the problems found; never raises.

    (None, []) is an empty document; (None, [problem]) is one PyYAML could not parse or that
    holds an anchor or alias. A document that parses may still have problems (a key twice):
    its values come back with them, so a checker can go on to report more. `line_offset` is
    added to every line (front matter starts on line 2 of its file).
    """
    if _CLoader is not None:
        try:
            # libyaml's parser is several times faster than PyYAML's own, which made reading
            # the course most of the app's start-up time. Its composer is C, so the anchor
            # check runs over the event stream first (also C, and cheap).
            _refuse_anchors(yaml.parse(text, Loader=_CLoader))
            return _compose(_CLoader, text, label, line_offset)
        except yaml.YAMLError:
            pass  # PyYAML's own parser below says what is wrong in its clearer words
    try:
        return _compose(_Loader, text, label, line_offset)  # rejects characters YAML forbids
    except yaml.YAMLError as exc:
        return None, [Problem(label, error_line(exc, text, line_offset), error_text(exc))]


def _compose(loader_class, text: str, label: str,
             line_offset: int) -> tuple[Located | None, list[Problem]]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        walker = _Walker(loader, label, line_offset)
        return walker.walk(node), walker.problems
    finally:
        loader.dispose()


#: PyYAML's binding to libyaml, when it was built with it (the wheels are).
_CLoader = getattr(yaml, "CSafeLoader", None)


def _refuse(event) -> None:
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
        found = (f"alias *{event.anchor}" if isinstance(event, yaml.AliasEvent)
                 else f"anchor &{event.anchor}")
        raise yaml.composer.ComposerError(
            None, None, f"the {found} is not allowed (YAML anchors and aliases are "
            "refused): write the value out in full", event.start_mark)


def _refuse_anchors(events) -> None:
    for event in events:
        _refuse(event)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases (`&name`, `*name`).

    An alias is a pointer to a value written earlier, and aliases of aliases multiply: a few
    hundred bytes of nested aliases (a "billion laughs") stand for billions of values and took
    seconds to minutes to walk. Nothing in our files needs them, so the first one is an error.
    """

    def compose_node(self, parent, index):
        _refuse(self.peek_event())
        return super().compose_node(parent, index)


def load_text(text: str, label: str, line_offset: int = 0) -> tuple[Any, list[Problem]]:
    """YAML text as plain values (mappings are LineDicts, lists LineLists), or None and why.

    Any problem in reading the YAML (see read_yaml) leaves nothing to check, so the values
    come back only when there are none.
    """
    root, problems = read_yaml(text, label, line_offset)
    if problems or root is None:
        return None, problems
    return plain(root), []


def load_file(path: Path, label: str) -> tuple[Any, list[Problem]]:
    """A UTF-8 YAML file as plain values, like load_text; never raises for a bad file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(label, 0, f"not UTF-8 text (byte {exc.start})")]
    return load_text(text, label)


def plain(node: Located) -> Any:
    """Located values as dicts and lists that still know their lines (LineDict, LineList)."""
    if isinstance(node.value, dict):
        mapping = LineDict((key, plain(value)) for key, value in node.value.items())
        mapping.line, mapping.key_lines = node.line, dict(node.key_lines)
        return mapping
    if isinstance(node.value, list):
        items = LineList(plain(item) for item in node.value)
        items.line, items.item_lines = node.line, [item.line for item in node.value]
        return items
    return node.value


class _Walker:
    """Turns the nodes PyYAML composed into Located values, noting problems on the way.

    We compose the YAML ourselves (rather than yaml.safe_load) to keep each node's line, and
    to catch what PyYAML lets pass: a repeated key (it keeps the last silently). The loader has
    refused aliases, so the nodes are a tree: each is walked once.
    """

    def __init__(self, loader: yaml.SafeLoader, label: str, line_offset: int) -> None:
        self.loader, self.label, self.line_offset = loader, label, line_offset
        self.problems: list[Problem] = []

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.line_offset

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.label, line, message))

    def walk(self, node: yaml.Node) -> Located:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        return Located([self.walk(item) for item in node.value], self.line(node))

    def _mapping(self, node: yaml.MappingNode) -> Located:
        values: dict[str, Located] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = self.line(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_line, "a key must be plain text")
                continue
            key = key_node.value
            if key in values:
                self.error(key_line, f"key '{key}' appears twice here (first at line "
                                     f"{key_lines[key]}); remove one")
                continue
            values[key] = self.walk(value_node)
            key_lines[key] = key_line
            if not isinstance(value_node, yaml.ScalarNode):
                # A block list or mapping starts on the next line; "options:" is where an
                # author looks for a problem with the whole list.
                values[key].line = key_line
        return Located(values, self.line(node), key_lines=key_lines)

    def _scalar(self, node: yaml.ScalarNode) -> Located:
        line = self.line(node)
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self.error(line, f"invalid YAML: {exc.problem}")
            value = node.value
        except ValueError as exc:  # a date such as 2026-13-45 matches YAML's pattern, then fails
            self.error(line, f"invalid YAML: cannot read '{node.value}': {exc}")
            value = node.value
        # Keep a plain scalar's text: `text: yes` or `text: 3.10` are meant as text.
        # A plain scalar has style None from PyYAML and "" from libyaml.
        return Located(value, line, raw=node.value if not node.style else None)


def error_line(exc: yaml.YAMLError, text: str = "", line_offset: int = 0) -> int:
    """The line PyYAML's error points at (the first line when it points nowhere)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return mark.line + 1 + line_offset
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML forbids: a position, no mark
        return text[: exc.position].count("\n") + 1 + line_offset
    return line_offset + 1


def error_text(exc: yaml.YAMLError) -> str:
    """PyYAML's complaint in one line, with a pointer to its usual cause."""
    parts = [p for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p]
    detail = ", ".join(parts) if parts else str(exc).splitlines()[0]
    return f"invalid YAML: {detail}{_hint(detail)}"


def _hint(detail: str) -> str:
    """A pointer to the usual cause of PyYAML's commonest complaints."""
    if "mapping values are not allowed" in detail:
        return " (text containing ': ' must be in quotes)"
    if "'\\t'" in detail:
        return " (indent with spaces, not tabs)"
    if "block" in detail or "indentation" in detail:
        return " (check the indentation of this line and the one above)"
    return ""
