"""In a real browser, a coordinator's and an administrator's main journeys end to end: each step
checks what they see, every page passes axe and fits a 320 px screen."""

import csv
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from learning.cohorts import deadlines
from learning.core.extensions import db
from learning.core.types import utcnow
from tests.test_browser import _axe_clean, _login

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 800}


def _checked(page, heading: str) -> None:
    """The page the user is on has this h1, passes axe, and fits 320 px without sideways
    scrolling (then the window is wide again)."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading, timeout=10_000)
    _axe_clean(page)
    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} ({heading}) is {width}px wide at a 320px viewport"
    page.set_viewport_size(WIDE)


def _flash(page, text: str) -> None:
    expect(page.locator("main")).to_contain_text(text)


def _csv(download) -> list[list[str]]:
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def coordinator_world(app, make_user, make_centre, make_cohort):
    coordinator = make_user("coordinator", email="cora@example.org", name="Cora Jones")
    assessor = make_user("assessor", email="sam@example.org", name="Sam Patel")
    priya = make_user("learner", email="priya@example.org", name="Priya Shah")
    centre = make_centre("North College", coordinators=[coordinator, assessor])
    north = make_cohort("North 2026", learners=[priya], centre=centre)
    north.unit_id = "CYP33"
    db.session.commit()
    modules = app.extensions["catalog"].modules
    deadlines.save_deadlines(north, {("module", modules[1].slug): date(2027, 6, 1)},
                             coordinator, utcnow())
    return {"coordinator": coordinator, "modules": modules}


def test_a_coordinator_runs_a_new_cohort_from_start_to_reports(page, coordinator_world):
    page.set_viewport_size(WIDE)
    modules = coordinator_world["modules"]
    first = f"Module 1: {modules[0].title}"
    second = f"Module 2: {modules[1].title}"

    _login(page, "cora@example.org")
    _checked(page, "Hello, Cora Jones")

    # Their cohort, from the menu.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    _checked(page, "Cohorts")
    page.get_by_role("link", name="North 2026").click()
    _checked(page, "North 2026")
    expect(page.get_by_role("link", name="Priya Shah", exact=True)).to_be_visible()

    # A new cohort, in their one centre.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name="Create a cohort").click()
    _checked(page, "Create a cohort")
    page.get_by_label("Cohort name").fill("Tuesday group 2027")
    for group, (day, month, year) in (("Start date", ("1", "September", "2026")),
                                      ("End date", ("31", "7", "2027"))):
        boxes = page.get_by_role("group", name=group)
        boxes.get_by_label("Day").fill(day)
        boxes.get_by_label("Month").fill(month)
        boxes.get_by_label("Year").fill(year)
    page.get_by_label("Qualification unit").select_option("CYP33")
    expect(page.get_by_label("Centre")).to_have_value(re.compile(r"\d+"))
    page.get_by_role("button", name="Create cohort").click()
    _checked(page, "Tuesday group 2027")
    _flash(page, "Cohort Tuesday group 2027 created. Now add its learners and staff.")
    expect(page.get_by_text("No learners are enrolled yet.")).to_be_visible()
    cohort_url = page.url

    # A learner from a CSV file, reached from the cohort page.
    page.get_by_role("link", name="enrol from a CSV file").click()
    _checked(page, "Enrol learners from a CSV file")
    page.get_by_label("CSV file").set_input_files(files=[{
        "name": "tuesday.csv", "mimeType": "text/csv",
        "buffer": b"name,email,cohort\nGrace Hopper,grace@example.org,Tuesday group 2027\n"}])
    page.get_by_role("button", name="Check the file").click()
    _checked(page, "Check the learners before enrolling")
    expect(page.locator("main")).to_contain_text("Grace Hopper")
    page.get_by_role("button", name="Enrol 1 learner").click()
    _checked(page, "Learners enrolled")
    expect(page.get_by_role("status")).to_contain_text(
        "Everyone in tuesday.csv is enrolled: 1 new account")
    shown = page.locator("code.link-text").inner_text()
    expect(page.get_by_text("keep the file safe")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the set-password links (CSV)").click()
    rows = _csv(info.value)
    assert info.value.suggested_filename == "set-password-links.csv"
    assert rows[0] == ["name", "email", "cohort", "set-password link", "works until (UK time)"]
    assert rows[1][:4] == ["Grace Hopper", "grace@example.org", "Tuesday group 2027", shown]
    assert len(rows) == 2

    page.goto(cohort_url)
    _checked(page, "Tuesday group 2027")
    expect(page.get_by_role("link", name="Grace Hopper", exact=True)).to_be_visible()

    # Deadlines: one typed as a person writes a date.
    page.get_by_role("link", name="Set deadlines").first.click()
    _checked(page, "Deadlines for Tuesday group 2027")
    page.get_by_label(first).fill("31 July 2027")
    page.get_by_role("button", name="Save deadlines").click()
    _checked(page, "Tuesday group 2027")
    _flash(page, "Deadlines saved (1 changed).")
    deadlines_table = page.get_by_role("table", name=re.compile("against each deadline"))
    expect(deadlines_table.get_by_role("row", name=re.compile(re.escape(first)))
           ).to_contain_text("31 July 2027")

    # The other cohort's dates, a week later; the date set here stays.
    page.get_by_role("link", name="Set deadlines").first.click()
    page.get_by_text("Copy dates from another cohort, or move them all").click()
    page.get_by_label("Take the dates of").select_option(label="North 2026")
    page.get_by_label("Move every date by this many days").fill("7")
    page.get_by_role("button", name="Fill in the dates").click()
    _checked(page, "Deadlines for Tuesday group 2027")
    expect(page.get_by_role("status")).to_contain_text(
        "Dates filled in from North 2026, moved 7 days later.")
    expect(page.get_by_label(second)).to_have_value("8/6/2027")
    expect(page.get_by_label(first)).to_have_value("31/7/2027")
    page.get_by_role("button", name="Save deadlines").click()
    _checked(page, "Tuesday group 2027")
    _flash(page, "Deadlines saved (1 changed).")
    expect(deadlines_table.get_by_role("row", name=re.compile(re.escape(second)))
           ).to_contain_text("8 June 2027")

    # An assessor from their centre.
    page.get_by_label("Add an assessor").select_option(label="Sam Patel (sam@example.org)")
    page.get_by_role("button", name="Add assessor").click()
    _checked(page, "Tuesday group 2027")
    _flash(page, "Sam Patel now assesses Tuesday group 2027.")
    expect(page.locator("section[aria-labelledby=staff-heading]")).to_contain_text(
        "Sam Patel sam@example.org")

    # Reports: the completion matrix, then the downloads.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    _checked(page, "Completion matrix")
    expect(page.locator("main")).to_contain_text("Grace Hopper")
    expect(page.locator("main")).to_contain_text("Priya Shah")
    page.get_by_role("link", name="Downloads").first.click()
    _checked(page, "Downloads")
    # Each file says in the page what its columns hold.
    page.get_by_text("What the columns mean in the completion matrix file").click()
    expect(page.get_by_role("table", name="Columns of the completion matrix file")
           ).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Completion matrix (CSV)").click()
    matrix = _csv(info.value)
    assert any("Grace Hopper" in row for row in matrix[1:])


@pytest.fixture
def admin_world(make_user, make_centre):
    make_centre("North College")
    return make_user("admin", email="ada@example.org", name="Ada Admin")


def test_an_administrator_adds_a_person_runs_centres_and_reads_the_audit_log(page,
                                                                              admin_world):
    page.set_viewport_size(WIDE)
    _login(page, "ada@example.org")
    _checked(page, "Hello, Ada Admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    _checked(page, "Administration")

    # A person, from the admin pages.
    admin_nav = page.get_by_role("navigation", name="Administration")
    admin_nav.get_by_role("link", name="Add a person").click()
    _checked(page, "Add a person")
    page.get_by_label("Full name").fill("Sam Patel")
    page.get_by_label("Email address").fill("sam.patel@example.org")
    page.get_by_label("Assessor").check()
    page.get_by_label("North College").check()
    page.get_by_role("button", name="Add person").click()
    _checked(page, "Link to set a password for Sam Patel")
    _flash(page, "Sam Patel is added.")
    expect(page.locator("main")).to_contain_text("/set-password/")

    # A centre: added, renamed, archived.
    admin_nav.get_by_role("link", name="Centres").click()
    _checked(page, "Centres")
    page.get_by_label("Centre name").fill("South College")
    page.get_by_role("button", name="Add centre").click()
    _flash(page, "The centre South College is added.")
    expect(page.get_by_role("heading", name="South College", level=3)).to_be_visible()
    page.get_by_label("New name for South College").fill("South Coast College")
    page.get_by_role("button", name="Rename South College").click()
    _flash(page, "South College is now called South Coast College.")
    page.get_by_role("button", name="Archive South Coast College").click()
    _flash(page, "South Coast College is archived: new cohorts cannot be put in it.")
    expect(page.get_by_role("heading", name="South Coast College Archived", level=3)
           ).to_be_visible()
    _checked(page, "Centres")

    # The audit log, about the new person only, and its CSV.
    admin_nav.get_by_role("link", name="Audit log").click()
    _checked(page, "Audit log")
    page.get_by_label("About (email)").fill("sam.patel@example.org")
    page.get_by_role("button", name="Show").click()
    _checked(page, "Audit log")
    log = page.get_by_role("table")
    expect(log).to_contain_text("Ada Admin (administrator) created the account of Sam Patel "
                                "(sam.patel@example.org)")
    expect(log).not_to_contain_text("South")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download these events as a CSV file").click()
    rows = _csv(info.value)
    assert rows[0][:3] == ["when (UK time)", "what happened", "action"]
    assert any("created the account of Sam Patel" in r[1] for r in rows[1:])
    assert all("Sam Patel" in r[5] for r in rows[1:]), rows
    assert not any("South" in ",".join(r) for r in rows)
    # The download is itself in the log.
    page.get_by_role("link", name="Clear").click()
    expect(page.get_by_role("table").get_by_role("row").nth(1)).to_contain_text(
        "Ada Admin (administrator) downloaded the audit log")
