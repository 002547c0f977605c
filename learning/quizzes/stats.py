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


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Correlation of two equal-length series; None if either does not vary."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def _response_keys(answer: object) -> list[str]:
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


def quiz_stats(records: Iterable[AttemptRecord], question_ids: Sequence[str]) -> QuizStats:
    """Statistics over submitted attempts for the questions listed (in that order)."""
    records = list(records)
    if not records:
        return QuizStats(0, None, None, tuple(
            QuestionStats(q, 0, None, None, ()) for q in question_ids))
    average = sum(r.percent for r in records) / len(records)
    pass_rate = 100 * sum(1 for r in records if r.passed) / len(records)
    out = []
    for qid in question_ids:
        asked = [r for r in records if qid in r.scores]
        if not asked:
            out.append(QuestionStats(qid, 0, None, None, ()))
            continue
        scores = [r.scores[qid][0] for r in asked]
        # "Rest of the quiz": total marks earned elsewhere as a share of marks available there.
        rest = []
        for r in asked:
            earned = sum(s * m for q, (s, m) in r.scores.items() if q != qid)
            available = sum(m for q, (_, m) in r.scores.items() if q != qid)
            rest.append(earned / available if available else 0.0)
        responses = Counter(k for r in asked for k in _response_keys(r.answers.get(qid)))
        out.append(QuestionStats(
            qid, len(asked), round(100 * sum(scores) / len(scores), 1),
            None if (d := pearson(scores, rest)) is None else round(d, 2),
            tuple(sorted(responses.items(), key=lambda kv: (-kv[1], kv[0]))),
        ))
    return QuizStats(len(records), round(average, 1), round(pass_rate, 1), tuple(out))
