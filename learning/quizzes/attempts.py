"""Quiz attempts: starting, resuming, saving answers, submitting, time-outs and reviews."""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from learning.content.catalog import Catalog
from learning.core import audit
from learning.core.extensions import db
from learning.people.models import User
from learning.quizzes import grading
from learning.quizzes.loader import question_from_snapshot
from learning.quizzes.models import AttemptState, QuizAnswer, QuizAttempt
from learning.quizzes.signals import quiz_passed
from learning.quizzes.types import Question, Quiz

#: Saves that arrive this long after the deadline still count (the network is not instant).
GRACE = timedelta(seconds=15)


class QuizError(Exception):
    """A rule stops this action; the message is safe to show to the learner."""


@dataclass(frozen=True)
class Eligibility:
    can_start: bool
    reason: str | None
    attempts_used: int
    attempts_allowed: int | None
    next_allowed_at: datetime | None
    open_attempt: QuizAttempt | None

    @property
    def attempts_left(self) -> int | None:
        if self.attempts_allowed is None:
            return None
        return max(0, self.attempts_allowed - self.attempts_used)


def attempts_for(user: User, quiz_slug: str) -> list[QuizAttempt]:
    """All of a learner's attempts at one quiz, oldest first."""
    return list(db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id,
                                  QuizAttempt.quiz_slug == quiz_slug)
        .order_by(QuizAttempt.number)))


def time_allowed(limit_minutes: int | None, extra_percent: int) -> timedelta | None:
    """A timed quiz's time for one learner: its limit plus their extra time, if any."""
    if not limit_minutes:
        return None
    return timedelta(minutes=limit_minutes) * (100 + max(extra_percent, 0)) / 100


def eligibility(user: User, quiz: Quiz, now: datetime,
                attempts: list[QuizAttempt] | None = None) -> Eligibility:
    """Whether the learner may start an attempt now, and if not, why."""
    attempts = attempts_for(user, quiz.slug) if attempts is None else attempts
    open_attempt = next((a for a in attempts if a.is_open), None)
    done = [a for a in attempts if not a.is_open]
    allowed = quiz.settings.attempts_allowed
    if open_attempt is not None:
        return Eligibility(True, None, len(done), allowed, None, open_attempt)
    if allowed is not None and len(done) >= allowed:
        return Eligibility(False, f"You have used all {allowed} attempts at this quiz.",
                           len(done), allowed, None, None)
    last_submitted = done[-1].submitted_at if done else None
    if last_submitted is not None and quiz.settings.delay_minutes:
        wait_until = last_submitted + timedelta(minutes=quiz.settings.delay_minutes)
        if now < wait_until:
            return Eligibility(False, "You need to wait before your next attempt.",
                               len(done), allowed, wait_until, None)
    return Eligibility(True, None, len(done), allowed, None, None)


def _snapshot(quiz: Quiz, seed: int) -> list[dict[str, Any]]:
    """The questions for a new attempt, each with its full definition and its public view.

    The view fixes the option order the learner sees; the definition lets us grade later
    even if the quiz file has changed since.
    """
    rng = random.Random(seed)
    chosen = grading.select_questions(quiz, rng)
    out = []
    for q in chosen:
        q_rng = random.Random(f"{seed}:{q.id}") if quiz.settings.shuffle_options else None
        out.append({"question": q.to_snapshot(), "view": grading.public_view(q, q_rng)})
    return out


