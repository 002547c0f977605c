"""An answer too long to save is told the limit in characters, on the writing page, and keeps
its text; a request over the size limit gets a 413 that says the same, never "out of date"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from learning.assessment.models import DraftVersion
from learning.assessment.submissions import MAX_TEXT
from learning.core.config import MAX_CONTENT_LENGTH
from learning.core.extensions import db
from tests.conftest import csrf_from

LIMIT = "An answer can be at most 60,000 characters (about 10,000 words)"


@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


@pytest.fixture
def learner(client, auth, make_user, make_cohort):
    user = make_user("learner")
    make_cohort(learners=[user])
    auth.login(user)
    return user


def _post(client, task, text, autosave=False, **kwargs):
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    url = f"/tasks/{task.slug}/autosave" if autosave else f"/tasks/{task.slug}"
    return client.post(url, data={"csrf_token": csrf_from(page), "text": text,
                                  "based_on": "", "save": "1"}, **kwargs)


def _saved() -> int:
    return db.session.scalar(select(func.count(DraftVersion.id)))


def test_the_writing_page_states_the_limit_and_never_cuts_a_paste_short(client, learner, task):
    html = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert "at most 60,000 characters (about 10,000 words)." in html
    box = re.search(r"<textarea[^>]*>", html).group(0)
    # A maxlength attribute would make the browser drop the end of a long paste, unsaid.
    assert "maxlength" not in box and f'data-max-chars="{MAX_TEXT}"' in box


def test_an_over_long_answer_is_told_the_limit_and_keeps_its_text(client, learner, task):
    text = "a" * MAX_TEXT + " THE-LAST-WORDS"
    response = _post(client, task, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Your answer is {len(text):,} characters long. {LIMIT}: shorten it" in html
    assert 'href="#text"' in html  # the error summary links to the box
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert box.strip() == text  # what they typed is still in the box
    assert _saved() == 0


def test_line_breaks_count_once_as_the_browser_counts_them(client, learner, task):
    """The browser sends each line break in the box as two characters (CRLF)."""
    paragraphs = ["b" * 59] * 1000  # 59,000 letters and 999 breaks: fits, as the box counts
    response = _post(client, task, "\r\n".join(paragraphs))
    assert response.status_code == 302
    assert _saved() == 1


def test_an_over_long_autosave_is_told_the_limit_not_that_the_page_is_out_of_date(
        client, learner, task):
    response = _post(client, task, "a" * (MAX_TEXT + 1), autosave=True)
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert message.startswith("Not saved. Your answer is 60,001 characters long.")
    assert LIMIT in message and "out of date" not in message
    assert _saved() == 0


def test_an_autosave_with_a_stale_form_is_told_so_in_json(client, learner, task):
    response = client.post(f"/tasks/{task.slug}/autosave",
                           data={"csrf_token": "stale", "text": "Some words."})
    assert response.status_code == 400
    assert "this page is out of date" in response.get_json()["message"]
    assert _saved() == 0


@pytest.mark.parametrize("content_type", [None, "multipart/form-data"])
def test_a_request_over_the_size_limit_gets_a_413_naming_the_answer_limit(
        client, learner, task, content_type):
    """Over MAX_CONTENT_LENGTH the form is never read: the 413 page speaks of the answer."""
    kwargs = {"content_type": content_type} if content_type else {}
    response = _post(client, task, "a" * (MAX_CONTENT_LENGTH + 1), **kwargs)
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Your answer was too long to send. An answer can be at most 60,000 characters" \
        in html
    assert "Go back to the writing page, shorten your answer" in html
    assert "out of date" not in html and "file" not in html
    assert _saved() == 0


@pytest.mark.parametrize("size", [MAX_CONTENT_LENGTH + 1, 600_000])
def test_an_autosave_over_the_size_limit_gets_a_message_the_page_can_show(client, learner, task,
                                                                         size):
    """600,000 characters in one multipart field (as the page's script sends) is over
    Flask's 500 KB limit for a form field: a 413 as well."""
    response = _post(client, task, "a" * size, autosave=True,
                     content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.get_json()["message"].startswith(
        "Not saved. Your answer was too long to send.")
    assert _saved() == 0
