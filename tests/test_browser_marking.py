"""In a real browser: the assessor's marking page, the release summary, at 1280 and 320 px."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learning.assessment import submissions as svc
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa.models import IqaSample
from tests.test_browser import _axe_clean, _login

pytestmark = pytest.mark.browser

ANSWER = ("Partnership working means the people around a child share what they know and "
          "agree what to do.\n\n") * 40  # longer than the screen, so the decision has to stick


@pytest.fixture
def marking(app, make_user, make_cohort):
    task = app.extensions["catalog"].tasks[0]
    learner = make_user("learner", email="kofi@example.org", name="Kofi Mensah")
    assessor = make_user("assessor", email="ruth@example.org", name="Ruth Assessor")
    make_cohort("Thursday group", learners=[learner], assessors=[assessor])
    sub = svc.get_or_create(learner, task)
    svc.save_draft(sub, ANSWER, None, utcnow())
    svc.submit(sub, task, learner, True, "", utcnow())
    return {"task": task, "sub": sub, "assessor": assessor}


def _fits(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at a {width}px viewport"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_release_asks_for_confirmation_with_a_summary(browser, base_url, marking, javascript):
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        _login(page, marking["assessor"].email)
        page.goto(f"/marking/{marking['sub'].id}")
        for group in page.locator("fieldset.criterion").all():
            group.get_by_label("Not yet met", exact=True).check()
        page.get_by_label("Overall feedback for the learner").fill("A good start.")
        page.get_by_label("If referred", exact=False).fill("Add a reason for each point.")
        page.get_by_role("button", name="Release decision…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Check your decision before you release it")
        expect(page.get_by_role("heading", name=re.compile("Outcome"))).to_contain_text(
            "Referred")
        expect(page.get_by_text("Add a reason for each point.")).to_be_visible()
        if javascript:
            for width in (1280, 320):
                _fits(page, width)
                _axe_clean(page)
        page.get_by_role("link", name="Go back and change it").click()
        expect(page.get_by_label("Overall feedback for the learner")).to_have_value(
            "A good start.")
        page.get_by_role("button", name="Release decision…").click()
        page.get_by_role("button", name="Release to the learner").click()
        expect(page.get_by_text("Decision released to Kofi Mensah.")).to_be_visible()
        page.get_by_label("Status").select_option("released")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_role("link", name="Kofi Mensah")).to_be_visible()
        if javascript:
            _axe_clean(page)
    finally:
        context.close()


def test_marking_errors_link_to_their_fields(page, marking):
    _login(page, marking["assessor"].email)
    page.goto(f"/marking/{marking['sub'].id}")
    page.get_by_role("button", name="Release decision…").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    _axe_clean(page)
    summary.get_by_role("link", name=re.compile("Decide met or not yet met")).first.click()
    expect(page.locator("fieldset.criterion").first.get_by_label("Met", exact=True)) \
        .to_be_focused()
    expect(page.locator("fieldset.criterion").first.locator(".error-message")).to_be_visible()
    summary.get_by_role("link", name="Write overall feedback for the learner.").click()
    expect(page.get_by_label("Overall feedback for the learner")).to_be_focused()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_reason_to_refer_is_inserted_at_the_cursor(browser, base_url, marking, javascript):
    reason = marking["task"].marking_guide[0].refer_when[0]
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        _login(page, marking["assessor"].email)
        page.goto(f"/marking/{marking['sub'].id}")
        group = page.locator("fieldset.criterion").first
        group.locator("summary").click()  # open the marking guide
        insert = group.get_by_role("button", name=re.compile(r"^Insert: "))
        if not javascript:  # the reasons are there to copy; no button that would do nothing
            expect(group.get_by_text(reason)).to_be_visible()
            expect(insert).to_have_count(0)
            return
        comment = group.get_by_role("textbox")
        comment.fill("Good start. More needed.")
        comment.evaluate("box => box.setSelectionRange(11, 11)")  # after "Good start."
        comment.click(position={"x": 1, "y": 1})
        comment.evaluate("box => box.setSelectionRange(11, 11)")
        expect(insert.first).to_have_accessible_name(re.compile(
            r"^Insert: .+ \(into the comment on [\d.]+\)$"))
        insert.first.click()
        expect(comment).to_have_value(f"Good start. {reason} More needed.")
        expect(comment).to_be_focused()
        _axe_clean(page)
    finally:
        context.close()


def test_the_marking_page_is_side_by_side_on_a_wide_screen_and_stacked_on_a_phone(
        page, marking):
    _login(page, marking["assessor"].email)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/marking/{marking['sub'].id}")
    answer = page.locator(".marking-answer .answer-text")
    panel = page.locator(".marking-panel")
    a, p = answer.bounding_box(), panel.bounding_box()
    assert a["x"] + a["width"] <= p["x"], (a, p)  # the answer left, the decision right
    # Side by side, not one under the other: the answer starts below the two one-line
    # summaries above it (originality, how it was written), well above the panel's foot.
    assert abs(a["y"] - p["y"]) < 300, (a, p)
    expect(panel.get_by_role("radio", name="Met", exact=True)).to_be_visible()
    # The decision stays in view while the answer scrolls.
    page.evaluate("window.scrollTo(0, 900)")
    page.wait_for_function("window.scrollY >= 900")
    assert abs(panel.bounding_box()["y"]) < 5
    expect(panel.get_by_label("Overall feedback for the learner")).to_be_in_viewport()
    _fits(page, 1280)
    _axe_clean(page)

    page.set_viewport_size({"width": 320, "height": 640})
    page.reload()
    a, p = answer.bounding_box(), panel.bounding_box()
    assert p["y"] >= a["y"] + a["height"], (a, p)  # stacked: the decision under the answer
    _fits(page, 320)
    _axe_clean(page)


def test_iqa_review_and_correction_pages_pass_axe(page, app, make_user, make_cohort):
    from learning.assessment import marking as marking_rules
    from learning.iqa import sampling

    task = app.extensions["catalog"].tasks[0]
    learner = make_user("learner", name="Kofi Mensah")
    assessor = make_user("assessor", name="Ruth Assessor")
    iqa = make_user("iqa", email="ivy@example.org", name="Ivy Iqa")
    make_cohort("Thursday group", learners=[learner], assessors=[assessor], iqas=[iqa])
    sampling.save_plan(assessor, 100, False, iqa, utcnow())
    sub = svc.get_or_create(learner, task)
    svc.save_draft(sub, ANSWER, None, utcnow())
    work = svc.submit(sub, task, learner, True, "", utcnow())
    decision = marking_rules.save_decision(work, task, assessor, {
        c: (True, "Fine.") for c in task.criteria}, "Well done.", "", utcnow(), release=True)
    sample = db.session.scalar(select(IqaSample).where(IqaSample.decision_id == decision.id))
    _login(page, iqa.email)
    page.goto("/notifications/")
    expect(page.get_by_text(f"Kofi Mensah's answer to '{task.title}', achieved by Ruth "
                            "Assessor, is in your IQA sample.")).to_be_visible()
    page.goto(f"/iqa/samples/{sample.id}")
    expect(page.get_by_text(re.compile(r"^Originality: "))).to_be_visible()
    page.get_by_label("Agree with the decision", exact=True).check()
    page.get_by_role("button", name="Save review").click()
    page.get_by_role("link", name=re.compile("Correct this review")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Correct your IQA review")
    for width in (1280, 320):
        _fits(page, width)
        _axe_clean(page)
    page.get_by_label("Disagree with the decision").check()
    page.get_by_label("Action for the assessor").fill("Look again at Part B.")
    page.get_by_role("button", name="Save the corrected review").click()
    expect(page.get_by_text("Your review is corrected.")).to_be_visible()
    expect(page.get_by_text("Look again at Part B.")).to_be_visible()
    _axe_clean(page)