def start_attempt(user: User, quiz: Quiz, now: datetime) -> QuizAttempt:
    """Resume the open attempt, or start a new one if the rules allow it."""
    state = eligibility(user, quiz, now)
    if state.open_attempt is not None:
        return state.open_attempt
    if not state.can_start:
        raise QuizError(state.reason or "You cannot start this quiz now.")
    seed = secrets.randbits(31)
    questions = _snapshot(quiz, seed)
    limit = time_allowed(quiz.settings.time_limit_minutes, user.extra_time_percent)
    attempt = QuizAttempt(
        user_id=user.id, quiz_slug=quiz.slug, quiz_version=quiz.version,
        number=state.attempts_used + 1, state=AttemptState.IN_PROGRESS.value, started_at=now,
        deadline_at=now + limit if limit else None,
        settings=quiz.settings.to_snapshot() | {"title": quiz.title,
                                                "modules": list(quiz.modules)},
        questions=questions,
        max_marks=sum(float(q["view"]["marks"]) for q in questions),
    )
    db.session.add(attempt)
    try:
        db.session.flush()
    except IntegrityError:
        # A second tab or a double click started the same attempt a moment ago: use that one.
        db.session.rollback()
        existing = next((a for a in attempts_for(user, quiz.slug) if a.is_open), None)
        if existing is None:
            raise
        return existing
    audit.record("quiz.start", actor=user, subject=attempt, quiz=quiz.slug)
    db.session.commit()
    return attempt


@lru_cache(maxsize=4096)
def _question(snapshot: str) -> Question:
    """One question rebuilt from its snapshot (as JSON text, so the cache key is the whole
    content): every attempt at one version of a quiz shares its questions' snapshots, so a
    class starting an exam together rebuilds each question once per process, not once each."""
    return question_from_snapshot(json.loads(snapshot))


@lru_cache(maxsize=2048)
def _rebuilt(attempt_id: int, started_at: datetime) -> tuple[Question, ...]:
    attempt = db.session.get_one(QuizAttempt, attempt_id)
    return tuple(_question(json.dumps(item["question"], sort_keys=True))
                 for item in attempt.questions)


def questions_of(attempt: QuizAttempt) -> list[Question]:
    """The attempt's questions rebuilt from its snapshot (never from the current file).

    A snapshot never changes once the attempt exists, so rebuilt questions are cached per
    attempt (keyed with the start time too, so a reused id in a fresh database misses).
    """
    return list(_rebuilt(attempt.id, attempt.started_at))


def answer_problems(attempt: QuizAttempt) -> dict[str, str]:
    """Saved answers the learner should fix before submitting, by question id (as Moodle's
    summary page marks an answer it cannot accept as it stands)."""
    answers = {a.question_id: a.answer for a in attempt.answers}
    problems = {q.id: grading.validation_error(q, answers.get(q.id))
                for q in questions_of(attempt)}
    return {qid: problem for qid, problem in problems.items() if problem}


def views_of(attempt: QuizAttempt) -> list[dict[str, Any]]:
    """What the learner sees of each question, in the attempt's order."""
    return [item["view"] for item in attempt.questions]


def seconds_left(attempt: QuizAttempt, now: datetime) -> int | None:
    if attempt.deadline_at is None:
        return None
    return max(0, int((attempt.deadline_at - now).total_seconds()))


