"""In a real browser: a learner's journey, keyboard use, 320px layout, axe checks."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from learning.core.extensions import db
from learning.people.models import UserRole
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _axe_clean(page):
    result = Axe().run(page)
    assert result.violations_count == 0, result.generate_report()


def _login(page, email, arrive=True):
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if arrive:  # the page logs in in the background (site.js), then moves on
        expect(page).not_to_have_url(re.compile(r"/login"), timeout=10_000)


@pytest.fixture
def learner(make_user, make_cohort):
    user = make_user("learner", email="ada@example.org", name="Ada Okafor")
    make_cohort("Evening group", learners=[user], assessors=[make_user("assessor")])
    return user


def test_learner_reads_a_module_and_sees_progress_change(page, app, learner):
    modules = app.extensions["catalog"].modules
    _login(page, learner.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ada Okafor")
    expect(page.get_by_text(f"Course: 0 of {len(modules)} modules complete")).to_be_visible()
    _axe_clean(page)

    page.get_by_role("link", name=f"Start: {modules[0].title}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(modules[0].title)
    _axe_clean(page)
    page.get_by_role("button", name="Mark as complete").click()
    # The module's own quiz comes next, not the next module.
    quiz = next(q for q in app.extensions["quizzes"].values() if q.modules == (modules[0].slug,))
    expect(page.get_by_role("heading", level=1)).to_have_text(quiz.title)
    expect(page.get_by_text("is marked as complete")).to_be_visible()
    expect(page.get_by_text(f"Next, check what you have learned: {quiz.title}.")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Course modules")
    expect(page.get_by_text(f"Your progress: 1 of {len(modules)} modules complete")).to_be_visible()
    _axe_clean(page)


def test_pages_pass_axe_for_staff(page, make_user, learner):
    _login(page, make_user("admin", email="chloe@example.org").email)
    page.goto("/staff/learners")
    _axe_clean(page)
    page.get_by_role("link", name="Ada Okafor").click()
    _axe_clean(page)


def test_login_errors_are_announced_and_linked(page, learner):
    page.goto("/login")
    _axe_clean(page)
    page.get_by_role("button", name="Log in").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Enter your email address.").click()
    expect(page.get_by_label("Email address")).to_be_focused()
    _axe_clean(page)


def test_keyboard_only_journey(page, app, learner):
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # that link moved focus to main: next stop is the email field
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(learner.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ada Okafor")


def test_focus_is_visible(page, learner):
    page.goto("/login")
    field = page.get_by_label("Email address")
    field.focus()
    shadow = field.evaluate("el => getComputedStyle(el).boxShadow")
    assert shadow != "none"


def test_layout_fits_320px(page, app, learner):
    page.set_viewport_size({"width": 320, "height": 640})
    _login(page, learner.email)
    modules = [f"/course/{m.slug}" for m in app.extensions["catalog"].modules]
    for path in ["/dashboard", "/course", "/account/password", *modules,
                 *(f"/help/{p.slug}" for p in app.extensions["catalog"].pages)]:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide at a 320px viewport"


def test_every_module_passes_axe(page, app, learner):
    _login(page, learner.email)
    for module in app.extensions["catalog"].modules:
        page.goto(f"/course/{module.slug}")
        expect(page.get_by_role("heading", level=1)).to_have_text(module.title)
        _axe_clean(page)


def test_help_pages_pass_axe_without_login(page, app):
    for help_page in app.extensions["catalog"].pages:
        page.goto(f"/help/{help_page.slug}")
        expect(page.get_by_role("heading", level=1)).to_have_text(help_page.title)
        _axe_clean(page)


@pytest.fixture
def web_quiz(app, monkeypatch):
    from learning.quizzes.loader import parse_quiz_text
    from tests.test_quiz_taking import QUIZ

    module = app.extensions["catalog"].modules[0].slug
    text = QUIZ.format(module=module, pass_mark=50, attempts="unlimited", delay=0,
                       feedback="immediate", show="after_submit", layout="one_per_page",
                       extra="    time_limit_minutes: 20")
    quiz, problems = parse_quiz_text(text, "web-check.yaml", {module})
    monkeypatch.setitem(app.extensions, "quizzes", {quiz.slug: quiz})
    return quiz


def test_learner_takes_a_quiz_with_the_keyboard_and_screen_reader_labels(page, learner, web_quiz):
    _login(page, learner.email)
    page.goto("/quizzes/web-check")
    _axe_clean(page)
    page.get_by_role("button", name="Start attempt").click()
    expect(page.get_by_text("Time left")).to_be_visible()
    group = page.get_by_role("group", name="Question 1")
    expect(group).to_be_visible()
    _axe_clean(page)
    group.get_by_label("Local authority, ICB and police").check()
    expect(page.get_by_role("status").filter(has_text="Answers saved")).to_be_visible(
        timeout=5000)  # autosave a moment after the change
    page.get_by_role("button", name="Check answer").click()
    expect(page.get_by_text("SECRET-RIGHT-FEEDBACK")).to_be_visible()
    _axe_clean(page)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("group", name="Question 2").get_by_label("False").check()
    page.get_by_role("button", name="Finish attempt…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check and submit")
    _axe_clean(page)
    page.get_by_role("button", name="Submit all and finish").click()
    expect(page.get_by_text("You passed")).to_be_visible()
    expect(page.get_by_text("100%")).to_be_visible()
    _axe_clean(page)


def test_quiz_page_fits_320px(page, learner, web_quiz):
    page.set_viewport_size({"width": 320, "height": 640})
    _login(page, learner.email)
    page.goto("/quizzes/web-check")
    page.get_by_role("button", name="Start attempt").click()
    # Measure the attempt page, not the page being left: evaluate mid-navigation finds no body.
    page.wait_for_url(re.compile(r"/attempts/\d+"))
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320


def test_written_task_autosaves_and_is_marked(page, app, make_user, make_cohort):
    task = app.extensions["catalog"].tasks[0]
    learner = make_user("learner", email="kofi@example.org", name="Kofi Mensah")
    assessor = make_user("assessor", email="ruth@example.org", name="Ruth Assessor")
    make_cohort("Thursday group", learners=[learner], assessors=[assessor])
    _login(page, learner.email)
    page.goto(f"/tasks/{task.slug}")
    _axe_clean(page)
    box = page.get_by_label("Your answer")
    box.fill("Partnership working means every agency shares what it knows about the child.")
    expect(page.get_by_text("12 words")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible(
        timeout=8000)
    page.reload()  # the autosaved text is there after a reload
    expect(page.get_by_label("Your answer")).to_have_value(
        "Partnership working means every agency shares what it knows about the child.")
    page.get_by_role("link", name="Submit for assessment…").click()
    _axe_clean(page)
    page.get_by_label("I confirm this answer is my own work", exact=False).check()
    page.get_by_label("Submit it anyway", exact=False).check()  # shorter than the guidance
    page.get_by_role("button", name="Submit for assessment").click()
    expect(page.get_by_text("Your answer is submitted")).to_be_visible()
    page.get_by_role("button", name=re.compile("Log out")).click()

    _login(page, assessor.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Marking").click()
    _axe_clean(page)
    page.get_by_role("link", name="Kofi Mensah").click()
    _axe_clean(page)
    for group in page.locator("fieldset.criterion").all():
        group.get_by_label("Met", exact=True).check()
    page.get_by_label("Overall feedback for the learner").fill("Clear and accurate.")
    page.get_by_role("button", name="Release decision…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your decision before you release it")
    page.get_by_role("button", name="Release to the learner").click()
    expect(page.get_by_text("Decision released to Kofi Mensah.")).to_be_visible()


def test_staff_and_admin_pages_pass_axe_and_fit_320px(page, app, make_user, make_cohort,
                                                      make_centre):
    admin = make_user("admin", email="ada.admin@example.org")
    iqa = make_user("iqa", email="ivy.iqa@example.org")
    learner = make_user("learner", name="Sam Learner")
    centre = make_centre("West College", coordinators=[admin])
    admin.roles.append(UserRole(role="coordinator"))  # portfolios open to centre coordinators
    db.session.commit()
    cohort = make_cohort("Monday group", learners=[learner], assessors=[make_user("assessor")],
                         iqas=[iqa], centre=centre)
    pages = ["/cohorts/", f"/cohorts/{cohort.id}", f"/cohorts/{cohort.id}/deadlines",
             f"/cohorts/{cohort.id}/edit", "/cohorts/new", f"/cohorts/{cohort.id}/archive",
             f"/cohorts/{cohort.id}/learners/{learner.id}/remove", "/admin/", "/admin/people",
             "/admin/people/new", "/admin/centres",
             f"/admin/people/{learner.id}", "/admin/enrol", "/admin/audit", "/iqa/report",
             "/iqa/plans", "/staff/criteria", "/staff/learners", "/notifications/",
             "/reports/matrix", "/reports/", "/reports/charts", f"/staff/learners/{learner.id}",
             f"/reports/learners/{learner.id}/portfolio", f"/admin/people/{learner.id}/erase",
             "/account/data"]
    _login(page, admin.email)
    for path in pages:
        page.set_viewport_size({"width": 1100, "height": 900})
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        _axe_clean(page)
        page.set_viewport_size({"width": 320, "height": 640})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide at a 320px viewport"
    page.get_by_role("button", name=re.compile("Log out")).click()
    _login(page, iqa.email)
    for path in ["/iqa/", "/iqa/decisions"]:
        page.goto(path)
        _axe_clean(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_save_and_preview_keeps_the_answer_in_the_box(browser, base_url, app, learner,
                                                      javascript):
    """A learner's text is never emptied by previewing it (with or without JavaScript)."""
    task = app.extensions["catalog"].tasks[0]
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        _login(page, learner.email)
        page.goto(f"/tasks/{task.slug}")
        text = "Working together, agencies see the whole picture of a child's life."
        page.get_by_label("Your answer").fill(text)
        page.get_by_role("button", name="Save and preview").click()
        expect(page.get_by_role("heading", name="Preview")).to_be_visible()
        expect(page.get_by_label("Your answer")).to_have_value(text)
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_label("Your answer")).to_have_value(text)
    finally:
        context.close()


