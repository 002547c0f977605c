"""YAML loading that remembers the line of every value, so errors can say `file:line`."""

from __future__ import annotations

import re
from typing import Any

import yaml

#: Stable ids for content (modules, tasks, quizzes): lower-case letters, digits, hyphens.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class LineDict(dict):
    """A dict from YAML that knows the line of each key (`.line_of(key)`) and its own line."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 0
    item_lines: list


def _convert(node: yaml.Node, loader: yaml.SafeLoader, offset: int) -> Any:
    line = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        out = LineDict()
        out.line = line
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            out[key] = _convert(value_node, loader, offset)
            out.key_lines[key] = key_node.start_mark.line + 1 + offset
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LineList(_convert(n, loader, offset) for n in node.value)
        items.line = line
        items.item_lines = [n.start_mark.line + 1 + offset for n in node.value]
        return items
    return loader.construct_object(node, deep=True)


def load_with_lines(text: str, line_offset: int = 0) -> Any:
    """Parse one YAML document; raises yaml.YAMLError (whose mark gives the line)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _convert(node, loader, line_offset)
    finally:
        loader.dispose()


def error_line(exc: yaml.YAMLError, line_offset: int = 0) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return (mark.line + 1 + line_offset) if mark is not None else line_offset + 1


def error_text(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [p for p in (context, problem) if p]
    return "invalid YAML: " + (", ".join(parts) if parts else str(exc).splitlines()[0])
