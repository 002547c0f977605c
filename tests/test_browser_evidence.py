"""In a real browser: attaching evidence passages by keyboard, with and without JavaScript,
and the learner's feedback with them marked (axe, 320 px)."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learning.assessment import evidence
from learning.assessment import marking as marking_rules
from learning.assessment import submissions as svc
from learning.assessment.models import Evidence
from learning.core.extensions import db
from learning.core.types import utcnow
from tests.test_browser import _axe_clean, _login
from tests.test_browser_marking import _fits

pytestmark = pytest.mark.browser

ANSWER = ("Partners share what they know so a worry is seen early. The school nurse and the "
          "GP each hold a piece of the picture.\n\n"
          "A joint plan means nobody waits for someone else to act.")


@pytest.fixture
def work(app, make_user, make_cohort):
    task = app.extensions["catalog"].tasks[0]
    learner = make_user("learner", email="kofi@example.org", name="Kofi Mensah")
    assessor = make_user("assessor", email="ruth@example.org", name="Ruth Assessor")
    make_cohort("Thursday group", learners=[learner], assessors=[assessor])
    sub = svc.get_or_create(learner, task)
    svc.save_draft(sub, ANSWER, None, utcnow())
    svc.submit(sub, task, learner, True, "", utcnow())
    return {"task": task, "sub": sub, "assessor": assessor, "learner": learner}


def _passages():
    db.session.expire_all()
    return [(e.quote, e.met) for e in db.session.scalars(
        select(Evidence).where(Evidence.withdrawn_at.is_(None)).order_by(Evidence.id))]


def test_selected_text_becomes_evidence_by_keyboard(page, work):
    _login(page, work["assessor"].email)
    page.goto(f"/marking/{work['sub'].id}")
    # Select the "a" of "a worry" (as a click or caret browsing would start it), then extend
    # the selection to the end of the words with shift+arrow keys.
    page.evaluate("""() => {
        const piece = document.querySelector('#answer-plain [data-at]');
        const node = piece.firstChild;
        const at = node.textContent.indexOf('a worry');
        const range = document.createRange();
        const sel = window.getSelection(); sel.removeAllRanges();
        sel.collapse(node, at); sel.extend(node, at + 1);
    }""")
    for _ in range(len("a worry is seen early") - 1):
        page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("window.getSelection().toString()") == "a worry is seen early"
    button = page.get_by_role("button", name="Use selected text as evidence for…")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("a worry is seen early")
    criterion = page.get_by_label("Criterion", exact=True)
    expect(criterion).to_be_focused()
    expect(page.get_by_label("Passage")).to_have_value(re.compile(r"^\d+-\d+$"))
    page.get_by_label("The criterion met", exact=True).check()
    page.get_by_label("Note for the learner (optional)").fill("Says why it matters.")
    page.get_by_role("button", name="Add as evidence").press("Enter")
    expect(page.locator(".flash, .notice, [role=status]").filter(
        has_text="Passage added as evidence.").first).to_be_visible()
    assert _passages() == [("a worry is seen early", True)]
    # Marked in the answer and labelled in words; the list has a Remove button.
    expect(page.locator("#answer-plain mark")).to_have_text("a worry is seen early")
    expect(page.locator("#answer-plain .evidence-label")).to_contain_text(
        re.compile(r"\[Evidence 1: [\d.]+ met\]"))
    expect(page.get_by_role("button", name=re.compile(r"^Remove evidence 1 from"))).to_be_visible()
    for width in (1280, 320):
        _fits(page, width)
        _axe_clean(page)


def test_without_javascript_a_numbered_sentence_is_attached_and_removed(browser, base_url,
                                                                       work):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    try:
        _login(page, work["assessor"].email)
        page.goto(f"/marking/{work['sub'].id}")
        expect(page.get_by_role("button", name="Use selected text as evidence for…")).to_be_hidden()
        passage = page.get_by_label("Passage")
        passage.select_option(label="3. A joint plan means nobody waits for someone else to act.")
        page.get_by_label("The criterion not yet met", exact=True).check()
        page.get_by_role("button", name="Add as evidence").press("Enter")
        page.wait_for_url(re.compile(r"#evidence-heading$"))
        assert _passages() == [("A joint plan means nobody waits for someone else to act.",
                                False)]
        expect(page.locator("#answer-plain .evidence-label")).to_contain_text("not yet met")
        page.get_by_role("button", name=re.compile(r"^Remove evidence 1 from")).press("Enter")
        page.wait_for_url(re.compile(r"#evidence-heading$"))
        assert _passages() == []
        expect(page.locator("#answer-plain mark")).to_have_count(0)
    finally:
        context.close()


def test_the_learner_sees_the_marked_answer_after_release(page, work):
    task, sub = work["task"], work["sub"]
    w = sub.rounds[-1]
    start = ANSWER.index("nobody waits")
    evidence.add_evidence(w, task, work["assessor"], task.criteria[0], start,
                          start + len("nobody waits"), None, True, "A clear point.", utcnow())
    marking_rules.save_decision(w, task, work["assessor"],
                                {c: (True, "") for c in task.criteria}, "Well done.", "",
                                utcnow(), release=True)
    _login(page, work["learner"].email)
    page.goto(f"/tasks/{task.slug}/feedback")
    expect(page.get_by_role("heading", name="The answer with the assessor's evidence")
           ).to_be_visible()
    expect(page.locator(".evidence-answer mark")).to_have_text("nobody waits")
    expect(page.locator(".evidence-list")).to_contain_text("A clear point.")
    for width in (1280, 320):
        _fits(page, width)
        _axe_clean(page)
