"""Quiz statistics for authors: facility, discrimination and option counts (pure functions).

Follows Moodle's quiz statistics report: facility is the mean score on a question;
discrimination is the correlation between the score on a question and the score on the rest
of the quiz, so a good question is answered well by those who do well overall.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AttemptRecord:
    """One submitted attempt: the 0..1 score and marks of each question it asked, and answers."""

    percent: float
    passed: bool
    #: question id -> (score 0..1, max marks)
    scores: dict[str, tuple[float, float]]
    #: question id -> canonical answer (None when blank)
    answers: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionStats:
    question_id: str
    attempts: int
    #: Mean score as a percentage (Moodle's facility index).
    facility: float | None
    #: Pearson correlation with the rest of the quiz, -1..1 (None when it cannot be computed).
    discrimination: float | None
    #: How often each response was given: option id (or text) -> count; "" = left blank.
    responses: tuple[tuple[str, int], ...]

    @property
    def flags(self) -> tuple[str, ...]:
        """Plain warnings an author should act on."""
        out = []
        if self.facility is not None and self.attempts >= 5:
            if self.facility >= 95:
                out.append("very easy: almost everyone gets it right")
            elif self.facility <= 20:
                out.append("very hard: check the key and the wording")
        if self.discrimination is not None and self.attempts >= 10:
            if self.discrimination < 0:
                out.append("negative discrimination: strong learners get it wrong more often")
            elif self.discrimination < 0.2:
                out.append("weak discrimination")
        return tuple(out)


@dataclass(frozen=True)
class QuizStats:
    attempts: int
    average_percent: float | None
    pass_rate: float | None
    questions: tuple[QuestionStats, ...]


@dataclass(frozen=True)
class QuestionSums:
    """What one question's statistics need, added up over the attempts that asked it: x is
    the score on the question (0..1), y the score on the rest of the quiz (marks earned on the
    other questions as a share of the marks available on them). SQL adds these up
    (learning.quizzes.statistics); `sums_of` does the same for records in memory."""

    question_id: str
    n: int
    sum_x: float = 0.0
    sum_y: float = 0.0
    sum_xx: float = 0.0
    sum_yy: float = 0.0
    sum_xy: float = 0.0


def pearson(s: QuestionSums) -> float | None:
    """Correlation of x and y; None if either does not vary (or fewer than two attempts).

    From sums in one pass: x and y lie in 0..1, so what is lost to rounding is far below any
    real spread; a spread within that (every learner scored the same) counts as none.
    """
    n = s.n
    if n < 2:
        return None
    sxx = s.sum_xx - s.sum_x * s.sum_x / n
    syy = s.sum_yy - s.sum_y * s.sum_y / n
    if sxx <= 1e-9 or syy <= 1e-9:
        return None
    sxy = s.sum_xy - s.sum_x * s.sum_y / n
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def response_keys(answer: object) -> list[str]:
    """The response(s) an answer counts as, for the frequency table."""
    if answer is None or answer == "" or answer == [] or answer == {}:
        return [""]
    if isinstance(answer, bool):
        return ["true" if answer else "false"]
    if isinstance(answer, list):
        return [str(a) for a in answer]
    if isinstance(answer, dict):
        return [f"{k} → {v}" for k, v in sorted(answer.items())]
    return [str(answer)]


def question_stats(s: QuestionSums, responses: Counter[str]) -> QuestionStats:
    """One question's statistics from its sums and how often each response was given."""
    if not s.n:
        return QuestionStats(s.question_id, 0, None, None, ())
    return QuestionStats(
        s.question_id, s.n, round(100 * s.sum_x / s.n, 1),
        None if (d := pearson(s)) is None else round(d, 2),
        tuple(sorted(responses.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def overall(attempts: int, sum_percent: float, passed: int,
            questions: Iterable[QuestionStats]) -> QuizStats:
    """The quiz's statistics from its attempts' count, scores added up and passes."""
    if not attempts:
        return QuizStats(0, None, None, tuple(questions))
    return QuizStats(attempts, round(sum_percent / attempts, 1),
                     round(100 * passed / attempts, 1), tuple(questions))


def sums_of(records: Sequence[AttemptRecord], question_id: str) -> QuestionSums:
    """One question's sums over records in memory (what the SQL in statistics.py adds up)."""
    n = sx = sy = sxx = syy = sxy = 0.0
    for r in records:
        if question_id not in r.scores:
            continue
        x, m = r.scores[question_id]
        earned = sum(sc * mk for sc, mk in r.scores.values())
        available = sum(mk for _, mk in r.scores.values())
        y = (earned - x * m) / (available - m) if available - m else 0.0
        n += 1
        sx, sy, sxx, syy, sxy = sx + x, sy + y, sxx + x * x, syy + y * y, sxy + x * y
    return QuestionSums(question_id, int(n), sx, sy, sxx, syy, sxy)


def quiz_stats(records: Iterable[AttemptRecord], question_ids: Sequence[str]) -> QuizStats:
    """Statistics over submitted attempts in memory for the questions listed (in that
    order): the same rule as the SQL in learning.quizzes.statistics, which tests compare."""
    records = list(records)
    questions = []
    for qid in question_ids:
        asked = [r for r in records if qid in r.scores]
        responses = Counter(k for r in asked for k in response_keys(r.answers.get(qid)))
        questions.append(question_stats(sums_of(asked, qid), responses))
    return overall(len(records), sum(r.percent for r in records),
                   sum(1 for r in records if r.passed), questions)
