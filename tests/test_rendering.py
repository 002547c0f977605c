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
    sanitiser_losses,
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


# ---- Moodle's text formats (quiz questions imported from GIFT keep theirs) ----

HOSTILE = ('<p onclick="x()">Hi <script>alert(1)</script><img src=x onerror=alert(2)>'
           '<a href="javascript:alert(3)">a</a> <a href="https://gov.uk" onmouseover=y>b</a>'
           '<iframe src="https://evil.example"></iframe><b style="color:red">c</b></p>')


@pytest.mark.parametrize("fmt", ["html", "moodle"])
def test_html_formats_are_sanitised_with_the_same_allow_list(fmt):
    for html in (str(render_text(HOSTILE, fmt)), str(render_inline(HOSTILE, fmt))):
        for bad in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "<img",
                    "<iframe", "style="):
            assert bad not in html, (bad, html)
        assert '<a href="https://gov.uk">b</a>' in html and "<b>c</b>" in html


def test_html_is_shown_as_html_and_moodle_keeps_its_line_breaks():
    text = "<p>Who is the <b>DSL</b>?</p>\nSee *notes*"
    assert str(render_text(text, "html")) == "<p>Who is the <b>DSL</b>?</p>\nSee *notes*"
    assert str(render_text(text, "moodle")) == (
        '<div class="text_to_html"><p>Who is the <b>DSL</b>?</p><br>\nSee *notes*</div>')
    # Markdown is not applied to either, as Moodle applies none.
    assert "<em>" not in str(render_text(text, "html") + render_text(text, "moodle"))


def test_plain_text_is_shown_exactly_as_typed():
    text = '<b>bold?</b> *no* & "quotes"\n# not a heading'
    assert str(render_text(text, "plain")) == (
        "<p>&lt;b&gt;bold?&lt;/b&gt; *no* &amp; &#34;quotes&#34;<br>\n# not a heading</p>")
    assert str(render_inline("<i>x</i>\ny", "plain")) == "&lt;i&gt;x&lt;/i&gt;<br>\ny"


def test_a_missing_format_is_markdown():
    """Views stored before formats existed have none: they render as before."""
    assert render_text("*a*", None) == render_text("*a*") == render_text("*a*", "markdown")
    assert str(render_inline("*a*", None)) == "<em>a</em>"


def test_html_labels_keep_only_inline_tags():
    assert str(render_inline("<p>The <i>school</i></p><h2>x</h2>", "html")) == (
        "The <i>school</i>\nx")


def test_what_the_sanitiser_drops_is_named():
    assert sanitiser_losses(HOSTILE) == [
        "a script (onclick=...)", "a <script> block", "an image ('x')",
        "a link to 'javascript:alert(3)'", "a script (onmouseover=...)", "<iframe>",
        "styling (style=...)"]
    assert sanitiser_losses("<p>Fine <b>text</b> <span>here</span></p>") == []
