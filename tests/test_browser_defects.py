"""In a real browser: defects a first-time user met (issue 14), each pinned by a test."""

import re

import pytest
from playwright.sync_api import expect

from learning.quizzes.loader import parse_quiz_text
from tests.test_browser import _axe_clean, _login

pytestmark = pytest.mark.browser

SHORT_QUIZ = """\
quiz:
  slug: enter-check
  title: Enter check
  modules: [{module}]
  settings:
    pass_mark: 50
    attempts_allowed: unlimited
    feedback: immediate
    show_correct_answers: after_submit
    layout: one_per_page
questions:
  - id: ring
    type: short
    text: A child is in immediate danger. What number do you ring?
    answers:
      - {{text: "999", feedback: SECRET-RIGHT}}
  - id: days
    type: numerical
    text: How many working days is the marking target in this fixture?
    answers:
      - {{value: 10, tolerance: 0}}
"""


@pytest.fixture
def learner(make_user, make_cohort):
    user = make_user("learner", email="ada@example.org", name="Ada Okafor")
    make_cohort("Evening group", learners=[user], assessors=[make_user("assessor")])
    return user


@pytest.fixture
def enter_quiz(app, monkeypatch):
    module = app.extensions["catalog"].modules[0].slug
    quiz, problems = parse_quiz_text(SHORT_QUIZ.format(module=module), "enter-check.yaml",
                                     {module})
    assert quiz is not None, problems
    monkeypatch.setitem(app.extensions, "quizzes", {quiz.slug: quiz})
    return quiz


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("question", ["Question 1", "Question 2"], ids=["short", "numerical"])
def test_enter_in_a_typed_answer_saves_and_never_checks_it(browser, base_url, learner,
                                                            enter_quiz, javascript, question):
    """Enter in a short-answer or numerical box used to press "Check answer" (the form's
    first button) and lock a half-typed answer as wrong. Now it saves and checks nothing."""
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        _login(page, learner.email)
        page.goto("/quizzes/enter-check")
        page.get_by_role("button", name="Start attempt").click()
        if question == "Question 2":
            page.get_by_role("button", name="Next").click()
        group = page.get_by_role("group", name=question)
        box = group.get_by_role("textbox")
        box.fill("9")
        box.press("Enter")
        expect(page.get_by_text("Your answers are saved.")).to_be_visible()
        group = page.get_by_role("group", name=question)
        expect(group.get_by_role("textbox")).to_have_value("9")
        expect(group.get_by_role("textbox")).to_be_editable()
        expect(page.get_by_text("Incorrect")).to_have_count(0)
        expect(page.get_by_role("button", name="Check answer")).to_be_visible()
    finally:
        context.close()


WILDCARD_QUIZ = """\
quiz:
  slug: wildcard-check
  title: Wildcard check
  modules: [{module}]
  settings:
    pass_mark: 50
    attempts_allowed: unlimited
    feedback: after_submit
    show_correct_answers: after_submit
    layout: all_on_one_page
questions:
  - id: icb
    type: short
    text: Which body plans health services for an area?
    answers:
      - {{text: "integrated care board", fraction: 1}}
      - {{text: "*integrated care board*", fraction: 1}}
      - {{text: "ICB", fraction: 1}}
      - {{text: "*health*", fraction: 0, feedback: Name the body.}}
"""


def test_quiz_review_shows_accepted_answers_as_a_person_writes_them(page, app, learner,
                                                                    monkeypatch):
    """The review used to show the pattern: "integrated care board or *integrated care
    board*". Now each accepted answer once, without the wildcard marks."""
    module = app.extensions["catalog"].modules[0].slug
    quiz, problems = parse_quiz_text(WILDCARD_QUIZ.format(module=module),
                                     "wildcard-check.yaml", {module})
    assert quiz is not None, problems
    monkeypatch.setitem(app.extensions, "quizzes", {quiz.slug: quiz})
    _login(page, learner.email)
    page.goto("/quizzes/wildcard-check")
    page.get_by_role("button", name="Start attempt").click()
    page.get_by_role("group", name="Question 1").get_by_role("textbox").fill("the council")
    page.get_by_role("button", name="Finish attempt…").click()
    page.get_by_role("button", name="Submit all and finish").click()
    answer = page.locator(".correct-answer")
    expect(answer).to_have_text("Correct answer: integrated care board or ICB")


def test_a_notification_is_read_once_its_page_is_opened(page, app, learner):
    """A notification stayed unread after its learner opened the page it links to."""
    from learning.core.extensions import db
    from learning.people.notifications import notify

    other = "Feedback on another task is ready: achieved."
    notify(learner, "feedback", "Feedback on 'Explain partnership' is ready: referred.",
           "/course#modules")
    notify(learner, "feedback", other, "/tasks/elsewhere/feedback")
    db.session.commit()
    _login(page, learner.email)
    menu = page.get_by_role("link", name="Notifications")
    expect(menu).to_have_accessible_name(re.compile(r"^Notifications \(2 unread"))
    page.goto("/course")
    expect(page.get_by_role("link", name="Notifications")).to_have_accessible_name(
        re.compile(r"^Notifications \(1 unread"))
    page.goto("/notifications/")
    expect(page.locator("li.unread")).to_have_count(1)
    expect(page.locator("li.unread")).to_contain_text(other)


