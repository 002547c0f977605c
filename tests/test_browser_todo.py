"""In a real browser: each role's to-do list passes axe, fits 320 px, and its links lead to the
work."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learning.core.extensions import db
from learning.people.models import User
from tests.test_browser import _axe_clean, _login
from tests.test_dashboard_todo import busy_cohort

pytestmark = pytest.mark.browser


@pytest.fixture
def busy(app, make_user, make_cohort, make_centre):
    staff = {"assessor": make_user("assessor", email="asha@example.org", name="Asha Assessor"),
             "iqa": make_user("iqa", email="ivy@example.org", name="Ivy Iqa"),
             "coordinator": make_user("coordinator", email="cora@example.org",
                                      name="Cora Coordinator")}
    centre = make_centre("North", coordinators=[staff["coordinator"]])
    tasks = [t.slug for t in app.extensions["catalog"].tasks]
    busy_cohort("Tuesday group", staff, tasks, make_user, make_cohort, centre)
    return staff


@pytest.mark.parametrize("role, heading, link, lands_on", [
    ("assessor", "Marking to do", "2 answers waiting to be marked", "Marking"),
    ("iqa", "Quality assurance to do", "1 sampled decision to review", "Your IQA sample"),
    ("coordinator", "Your centre: to do", "1 learner at red in Tuesday group",
     "Completion matrix"),
])
def test_each_staff_to_do_list_passes_axe_fits_320px_and_leads_to_the_work(
        page, busy, role, heading, link, lands_on):
    _login(page, busy[role].email)
    page.goto("/dashboard")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    _axe_clean(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(lands_on)


def test_the_learner_to_do_list_passes_axe_and_leads_to_the_feedback(page, app, busy):
    learner = db.session.scalar(select(User).where(User.name == "Red Tuesday group"))
    _login(page, learner.email)
    page.goto("/dashboard")
    expect(page.get_by_role("heading", name="What to do next")).to_be_visible()
    _axe_clean(page)
    page.get_by_role("link", name="your assessor's decision on").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Feedback")
    page.goto("/dashboard")
    expect(page.get_by_text("Feedback to read")).to_have_count(0)
