"""The writing-process report where people read it: the assessor's marking page, the IQA's
review, the learner's own pages; and the writing page says what it records beforehand."""

import json
from html import unescape

import pytest
from sqlalchemy import select

from learning.assessment import submissions, writing_activity
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa.models import IqaSample
from tests.conftest import csrf_from, post_form
from tests.test_privacy_export import story  # noqa: F401  (a fixture)

#: Made up: what the learner pastes (from their notes, say) and what they type around it.
PASTED = ("Each agency holds one piece of the picture, and only by sharing what they know can "
          "they see the whole of a child's life.")
TYPED = "In my setting the key person raised the concern first."


@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


@pytest.fixture
def people(make_user, make_cohort):
    learner = make_user("learner", name="Lena Learner")
    assessor = make_user("assessor", name="Abe Assessor")
    make_cohort("Group", learners=[learner], assessors=[assessor])
    return {"learner": learner, "assessor": assessor}


def _autosave(client, task, text, activity=None):
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    based = db.session.scalar(select(submissions.DraftVersion.number)
                              .order_by(submissions.DraftVersion.number.desc()).limit(1))
    data = {"csrf_token": csrf_from(page), "text": text, "based_on": based or ""}
    if activity:
        data["activity"] = json.dumps(activity)
    assert client.post(f"/tasks/{task.slug}/autosave", data=data).status_code == 200


def _write_and_submit(client, auth, people, task, paste=True):
    auth.login(people["learner"])
    _autosave(client, task, TYPED, {"v": 1, "typed": len(TYPED), "active": 90, "pastes": []})
    pastes = [{"chars": len(PASTED), "ago": 1000, "text": PASTED, "own": False}] if paste else []
    _autosave(client, task, TYPED + "\n\n" + PASTED,
              {"v": 1, "typed": 0, "active": 5, "pastes": pastes})
    post_form(client, f"/tasks/{task.slug}/submit",
              data={"declaration": "y", "confirm_short": "y",
                    "sources": "I pasted my own notes from a document."})
    auth.logout()
    return submissions.get_submission(people["learner"], task)


def _share_fact() -> str:
    share = round(len(PASTED.split()) / (len(TYPED.split()) + len(PASTED.split())) * 100)
    return f"{share} % of the final text arrived in 1 paste, less than a minute before submitting."


def test_the_writing_page_says_what_it_records_before_the_learner_starts(client, auth, people,
                                                                         task):
    auth.login(people["learner"])
    page = unescape(client.get(f"/tasks/{task.slug}").get_data(as_text=True))
    notice = page.index("What this page records as you write.")
    assert notice < page.index('name="text"')
    assert "you see the same report of how your answer was written as your assessor does" in page
    assert "Not recorded: single keystrokes" in page
    submit = unescape(client.get(f"/tasks/{task.slug}/submit").get_data(as_text=True))
    assert "Sources you used, or how you wrote it (optional)" in submit


def test_the_assessor_sees_the_report_beside_the_originality_result(client, auth, people, task):
    sub = _write_and_submit(client, auth, people, task)
    auth.login(people["assessor"])
    page = unescape(client.get(f"/marking/{sub.id}").get_data(as_text=True))
    report = page[page.index('id="wp-heading"'):page.index('id="answer-plain"')]
    assert "How this answer was written" in report
    assert _share_fact() in report
    assert "Text was pasted in 1 time" in report
    assert "<svg" in report and "<title id=\"wp-chart-title\">" in report
    assert "The answer's length at each save</caption>" in report
    assert "The largest pastes</caption>" in report and "100% of it, in paragraph 2" \
        in report
    # Facts, not accusations.
    assert not {"AI", "cheating", "cheat"} & set(report.replace(".", " ").split())
    assert "The learner's note on sources and how they wrote it" in page
    assert "I pasted my own notes from a document." in page


def test_the_learner_sees_the_same_report(client, auth, people, task):
    _write_and_submit(client, auth, people, task)
    auth.login(people["learner"])
    locked = unescape(client.get(f"/tasks/{task.slug}").get_data(as_text=True))
    assert "How your answer was written" in locked and _share_fact() in locked
    feedback = unescape(client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True))
    assert "How your answer was written (submission 1)" in feedback
    assert _share_fact() in feedback


def test_a_typed_answer_reads_differently(client, auth, people, task):
    sub = _write_and_submit(client, auth, people, task, paste=False)
    auth.login(people["assessor"])
    page = unescape(client.get(f"/marking/{sub.id}").get_data(as_text=True))
    assert "No text was pasted into the answer from elsewhere." in page
    assert "arrived in" not in page and "The largest pastes" not in page


def test_without_the_script_the_report_says_so(client, auth, people, task):
    auth.login(people["learner"])
    post_form(client, f"/tasks/{task.slug}", data={"text": TYPED, "based_on": "", "save": "1"})
    post_form(client, f"/tasks/{task.slug}/submit", data={"declaration": "y", "confirm_short": "y"})
    page = unescape(client.get(f"/tasks/{task.slug}").get_data(as_text=True))
    assert "The writing page sent no details of typing or pasting" in page


def test_the_iqa_sees_it_in_the_sample(client, auth, story):  # noqa: F811
    sample = db.session.scalar(select(IqaSample))
    auth.login(story["iqa"])
    page = unescape(client.get(f"/iqa/samples/{sample.id}").get_data(as_text=True))
    assert "How this answer was written" in page
    assert "Text was pasted in 1 time" in page


def test_the_marking_page_runs_the_same_statements_however_long_the_history(
        app, client, auth, people, task, make_user, make_cohort, count_queries):
    short = _write_and_submit(client, auth, people, task)
    busy = make_user("learner", name="Bo Busy")
    make_cohort("Busy group", learners=[busy], assessors=[people["assessor"]])
    long = submissions.get_or_create(busy, task)
    for n in range(12):
        version = submissions.save_draft(long, f"{TYPED} {PASTED} part {n}", None, utcnow(),
                                         kind="save").version
        writing_activity.record(long, version.number, writing_activity.parse(json.dumps(
            {"v": 1, "typed": 5, "active": 9, "pastes": [
                {"chars": len(PASTED), "ago": 0, "text": PASTED, "own": False}] * 3})), utcnow())
    submissions.submit(long, task, busy, True, "", utcnow())
    auth.login(people["assessor"])

    def count(sub) -> int:
        with app.app_context(), count_queries() as q:
            page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
        assert "How this answer was written" in page
        return q.count

    assert count(long) == count(short)