def is_overdue(attempt: QuizAttempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + GRACE


def save_answers(attempt: QuizAttempt, raw: dict[str, Any], now: datetime,
                 check: set[str] | None = None, flag: str | None = None,
                 flag_on: bool = True) -> set[str]:
    """Store the answers given for some questions; returns the ids actually saved.

    Questions already checked (immediate feedback) keep their answer. An attempt past its
    deadline is submitted with what was saved before, and QuizError says so. `flag` names a
    question whose review flag to set to `flag_on`, in the same write as the answers, so that
    flagging never loses what was typed on the page.
    """
    if not attempt.is_open:
        raise QuizError("This attempt has already been submitted.")
    if is_overdue(attempt, now):
        submit_attempt(attempt, now, timed_out=True)
        raise QuizError("Time ran out, so your attempt was submitted with the answers saved "
                        "before the time limit.")
    by_id = {q.id: q for q in questions_of(attempt)}
    # Claim the attempt for this save (a no-op UPDATE that holds its row until commit): a
    # submit, or a save from another tab, waits for it, and nothing is written to an attempt
    # that was submitted in the meantime.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.IN_PROGRESS.value)
        .values(state=QuizAttempt.state).execution_options(synchronize_session=False)))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise QuizError("This attempt has already been submitted.")
    existing = {a.question_id: a for a in db.session.scalars(  # as they are now, not as read
        select(QuizAnswer).where(QuizAnswer.attempt_id == attempt.id)
        .execution_options(populate_existing=True))}
    saved: set[str] = set()
    for qid, value in raw.items():
        question = by_id.get(qid)
        if question is None or question.is_description:  # nothing to answer
            continue
        row = existing.get(qid)
        if row is not None and row.checked_at is not None:
            continue
        answer = grading.normalise_answer(question, value)
        if row is None:
            row = QuizAnswer(attempt=attempt, question_id=qid)
            db.session.add(row)
            existing[qid] = row
        row.answer = answer
        row.saved_at = now
        if check and qid in check:
            row.checked_at = now
            row.score = grading.grade(question, answer).score
        saved.add(qid)
    question = by_id.get(flag) if flag else None
    if question is not None and not question.is_description:
        row = existing.get(question.id)
        if row is None:  # flagged before it is answered: a row with no answer yet
            row = QuizAnswer(attempt=attempt, question_id=question.id, answer=None,
                             saved_at=now)
            db.session.add(row)
        if (row.flagged_at is not None) != flag_on:  # already as asked: nothing to record
            row.flagged_at = now if flag_on else None
            audit.record("quiz.flag", subject=attempt, quiz=attempt.quiz_slug,
                         question=question.id, flagged=flag_on)
    db.session.commit()
    return saved


def submit_attempt(attempt: QuizAttempt, now: datetime, timed_out: bool = False,
                   catalog: Catalog | None = None) -> QuizAttempt:
    """Grade and close the attempt exactly once, however many times submit is pressed."""
    # Session.execute is typed as returning Result; for an UPDATE it is a CursorResult.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.IN_PROGRESS.value)
        .values(state=AttemptState.SUBMITTED.value, submitted_at=now, timed_out=timed_out)
        .execution_options(synchronize_session=False)
    )).rowcount
    if claimed != 1:
        db.session.rollback()
        db.session.refresh(attempt)
        return attempt  # someone (another tab, the time-out) already submitted it
    db.session.refresh(attempt)
    questions = questions_of(attempt)
    answers = {a.question_id: a.answer for a in attempt.answers}
    result = grading.grade_attempt(questions, answers)
    existing = {a.question_id: a for a in attempt.answers}
    for g in result.grades:
        row = existing.get(g.question_id)
        if row is None:  # blank questions get a row too, so item analysis sees them
            row = QuizAnswer(attempt=attempt, question_id=g.question_id, answer=None,
                             saved_at=now)
            db.session.add(row)
        row.score, row.marks = g.score, g.max_marks
    attempt.marks = result.total_marks
    attempt.percent = result.percent
    attempt.passed = result.passed(float(attempt.settings["pass_mark"]))
    audit.record("quiz.submit", subject=attempt, quiz=attempt.quiz_slug, percent=result.percent,
                 passed=attempt.passed, timed_out=timed_out)
    db.session.commit()
    if attempt.passed and attempt.settings.get("counts_toward_completion") and catalog:
        user = db.session.get(User, attempt.user_id)
        modules = [m for m in map(catalog.module, attempt.settings.get("modules", [])) if m]
        quiz_passed.send(attempt, user=user, modules=modules)
    return attempt


def close_if_overdue(attempt: QuizAttempt, now: datetime,
                     catalog: Catalog | None = None) -> bool:
    """Submit an attempt whose time ran out (called whenever it is looked at)."""
    if attempt.is_open and is_overdue(attempt, now):
        submit_attempt(attempt, now, timed_out=True, catalog=catalog)
        return True
    return False


