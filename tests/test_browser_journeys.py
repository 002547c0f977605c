"""In a real browser: each role's main journey end to end, axe and 320 px on every page."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learning.assessment import marking as marking_rules
from learning.assessment import submissions as svc
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa.models import IqaSample
from tests.test_browser import _axe_clean, _login

pytestmark = pytest.mark.browser

WIDE, NARROW = 1280, 320


class Checks:
    """Axe and the 320 px check for whatever page the journey is on.

    Both run scripts in the page. With JavaScript off they run in a twin context that
    shares the journey's cookies and has JavaScript on only for the checks: the site's own
    scripts are blocked there, so the twin shows the page as the learner without scripts
    gets it (a GET of the same address)."""

    def __init__(self, browser, base_url, page, javascript):
        self.browser, self.base_url, self.page, self.javascript = (browser, base_url, page,
                                                                    javascript)
        self.seen: list[str] = []

    def __call__(self):
        self.seen.append(self.page.url)
        if self.javascript:
            self._check(self.page, restore=True)
            return
        twin = self.browser.new_context(base_url=self.base_url,
                                        storage_state=self.page.context.storage_state(),
                                        viewport={"width": WIDE, "height": 800})
        try:
            view = twin.new_page()
            view.route(re.compile(r"\.js(\?|$)"), lambda route: route.abort())
            view.goto(self.page.url)
            self._check(view, restore=False)
        finally:
            twin.close()

    @staticmethod
    def _check(page, restore):
        _axe_clean(page)
        size = page.viewport_size
        page.set_viewport_size({"width": NARROW, "height": 640})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW, f"{page.url} is {width}px wide at a {NARROW}px viewport"
        if restore and size:
            page.set_viewport_size(size)


@pytest.fixture
def journey(browser, base_url):
    """journey(javascript) -> (page, check): a fresh context at desktop width."""
    contexts = []

    def start(javascript=True):
        context = browser.new_context(base_url=base_url, java_script_enabled=javascript,
                                      viewport={"width": WIDE, "height": 800})
        contexts.append(context)
        page = context.new_page()
        return page, Checks(browser, base_url, page, javascript)

    yield start
    for context in contexts:
        context.close()


def _main_nav(page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name,
                                                            exact=True).click()


def _heading(page, text):
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _log_out(page):
    page.get_by_role("button", name=re.compile("Log out")).click()


# ---- the learner ----

SHORT_ANSWER = ("Partnership working means the people around Sam share what they know: the "
                "key person and the health visitor together see that he is often hungry.")
BETTER_ANSWER = SHORT_ANSWER + (" Each of them holds one part of the picture, so together "
                                "they can plan help for Sam and his family.")


def _words(text):
    return len(text.split())


@pytest.fixture
def course(app, make_user, make_cohort):
    learner = make_user("learner", email="ada@example.org", name="Ada Okafor")
    assessor = make_user("assessor", email="ruth@example.org", name="Ruth Assessor")
    make_cohort("Evening group", learners=[learner], assessors=[assessor])
    catalog = app.extensions["catalog"]
    module = catalog.modules[0]
    quiz = next(q for q in app.extensions["quizzes"].values() if q.modules == (module.slug,))
    task = next(t for t in catalog.tasks if module.slug in t.modules)
    return {"learner": learner, "assessor": assessor, "module": module, "quiz": quiz,
            "task": task}


def _refer(learner, assessor, task):
    """The assessor's part, done through the service: the assessor's own pages have their
    journey below. Refers the learner's latest submission with feedback and an action."""
    db.session.expire_all()  # the server's thread wrote the submission
    work = marking_rules.current_round(svc.get_or_create(learner, task))
    marking_rules.save_decision(
        work, task, assessor, {c: (False, "Say why the partners need each other.")
                               for c in task.criteria},
        "A clear start: now give your reasons.", "Add a reason for each point you make.",
        utcnow(), release=True)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_learner_journey(journey, course, javascript):
    module, quiz, task = course["module"], course["quiz"], course["task"]
    page, check = journey(javascript)

    _login(page, course["learner"].email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Okafor")  # dashboard
    check()

    # The dashboard leads to the next module (its wording is the dashboard's own business).
    page.get_by_role("link", name=re.compile(re.escape(module.title))).first.click()
    _heading(page, module.title)
    check()

    # Marking it complete leads to the module's own quiz.
    page.get_by_role("button", name="Mark as complete").click()
    _heading(page, quiz.title)
    expect(page.get_by_text("is marked as complete")).to_be_visible()
    check()

    page.get_by_role("button", name="Start attempt").click()
    _heading(page, quiz.title)
    expect(page.get_by_text("0 of 4 answered")).to_be_visible()
    check()
    page.get_by_label("One expert makes every decision about the child.").check()  # wrong
    for partner in ("The nursery", "Health services", "The family"):
        page.get_by_label(partner, exact=True).check()
    page.get_by_role("group", name="Question 3").get_by_label("False").check()
    page.get_by_label("designated safeguarding lead").check()
    page.get_by_role("button", name="Finish attempt…").click()
    _heading(page, "Check and submit")
    expect(page.get_by_text("You have answered every question.")).to_be_visible()
    check()
    page.get_by_role("button", name="Submit all and finish").click()
    _heading(page, f"Review: {quiz.title}")
    expect(page.get_by_text("3 out of 4 marks (75%)")).to_be_visible()
    expect(page.get_by_text("Not passed yet. The pass mark is 80%.")).to_be_visible()
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    check()
    page.get_by_role("link", name=f"Back to the module: {module.title}").click()
    _heading(page, module.title)

    # The written task: a short first answer, confirmed as short on purpose.
    _main_nav(page, "Written tasks")
    check()
    page.get_by_role("link", name=task.title).first.click()
    _heading(page, task.title)
    check()
    page.get_by_label("Your answer").fill(SHORT_ANSWER)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_label("Your answer")).to_have_value(SHORT_ANSWER)
    page.get_by_role("link", name="Submit for assessment…").click()
    _heading(page, "Submit your answer")
    expect(page.get_by_text("Your answer is shorter than the guidance.")).to_be_visible()
    check()
    page.get_by_label("I confirm this answer is my own work", exact=False).check()
    page.get_by_role("button", name="Submit for assessment").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Your answer has {_words(SHORT_ANSWER)} words, fewer than the guidance of "
        f"{task.min_words}.")
    page.get_by_label("I confirm this answer is my own work", exact=False).check()
    page.get_by_label("Submit it anyway", exact=False).check()
    page.get_by_role("button", name="Submit for assessment").click()
    _heading(page, task.title)
    expect(page.get_by_text("Your answer is submitted. Your assessor has been told.")) \
        .to_be_visible()
    expect(page.get_by_text(re.compile(r"What happens next: your assessor aims to mark it "
                                       r"within \d+ working days"))).to_be_visible()
    # Locked while it is marked: the answer box is gone.
    expect(page.get_by_role("textbox", name="Your answer")).to_have_count(0)
    check()

    # Later: the assessor refers it. The learner reads the feedback and resubmits.
    _refer(course["learner"], course["assessor"], task)
    _main_nav(page, "Written tasks")
    page.get_by_role("link", name=task.title).first.click()
    expect(page.get_by_text("Referred: your assessor has asked you to improve this answer.")) \
        .to_be_visible()
    page.get_by_role("link", name="Read your feedback").click()
    _heading(page, f"Feedback: {task.title}")
    expect(page.get_by_role("heading", name=re.compile(r"Submission 1: .*Referred"))) \
        .to_be_visible()
    expect(page.get_by_text("A clear start: now give your reasons.")).to_be_visible()
    expect(page.get_by_text("Add a reason for each point you make.")).to_be_visible()
    check()
    page.get_by_role("link", name="Improve your answer").click()
    _heading(page, task.title)
    expect(page.get_by_label("Your answer")).to_have_value(SHORT_ANSWER)
    page.get_by_label("Your answer").fill(BETTER_ANSWER)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_label("Your answer")).to_have_value(BETTER_ANSWER)
    page.get_by_role("link", name="Submit for assessment…").click()
    expect(page.get_by_text("This is a resubmission.")).to_be_visible()
    check()
    page.get_by_label("I confirm this answer is my own work", exact=False).check()
    page.get_by_label("Submit it anyway", exact=False).check()
    page.get_by_role("button", name="Submit for assessment").click()
    expect(page.get_by_text("Your answer is submitted. Your assessor has been told.")) \
        .to_be_visible()

    # The portfolio: everything in one place.
    _main_nav(page, "Portfolio")
    _heading(page, "Portfolio: Ada Okafor")
    portfolio = page.get_by_role("main")
    expect(portfolio).to_contain_text(module.title)
    expect(portfolio).to_contain_text(quiz.title)
    expect(portfolio).to_contain_text(task.title)
    check()
    assert len(check.seen) >= 12


