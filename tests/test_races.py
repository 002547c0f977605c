"""One action, one outcome: two clicks, tabs or people acting at once give a single result."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import func, select

from learning.assessment import marking, submissions
from learning.assessment.models import Decision, Submission, SubmittedWork
from learning.assessment.originality import index as originality
from learning.core.extensions import db
from learning.core.types import utcnow
from tests.conftest import csrf_from


@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


@pytest.fixture
def people(make_user, make_cohort):
    learner = make_user("learner", name="Maya Patel")
    assessors = [make_user("assessor", name=f"Assessor {n}") for n in (1, 2)]
    make_cohort("Tuesday group", learners=[learner], assessors=assessors)
    return {"learner": learner, "assessors": assessors}


def _together(app, calls):
    """Run each call in its own thread and app context, started together; return results."""
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i, call):
        with app.app_context():
            start.wait(timeout=5)
            try:
                results[i] = call()
            except Exception as exc:  # noqa: BLE001 (the test inspects what each one got)
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return results


def _hold_inside(monkeypatch, module, name, parties=2, timeout=1.5):
    """Make `module.name` wait for the other racer, so both are inside the action at once
    (or, once the action claims its change first, time out and carry on alone)."""
    original = getattr(module, name)
    inside = threading.Barrier(parties)

    def held(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            inside.wait(timeout=timeout)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, held)


def test_double_clicking_submit_makes_one_round(app, client, auth, people, task, monkeypatch):
    auth.login(people["learner"])
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    client.post(f"/tasks/{task.slug}", data={"csrf_token": csrf_from(page), "save": "1",
                                             "text": "An answer about agencies working together.",
                                             "based_on": ""})
    _hold_inside(monkeypatch, originality, "check")
    clients = [app.test_client(), app.test_client()]
    forms = []
    for c in clients:
        auth_client = type(auth)(c)
        auth_client.login(people["learner"])
        forms.append(csrf_from(c.get(f"/tasks/{task.slug}/submit").get_data(as_text=True)))

    def click(c, token):
        return lambda: c.post(f"/tasks/{task.slug}/submit", data={
            "csrf_token": token, "declaration": "y", "sources": "",
            "confirm_short": "y"}).status_code

    codes = _together(app, [click(c, t) for c, t in zip(clients, forms, strict=True)])
    assert all(code in (200, 302, 303) for code in codes), codes
    assert db.session.scalar(select(func.count(SubmittedWork.id))) == 1
    sub = db.session.scalar(select(Submission))
    assert submissions.rounds_used(sub) == 1


def _submitted(people, task):
    sub = submissions.get_or_create(people["learner"], task)
    submissions.save_draft(sub, "An answer about agencies working together.", None, utcnow())
    return submissions.submit(sub, task, people["learner"], True, "", utcnow())


def test_two_assessors_releasing_at_once_give_one_decision(app, people, task, monkeypatch):
    work_id = _submitted(people, task).id
    from learning.assessment import marking as marking_module

    _hold_inside(monkeypatch, marking_module, "notify")

    def release(assessor_id, met):
        def call():
            work = db.session.get(SubmittedWork, work_id)
            assessor = db.session.get(type(people["learner"]), assessor_id)
            criteria = {c: (met, "") for c in task.criteria}
            return marking.save_decision(work, task, assessor, criteria, "Feedback.",
                                         "" if met else "Add more.", utcnow(), release=True)
        return call

    results = _together(app, [release(people["assessors"][0].id, True),
                              release(people["assessors"][1].id, False)])
    released = db.session.scalars(select(Decision).where(Decision.released_at.is_not(None)))
    assert len(list(released)) == 1, results
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(losers) == 1 and isinstance(losers[0], marking.MarkingError), results
    assert "a moment ago" in str(losers[0])


def test_two_imports_of_the_same_learner_leave_one_current_enrolment(app, make_user,
                                                                     make_centre, make_cohort,
                                                                     monkeypatch):
    """Each import checked the file before the other wrote: both think the learner is new to
    the cohort. The second insert is skipped, so Remove closes the only enrolment there is."""
    from learning.cohorts import admin as cohort_admin
    from learning.people import enrolment_csv as csv_import
    from learning.people.models import Enrolment

    coordinator = make_user("coordinator")
    cohort = make_cohort("North 2026", centre=make_centre("North", coordinators=[coordinator]))
    make_user("learner", email="existing@example.com", name="Existing Learner")
    text = "name,email,cohort\nExisting Learner,existing@example.com,North 2026\n"
    stale = csv_import.check(text, coordinator)  # what both imports saw
    monkeypatch.setattr(csv_import, "check", lambda *args, **kwargs: stale)
    csv_import.import_text(text, coordinator)
    csv_import.import_text(text, coordinator)
    current = list(db.session.scalars(select(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.left_at.is_(None))))
    assert len(current) == 1
    cohort_admin.remove_learner(cohort, current[0].user, coordinator)
    assert db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.cohort_id == cohort.id, Enrolment.left_at.is_(None))) == 0


def test_the_database_refuses_a_second_current_enrolment(make_user, make_cohort):
    from sqlalchemy.exc import IntegrityError

    from learning.people.models import Enrolment

    learner = make_user("learner")
    cohort = make_cohort(learners=[learner])
    db.session.add(Enrolment(user_id=learner.id, cohort_id=cohort.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_tabs_saving_the_same_quiz_answer_at_once(app, make_user, monkeypatch):
    from learning.quizzes import attempts, grading
    from learning.quizzes.models import QuizAnswer, QuizAttempt

    quiz = next(iter(app.extensions["quizzes"].values()))
    learner = make_user("learner")
    attempt_id = attempts.start_attempt(learner, quiz, utcnow()).id
    first = db.session.get(QuizAttempt, attempt_id).questions[0]["view"]["id"]
    _hold_inside(monkeypatch, grading, "normalise_answer")

    def tab(value):
        def call():
            attempt = db.session.get(QuizAttempt, attempt_id)
            return attempts.save_answers(attempt, {first: value}, utcnow())
        return call

    results = _together(app, [tab("a"), tab("b")])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert db.session.scalar(select(func.count(QuizAnswer.id)).where(
        QuizAnswer.attempt_id == attempt_id)) == 1


def test_autosave_racing_submit_never_writes_into_a_submitted_attempt(app, make_user,
                                                                      monkeypatch):
    """The autosave has read the attempt (open) when the learner presses Submit in another
    tab: the answer is either graded with the attempt or refused, never written after."""
    from learning.quizzes import attempts, grading
    from learning.quizzes.models import AttemptState, QuizAnswer, QuizAttempt

    quiz = next(iter(app.extensions["quizzes"].values()))
    learner = make_user("learner")
    attempt_id = attempts.start_attempt(learner, quiz, utcnow()).id
    first = db.session.get(QuizAttempt, attempt_id).questions[0]["view"]["id"]
    _hold_inside(monkeypatch, grading, "normalise_answer")

    def save():
        attempt = db.session.get(QuizAttempt, attempt_id)
        return attempts.save_answers(attempt, {first: "a late answer"}, utcnow())

    def submit():
        return attempts.submit_attempt(db.session.get(QuizAttempt, attempt_id), utcnow())

    results = _together(app, [save, submit])
    assert not [r for r in results if isinstance(r, Exception)
                and not isinstance(r, attempts.QuizError)], results
    attempt = db.session.get(QuizAttempt, attempt_id)
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.SUBMITTED.value
    questions = {q.id: q for q in attempts.questions_of(attempt)}
    for row in db.session.scalars(select(QuizAnswer).where(QuizAnswer.attempt_id == attempt_id)):
        graded = grading.grade(questions[row.question_id], row.answer).score
        assert row.score == graded, (row.question_id, row.answer, row.score, results)


def test_two_autosaves_on_the_same_version_make_one_current(app, people, task, monkeypatch):
    from learning.assessment import submissions as subs_module
    from learning.assessment.models import DraftVersion

    sub = submissions.get_or_create(people["learner"], task)
    base = submissions.save_draft(sub, "The first words.", None, utcnow()).version.number
    sub_id = sub.id
    _hold_inside(monkeypatch, subs_module, "render_answer")

    def tab(text):
        def call():
            return submissions.save_draft(db.session.get(Submission, sub_id), text, base,
                                          utcnow(), kind="autosave")
        return call

    results = _together(app, [tab("The first words, from tab one."),
                              tab("The first words, from tab two.")])
    assert not [r for r in results if isinstance(r, Exception)], results
    kinds = sorted(v.kind for v in db.session.scalars(
        select(DraftVersion).where(DraftVersion.number > base)))
    assert kinds == ["autosave", "conflict"]


def test_an_iqa_disagreeing_while_the_assessor_releases_never_strands_an_action(
        app, make_user, make_cohort, task, monkeypatch):
    """The work is back with the assessor after a first IQA action. The assessor releases a
    new decision while the IQA records another disagreement on the old one: either the review
    comes first (and the release answers it) or it is refused; never an open action on work
    that has left the assessor's queue."""
    from learning.assessment import marking as marking_module
    from learning.iqa import reviews as iqa
    from learning.iqa.models import IqaReview

    learner, assessor, iqa_user = (make_user("learner"), make_user("assessor"),
                                   make_user("iqa"))
    make_cohort(learners=[learner], assessors=[assessor], iqas=[iqa_user])
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, "An answer about agencies working together.", None, utcnow())
    work = submissions.submit(sub, task, learner, True, "", utcnow())
    criteria = {c: (True, "") for c in task.criteria}
    first = marking.save_decision(work, task, assessor, criteria, "Good.", "", utcnow(),
                                  release=True)
    sample = iqa.add_to_sample(first, iqa_user, utcnow())
    iqa.record_review(sample, iqa_user, "disagree", "", "Check 2.3 again.", task.title,
                      utcnow())
    work_id, sample_id = work.id, sample.id
    _hold_inside(monkeypatch, marking_module, "notify")

    def release():
        work = db.session.get(SubmittedWork, work_id)
        assessor_now = db.session.get(type(assessor), assessor.id)
        return marking.save_decision(work, task, assessor_now, criteria, "Still good.", "",
                                     utcnow(), release=True)

    def disagree_again():
        sample = iqa.get_sample(sample_id)
        return iqa.record_review(sample, db.session.get(type(iqa_user), iqa_user.id),
                                 "disagree", "", "And 2.4.", task.title, utcnow())

    results = _together(app, [release, disagree_again])
    assert not [r for r in results if isinstance(r, Exception)
                and not isinstance(r, iqa.ReviewError)], results
    sub = db.session.get(Submission, sub.id)
    db.session.refresh(sub)
    open_actions = list(db.session.scalars(select(IqaReview).where(
        IqaReview.verdict == "disagree", IqaReview.action_closed_at.is_(None))))
    assert not (open_actions and not sub.reassess), (results, sub.reassess, open_actions)


