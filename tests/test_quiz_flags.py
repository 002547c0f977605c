"""Flagging a question for review (Moodle's flag): stored with the answer, shown in the
navigator and on the summary page, only by the attempt's owner and only while it is open."""

import io
import json
import zipfile

import pytest
from sqlalchemy import select

from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.quizzes.models import QuizAnswer
from tests import test_quiz_taking as taking
from tests.conftest import csrf_from
from tests.test_quiz_taking import _answer, _start, _submit

learner = taking.learner  # the fixtures of the quiz-taking tests, used here by name
use_quiz = taking.use_quiz


def _flags(attempt_id):
    db.session.expire_all()
    return {a.question_id: a.flagged_at is not None for a in db.session.scalars(
        select(QuizAnswer).where(QuizAnswer.attempt_id == attempt_id))}


def test_flagging_saves_the_typed_answers_and_shows_the_flag_everywhere(client, learner,
                                                                        use_quiz):
    use_quiz(layout="one_per_page")
    attempt_id = _start(client)
    # The flag button is one of the form's buttons: the answer on the page is saved with it.
    response = _answer(client, attempt_id, action="flag:partners", page=1, partners="wrong")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}?page=1#q-partners")
    assert _flags(attempt_id) == {"partners": True}
    row = db.session.scalar(select(QuizAnswer).where(QuizAnswer.attempt_id == attempt_id))
    assert row.answer == "wrong"
    page = client.get(f"/attempts/{attempt_id}?page=1").get_data(as_text=True)
    assert "Question 1 is flagged for review. Your answers are saved." in page
    assert "Flagged for review</span>" in page.split("</legend>")[0]
    assert ">Remove the flag from question 1</button>" in page
    nav = page.split('aria-label="Questions"')[1]
    assert ('>1<span aria-hidden="true">✓⚑</span><span class="visually-hidden">, answered, '
            'flagged for review</span>') in nav
    assert ('>2<span aria-hidden="true"></span><span class="visually-hidden">, not '
            'answered</span>') in nav
    summary = client.get(f"/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "You flagged 1 question for review:" in summary
    assert f'href="/attempts/{attempt_id}?page=1#q-partners">Question 1</a></li>' in summary
    assert summary.count("Flagged for review</span>") == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "quiz.flag"))
    assert event.detail == {"quiz": "web-check", "question": "partners", "flagged": True}


def test_a_question_not_answered_can_be_flagged_and_the_flag_taken_off(client, learner,
                                                                       use_quiz):
    use_quiz()
    attempt_id = _start(client)
    _answer(client, attempt_id, action="flag:nspcc")
    assert _flags(attempt_id) == {"nspcc": True}
    summary = client.get(f"/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert "You have not answered 2 of 2 questions." in summary  # a flag is not an answer
    _answer(client, attempt_id, action="unflag:nspcc")  # the button now: "Remove the flag"
    assert _flags(attempt_id) == {"nspcc": False}
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Question 2 is no longer flagged." in page
    assert ">Flag question 2 for review</button>" in page
    assert "You flagged" not in client.get(f"/attempts/{attempt_id}/summary").get_data(
        as_text=True)


def test_enter_in_a_field_saves_rather_than_flagging(client, learner, use_quiz):
    """The form's first submit button is the one Enter presses: it must be Save."""
    use_quiz()
    attempt_id = _start(client)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    form = page.split('class="quiz-form"')[1]
    first = form.split("<button")[1]
    assert 'name="action" value="save"' in first


def test_only_a_question_on_the_page_is_flagged(client, learner, use_quiz):
    use_quiz(layout="one_per_page")
    attempt_id = _start(client)
    _answer(client, attempt_id, action="flag:nspcc", page=1)  # nspcc is on page 2
    _answer(client, attempt_id, action="flag:no-such-question", page=1)
    assert not any(_flags(attempt_id).values())


def test_another_learner_cannot_flag_my_question(client, auth, learner, use_quiz, make_user):
    use_quiz()
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    auth.logout()
    auth.login(make_user("learner"))
    token = csrf_from(client.get("/dashboard").get_data(as_text=True))
    response = client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": token, "page": 1, "action": "flag:partners", "q-partners": "wrong"})
    assert response.status_code == 403
    assert _flags(attempt_id) == {}
    assert html  # the owner's page had the flag button
    assert ">Flag question 1 for review</button>" in html


def test_flagging_needs_the_csrf_token(client, learner, use_quiz):
    use_quiz()
    attempt_id = _start(client)
    response = client.post(f"/attempts/{attempt_id}", data={"page": 1, "action": "flag:nspcc"})
    assert response.status_code == 400
    assert _flags(attempt_id) == {}


def test_a_submitted_attempt_cannot_be_flagged(client, learner, use_quiz):
    use_quiz()
    attempt_id = _start(client)
    html = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    _submit(client, attempt_id)
    response = client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": csrf_from(html), "page": 1, "action": "flag:nspcc"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/review")
    assert not any(_flags(attempt_id).values())