def test_a_learner_who_joins_after_a_deadline_is_not_told_it_is_overdue(page, app, make_user,
                                                                        make_cohort):
    """A learner enrolled after a deadline used to start their first day with "1 item is
    overdue". Now the date is shown as set before they joined, to agree with their assessor."""
    from datetime import date

    from learning.cohorts.models import Deadline
    from learning.core.extensions import db
    from learning.people import membership

    early = make_user("learner", email="early@example.org", name="Early Bird")
    cohort = make_cohort("Evening group", learners=[early], assessors=[make_user("assessor")])
    db.session.add(Deadline(cohort_id=cohort.id, item_kind="module",
                            item_slug=app.extensions["catalog"].modules[0].slug,
                            due_on=date(2025, 10, 1)))
    newcomer = make_user("learner", email="new@example.org", name="New Starter")
    membership.enrol(newcomer, cohort)  # today, long after the date
    db.session.commit()

    _login(page, newcomer.email)
    deadlines = page.get_by_role("region", name="Your target dates", exact=True)
    expect(deadlines).to_contain_text("Set before you joined")
    expect(deadlines).to_contain_text("Agree a date with your assessor.")
    expect(page.get_by_text("overdue", exact=False)).to_have_count(0)
    page.get_by_role("button", name=re.compile("Log out")).click()
    _login(page, early.email)
    expect(page.get_by_text("1 item is overdue.")).to_be_visible()


def test_the_timer_stays_in_view_and_its_warnings_are_seen_as_well_as_heard(
        page, app, learner, enter_quiz, monkeypatch):
    from datetime import timedelta

    from learning.core.extensions import db
    from learning.core.types import utcnow
    from learning.quizzes.models import QuizAttempt

    quiz = enter_quiz
    timed = type(quiz.settings)(**{**quiz.settings.__dict__, "time_limit_minutes": 20})
    monkeypatch.setitem(app.extensions["quizzes"], quiz.slug,
                        type(quiz)(**{**quiz.__dict__, "settings": timed}))
    page.set_viewport_size({"width": 320, "height": 480})
    _login(page, learner.email)
    page.goto("/quizzes/enter-check")
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url(re.compile(r"/attempts/\d+"))
    # On a phone the box that follows the learner is one line: it hid the end of the question
    # above it when it carried its note too (three lines at 375 px, four at 320).
    height = page.locator("#timer").bounding_box()["height"]
    assert height < 60, f"the sticky timer is {height}px tall at 320px"
    expect(page.get_by_text("The server keeps the time.")).to_be_visible()
    attempt = db.session.scalars(db.select(QuizAttempt)).one()
    attempt.deadline_at = utcnow() + timedelta(seconds=302)
    db.session.commit()
    page.reload()
    warning = page.locator("#timer").get_by_role("status")
    expect(warning).to_have_text("5 minutes left.", timeout=8000)  # visible, in the timer box
    expect(warning).to_be_visible()
    page.mouse.wheel(0, 2000)  # scroll down: the time left stays on screen
    box = page.locator("#timer").bounding_box()
    assert box is not None and 0 <= box["y"] < 480


DESCRIPTION_QUIZ = """\
quiz:
  slug: notes-check
  title: Notes check
  modules: [{module}]
  settings:
    pass_mark: 50
    feedback: after_submit
    show_correct_answers: after_submit
questions:
  - id: read-first
    type: description
    text: "Read the **scenario**: a nursery worker notices a bruise."
  - id: tell
    type: truefalse
    text: The worker should tell the designated safeguarding lead.
    answer: true
"""


def test_a_description_reads_as_information_not_as_a_question(page, app, learner,
                                                               monkeypatch):
    """A GIFT description used to be dropped on import. Now it is shown before the question
    it introduces, as information with no number and nothing to answer, and is not counted."""
    module = app.extensions["catalog"].modules[0].slug
    quiz, problems = parse_quiz_text(DESCRIPTION_QUIZ.format(module=module),
                                     "notes-check.yaml", {module})
    assert quiz is not None, problems
    monkeypatch.setitem(app.extensions, "quizzes", {quiz.slug: quiz})
    page.set_viewport_size({"width": 320, "height": 640})
    _login(page, learner.email)
    page.goto("/quizzes/notes-check")
    expect(page.get_by_text("Questions: 1.")).to_be_visible()
    page.get_by_role("button", name="Start attempt").click()
    note = page.locator(".question-description")
    expect(note).to_contain_text("Information")
    expect(note.locator("strong")).to_have_text("scenario")
    expect(page.get_by_role("group")).to_have_count(1)
    expect(page.get_by_role("group", name="Question 1")).to_be_visible()
    expect(page.get_by_text("0 of 1 answered")).to_be_visible()
    _axe_clean(page)
    page.get_by_role("group", name="Question 1").get_by_label("True").check()
    page.get_by_role("button", name="Finish attempt…").click()
    expect(page.get_by_text("You have answered every question.")).to_be_visible()
    page.get_by_role("button", name="Submit all and finish").click()
    expect(page.get_by_text("1 out of 1 marks (100%)")).to_be_visible()
    expect(page.get_by_role("heading", name="Information")).to_be_visible()
    _axe_clean(page)
