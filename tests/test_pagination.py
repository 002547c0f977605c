"""Lists with pages (core/pagination.py) and the pager every such list renders."""

import re

import pytest
from sqlalchemy import select

from learning.core.extensions import db
from learning.core.pagination import Page, paginate
from learning.people.models import User
from tests.conftest import PASSWORD
from tests.htmlcheck import html_errors, needs_checker


@pytest.fixture
def thirty(make_user):
    users = [make_user("learner", name=f"Learner {n:02d}") for n in range(30)]
    db.session.commit()
    return users


def _ids(page: Page) -> list[int]:
    return [u.id for u in page.rows]


def test_a_page_of_a_select(thirty, count_queries):
    query = select(User).order_by(User.id)
    with count_queries() as q:
        second = paginate(query, 2, per_page=10)
    assert q.count == 3, q.statements  # the page, its users' roles (selectin), a count
    assert (second.number, second.pages, second.total) == (2, 3, 30)
    assert _ids(second) == [u.id for u in thirty[10:20]]
    assert paginate(query, 1).pages == 2  # 25 to a page unless told


@pytest.mark.parametrize("asked, shown", [(0, 1), (-3, 1), (3, 3), (99, 3)])
def test_page_numbers_out_of_range_show_the_first_or_last_page(thirty, asked, shown):
    page = paginate(select(User).order_by(User.id), asked, per_page=10)
    assert page.number == shown and len(page.rows) == 10


def test_an_empty_list_is_one_empty_page(app):
    page = paginate(select(User).where(User.id < 0), 4)
    assert (page.rows, page.number, page.pages, page.total) == ([], 1, 1, 0)


def test_the_pager_numbers_skip_the_middle_of_long_lists(thirty):
    query = select(User).order_by(User.id)
    assert paginate(query, 15, per_page=1).numbers == (1, None, 14, 15, 16, None, 30)
    assert paginate(query, 1, per_page=1).numbers == (1, 2, None, 30)
    assert paginate(query, 2, per_page=10).numbers == (1, 2, 3)


def test_with_rows_keeps_the_place():
    page = Page([1, 2], 2, 3, 27, (1, 2, 3))
    assert page.with_rows(["a", "b"]) == Page(["a", "b"], 2, 3, 27, (1, 2, 3))


def test_people_pager_marks_the_current_page_and_keeps_the_filters(client, auth, make_user,
                                                                   thirty):
    auth.login(make_user("admin"))
    html = client.get("/admin/people?role=learner&page=2").get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Pages of people" class="pager">.*?</nav>', html, re.S)
    assert nav is not None
    current = re.findall(r'<a [^>]*aria-current="page"[^>]*>(\d+)</a>', nav.group(0))
    assert current == ["2"]
    assert 'href="/admin/people?page=1&amp;role=learner"' in nav.group(0)
    assert "Next page" not in nav.group(0) and "Previous page" in nav.group(0)


@needs_checker
def test_pagers_are_valid_html(client, auth, make_user, thirty, tmp_path):
    auth.login(make_user("admin"))
    for n in (1, 2):
        (tmp_path / f"people-{n}.html").write_text(
            client.get(f"/admin/people?page={n}").get_data(as_text=True))
    errors = html_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)


@pytest.mark.browser
def test_a_paged_list_passes_axe_and_fits_320px(page, make_user, thirty):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    admin = make_user("admin")
    db.session.commit()
    page.goto("/login")
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Logged in before going on: a goto straight after the click can cancel the login's POST.
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/admin/people?page=2")
    pager = page.get_by_role("navigation", name="Pages of people")
    assert pager.get_by_role("link", name="Page 2").get_attribute("aria-current") == "page"
    result = axe.Axe().run(page)
    assert result.violations_count == 0, result.generate_report()
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