@dataclass(frozen=True)
class ReviewItem:
    view: dict[str, Any]
    answer: Any
    grade: grading.Grade | None
    show_feedback: bool
    correct: dict[str, Any] | None  # correct answer view, when it may be shown
    #: What to fix in the saved answer before submitting ("" if nothing), while it is open.
    problem: str = ""
    #: "Question N" as the learner sees it; None for a description, which is not numbered.
    number: int | None = None
    #: Flagged for review by the learner (only shown while the attempt is open).
    flagged: bool = False


def is_description(view: dict[str, Any]) -> bool:
    """Whether a question as shown is a description (nothing to answer, not numbered)."""
    return view["type"] == "description"


def question_numbers(attempt: QuizAttempt) -> list[int | None]:
    """Each item's number in the attempt's order, counting only the questions to answer (as
    Moodle numbers them): a description gets None."""
    numbers: list[int | None] = []
    n = 0
    for item in attempt.questions:
        if is_description(item["view"]):
            numbers.append(None)
        else:
            n += 1
            numbers.append(n)
    return numbers


def answered_ids(attempt: QuizAttempt) -> set[str]:
    """The questions with an answer saved (the navigator, its count and the summary)."""
    return {a.question_id for a in attempt.answers if a.answer not in (None, "", [], {})}


def flagged_ids(attempt: QuizAttempt) -> set[str]:
    """The questions the learner flagged for review (the navigator and the summary)."""
    return {a.question_id for a in attempt.answers if a.flagged_at is not None}


def review_items(attempt: QuizAttempt, attempts_left: bool) -> list[ReviewItem]:
    """Each question with the learner's answer and what the quiz settings allow us to show."""
    submitted = not attempt.is_open
    settings = attempt.settings
    answers = {a.question_id: a for a in attempt.answers}
    items = []
    numbers = question_numbers(attempt)
    for n, (item, question) in enumerate(zip(attempt.questions, questions_of(attempt),
                                             strict=True)):
        if question.is_description:
            items.append(ReviewItem(item["view"], None, None, False, None))
            continue
        row = answers.get(question.id)
        checked = row is not None and row.checked_at is not None
        reveal = dict(answered=checked, submitted=submitted, passed=bool(attempt.passed),
                      attempts_left=attempts_left)
        show_feedback = grading.may_reveal(settings["feedback"], **reveal)
        show_correct = grading.may_reveal(settings["show_correct_answers"], **reveal)
        answer = row.answer if row is not None else None
        grade = grading.grade(question, answer) if (show_feedback or submitted) else None
        problem = "" if submitted or checked else grading.validation_error(question, answer)
        items.append(ReviewItem(item["view"], answer, grade, show_feedback,
                                grading.correct_answer_view(question) if show_correct else None,
                                problem, numbers[n],
                                row is not None and row.flagged_at is not None))
    return items


def best_results(user: User) -> dict[str, QuizAttempt]:
    """Each quiz's best submitted attempt for one learner (one query: the attempts' answers
    are not loaded, since a score and a pass are all a list of results shows)."""
    best: dict[str, QuizAttempt] = {}
    for a in db.session.scalars(select(QuizAttempt).where(
            QuizAttempt.user_id == user.id,
            QuizAttempt.state == AttemptState.SUBMITTED.value)
            .options(lazyload(QuizAttempt.answers))):
        current = best.get(a.quiz_slug)
        if current is None or (a.percent or 0) > (current.percent or 0):
            best[a.quiz_slug] = a
    return best


def passed_by(user_ids: list[int]) -> dict[int, set[str]]:
    """The quizzes each learner has passed (a submitted attempt that passed), in one query."""
    found: dict[int, set[str]] = {u: set() for u in user_ids}
    if user_ids:
        for user_id, slug in db.session.execute(
                select(QuizAttempt.user_id, QuizAttempt.quiz_slug).distinct().where(
                    QuizAttempt.user_id.in_(user_ids),
                    QuizAttempt.state == AttemptState.SUBMITTED.value,
                    QuizAttempt.passed.is_(True))):
            found[user_id].add(slug)
    return found
