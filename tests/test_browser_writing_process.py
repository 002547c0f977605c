"""In a real browser: the writing page records typing and pastes, and the report of a typed
answer and of a pasted one read differently and truthfully, for the learner and the assessor;
the report passes axe and fits 320 px."""

import re

import pytest
from playwright.sync_api import expect

from learning.assessment import submissions as svc
from tests.test_browser import _axe_clean, _login
from tests.test_browser_marking import _fits

pytestmark = pytest.mark.browser

#: Made up for this test.
OWN = "Our key person spoke to the health visitor the same morning."
BROUGHT = ("Effective safeguarding relies on every agency sharing relevant information "
           "promptly so that decisions about a child are made with the whole picture in view.")


@pytest.fixture
def people(app, make_user, make_cohort):
    learner = make_user("learner", email="rosa@example.org", name="Rosa Learner")
    assessor = make_user("assessor", email="ned@example.org", name="Ned Assessor")
    make_cohort("Friday group", learners=[learner], assessors=[assessor])
    return {"task": app.extensions["catalog"].tasks[0], "learner": learner,
            "assessor": assessor}


def _paste(page, box, text):
    """A paste as the browser makes one: the paste event with its clipboard, then the text
    going in as an insertFromPaste input (headless Chromium has no system clipboard)."""
    box.evaluate("""(area, text) => {
        area.focus();
        const data = new DataTransfer();
        data.setData("text/plain", text);
        area.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                          cancelable: true}));
        area.setRangeText(text, area.selectionStart, area.selectionEnd, "end");
        area.dispatchEvent(new InputEvent("input", {inputType: "insertFromPaste",
                                                    bubbles: true}));
    }""", text)


def _submit(page):
    page.get_by_role("link", name="Submit for assessment…").click()
    page.get_by_label("I confirm this answer is my own work", exact=False).check()
    page.get_by_label("Submit it anyway", exact=False).check()
    page.get_by_role("button", name="Submit for assessment").click()
    expect(page.get_by_text("Your answer is submitted")).to_be_visible()


def _write(page, people, paste: bool):
    _login(page, people["learner"].email)
    page.goto(f"/tasks/{people['task'].slug}")
    expect(page.get_by_text("What this page records as you write.")).to_be_visible()
    box = page.get_by_label("Your answer")
    box.press_sequentially(OWN, delay=5)
    if paste:
        box.press("Enter")
        box.press("Enter")
        _paste(page, box, BROUGHT)
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible(
        timeout=8000)
    page.reload()  # the submit link shows once a draft is saved
    _submit(page)


def test_a_typed_answer_reports_typing(page, people):
    _write(page, people, paste=False)
    report = page.locator("section.writing-process")
    expect(report).to_contain_text("No text was pasted into the answer from elsewhere.")
    expect(report).to_contain_text(f"{len(OWN)} characters were typed")
    expect(report).not_to_contain_text("arrived in")


def test_a_pasted_answer_reports_the_paste_to_the_learner_and_the_assessor(page, people):
    _write(page, people, paste=True)
    share = round(len(BROUGHT.split()) / (len(OWN.split()) + len(BROUGHT.split())) * 100)
    fact = f"{share} % of the final text arrived in 1 paste"
    report = page.locator("section.writing-process")
    expect(report).to_contain_text(fact)
    # Typed characters are the typed sentence and the two line breaks, not the paste.
    expect(report).to_contain_text(f"{len(OWN) + 2} characters were typed")
    _axe_clean(page)
    page.get_by_role("button", name=re.compile("Log out")).click()

    _login(page, people["assessor"].email)
    sub = svc.get_submission(people["learner"], people["task"])
    page.goto(f"/marking/{sub.id}")
    report = page.locator("section.writing-process")
    # Folded beside the originality result, to one line that says the most.
    summary = report.get_by_text("How this answer was written:")
    expect(summary).to_have_text(f"How this answer was written: {share} % of the final text "
                                 "arrived by paste")
    summary.click()
    expect(report).to_contain_text(fact)
    report.get_by_text("Length over time, sittings and pastes").click()
    expect(report.get_by_role("img", name="The answer's length in words over time")).to_be_visible()
    expect(report.get_by_role("table", name="The largest pastes")).to_contain_text(
        "100% of it, in paragraph 2")
    for width in (1280, 320):
        _fits(page, width)
        _axe_clean(page)
