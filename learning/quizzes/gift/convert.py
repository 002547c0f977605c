"""Moodle GIFT: import into our quiz model (and quiz YAML), export back to GIFT."""

from __future__ import annotations

from learning.core.problems import Problem
from learning.quizzes.gift.export import escape, questions_to_gift, quiz_to_gift
from learning.quizzes.gift.parse import parse_gift
from learning.quizzes.loader import quiz_to_yaml
from learning.quizzes.types import ID_RE, Quiz

__all__ = ["MAX_GIFT_BYTES", "escape", "failed_questions", "gift_to_quiz_yaml", "parse_gift",
           "questions_to_gift", "quiz_to_gift"]

#: Larger GIFT files are refused: 5 MB made 41,624 questions, and an app that took 121 s to
#: start (every quiz file is read at start-up). 2 MB is thousands of questions.
MAX_GIFT_BYTES = 2_000_000


def failed_questions(problems: list[Problem]) -> int:
    """How many questions have errors (not how many messages): the reader reports each
    question's errors at the line where it starts, so that is one question per line."""
    return len({p.line for p in problems if p.level == "error" and p.line > 0})


def gift_to_quiz_yaml(
    text: str, slug: str, title: str, path_label: str, modules: tuple[str, ...] = ()
) -> tuple[str, list[Problem]]:
    """A quiz YAML file (default settings, no modules yet) holding every importable question.

    Problems are those of parse_gift, plus one if the slug is unusable or nothing imported.
    """
    questions, problems = parse_gift(text, path_label)
    if not ID_RE.match(slug):
        problems.append(Problem(path_label, 0, f"quiz slug '{slug}' must use only a-z, 0-9 "
                                               "and single '-' between words"))
    if not questions:
        problems.append(Problem(path_label, 0, "no questions could be imported"))
    elif all(q.is_description for q in questions):
        problems.append(Problem(path_label, 0, "the file has only descriptions; a quiz needs "
                                               "at least one question to answer"))
    quiz = Quiz(slug=slug, title=title, modules=tuple(modules), questions=tuple(questions))
    comment = (f"Imported from {path_label}.\n"
               "Add the module slugs under 'modules' and check the settings.")
    return quiz_to_yaml(quiz, comment=comment), problems
