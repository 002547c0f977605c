"""In a real browser: the quiz result lists each missed question with a link to the module
section that teaches it, and the link lands on that heading (issue 14)."""

import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import _axe_clean, _login

pytestmark = pytest.mark.browser


@pytest.fixture
def learner(make_user, make_cohort):
    user = make_user("learner", email="ada@example.org", name="Ada Okafor")
    make_cohort("Evening group", learners=[user], assessors=[make_user("assessor")])
    return user


def test_a_missed_question_links_to_the_section_that_teaches_it(page, learner):
    _login(page, learner.email)
    page.goto("/quizzes/partnership-basics-check")
    page.get_by_role("button", name="Start attempt").click()
    page.get_by_role("group", name="Question 1").get_by_label(
        "The people around a child share what they know and plan together.").check()
    page.get_by_role("group", name="Question 3").get_by_label("True").check()  # wrong
    page.get_by_role("button", name="Finish attempt…").click()
    page.get_by_role("button", name="Submit all and finish").click()
    reading = page.locator(".read-again")
    expect(reading.get_by_role("heading", name="Questions to read about again")).to_be_visible()
    expect(reading.get_by_role("listitem")).to_have_count(3)  # 2 and 4 not answered, 3 wrong
    expect(reading).not_to_contain_text("Question 1:")
    _axe_clean(page)
    reading.get_by_role("listitem").filter(has_text="Question 4:").get_by_role(
        "link", name="Read about this again: Your part").click()
    expect(page).to_have_url(re.compile(r"/course/partnership-basics#your-part$"))
    expect(page.get_by_role("heading", name="Your part")).to_be_in_viewport()