def test_an_iqa_correcting_a_review_while_the_assessor_releases_gives_one_outcome(
        app, make_user, make_cohort, task, monkeypatch):
    """The IQA withdraws their action (corrects disagree to agree) while the assessor releases
    the new decision it asked for: one of them wins, the other is refused, and the review
    never changes after the assessor acted on it."""
    from learning.assessment import marking as marking_module
    from learning.iqa import reviews as iqa
    from learning.iqa.models import IqaReview

    learner, assessor, iqa_user = (make_user("learner"), make_user("assessor"),
                                   make_user("iqa"))
    make_cohort(learners=[learner], assessors=[assessor], iqas=[iqa_user])
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, "An answer about agencies working together.", None, utcnow())
    work = submissions.submit(sub, task, learner, True, "", utcnow())
    criteria = {c: (True, "") for c in task.criteria}
    first = marking.save_decision(work, task, assessor, criteria, "Good.", "", utcnow(),
                                  release=True)
    sample = iqa.add_to_sample(first, iqa_user, utcnow())
    review = iqa.record_review(sample, iqa_user, "disagree", "", "Check 2.3 again.",
                               task.title, utcnow())
    work_id, review_id = work.id, review.id
    _hold_inside(monkeypatch, marking_module, "notify")

    def release():
        work = db.session.get(SubmittedWork, work_id)
        return marking.save_decision(work, task, db.session.get(type(assessor), assessor.id),
                                     criteria, "Still good.", "", utcnow(), release=True)

    def withdraw():
        review = db.session.get(IqaReview, review_id)
        return iqa.correct_review(review, db.session.get(type(iqa_user), iqa_user.id),
                                  "agree", "", "", task.title, utcnow())

    released, corrected = _together(app, [release, withdraw])
    assert isinstance(released, marking.MarkingError) != isinstance(corrected,
                                                                    iqa.ReviewError), (
        released, corrected)
    db.session.expire_all()
    review = db.session.get(IqaReview, review_id)
    decisions = db.session.scalar(select(func.count(Decision.id)).where(
        Decision.released_at.is_not(None)))
    if isinstance(corrected, iqa.ReviewError):  # the release came first and answered it
        assert (review.verdict, decisions) == ("disagree", 2)
        assert review.action_closed_at is not None
    else:  # the action was withdrawn first: nothing left for the assessor to release
        assert (review.verdict, decisions) == ("agree", 1)
        assert db.session.get(Submission, sub.id).reassess is False
