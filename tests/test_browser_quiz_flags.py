"""In a real browser: flagging a question of a timed quiz for review (issue 14), with and
without JavaScript, never losing what was typed, and only by the attempt's owner."""

import re

import pytest
from playwright.sync_api import expect

from learning.quizzes.loader import parse_quiz_text
from tests.test_browser import _axe_clean, _login

pytestmark = pytest.mark.browser

TIMED_QUIZ = """\
quiz:
  slug: flag-check
  title: Flag check
  modules: [{module}]
  settings:
    pass_mark: 50
    time_limit_minutes: 20
    layout: one_per_page
questions:
  - id: ring
    type: short
    text: A child is in immediate danger. What number do you ring?
    answers:
      - {{text: "999"}}
  - id: lead
    type: truefalse
    text: A nursery worker tells the designated safeguarding lead about a worry.
    answer: true
  - id: days
    type: numerical
    text: How many working days is the marking target in this fixture?
    answers:
      - {{value: 10}}
"""


@pytest.fixture
def learner(make_user, make_cohort):
    user = make_user("learner", email="ada@example.org", name="Ada Okafor")
    make_cohort("Evening group", learners=[user], assessors=[make_user("assessor")])
    return user


@pytest.fixture
def flag_quiz(app, monkeypatch):
    module = app.extensions["catalog"].modules[0].slug
    quiz, problems = parse_quiz_text(TIMED_QUIZ.format(module=module), "flag-check.yaml",
                                     {module})
    assert quiz is not None, problems
    monkeypatch.setitem(app.extensions, "quizzes", {quiz.slug: quiz})
    return quiz


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_flagged_question_keeps_its_typed_answer_and_shows_in_the_navigator_and_summary(
        browser, base_url, learner, flag_quiz, javascript):
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        _login(page, learner.email)
        page.goto("/quizzes/flag-check")
        page.get_by_role("button", name="Start attempt").click()
        question = page.get_by_role("group", name="Question 1")
        question.get_by_role("textbox").fill("99")  # typed, not saved
        question.get_by_role("button", name="Flag question 1 for review").click()
        expect(page.get_by_text("Question 1 is flagged for review.")).to_be_visible()
        question = page.get_by_role("group", name="Question 1")
        expect(question.get_by_role("textbox")).to_have_value("99")
        expect(question).to_contain_text("Flagged for review")
        nav = page.get_by_role("navigation", name="Questions")
        expect(nav.get_by_role("link", name=re.compile(r"^1 ?, answered, flagged for review$"))) \
            .to_be_visible()
        expect(nav.get_by_role("link", name=re.compile(r"^2 ?, not answered$"))).to_be_visible()
        expect(page.get_by_text("1 of 3 answered")).to_be_visible()
        if javascript:
            _axe_clean(page)
        page.get_by_role("button", name="Next").click()
        page.get_by_role("group", name="Question 2").get_by_label("True").check()
        page.get_by_role("button", name="Flag question 2 for review").click()
        page.get_by_role("button", name="Remove the flag from question 2").click()
        expect(page.get_by_text("Question 2 is no longer flagged.")).to_be_visible()
        expect(page.get_by_role("group", name="Question 2").get_by_label("True")).to_be_checked()
        page.get_by_role("button", name="Finish attempt…").click()
        expect(page.get_by_text("You flagged 1 question for review:")).to_be_visible()
        flagged = page.locator(".notice").get_by_role("link", name="Question 1")
        expect(flagged).to_be_visible()
        if javascript:
            _axe_clean(page)
        flagged.click()
        expect(page).to_have_url(re.compile(r"page=1#q-ring$"))
        expect(page.get_by_role("group", name="Question 1").get_by_role("textbox")) \
            .to_have_value("99")
    finally:
        context.close()


def test_another_learner_cannot_see_or_flag_an_attempt(browser, base_url, learner, flag_quiz,
                                                       make_user, make_cohort):
    owner = browser.new_context(base_url=base_url)
    page = owner.new_page()
    other = make_user("learner", email="ben@example.org", name="Ben Ito")
    make_cohort("Morning group", learners=[other])
    intruder = browser.new_context(base_url=base_url)
    try:
        _login(page, learner.email)
        page.goto("/quizzes/flag-check")
        page.get_by_role("button", name="Start attempt").click()
        expect(page.get_by_role("group", name="Question 1")).to_be_visible()
        attempt_url = page.url.split("?")[0]
        spy = intruder.new_page()
        _login(spy, other.email)
        response = spy.goto(attempt_url)
        assert response is not None and response.status == 403
        expect(spy.get_by_role("button", name=re.compile("Flag question"))).to_have_count(0)
        # A hand-made form post with the intruder's own valid token is refused as well.
        spy.goto("/dashboard")
        token = spy.locator("input[name=csrf_token]").first.get_attribute("value")
        refused = intruder.request.post(attempt_url, form={
            "csrf_token": token or "", "page": "1", "action": "flag:ring"}, max_redirects=0)
        assert refused.status == 403
        page.reload()
        expect(page.get_by_role("button", name="Flag question 1 for review")).to_be_visible()
        expect(page.get_by_role("navigation", name="Questions")
               .get_by_role("link", name=re.compile(r"^1 ?, not answered$"))).to_be_visible()
    finally:
        owner.close()
        intruder.close()


def test_one_page_quiz_navigator_follows_answers_as_they_are_given(page, learner, flag_quiz,
                                                                   app, monkeypatch):
    """All questions on one page (the live timed quiz's layout): the navigator's marks follow
    the answers as they are typed, and its links jump to each question; axe passes."""
    from dataclasses import replace

    monkeypatch.setitem(app.extensions, "quizzes", {flag_quiz.slug: replace(
        flag_quiz, settings=replace(flag_quiz.settings, layout="all_on_one_page"))})
    _login(page, learner.email)
    page.goto("/quizzes/flag-check")
    page.get_by_role("button", name="Start attempt").click()
    nav = page.get_by_role("navigation", name="Questions")
    expect(nav.get_by_role("link", name=re.compile(r"^2 ?, not answered$"))).to_be_visible()
    page.get_by_role("group", name="Question 2").get_by_label("True").check()
    expect(nav.get_by_role("link", name=re.compile(r"^2 ?, answered$"))).to_be_visible()
    nav.get_by_role("link", name=re.compile(r"^3 ?, not answered$")).click()
    assert page.url.endswith("#q-days")
    _axe_clean(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
