"""Reach the loaded quizzes from inside a request."""

from flask import current_app

from learning.quizzes.types import Quiz


def get_quizzes() -> dict[str, Quiz]:
    return current_app.extensions["quizzes"]


def quizzes_for_module(slug: str) -> list[Quiz]:
    """Quizzes that belong to this module alone (its check-your-understanding quiz)."""
    return [q for q in get_quizzes().values() if q.modules == (slug,)]


def unit_quizzes() -> list[Quiz]:
    """Quizzes that span several modules (the end-of-unit quiz)."""
    return sorted((q for q in get_quizzes().values() if len(q.modules) != 1),
                  key=lambda q: q.title)
