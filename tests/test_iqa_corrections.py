"""An IQA corrects a saved review until the assessor acts on it; the review page's originality."""
# ruff: noqa: F811 (the fixtures of tests/test_iqa.py are imported by name)

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from learning.assessment.models import Submission
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.iqa import reviews
from learning.iqa.models import IqaReview
from learning.people.models import Notification
from tests.conftest import post_form
from tests.test_iqa import _decide, _plan, _release, _sample_of, task, team  # noqa: F401


@pytest.fixture
def reviewed(team, task):
    """An achieved decision in the sample, which the IQA has agreed with."""
    _plan(team["assessor"], team["iqa"], rate=100)
    decision = _release(team["learners"][0], task, team["assessor"], met=True)
    sample = _sample_of(decision)
    review = reviews.record_review(sample, team["iqa"], "agree", "Sound.", "", task.title,
                                   utcnow())
    return {"sample": sample, "review": review, "decision": decision}


def _notes(user):
    return [n.message for n in db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == "iqa-action")
        .order_by(Notification.id))]  # PostgreSQL returns rows in no set order without it


def test_the_iqa_corrects_agree_to_disagree_and_back(client, auth, team, task, reviewed):
    auth.login(team["iqa"])
    sample, review = reviewed["sample"], reviewed["review"]
    page = client.get(f"/iqa/samples/{sample.id}").get_data(as_text=True)
    assert f'href="/iqa/reviews/{review.id}/correct">Correct this review' in page
    form = client.get(f"/iqa/reviews/{review.id}/correct").get_data(as_text=True)
    assert 'value="agree" checked' in form and "Sound.</textarea>" in form
    post_form(client, f"/iqa/reviews/{review.id}/correct", data={
        "verdict": "disagree", "comments": "I misread Part B.",
        "action": "Reassess against Part B."})
    db.session.expire_all()
    review = db.session.get(IqaReview, review.id)
    assert (review.verdict, review.comments, review.action) == (
        "disagree", "I misread Part B.", "Reassess against Part B.")
    assert db.session.scalar(select(func.count(IqaReview.id))) == 1  # corrected, not added
    sub = db.session.scalar(select(Submission))
    assert sub.reassess is True
    learner = team["learners"][0]
    assert _notes(team["assessor"]) == [
        f"IQA action on {learner.name}'s answer to '{task.title}': {team['iqa'].name} "
        "disagreed with your decision. Make a new decision."]
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "iqa.review_correct"))
    assert event.actor_id == team["iqa"].id
    assert event.detail["previous"] == {"verdict": "agree", "comments": "Sound.", "action": ""}

    post_form(client, f"/iqa/reviews/{review.id}/correct", data={
        "verdict": "agree", "comments": "Sound after all.", "action": ""})
    db.session.expire_all()
    assert db.session.scalar(select(Submission)).reassess is False
    assert _notes(team["assessor"])[-1] == (
        f"IQA action on {learner.name}'s answer to '{task.title}' withdrawn: "
        f"{team['iqa'].name} now agrees with your decision.")


def test_only_the_iqa_who_wrote_it_corrects_a_review(client, auth, team, reviewed,
                                                     make_user, make_cohort):
    colleague = make_user("iqa")
    make_cohort("Shared", learners=[team["learners"][0]], iqas=[colleague])
    auth.login(colleague)
    review = reviewed["review"]
    assert client.get(f"/iqa/samples/{reviewed['sample'].id}").status_code == 200
    assert "Correct this review" not in client.get(
        f"/iqa/samples/{reviewed['sample'].id}").get_data(as_text=True)
    assert client.get(f"/iqa/reviews/{review.id}/correct").status_code == 403
    refused = post_form(client, f"/iqa/samples/{reviewed['sample'].id}",
                        f"/iqa/reviews/{review.id}/correct",
                        data={"verdict": "disagree", "action": "Redo."})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(IqaReview, review.id).verdict == "agree"


def test_a_review_cannot_change_once_the_assessor_has_acted(client, auth, team, task):
    _plan(team["assessor"], team["iqa"], rate=100)
    decision = _release(team["learners"][0], task, team["assessor"], met=True)
    sample = _sample_of(decision)
    review = reviews.record_review(sample, team["iqa"], "disagree", "", "Check Part B.",
                                   task.title, utcnow())
    # The IQA opened the correction while it was still allowed ...
    assert reviews.can_correct(team["iqa"], review)
    # ... then the assessor made a new decision, which answers the action.
    work = decision.work
    _decide(work, task, team["assessor"], met=True)
    with pytest.raises(reviews.ReviewError, match="can no longer be corrected"):
        reviews.correct_review(review, team["iqa"], "agree", "", "", task.title, utcnow())
    db.session.expire_all()
    review = db.session.get(IqaReview, review.id)
    assert (review.verdict, review.action) == ("disagree", "Check Part B.")
    auth.login(team["iqa"])
    page = client.get(f"/iqa/samples/{sample.id}").get_data(as_text=True)
    assert "Correct this review" not in page
    gone = client.get(f"/iqa/reviews/{review.id}/correct", follow_redirects=True)
    assert "can no longer be corrected" in gone.get_data(as_text=True)


def test_the_condition_is_in_the_update_itself(team, task):
    """Even a stale check (the action closed after it) cannot change the review."""
    _plan(team["assessor"], team["iqa"], rate=100)
    decision = _release(team["learners"][0], task, team["assessor"], met=True)
    review = reviews.record_review(_sample_of(decision), team["iqa"], "disagree", "",
                                   "Check Part B.", task.title, utcnow())
    db.session.execute(IqaReview.__table__.update().where(IqaReview.id == review.id)
                       .values(action_closed_at=utcnow()))
    db.session.commit()
    review = db.session.get(IqaReview, review.id)  # the object still says open: stale
    with pytest.raises(reviews.ReviewError):
        reviews.correct_review(review, team["iqa"], "agree", "", "", task.title, utcnow())
    db.session.expire_all()
    assert db.session.get(IqaReview, review.id).verdict == "disagree"


def test_the_review_page_shows_the_originality_result(client, auth, team, task, runner):
    from tests.conftest import ESSAYS

    assert runner.invoke(args=["originality", "add-reference", str(ESSAYS)]).exit_code == 0
    essay = sorted(ESSAYS.glob("*.txt"))[0].read_text(encoding="utf-8-sig")
    _plan(team["assessor"], team["iqa"], rate=100)
    decision = _release(team["learners"][0], task, team["assessor"], met=True,
                        text="My own opening. " + " ".join(essay.split()[:120]))
    auth.login(team["iqa"])
    page = unescape(client.get(f"/iqa/samples/{_sample_of(decision).id}")
                    .get_data(as_text=True))
    assert re.search(r"<summary>Originality: \d+% of this answer matches other work "
                     r"\(1 source\)</summary>", page)
    assert "matches the reference essay" in page
