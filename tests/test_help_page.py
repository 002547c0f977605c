"""The "worried about a child now" page: open to anyone, and one step from every module page
and the dashboard. Uses the fixture course's page in tests/data/content/pages/."""

import re

from learning.content.pages import URGENT_HELP_PATH

URL = URGENT_HELP_PATH  # /help/worried-about-a-child
#: The box every module page and the dashboard show near the top (not the footer's link).
_BOX = re.compile(r'<p class="urgent-help">(.*?)</p>', re.S)


def _box_links(html: str) -> list[str]:
    return [href for box in _BOX.findall(html) for href in re.findall(r'href="([^"]+)"', box)]


def test_the_page_renders_without_logging_in(client):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Worried about a child right now (test page)</h1>" in html
    assert "Ring 999 when a child is in danger this minute." in html
    assert '<time datetime="2026-12-01">' in html
    assert "A short guide to working together (test reference)" in html


def test_an_unknown_page_is_not_found(client):
    assert client.get("/help/no-such-page").status_code == 404


def test_every_module_page_links_to_it(app, client, auth, make_user):
    auth.login(make_user("learner"))
    modules = app.extensions["catalog"].modules
    assert modules
    for module in modules:
        html = client.get(f"/course/{module.slug}").get_data(as_text=True)
        assert URL in _box_links(html), module.slug
        assert "If a child is in immediate danger, call 999." in html


def test_the_dashboard_links_to_it(client, auth, make_user):
    auth.login(make_user("learner"))
    html = client.get("/dashboard").get_data(as_text=True)
    assert URL in _box_links(html)


def test_every_page_footer_links_to_it_even_before_login(client):
    html = client.get("/login").get_data(as_text=True)
    footer = html.split('<footer class="site-footer">', 1)[1]
    assert f'href="{URL}"' in footer
