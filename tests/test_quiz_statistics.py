"""Quiz statistics added up in SQL: the same figures as the rule applied to attempts in memory,
questions since removed from the file, and a fixed number of queries."""

from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import User
from learning.quizzes import attempts
from learning.quizzes.models import QuizAttempt
from learning.quizzes.statistics import statistics_for
from learning.quizzes.stats import AttemptRecord, QuestionSums, pearson, quiz_stats


def _answer(question, rng: random.Random):
    if question.type in ("single", "multiple"):
        picks = [o.id for o in question.options if rng.random() < 0.5]
        if question.type == "single":
            return rng.choice([o.id for o in question.options] + [""])
        return picks
    if question.type == "truefalse":
        return rng.choice(["true", "false", ""])
    if question.type == "matching":
        return {p.id: rng.choice(question.match_choices()) for p in question.pairs}
    if question.type == "ordering":
        return rng.sample([i.id for i in question.items], len(question.items))
    if question.type == "short":
        return rng.choice(["a safeguarding partner", "police", "", "LSCP"])
    if question.type == "numerical":
        return rng.choice(["3", "4", "12", ""])
    return ""


_CLOCK = itertools.count(1)


def _take(learner, quiz, rng: random.Random):
    """An attempt with random answers, a day after the last (quizzes may make learners wait)."""
    now = utcnow() + timedelta(days=next(_CLOCK))
    attempt = attempts.start_attempt(learner, quiz, now)
    attempts.save_answers(attempt, {q.id: _answer(q, rng)
                                    for q in attempts.questions_of(attempt)}, now)
    attempts.submit_attempt(attempt, now)


def _in_memory(quiz) -> list[AttemptRecord]:
    """Attempts read whole, marks from each snapshot (what the page used to do)."""
    records = []
    for attempt in db.session.scalars(select(QuizAttempt).where(
            QuizAttempt.quiz_slug == quiz.slug, QuizAttempt.state == "submitted")):
        marks = {item["view"]["id"]: float(item["view"]["marks"]) for item in attempt.questions}
        records.append(AttemptRecord(
            attempt.percent or 0.0, bool(attempt.passed),
            {a.question_id: (a.score or 0.0, marks[a.question_id]) for a in attempt.answers
             if a.question_id in marks},
            {a.question_id: a.answer for a in attempt.answers}))
    return records


@pytest.fixture
def learners(make_user, make_cohort):
    people = [make_user("learner") for _ in range(25)]
    make_cohort("Statistics", learners=people)
    return people


@pytest.mark.parametrize("slug", ["partnership-basics-check", "who-does-what-check",
                                  "unit-review"])
def test_sql_figures_match_the_rule_over_attempts_in_memory(app, make_user, learners, slug):
    quiz = app.extensions["quizzes"][slug]
    rng = random.Random(slug)
    for learner in learners:
        for _ in range(rng.randint(1, 2)):
            _take(learner, quiz, rng)
    report = statistics_for(quiz, make_user("admin"))
    expected = quiz_stats(_in_memory(quiz), [q.id for q in quiz.questions])
    assert report.stats == expected
    assert report.stats.attempts >= 12
    assert any(q.discrimination is not None for q in report.stats.questions)


def test_a_question_removed_from_the_file_is_still_reported(app, make_user, learners):
    quiz = app.extensions["quizzes"]["partnership-basics-check"]
    rng = random.Random(7)
    for learner in learners[:4]:
        _take(learner, quiz, rng)
    gone = quiz.questions[0]
    edited = dataclasses.replace(quiz, questions=quiz.questions[1:])
    report = statistics_for(edited, make_user("admin"))
    ids = [q.question_id for q in report.stats.questions]
    assert ids == [q.id for q in quiz.questions[1:]] + [gone.id]
    assert report.texts[gone.id] == gone.text  # from the newest snapshot that asked it
    if gone.options:
        assert report.option_labels[gone.id] == {o.id: o.text for o in gone.options}
    assert report.stats.questions[-1].attempts == 4


def test_statistics_run_the_same_queries_for_5_or_50_attempts(app, make_user, learners,
                                                              count_queries):
    quiz = app.extensions["quizzes"]["who-does-what-check"]
    admin_id = make_user("admin").id
    rng = random.Random(3)

    def measure() -> int:
        db.session.expunge_all()
        admin = db.session.get(User, admin_id)
        assert admin.role_set  # loaded before counting
        with count_queries() as counted:
            statistics_for(quiz, admin)
        return counted.count

    ids = [learner.id for learner in learners]
    for learner_id in ids[:5]:
        _take(db.session.get(User, learner_id), quiz, rng)
    few = measure()
    for n, learner_id in enumerate(ids):
        for _ in range(1 if n < 5 else 2):
            _take(db.session.get(User, learner_id), quiz, rng)
    assert db.session.query(QuizAttempt).count() == 50
    assert measure() == few


def _sums(xs, ys) -> QuestionSums:
    return QuestionSums("q", len(xs), sum(xs), sum(ys), sum(x * x for x in xs),
                        sum(y * y for y in ys), sum(x * y for x, y in zip(xs, ys, strict=True)))


def test_pearson_from_sums():
    assert round(pearson(_sums([0.0, 0.5, 1.0], [0.1, 0.2, 0.3])), 6) == 1.0
    assert round(pearson(_sums([0.0, 0.5, 1.0], [0.3, 0.2, 0.1])), 6) == -1.0
    assert pearson(_sums([1.0, 1.0, 1.0], [0.1, 0.2, 0.3])) is None  # everyone right
    assert pearson(_sums([1 / 3] * 7, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])) is None
    assert pearson(_sums([1.0], [0.5])) is None


def test_authors_see_a_question_by_its_name_when_it_has_one(app, make_user, learners):
    """A GIFT title is kept as the question's name, and the statistics page shows it."""
    quiz = app.extensions["quizzes"]["partnership-basics-check"]
    _take(learners[0], quiz, random.Random(3))
    first = dataclasses.replace(quiz.questions[0], name="Partners (from Moodle)")
    named = dataclasses.replace(quiz, questions=(first, *quiz.questions[1:]))
    report = statistics_for(named, make_user("admin"))
    assert report.names == {first.id: "Partners (from Moodle)"}
    from flask import render_template
    with app.test_request_context():
        html = render_template("quiz/statistics.html", quiz=named, report=report)
    assert f'Partners (from Moodle) <span class="meta">({first.id})</span>' in html


def test_a_description_is_left_out_of_the_statistics(app, make_user, learners):
    """A description has no answer, no marks and no row: it is not in the report, and the
    other questions' discrimination is computed as without it."""
    from learning.quizzes.types import Question
    quiz = app.extensions["quizzes"]["partnership-basics-check"]
    note = Question(id="read-first", type="description", text="Read this first.", marks=0)
    with_note = dataclasses.replace(quiz, questions=(note, *quiz.questions))
    rng = random.Random(11)
    for learner in learners[:8]:
        _take(learner, with_note, rng)
    report = statistics_for(with_note, make_user("admin"))
    assert [q.question_id for q in report.stats.questions] == [q.id for q in quiz.questions]
    assert report.stats == quiz_stats(_in_memory(with_note), [q.id for q in quiz.questions])
    assert all(item["view"]["id"] != "read-first" or item["view"]["marks"] == 0
               for a in db.session.scalars(select(QuizAttempt)) for item in a.questions)
