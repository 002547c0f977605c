"""Quiz reports read from the database: statistics over every submitted attempt."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from learning.core.extensions import db
from learning.people.models import Enrolment, User
from learning.people.permissions import visible_cohort_ids
from learning.quizzes.models import AttemptState, QuizAttempt
from learning.quizzes.stats import AttemptRecord, QuizStats, quiz_stats
from learning.quizzes.types import Quiz


@dataclass(frozen=True)
class QuizReport:
    stats: QuizStats
    #: question id -> question text (from the current file, or the newest snapshot)
    texts: dict[str, str]
    #: question id -> option id -> option text, to label the response counts
    option_labels: dict[str, dict[str, str]]


def statistics_for(quiz: Quiz, viewer: User) -> QuizReport:
    """Statistics over the submitted attempts of learners the viewer may see (admins: all).

    Scoped because short answers are learners' own words: one centre's coordinator must not
    read another centre's. Two queries whatever the number of attempts.
    """
    query = (select(QuizAttempt).where(QuizAttempt.quiz_slug == quiz.slug,
                                       QuizAttempt.state == AttemptState.SUBMITTED.value)
             .order_by(QuizAttempt.id))
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        query = query.where(QuizAttempt.user_id.in_(
            select(Enrolment.user_id).where(Enrolment.left_at.is_(None),
                                            Enrolment.cohort_id.in_(visible))))
    attempts = db.session.scalars(query).all()
    records = []
    texts: dict[str, str] = {q.id: q.text for q in quiz.questions}
    labels: dict[str, dict[str, str]] = {}
    order: list[str] = [q.id for q in quiz.questions]
    for attempt in attempts:
        marks = {}
        for item in attempt.questions:
            view = item["view"]
            marks[view["id"]] = float(view["marks"])
            texts.setdefault(view["id"], view["text"])
            if view["id"] not in order:
                order.append(view["id"])  # a question since removed from the file
            for option in view.get("options", []):
                labels.setdefault(view["id"], {})[option["id"]] = option["text"]
        scores = {a.question_id: (a.score or 0.0, marks.get(a.question_id, 1.0))
                  for a in attempt.answers if a.question_id in marks}
        answers: dict[str, object] = {a.question_id: a.answer for a in attempt.answers}
        records.append(AttemptRecord(attempt.percent or 0.0, bool(attempt.passed), scores,
                                     answers))
    return QuizReport(quiz_stats(records, order), texts, labels)
