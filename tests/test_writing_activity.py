"""What the writing page's script sends with a save: read strictly, never in the text's way."""

import json

import pytest
from sqlalchemy import select

from learning.assessment import writing_activity
from learning.assessment.models import DraftVersion, WritingActivity
from learning.core.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def task(app):
    return app.extensions["catalog"].tasks[0]


@pytest.fixture
def learner(make_user, make_cohort):
    person = make_user("learner", name="Noor Learner")
    make_cohort("Group", learners=[person])
    return person


def _payload(**over):
    data = {"v": 1, "typed": 120, "active": 300,
            "pastes": [{"chars": 40, "ago": 5000, "text": "A sentence that came from elsewhere.",
                        "own": False}]}
    data.update(over)
    return json.dumps(data)


def test_a_well_formed_field_is_read():
    got = writing_activity.parse(_payload())
    assert got is not None and got.typed == 120 and got.active_seconds == 300
    assert got.pastes[0].chars == 40 and got.pastes[0].ago_ms == 5000 and not got.pastes[0].own


@pytest.mark.parametrize("raw", [
    None, "", "not json", "[]", "1", '"text"', json.dumps({"typed": 1}),  # no version
    _payload(v=2), _payload(typed=-1), _payload(typed=True), _payload(typed="12"),
    _payload(typed=10**9), _payload(active=25 * 3600), _payload(active=1.5),
    _payload(extra=1), _payload(pastes={}), _payload(pastes=[1]),
    _payload(pastes=[{"chars": 5, "ago": 0, "text": "far longer than five", "own": False}]),
    _payload(pastes=[{"chars": 9000, "ago": 0, "text": "x" * 5001, "own": False}]),
    _payload(pastes=[{"chars": 1, "ago": -5, "text": "", "own": False}]),
    _payload(pastes=[{"chars": 1, "ago": 0, "text": "", "own": "yes"}]),
    _payload(pastes=[{"chars": 1, "ago": 0, "text": "", "own": False, "html": "<b>"}]),
    _payload(pastes=[{"chars": 1, "ago": 0, "text": ""}] * 21),
    "[" * 100_000, json.dumps({"v": 1, "pad": "x" * 200_000}),
])
def test_anything_else_is_ignored_whole(raw):
    assert writing_activity.parse(raw) is None


def _post(client, task, url_end="/autosave", **fields):
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "based_on": ""}
    data.update(fields)
    return client.post(f"/tasks/{task.slug}{url_end}", data=data)


def _activity():
    return list(db.session.scalars(select(WritingActivity)))


def test_an_autosave_keeps_the_activity_with_its_version(client, auth, learner, task):
    auth.login(learner)
    response = _post(client, task, text="My own words about partnership working.",
                     activity=_payload())
    assert response.status_code == 200
    [row] = _activity()
    assert (row.draft_number, row.typed_chars, row.active_seconds) == (1, 120, 300)
    [paste] = row.pastes
    assert paste["chars"] == 40 and paste["text"] == "A sentence that came from elsewhere."
    # The paste's time is the server's, less how long ago the browser says it happened.
    from datetime import datetime
    assert 4 <= (row.received_at - datetime.fromisoformat(paste["at"])).total_seconds() <= 6


@pytest.mark.parametrize("garbage", ["{broken", _payload(typed=-3), "x" * 200_000])
@pytest.mark.parametrize("url_end", ["/autosave", ""])
def test_garbage_never_stops_the_answer_saving(client, auth, learner, task, garbage, url_end):
    auth.login(learner)
    response = _post(client, task, url_end=url_end, text="The answer itself, safe.",
                     activity=garbage, save="1")
    assert response.status_code in (200, 302)
    assert [v.text for v in db.session.scalars(select(DraftVersion))] == [
        "The answer itself, safe."]
    assert _activity() == []


def test_without_the_script_nothing_is_recorded_but_the_version(client, auth, learner, task):
    auth.login(learner)
    response = _post(client, task, url_end="", text="Typed with JavaScript off.", save="1")
    assert response.status_code == 302
    assert _activity() == []
    assert db.session.scalar(select(DraftVersion.text)) == "Typed with JavaScript off."


def test_a_save_that_is_refused_records_nothing(client, auth, learner, task):
    auth.login(learner)
    _post(client, task, text=" ".join(["word"] * 40))
    # Much shorter: the autosave refuses it, so its activity must wait for a kept save.
    response = _post(client, task, text="short", based_on="1", activity=_payload())
    assert response.status_code == 409
    assert _activity() == []


def test_the_writing_page_has_the_field(client, auth, learner, task):
    auth.login(learner)
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert 'name="activity"' in page
