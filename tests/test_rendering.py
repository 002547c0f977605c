"""Markdown is rendered once, sanitised, and call-outs become labelled asides."""

import re

import pytest

from learning.content.catalog import load_catalog
from learning.core.rendering import (
    ANSWER_TAGS,
    render_answer,
    render_content,
    render_inline,
    render_text,
)


def test_script_and_handlers_never_reach_the_page():
    rendered = render_content(
        "## Title\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        "[click](javascript:alert(3))\n\n<a href=\"/x\" onclick=\"steal()\">x</a>\n"
    )
    html = str(rendered.html)
    assert "<script" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "<img" not in html


def test_phone_links_are_kept_so_a_helpline_is_one_tap_away():
    html = str(render_content("Call [0808 800 5000](tel:08088005000).").html)
    assert '<a href="tel:08088005000">0808 800 5000</a>' in html


def test_user_text_is_sanitised_too():
    html = str(render_text("**bold** <iframe src=evil></iframe> <b onmouseover=x>hi</b>"))
    assert "<strong>bold</strong>" in html
    assert "<iframe" not in html and "onmouseover" not in html


def test_callouts_become_notes():
    html = str(render_content('## A\n\n!!! key-point "Key point"\n    Share early.\n').html)
    assert '<div class="callout callout-key-point" role="note">' in html
    assert '<p class="callout-title">Key point</p>' in html
    assert "Share early." in html


def test_tables_toc_and_definition_lists():
    rendered = render_content(
        "## First\n\n### Sub\n\n## Second\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n"
        "LADO\n:   Local authority designated officer\n"
    )
    assert [(e.level, e.title) for e in rendered.toc] == [(2, "First"), (2, "Second")]
    assert rendered.toc[0].children[0].title == "Sub"
    html = str(rendered.html)
    assert "<table>" in html and "<dt>LADO</dt>" in html
    assert 'id="first"' in html


def test_malicious_content_file_is_sanitised_end_to_end(tmp_path):
    (tmp_path / "units.yaml").write_text(
        "units:\n  - id: U\n    code: U1\n    title: T\n    reference: R\n    qualification: Q\n"
        "    criteria:\n      - {id: U-1, number: '1', text: Do it}\n")
    (tmp_path / "m.md").write_text(
        "---\nslug: m\ntitle: M\norder: 1\nteaches: [U-1]\nminutes: 5\noutcomes: [x]\n"
        "last_reviewed: 2026-11-01\nreferences: []\n---\n## Hi\n\n[x](javascript:alert(1))\n\n"
        "[Worried now?](/help/worried-about-a-child)\n")
    catalog = load_catalog(tmp_path)
    assert "javascript:" not in str(catalog.modules[0].rendered.html)


def test_module_html_is_rendered_once_per_load(app, client, auth, make_user, monkeypatch):
    """A page view uses the HTML made at load time: Markdown is never called per request."""
    import markdown

    def boom(*args, **kwargs):
        raise AssertionError("Markdown parsed during a request")

    monkeypatch.setattr(markdown.Markdown, "convert", boom)
    auth.login(make_user("learner"))
    slug = app.extensions["catalog"].modules[0].slug
    assert client.get(f"/course/{slug}").status_code == 200


# ---- what people write: answers, feedback, comments ----

ADVERSARIAL = {
    "brackets": "[" * 5000, "link openers": "[a](" * 2000, "stars": "*a" * 3000,
    "underscores": "_a" * 3000, "quotes": ">" * 5000, "angles": "<" * 5000,
    "bangs": "![" * 3000, "mixed": "*[_`<#&" * 800, "strong runs": "**" * 3000,
}


def test_an_answer_keeps_paragraphs_lists_and_emphasis():
    html = str(render_answer("First **point**, then *another*.\nSame paragraph.\n\n"
                             "- health visitor\n- police\n\n1. tell the DSL\n2. record it\n\n"
                             "# My heading\nsnake_case_words stay as they are"))
    assert html == (
        "<p>First <strong>point</strong>, then <em>another</em>.<br>Same paragraph.</p>\n"
        "<ul><li>health visitor</li><li>police</li></ul>\n"
        "<ol><li>tell the DSL</li><li>record it</li></ol>\n"
        "<p><strong>My heading</strong><br>snake_case_words stay as they are</p>")


def test_hostile_html_in_an_answer_is_shown_as_text():
    html = str(render_answer('<script>alert(1)</script> <img src=x onerror="alert(2)"> '
                             '[click](javascript:alert(3)) <a href="https://evil">x</a>'))
    assert "<script" not in html and "<img" not in html and "<a" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[click](javascript:alert(3))" in html  # a link is text, never a live link


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_answers_only_ever_produce_the_allowed_tags(name):
    html = str(render_answer(ADVERSARIAL[name]))
    tags = set(re.findall(r"</?([a-z0-9]+)", html))
    assert tags <= ANSWER_TAGS
    assert "=" not in "".join(re.findall(r"<[^>]*>", html))  # no attributes at all


def test_a_heading_in_an_answer_never_becomes_a_page_heading():
    assert "<h" not in str(render_answer("# One\n\n## Two\n\n###### Six"))


@pytest.mark.parametrize("label, html", [
    ("*red*", "<em>red</em>"),  # what GIFT's [html]<i>red</i> becomes
    ("**The LADO**", "<strong>The LADO</strong>"),
    ("See [the guidance](https://www.gov.uk/x)",
     'See <a href="https://www.gov.uk/x">the guidance</a>'),
    ("[bad](javascript:alert(1))", "<a>bad</a>"),
    ("<script>alert(1)</script>Police", "&lt;script&gt;alert(1)&lt;/script&gt;Police"),
    ("1. Listen", "1. Listen"),  # a list in a <label> is not allowed: shown as typed
    ("Children's services & police", "Children's services &amp; police"),
])
def test_labels_render_inline_markdown_only(label, html):
    assert str(render_inline(label)) == html