def test_written_task_autosave_says_when_it_is_refused(page, app, learner):
    """Over the limit the script does not send, and says why; a refusal that is not JSON
    (a 413 from a proxy) is shown as such, not as "check your connection"."""
    task = app.extensions["catalog"].tasks[0]
    _login(page, learner.email)
    page.goto(f"/tasks/{task.slug}")
    status = page.locator(".autosave-status")
    box = page.get_by_label("Your answer")
    box.fill("a" * 60_001)
    expect(status).to_have_text(re.compile(r"^Not saved: your answer is 60,001 characters "
                                           r"long\. An answer can be at most 60,000"),
                                timeout=8000)
    expect(status).to_have_class(re.compile("autosave-refused"))
    page.route("**/autosave", lambda route: route.fulfill(
        status=413, content_type="text/html", body="<h1>Request Entity Too Large</h1>"))
    box.fill("A short answer.")
    expect(status).to_have_text(re.compile("^Not saved: your answer is too long to send"),
                                timeout=8000)
    page.unroute("**/autosave")
    box.fill("A short answer, saved.")
    expect(status).to_have_text(re.compile("^Draft saved"), timeout=8000)
    expect(status).not_to_have_class(re.compile("autosave-refused"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_login_turned_away_as_busy(browser, base_url, app, learner, monkeypatch, javascript):
    """When every password check is taken, the page tries again by itself (with JavaScript)
    or asks for the password again (without); either way the learner gets in afterwards."""
    from learning.people import password_checks

    monkeypatch.setitem(app.config, "PASSWORD_CHECKS_AT_ONCE", 1)
    monkeypatch.setattr(password_checks, "LOGIN_WAIT", 0)
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        with password_checks.turn():  # a storm of logins holds the only turn
            _login(page, learner.email, arrive=False)
            if javascript:
                expect(page.get_by_role("status")).to_contain_text("Trying again in")
                _axe_clean(page)
            else:  # the server's page (axe needs JavaScript: its wording is checked here)
                summary = page.get_by_role("alert")
                expect(summary).to_contain_text("Many people are logging in")
                expect(page.get_by_label("Email address")).to_have_value(learner.email)
        if not javascript:
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ada Okafor",
                                                                   timeout=10_000)
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_large_import_shows_its_progress_then_its_outcome(browser, base_url, app, make_user,
                                                            make_cohort, make_centre,
                                                            monkeypatch, javascript):
    """The progress page is accessible, fits 320px and updates itself (with JavaScript) or
    with its "Check progress now" link (without), ending with the links."""
    from learning.core.worker import run_pending

    monkeypatch.setitem(app.config, "CSV_IMPORT_INLINE_ROWS", 2)
    coordinator = make_user("coordinator", email="cora@example.org")
    make_cohort("North 2026", centre=make_centre("North", coordinators=[coordinator]))
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        _login(page, coordinator.email)
        page.goto("/admin/enrol")
        page.get_by_label("CSV file").set_input_files(files=[{
            "name": "learners.csv", "mimeType": "text/csv",
            "buffer": ("name,email,cohort\n" + "".join(
                f"Learner {n},learner{n}@example.org,North 2026\n" for n in range(3))).encode()}])
        page.get_by_role("button", name="Check the file").click()
        page.get_by_role("button", name="Enrol 3 learners").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Importing learners")
        expect(page.get_by_role("status")).to_contain_text("Waiting to start: 3 learners")
        if javascript:  # axe and measuring run scripts in the page
            _axe_clean(page)
            page.set_viewport_size({"width": 320, "height": 640})
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
        db.session.commit()
        run_pending(app)
        if not javascript:
            page.get_by_role("link", name="Check progress now").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Learners enrolled",
                                                                  timeout=10_000)
        expect(page.get_by_role("status")).to_contain_text("Everyone in learners.csv is "
                                                           "enrolled: 3 new accounts")
        expect(page.locator("code.link-text")).to_have_count(3)
        if javascript:
            _axe_clean(page)
    finally:
        context.close()