# ---- the assessor ----

ANSWER = ("Partnership working means the people around a child share what they know and "
          "agree what to do.\n\n") * 12


@pytest.fixture
def submitted(app, make_user, make_cohort):
    task = app.extensions["catalog"].tasks[0]
    learner = make_user("learner", email="kofi@example.org", name="Kofi Mensah")
    assessor = make_user("assessor", email="sam@example.org", name="Sam Patel")
    iqa = make_user("iqa", email="ivy@example.org", name="Ivy Iqa")
    make_cohort("Thursday group", learners=[learner], assessors=[assessor], iqas=[iqa])
    sub = svc.get_or_create(learner, task)
    svc.save_draft(sub, ANSWER, None, utcnow())
    work = svc.submit(sub, task, learner, True, "", utcnow())
    return {"task": task, "learner": learner, "assessor": assessor, "iqa": iqa, "sub": sub,
            "work": work}


def test_assessor_journey(journey, submitted):
    task = submitted["task"]
    reason = task.marking_guide[0].refer_when[0]
    page, check = journey()

    _login(page, submitted["assessor"].email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sam Patel")  # dashboard
    check()
    _main_nav(page, "Marking")
    _heading(page, "Marking")
    expect(page.get_by_text("1 answer waiting, oldest first")).to_be_visible()
    check()

    page.get_by_role("link", name="Kofi Mensah").click()
    _heading(page, f"{task.title}: Kofi Mensah")
    expect(page.get_by_role("heading", name="The answer")).to_be_visible()
    check()
    for number, group in enumerate(page.locator("fieldset.criterion").all()):
        group.get_by_label("Not yet met", exact=True).check()
        if number == 0:  # a common reason to refer, from the marking guide, in one click
            group.get_by_text("Marking guide").click()
            group.get_by_role("button", name=re.compile(r"^Insert: ")).first.click()
            expect(group.get_by_role("textbox")).to_have_value(reason)
    page.get_by_label("Overall feedback for the learner").fill("A clear start.")
    page.get_by_label("If referred", exact=False).fill("Give a reason for each point.")
    page.get_by_role("button", name="Release decision…").click()

    _heading(page, "Check your decision before you release it")
    expect(page.get_by_role("heading", name=re.compile("Outcome"))).to_contain_text("Referred")
    expect(page.get_by_text(reason)).to_be_visible()
    expect(page.get_by_text("Give a reason for each point.")).to_be_visible()
    check()
    page.get_by_role("button", name="Release to the learner").click()
    expect(page.get_by_text("Decision released to Kofi Mensah.")).to_be_visible()
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()

    # Released work stays findable: the "released" filter, then the learner's history.
    page.get_by_label("Status").select_option("released")
    page.get_by_role("button", name="Filter").click()
    released = page.get_by_role("table")
    expect(released).to_contain_text("1 answer with a released decision")
    expect(released.get_by_role("row", name=re.compile("Kofi Mensah"))).to_contain_text(
        "Referred")
    check()
    released.get_by_role("link", name="Kofi Mensah").click()
    history = page.get_by_role("region", name=re.compile("Decisions released to Kofi Mensah"))
    expect(history).to_contain_text(f"{task.title} (this task)")
    expect(history).to_contain_text("Referred")
    expect(history).to_contain_text("Sam Patel")
    check()


# ---- the IQA ----

def test_iqa_journey(journey, submitted):
    from learning.iqa import sampling

    task, assessor = submitted["task"], submitted["assessor"]
    sampling.save_plan(assessor, 100, False, submitted["iqa"], utcnow())
    decision = marking_rules.save_decision(
        submitted["work"], task, assessor, {c: (True, "Fine.") for c in task.criteria},
        "Well done.", "", utcnow(), release=True)
    assert db.session.scalar(select(IqaSample).where(IqaSample.decision_id == decision.id))
    page, check = journey()

    _login(page, submitted["iqa"].email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ivy Iqa")  # dashboard
    check()
    _main_nav(page, "IQA")
    _heading(page, "Your IQA sample")
    sample = page.get_by_role("table")
    expect(sample).to_contain_text("1 sampled decision, 1 not reviewed yet")
    expect(sample.get_by_role("row", name=re.compile("Kofi Mensah"))).to_contain_text(
        "Sam Patel")
    check()

    sample.get_by_role("link", name=re.compile("Kofi Mensah")).click()
    _heading(page, f"IQA review: {task.title} – Kofi Mensah")
    expect(page.get_by_text(re.compile(r"^Originality: "))).to_be_visible()
    check()
    page.get_by_label("Agree with the decision", exact=True).check()
    page.get_by_label("Comments").fill("Criteria applied as the guide says.")
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Your review is saved.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Agreed: Ivy Iqa"))).to_be_visible()

    # On a second reading the IQA wants the assessor to look again: the saved review is
    # corrected (the assessor has not acted on it yet), not a second one added.
    page.get_by_role("link", name=re.compile("Correct this review")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Correct your IQA review")
    check()
    page.get_by_label("Disagree with the decision").check()
    page.get_by_label("Action for the assessor").fill("Look again at Part B.")
    page.get_by_role("button", name="Save the corrected review").click()
    expect(page.get_by_text("Your review is corrected.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Disagreed: Ivy Iqa"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Agreed: "))).to_have_count(0)
    expect(page.get_by_text("Look again at Part B.")).to_be_visible()
    check()

    _main_nav(page, "IQA")
    expect(page.get_by_role("row", name=re.compile("Kofi Mensah"))).to_contain_text(
        "Disagreed: action open")

    # The assessor sees the action in the marking queue.
    _log_out(page)
    _login(page, assessor.email)
    _main_nav(page, "Marking")
    expect(page.get_by_role("row", name=re.compile("Kofi Mensah"))).to_contain_text(
        "IQA action")
