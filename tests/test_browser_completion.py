"""In a real browser: a module read and waiting for its quiz, on the module page and the
dashboard, passes axe and fits 320 px."""

import pytest
from playwright.sync_api import expect

from learning.core.extensions import db
from learning.course import progress
from tests.test_browser import _axe_clean, _login
from tests.test_module_completion import MODULE, _pass_quiz, strict  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_a_module_waiting_for_its_quiz_is_accessible(page, app, strict, make_user,  # noqa: F811
                                                     make_cohort):
    learner = make_user("learner", email="lee@example.org", name="Lee Learner")
    make_cohort("CYP group", learners=[learner]).unit_id = "CYP33"
    db.session.commit()
    progress.mark_complete(learner, strict.module(MODULE))
    _pass_quiz(app, learner, right=False)
    _login(page, learner.email)
    for width in (1024, 320):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/course/{MODULE}")
        expect(page.get_by_text("You have read it. Still to do:")).to_be_visible()
        _axe_clean(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.goto("/dashboard")
        expect(page.get_by_role("heading", name="Your modules")).to_be_visible()
        expect(page.get_by_text("Quiz: not passed yet, 0 out of", exact=False)).to_be_visible()
        _axe_clean(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