def test_charts_stay_legible_at_320px(page, app, make_user, make_cohort):
    """At 320 px a chart keeps labels of 12 px or more and scrolls in its own region; the
    page itself never scrolls sideways."""
    from learning.course import progress

    learners = [make_user("learner") for _ in range(3)]
    long_name = "Level 3 Early Years Educator, Tuesday evening group (2026 to 2027)"
    make_cohort("Monday group", learners=learners)
    make_cohort(long_name, learners=[make_user("learner")])
    progress.mark_complete(learners[0], app.extensions["catalog"].modules[0])
    db.session.commit()
    _login(page, make_user("admin", email="ada.admin@example.org").email)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/reports/charts")
    charts = page.locator("svg.chart")
    assert charts.count() >= 1
    for i in range(charts.count()):
        scale = charts.nth(i).evaluate(
            "svg => svg.getBoundingClientRect().width / svg.viewBox.baseVal.width")
        assert 13 * scale >= 12, f"chart {i} labels are {13 * scale:.1f} px"
    # The key names each line in full, wrapping within the screen at a readable size.
    entry = page.locator(".chart-legend li", has_text=long_name)
    expect(entry).to_be_visible()
    box = entry.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert box["height"] > 30  # it wrapped onto more lines rather than being cut
    assert entry.evaluate("li => parseFloat(getComputedStyle(li).fontSize)") >= 12
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    _axe_clean(page)
