"""Regrading submitted attempts from their snapshots, after a change to the grading rules.

An attempt's result is stored when it is submitted, from the rules of that day. When a rule
changes (say, the first matching short answer now wins, as in Moodle), the stored result may
differ from what the rules now give its answers. `flask quiz regrade` lists those attempts,
and with --apply stores the new results, as Moodle's "Regrade attempts" does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from learning.core import audit
from learning.core.extensions import db
from learning.quizzes import grading
from learning.quizzes.attempts import questions_of
from learning.quizzes.models import AttemptState, QuizAnswer, QuizAttempt


@dataclass(frozen=True)
class Regrade:
    """One submitted attempt whose stored result differs from the current rules' result."""

    attempt: QuizAttempt
    result: grading.AttemptGrade
    #: question id -> (stored score, score now), for the questions that differ.
    scores: dict[str, tuple[float | None, float]]

    @property
    def passed(self) -> bool:
        return self.result.passed(float(self.attempt.settings["pass_mark"]))

    def describe(self) -> str:
        """One line for the command's report."""
        a = self.attempt
        line = (f"attempt {a.id} (user {a.user_id}, {a.quiz_slug} #{a.number}): "
                f"{_pc(a.percent)} -> {_pc(self.result.percent)}")
        if bool(a.passed) != self.passed:
            line += ", now passes" if self.passed else ", no longer passes"
        questions = ", ".join(f"{q} {_n(old)} -> {_n(new)}" for q, (old, new)
                              in self.scores.items())
        return line + (f" ({questions})" if questions else "")


def _pc(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def changed_attempts(quiz_slug: str | None = None) -> list[Regrade]:
    """Every submitted attempt (of one quiz, or all) that the current rules grade differently."""
    query = select(QuizAttempt).where(QuizAttempt.state == AttemptState.SUBMITTED.value)
    if quiz_slug:
        query = query.where(QuizAttempt.quiz_slug == quiz_slug)
    changes = []
    for attempt in db.session.scalars(query.order_by(QuizAttempt.id)):
        stored = {a.question_id: a for a in attempt.answers}
        result = grading.grade_attempt(questions_of(attempt),
                                       {q: a.answer for q, a in stored.items()})
        scores = {}
        for g in result.grades:
            old = stored[g.question_id].score if g.question_id in stored else None
            if old is None or abs(old - g.score) > 1e-9:
                scores[g.question_id] = (old, g.score)
        if scores or abs((attempt.marks or 0) - result.total_marks) > 1e-9:
            changes.append(Regrade(attempt, result, scores))
    return changes


def apply(change: Regrade) -> None:
    """Store the new result (answers' scores, marks, percent, passed) with an audit record.

    Module completion a pass already gave is left as it is; a new pass does not complete
    modules either (the learner's next passing attempt does), so nothing else moves.
    """
    attempt = change.attempt
    rows = {a.question_id: a for a in attempt.answers}
    for g in change.result.grades:
        row = rows.get(g.question_id)
        if row is None:
            row = QuizAnswer(attempt=attempt, question_id=g.question_id, answer=None,
                             saved_at=attempt.submitted_at)
            db.session.add(row)
        row.score, row.marks = g.score, g.max_marks
    audit.record("quiz.regrade", subject=attempt, quiz=attempt.quiz_slug,
                 old_percent=attempt.percent, percent=change.result.percent,
                 old_passed=attempt.passed, passed=change.passed)
    attempt.marks = change.result.total_marks
    attempt.percent = change.result.percent
    attempt.passed = change.passed
