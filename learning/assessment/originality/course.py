"""The course's own text against reference essays: no passage of the course may be copied."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from learning.assessment.originality import fingerprints as fp

#: Besides the criterion wording, names and phrases that essays and course alike quote in
#: full: quoting them is not copying.
QUOTED = ("the NSPCC National Society for the Prevention of Cruelty to Children", "at least four")
_WORDS = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class CopiedPassage:
    """A passage of one course file that is also in one essay."""

    file: str
    essay: str
    text: str

    def __str__(self) -> str:
        return f"{self.file} ~ {self.essay}: {self.text!r}"


def _label(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def course_texts(content_dir: Path, quiz_dir: Path) -> dict[str, str]:
    """Every course file learners read (modules, pages, tasks, glossary, quizzes), by path."""
    root = content_dir.parent
    paths = [*sorted(content_dir.glob("*.md")), *sorted((content_dir / "pages").glob("*.md")),
             *sorted((content_dir / "tasks").glob("*.yaml")),
             content_dir / "glossary.yaml", *sorted(quiz_dir.glob("*.yaml"))]
    return {_label(p, root): p.read_text(encoding="utf-8") for p in paths if p.is_file()}


def read_essays(folder: Path) -> dict[str, str]:
    """The *.txt essays in a folder, by file name (a byte order mark is dropped)."""
    return {p.name: p.read_text(encoding="utf-8-sig") for p in sorted(folder.glob("*.txt"))}


def copied_passages(texts: dict[str, str], essays: dict[str, str],
                    quoted: str) -> list[CopiedPassage]:
    """Passages of the course found in an essay, except those made only of `quoted` words."""
    vocabulary = set(_WORDS.findall(quoted.lower()))
    found = []
    for name, text in texts.items():
        for essay_name, essay in essays.items():
            for p in fp.matched_spans(text, essay):
                passage = text[p.answer_start:p.answer_end]
                if not set(_WORDS.findall(passage.lower())) <= vocabulary:
                    found.append(CopiedPassage(name, essay_name, passage))
    return found
