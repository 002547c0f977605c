"""Demo classmates for `flask seed-demo`, so every role's pages have something real to show."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from sqlalchemy import select

from learning.assessment import evidence, marking
from learning.assessment import submissions as subs
from learning.cohorts.models import Deadline
from learning.content.catalog import Catalog
from learning.core.extensions import db
from learning.course import progress
from learning.people import accounts
from learning.people import membership as cohorts
from learning.people.models import Cohort, Role, User
from learning.quizzes import attempts, grading
from learning.quizzes.types import Quiz

#: (email, name, modules read, written task outcome). Each passes the quizzes of the modules
#: read but the last, so under the live units' rule (read and quiz passed, content/units.yaml)
#: one module of theirs is read and waiting for its quiz.
CLASSMATES = [
    ("priya@example.com", "Priya Shah", 5, "submitted"),
    ("tom@example.com", "Tom Owusu", 2, "referred"),
    ("jade@example.com", "Jade Williams", 8, "achieved"),
    ("kasia@example.com", "Kasia Nowak", 0, None),
]

_ANSWERS = {
    "submitted": "Partnership working means the people and services around a child share "
                 "what they know and plan together, so that nobody acts alone on a worry. "
                 "In my nursery the designated safeguarding lead passes concerns to "
                 "children's social care and joins meetings with health visitors.",
    "referred": "Partnership working is when agencies work together.",
    "achieved": "Partnership working in safeguarding means every agency that knows a child "
                "keeps the child at the centre, shares information early and plans with the "
                "others. No single practitioner sees the whole picture: the health visitor, "
                "the nursery and the school each hold one part of it. Working Together to "
                "Safeguard Children 2023 sets out this shared responsibility.",
}


def seed_classmates(cohort: Cohort, catalog: Catalog, quizzes: dict[str, Quiz],
                    assessor: User, password: str, now) -> list[str]:
    """Create demo learners with varied progress (skips any that already exist)."""
    created = []
    task = next((t for t in catalog.tasks if any(c.startswith(f"{cohort.unit_id}-")
                                                 for c in t.criteria)), None)
    for email, name, done, outcome in CLASSMATES:
        if accounts.find_by_email(email) is not None:
            continue
        learner = accounts.create_user(email, name, password, [Role.LEARNER])
        cohorts.enrol(learner, cohort)
        db.session.commit()
        created.append(email)
        for module in catalog.modules[:done]:
            progress.mark_complete(learner, module)
        for module in catalog.modules[:max(done - 1, 0)]:
            _pass_quiz(learner, module.slug, quizzes, now)
        if task and outcome:
            _written(learner, task, assessor, outcome, now)
    _deadlines(cohort, catalog, task)
    return created


def _pass_quiz(learner: User, module_slug: str, quizzes: dict[str, Quiz], now) -> None:
    quiz = next((q for q in quizzes.values() if q.modules == (module_slug,)), None)
    if quiz is None:
        return
    attempt = attempts.start_attempt(learner, quiz, now - timedelta(minutes=20))
    right = {}
    for q in attempts.questions_of(attempt):
        answer = grading.correct_answer_view(q).get("answer")
        if answer is not None:
            right[q.id] = answer
    attempts.save_answers(attempt, right, now - timedelta(minutes=5))
    attempts.submit_attempt(attempt, now - timedelta(minutes=4))


def _written(learner: User, task, assessor: User, outcome: str, now) -> None:
    sub = subs.get_or_create(learner, task)
    subs.save_draft(sub, _ANSWERS[outcome], None, now - timedelta(days=3))
    work = subs.submit(sub, task, learner, True, "Course modules 1 and 2",
                       now - timedelta(days=3))
    if outcome == "submitted":
        return
    met = outcome == "achieved"
    # The first sentence as evidence, so the feedback, IQA and portfolio pages show a mark.
    first = evidence.passages(work.text)[0]
    evidence.add_evidence(work, task, assessor, task.criteria[0], first.start, first.end, None,
                          met, "" if met else "Say who the partners are.",
                          now - timedelta(days=2))
    criteria: dict[str, tuple[bool | None, str]] = {
        c: (met, "Clear and accurate." if met else "Too brief to show this yet.")
        for c in task.criteria}
    marking.save_decision(
        work, task, assessor, criteria,
        "Well explained, with a good example from your setting." if met else
        "A start, but it needs to explain what partnership working means and why it matters.",
        "" if met else "Explain who the partners are, how they share information and why "
                       "that protects the child. Use an example from your setting.",
        now - timedelta(days=1), release=True)


def _deadlines(cohort: Cohort, catalog: Catalog, task) -> None:
    """A deadline already passed for module 1 and one to come for the task."""
    wanted = [("module", catalog.modules[0].slug, dt.date(2026, 10, 16))]
    if task is not None:
        wanted.append(("task", task.slug, dt.date(2027, 1, 29)))
    for kind, slug, due in wanted:
        exists = db.session.scalar(select(Deadline).where(
            Deadline.cohort_id == cohort.id, Deadline.item_kind == kind,
            Deadline.item_slug == slug))
        if exists is None:
            db.session.add(Deadline(cohort_id=cohort.id, item_kind=kind, item_slug=slug,
                                    due_on=due))
    db.session.commit()