@pytest.mark.parametrize("layout", ["one_per_page", "all_on_one_page"])
def test_the_review_after_submit_shows_no_flag_buttons(client, learner, use_quiz, layout):
    use_quiz(layout=layout)
    attempt_id = _start(client)
    _answer(client, attempt_id, action="flag:partners", partners="right")
    review = client.get(_submit(client, attempt_id).headers["Location"]).get_data(as_text=True)
    assert "Flag question" not in review and "Remove the flag" not in review


def test_a_flag_is_in_the_learners_data_export(client, learner, use_quiz):
    use_quiz()
    attempt_id = _start(client)
    _answer(client, attempt_id, action="flag:nspcc", partners="right")
    data = json.loads(zipfile.ZipFile(io.BytesIO(client.get("/account/data.zip").data))
                      .read("data.json"))
    [quiz] = data["quiz_attempts"]
    by_question = {a["question"]: a for a in quiz["answers"]}
    assert "flagged_for_review_at" in by_question[
        "The NSPCC can remove a child from home by itself."]
    assert "flagged_for_review_at" not in by_question["Who are the safeguarding partners?"]


def test_all_on_one_page_has_a_navigator_within_the_page(client, learner, use_quiz):
    """A timed end-of-unit quiz shows every question on one page: its navigator jumps to each
    question and says which are answered and flagged (there are no pages to go between)."""
    use_quiz()  # all_on_one_page
    attempt_id = _start(client)
    _answer(client, attempt_id, action="flag:nspcc", partners="wrong")
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    nav = page.split('<nav aria-label="Questions" class="question-nav question-nav-in-page">')[1]
    nav = nav.split("</nav>")[0]
    assert ('<a href="#q-partners" data-question="q-partners" class="nav-answered">1'
            '<span aria-hidden="true" class="nav-marks">✓</span><span class="visually-hidden '
            'nav-words">, answered</span></a>') in nav
    assert ('href="#q-nspcc" data-question="q-nspcc" class="nav-unanswered nav-flagged">2'
            '<span aria-hidden="true" class="nav-marks">⚑</span><span class="visually-hidden '
            'nav-words">, not answered, flagged for review</span>') in nav
    # Every link lands on its question on the same page.
    for target in ("q-partners", "q-nspcc"):
        assert f'id="{target}"' in page


def test_one_per_page_keeps_its_page_navigator_only(client, learner, use_quiz):
    use_quiz(layout="one_per_page")
    attempt_id = _start(client)
    page = client.get(f"/attempts/{attempt_id}?page=1").get_data(as_text=True)
    assert "question-nav-in-page" not in page and 'aria-label="Questions"' in page


def test_pressing_flag_twice_leaves_it_flagged(client, learner, use_quiz):
    """A double click, or a second tab still showing "Flag question 2", must not undo the
    flag: each button says what it wants (it was a toggle, and the second press unflagged)."""
    use_quiz()
    attempt_id = _start(client)
    _answer(client, attempt_id, action="flag:nspcc")
    _answer(client, attempt_id, action="flag:nspcc")
    assert _flags(attempt_id) == {"nspcc": True}
    _answer(client, attempt_id, action="unflag:nspcc")
    _answer(client, attempt_id, action="unflag:nspcc")
    assert _flags(attempt_id) == {"nspcc": False}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "quiz.flag"))
    assert [e.detail["flagged"] for e in events] == [True, False]
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert 'value="flag:nspcc"' in page and "unflag:" not in page
