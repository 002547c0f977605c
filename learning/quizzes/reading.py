"""Read about it again: each missed question of a review linked to the module section that
teaches it (the question's `teaches:` in the quiz file as it is now)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from learning.quizzes.types import Quiz

if TYPE_CHECKING:
    from learning.content.catalog import Catalog
    from learning.quizzes.attempts import ReviewItem


@dataclass(frozen=True)
class Section:
    """A module section to read again: where it is and what its heading says."""

    module_slug: str
    module_title: str
    anchor: str
    heading: str


def section_of(teaches: str, catalog: Catalog) -> Section | None:
    """The section `module#anchor` names, or None if the module or heading has gone."""
    slug, _, anchor = teaches.partition("#")
    module = catalog.module(slug)
    heading = module.sections.get(anchor) if module is not None else None
    if module is None or heading is None:
        return None
    return Section(module.slug, module.title, anchor, heading)


def is_missed(item: ReviewItem) -> bool:
    """Answered wrongly, partly or not at all (a description is never missed)."""
    return item.number is not None and item.grade is not None and not item.grade.correct


def read_again(items: list[ReviewItem], quiz: Quiz | None,
               catalog: Catalog) -> dict[str, Section]:
    """Each missed question's section, by question id. The link follows the quiz file as it
    is now (checked against the modules by `flask content check`), not the attempt's
    snapshot: a section renamed since the attempt is still found."""
    if quiz is None:
        return {}
    found: dict[str, Section] = {}
    for item in items:
        question = quiz.question(item.view["id"]) if is_missed(item) else None
        section = section_of(question.teaches, catalog) if question and question.teaches \
            else None
        if section is not None:
            found[item.view["id"]] = section
    return found
