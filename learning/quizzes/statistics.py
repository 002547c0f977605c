"""Quiz reports read from the database: statistics over every submitted attempt.

Everything is added up in SQL (three grouped queries whatever the number of attempts), then
learning.quizzes.stats turns the sums into facility, discrimination and response counts, the
same rule it applies to attempts in memory. Snapshots are read only for questions since
removed from the quiz file (or options since removed), one query for all of them.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, case, cast, func, select

from learning.core.extensions import db
from learning.people.models import Enrolment, User
from learning.people.permissions import visible_cohort_ids
from learning.quizzes.models import AttemptState, QuizAnswer, QuizAttempt
from learning.quizzes.stats import (
    QuestionSums,
    QuizStats,
    overall,
    question_stats,
    response_keys,
)
from learning.quizzes.types import Quiz


@dataclass(frozen=True)
class QuizReport:
    stats: QuizStats
    #: question id -> question text (from the current file, or the newest snapshot)
    texts: dict[str, str]
    #: question id -> option id -> option text, to label the response counts
    option_labels: dict[str, dict[str, str]]
    #: question id -> the author's name for it (GIFT's title), for questions that have one
    names: dict[str, str] = field(default_factory=dict)
    #: question id -> its text format, for questions not in Markdown (see Question.text_format)
    formats: dict[str, str] = field(default_factory=dict)


def _attempts(quiz: Quiz, viewer: User):
    """SQL: the submitted attempts at this quiz by learners the viewer may see (admins: all).

    Scoped because short answers are learners' own words: one centre's coordinator must not
    read another centre's."""
    where = [QuizAttempt.quiz_slug == quiz.slug,
             QuizAttempt.state == AttemptState.SUBMITTED.value]
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        where.append(QuizAttempt.user_id.in_(
            select(Enrolment.user_id).where(Enrolment.left_at.is_(None),
                                            Enrolment.cohort_id.in_(visible))))
    return where


def _question_sums(attempt_ids) -> list[tuple[QuestionSums, int, int]]:
    """Per question: its sums (stats.QuestionSums), the first and the last attempt that asked
    it. An answer counts when its question was in the attempt's snapshot (it has marks)."""
    x = func.coalesce(QuizAnswer.score, 0.0)
    marks = QuizAnswer.marks
    asked = (QuizAnswer.attempt_id.in_(attempt_ids), QuizAnswer.marks.is_not(None))
    totals = (select(QuizAnswer.attempt_id, func.sum(x * marks).label("earned"),
                     func.sum(marks).label("available"))
              .where(*asked).group_by(QuizAnswer.attempt_id).subquery())
    # The rest of the quiz: marks earned on the other questions over marks available on them.
    others = totals.c.available - marks
    y = case((others != 0, (totals.c.earned - x * marks) / others), else_=0.0)
    rows = db.session.execute(
        select(QuizAnswer.question_id, func.count(), func.sum(x), func.sum(y),
               func.sum(x * x), func.sum(y * y), func.sum(x * y),
               func.min(QuizAnswer.attempt_id), func.max(QuizAnswer.attempt_id))
        .join(totals, totals.c.attempt_id == QuizAnswer.attempt_id)
        .where(*asked).group_by(QuizAnswer.question_id))
    return [(QuestionSums(qid, n, *(float(v or 0) for v in sums)), first, last)
            for qid, n, *sums, first, last in rows]


def _responses(attempt_ids) -> dict[str, Counter[str]]:
    """How often each response was given to each question: answers are grouped by their
    JSON text in SQL, then each distinct answer counted as its response(s)."""
    text = cast(QuizAnswer.answer, Text)
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for qid, answer, n in db.session.execute(
            select(QuizAnswer.question_id, text, func.count())
            .where(QuizAnswer.attempt_id.in_(attempt_ids), QuizAnswer.marks.is_not(None))
            .group_by(QuizAnswer.question_id, text)):
        for key in response_keys(_parsed(answer)):
            out[qid][key] += n
    return out


def _parsed(answer: Any) -> Any:
    if answer is None:
        return None
    try:
        return json.loads(answer)
    except (TypeError, ValueError):
        return answer


def statistics_for(quiz: Quiz, viewer: User) -> QuizReport:
    """Statistics over the submitted attempts of learners the viewer may see (admins: all),
    in three queries whatever the number of attempts (a fourth reads snapshots when a question
    or option has since gone from the quiz file)."""
    where = _attempts(quiz, viewer)
    attempt_ids = select(QuizAttempt.id).where(*where)
    count, sum_percent, passes = db.session.execute(
        select(func.count(), func.coalesce(func.sum(func.coalesce(QuizAttempt.percent, 0.0)), 0),
               func.coalesce(func.sum(case((QuizAttempt.passed.is_(True), 1), else_=0)), 0))
        .where(*where)).one()
    sums = _question_sums(attempt_ids) if count else []
    responses = _responses(attempt_ids) if count else {}
    texts: dict[str, str] = {q.id: q.text for q in quiz.questions}
    labels: dict[str, dict[str, str]] = {q.id: {o.id: o.text for o in q.options}
                                        for q in quiz.questions if q.options}
    # Descriptions are never graded, so they have no answers and no statistics.
    order = [q.id for q in quiz.graded_questions]
    # Questions no longer in the file come after, in the order they were first asked.
    gone = sorted(((first, s.question_id) for s, first, _ in sums if s.question_id not in texts))
    order += [qid for _, qid in gone]
    # An option since removed from a question still in the file (short answers have none).
    unlabelled = {qid for qid, counts in responses.items() if qid in labels
                  and any(k and k not in labels[qid] for k in counts)}
    newest = {s.question_id: last for s, _, last in sums
              if s.question_id not in texts or s.question_id in unlabelled}
    by_id = {s.question_id: s for s, _, _ in sums}
    questions = [question_stats(by_id.get(qid, QuestionSums(qid, 0)),
                                responses.get(qid, Counter())) for qid in order]
    names = {q.id: q.name for q in quiz.questions if q.name}
    formats = {q.id: q.text_format for q in quiz.questions if q.text_format != "markdown"}
    if newest:
        _from_snapshots(newest, texts, labels, formats)
    return QuizReport(overall(count, float(sum_percent), int(passes), questions), texts, labels,
                      names, formats)


def _from_snapshots(newest: dict[str, int], texts: dict[str, str],
                    labels: dict[str, dict[str, str]], formats: dict[str, str]) -> None:
    """Texts of questions since removed, and labels of options since removed, from the
    newest attempt that asked each (one query)."""
    for (snapshot,) in db.session.execute(select(QuizAttempt.questions).where(
            QuizAttempt.id.in_(sorted(set(newest.values()))))):
        for item in snapshot:
            view = item["view"]
            if view["id"] not in newest:
                continue
            if view["id"] not in texts:
                texts[view["id"]] = view["text"]
                if view.get("text_format"):
                    formats[view["id"]] = view["text_format"]
            for option in view.get("options", []):
                labels.setdefault(view["id"], {}).setdefault(option["id"], option["text"])
