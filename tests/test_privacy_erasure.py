"""Erasure on request: admins only, after typing the email; the learner's name, email and
writing go from every table, their decisions stay anonymised, their fingerprints go."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import JSON, String, func, select

from learning.assessment import submissions
from learning.assessment.models import CriterionDecision, Decision, Submission, SubmittedWork
from learning.assessment.originality import index as originality
from learning.assessment.originality.models import Fingerprint, TextSource
from learning.core import audit
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.core.types import utcnow
from learning.iqa.models import IqaReview
from learning.people.models import LoginSession, Role, User
from learning.people.notifications import notify
from learning.privacy import erasure
from tests.conftest import post_form
from tests.test_privacy_export import (  # noqa: F401  (story is a fixture)
    EMAIL,
    FIRST,
    NAME,
    REF,
    RESUBMITTED,
    SECOND,
    SHORT_ANSWER,
    SOURCES,
    story,
)

#: What must be nowhere in the database once the learner is erased.
NEEDLES = ["Ottoline", "Vantongeren", EMAIL, REF, "Zanzibarquokka", "Xylophonemarmot",
           "Quokkabook", "Marmaladeotter"]


def _url(p) -> str:
    return f"/admin/people/{p['learner'].id}/erase"


def _erase(client, p, typed: str | None = EMAIL):
    data = {"confirm": typed} if typed is not None else {}
    return post_form(client, _url(p), data=data)


def _erased(p) -> bool:
    db.session.expire_all()
    return db.session.get(User, p["learner"].id).erased_at is not None


def _every_text_value():
    """(table.column, text) for every string or JSON value in every table."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | JSON):
                continue
            for value in db.session.execute(select(column).where(column.is_not(None))).scalars():
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                yield f"{table.name}.{column.name}", text


# ---- the guards ----

@pytest.mark.parametrize("who", ["coordinator", "assessor", "learner"])
def test_only_admins_erase(client, auth, story, who):  # noqa: F811
    """Guard: role_required(Role.ADMIN) on the erase view."""
    target = story["classmate"] if who == "learner" else story["learner"]
    auth.login(story[who])
    url = f"/admin/people/{target.id}/erase"
    assert client.get(url).status_code == 403
    page = client.get("/account/data")  # any page, for a CSRF token
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(url, data={"confirm": target.email,
                                  "csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, target.id).erased_at is None


@pytest.mark.parametrize("typed", [None, "", "someone.else@example.test", NAME])
def test_erasure_needs_the_email_typed_to_confirm(client, auth, story, typed):  # noqa: F811
    """Guard: the confirmation step (erasure.confirms in the view)."""
    auth.login(story["admin"])
    response = _erase(client, story, typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and EMAIL in html
    assert not _erased(story)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erase")) \
        is None


def test_the_confirmation_page_says_what_goes_and_what_stays(client, auth, story):  # noqa: F811
    auth.login(story["admin"])
    person = client.get(f"/admin/people/{story['learner'].id}").get_data(as_text=True)
    assert f'href="{_url(story)}"' in person
    html = client.get(_url(story)).get_data(as_text=True)
    assert ("3 saved versions, the text and sources of 2 submission rounds, and 1 record of "
            "how they wrote (typing, writing time and pasted text)") in html
    assert "2 decisions and 1 IQA reviews stay" in html
    assert f"Type {EMAIL} to confirm" in html
    assert not _erased(story)


@pytest.mark.parametrize("who, why", [
    ("assessor", "holds a staff role"), ("admin", "your own personal data")])
def test_staff_and_yourself_cannot_be_erased(client, auth, story, who, why):  # noqa: F811
    auth.login(story["admin"])
    url = f"/admin/people/{story[who].id}/erase"
    assert why in client.get(url).get_data(as_text=True)
    assert post_form(client, "/account/data", url,
                     data={"confirm": story[who].email}).status_code == 409
    db.session.expire_all()
    assert db.session.get(User, story[who].id).erased_at is None


def test_refusal_rules():
    learner = frozenset({Role.LEARNER})
    assert erasure.refusal(learner, False, False, False) == ""
    assert "already" in erasure.refusal(learner, True, False, False)
    assert "own" in erasure.refusal(learner, False, True, False)
    assert "staff role" in erasure.refusal(frozenset({Role.LEARNER, Role.IQA}), False, False,
                                           False)
    assert "decisions" in erasure.refusal(learner, False, False, True)


# ---- what erasure does ----

def test_after_erasure_the_learner_is_nowhere_in_the_database(app, client, auth, story):  # noqa: F811
    learner_id = story["learner"].id
    # A detail that names her, as a free-text audit detail might.
    audit.record("test.note", actor=story["admin"], note=f"Phoned {NAME} ({EMAIL}).")
    db.session.commit()
    before = {where for where, text in _every_text_value()
              for needle in NEEDLES if needle.lower() in text.lower()}
    assert {"user.name", "user.email", "user.learner_ref", "draft_version.text",
            "draft_version.html", "submitted_work.text", "submitted_work.html",
            "submitted_work.sources", "quiz_answer.answer", "decision.feedback",
            "decision.actions", "criterion_decision.comment", "iqa_review.comments",
            "notification.message", "text_source.text", "audit_event.detail",
            "writing_activity.pastes"} <= before
    learner_client = app.test_client()  # the learner, logged in elsewhere
    from tests.conftest import Auth

    Auth(learner_client).login(story["learner"])
    assert learner_client.get("/dashboard").status_code == 200
    auth.login(story["admin"])
    response = _erase(client, story)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/people/{learner_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"now Erased learner #{learner_id}" in page and "personal data was erased" in page
    found = [(where, needle) for where, text in _every_text_value()
             for needle in NEEDLES if needle.lower() in text.lower()]
    assert found == []
    user = db.session.get(User, learner_id)
    assert (user.name, user.email, user.learner_ref, user.password_hash, user.active) == (
        f"Erased learner #{learner_id}", f"erased-{learner_id}@erased.invalid", None, None,
        False)
    # Logged out everywhere, and no way back in.
    assert learner_client.get("/dashboard").status_code == 302
    assert db.session.scalar(select(func.count()).where(
        LoginSession.user_id == learner_id, LoginSession.ended_at.is_(None))) == 0
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erase"))
    assert (event.actor_id, event.subject_id, event.detail["reason"]) == (
        story["admin"].id, str(learner_id), "request")


def test_decisions_and_reviews_are_kept_anonymised(client, auth, story):  # noqa: F811
    def decisions():
        return [(d.outcome, d.assessor_id, d.created_at, d.released_at,
                 [(c.criterion_id, c.met) for c in d.criteria])
                for d in db.session.scalars(select(Decision).order_by(Decision.id))]

    before = decisions()
    sub_status = story["submission"].status
    auth.login(story["admin"])
    _erase(client, story)
    db.session.expire_all()
    assert decisions() == before and [o for o, *_ in before] == ["referred", "achieved"]
    assert db.session.get(Submission, story["submission"].id).status == sub_status
    rounds = db.session.scalars(select(SubmittedWork).order_by(SubmittedWork.number)).all()
    assert [(r.number, r.text, r.sources) for r in rounds] == [
        (1, erasure.ERASED, ""), (2, erasure.ERASED, "")]
    assert {d.feedback for d in db.session.scalars(select(Decision))} == {erasure.ERASED}
    assert {c.comment for c in db.session.scalars(select(CriterionDecision))} == {erasure.ERASED}
    [review] = db.session.scalars(select(IqaReview))
    learner_id = story["learner"].id
    assert (review.verdict, review.iqa_id) == ("agree", story["iqa"].id)
    assert review.comments == (f"Fair decision. Erased learner #{learner_id}'s answer "
                               f"(Erased learner #{learner_id}) now explains why.")


def test_fingerprints_of_the_erased_writing_are_gone(client, auth, story):  # noqa: F811
    learner_id = story["learner"].id
    assert originality.check(RESUBMITTED).matches  # indexed while the learner was here
    auth.login(story["admin"])
    _erase(client, story)
    assert db.session.scalar(select(func.count()).select_from(TextSource).where(
        TextSource.owner_user_id == learner_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Fingerprint)) == 0
    assert originality.check(RESUBMITTED).matches == ()
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "originality.forget_learner")).detail == {
        "learner_id": learner_id, "removed": 2}


def test_other_learners_reports_lose_the_erased_passages(client, auth, story):  # noqa: F811
    classmate, task = story["classmate"], story["task"]
    sub = submissions.get_or_create(classmate, task)
    submissions.save_draft(sub, "My own opening. " + SECOND, None, utcnow())
    work = submissions.submit(sub, task, classmate, True, "", utcnow())
    learner_id = story["learner"].id
    owners = [m["owner_user_id"] for m in work.originality_report["matches"]]
    assert learner_id in owners
    auth.login(story["admin"])
    _erase(client, story)
    db.session.expire_all()
    report = db.session.get(SubmittedWork, work.id).originality_report
    erased = [m for m in report["matches"] if m["owner_user_id"] == learner_id]
    assert len(erased) == 2  # both of the learner's rounds matched
    assert {m["label"] for m in erased} == {"An erased learner's submission"}
    assert {p["source_text"] for m in erased for p in m["passages"]} == {erasure.ERASED}
    assert all(p["source_before"] == p["source_after"] == "" for m in erased
               for p in m["passages"])
    assert report["share"] == work.originality_share  # the classmate's own figure stays
    # The classmate's own writing is theirs, and stays.
    assert db.session.get(SubmittedWork, work.id).text.startswith("My own opening.")


def test_an_erased_account_cannot_be_reactivated(client, auth, story):  # noqa: F811
    auth.login(story["admin"])
    _erase(client, story)
    url = f"/admin/people/{story['learner'].id}"
    page = client.get(url).get_data(as_text=True)
    assert "/reactivate" not in page and "/reset-link" not in page and "/erase" not in page
    response = post_form(client, url, f"{url}/reactivate", follow_redirects=True)
    assert "cannot be reactivated" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, story["learner"].id).active is False
    assert post_form(client, url, f"{url}/erase", data={"confirm": "x"}).status_code == 409


def test_the_learner_cannot_log_in_after_erasure(client, auth, story):  # noqa: F811
    auth.login(story["admin"])
    _erase(client, story)
    auth.logout()
    assert auth.login(EMAIL).status_code == 422
    learner_id = story["learner"].id
    assert auth.login(f"erased-{learner_id}@erased.invalid").status_code == 422


def test_a_name_with_accents_is_found_in_audit_details(app, make_user):
    learner = make_user("learner", name="Zoë Ødegård", email="zoë@example.test")
    admin = make_user("admin")
    audit.record("test.note", actor=admin, note="Zoë Ødegård phoned; zoë@example.test")
    db.session.commit()
    erasure.erase(learner, admin, "request", utcnow())
    db.session.commit()
    details = [json.dumps(e.detail, ensure_ascii=False) for e in db.session.scalars(
        select(AuditEvent))]
    assert not [d for d in details if "Zoë" in d or "Ødegård" in d]
    assert f"Erased learner #{learner.id} phoned; Erased learner #{learner.id}" in str(details)


def test_someone_who_made_decisions_is_refused_even_as_a_learner(app, make_user):
    from tests.test_matrix import written_work

    former_assessor, other = make_user("learner"), make_user("learner")
    written_work(other, "any-task", ["achieved"], former_assessor)
    assert "decisions" in erasure.refusal_for(former_assessor, None)
    with pytest.raises(erasure.ErasureRefused):
        erasure.erase(former_assessor, None, "retention", utcnow())


# ---- the pure parts ----

def test_scrub_replaces_the_name_the_email_and_the_reference():
    who = erasure.identity("Will Parry-Jones", "will@example.test", "ULN1234")
    text = ("Will Parry-Jones (will@example.test, ULN1234) will resubmit; WILL PARRY-JONES "
            "agreed. Will said so; Parry-Jones too. Willow and will-power stay.")
    assert erasure.scrub(text, who, "X") == (
        "X (X, X) will resubmit; X agreed. X said so; X too. Willow and will-power stay.")


def test_a_short_reference_is_not_scrubbed_from_numbers():
    who = erasure.identity("Al Bo", "al@example.test", "12")
    assert erasure.scrub("Al scored 12 of 20.", who, "X") == "X scored 12 of 20."


def test_without_source_takes_out_only_that_learners_passages():
    passage = {"answer_start": 0, "answer_end": 9, "source_text": "copied", "source_before": "a",
               "source_after": "b", "answer_text": "copied"}
    report = {"share": 0.5, "matches": [
        {"owner_user_id": 7, "label": "Task, submission 1", "ref": "3", "passages": [passage]},
        {"owner_user_id": None, "label": "essay.txt", "ref": None, "passages": [passage]}]}
    out = erasure.without_source(report, 7)
    assert out["matches"][0]["label"] == "An erased learner's submission"
    assert out["matches"][0]["passages"][0] | {"source_text": "x"} == passage | {
        "source_text": "x", "source_before": "", "source_after": ""}
    assert out["matches"][0]["passages"][0]["source_text"] == erasure.ERASED
    assert out["matches"][1] == report["matches"][1] and out["share"] == 0.5
    assert report["matches"][0]["passages"][0]["source_text"] == "copied"  # not changed in place


def test_confirms_ignores_case_and_spaces_only():
    assert erasure.confirms("  Ottoline.V@Example.test ", EMAIL)
    assert not erasure.confirms("ottoline.v@example.tes", EMAIL)
    assert not erasure.confirms(None, EMAIL)


# The texts the story wrote are the ones the scan looks for.
assert all(n in FIRST + RESUBMITTED + SOURCES + SHORT_ANSWER + NAME
           for n in ["Zanzibarquokka", "Xylophonemarmot", "Quokkabook", "Marmaladeotter"])


def test_erasure_reaches_the_outbox(client, auth, deliver_outbox, story):  # noqa: F811
    """Emails to the learner go, sent or waiting (a waiting one must not reach her now);
    emails to staff that name her stay, with the name replaced."""
    learner_id = story["learner"].id
    assert deliver_outbox()  # the story's emails, sent
    notify(story["learner"], "feedback", "Feedback is ready.", "/tasks")  # and two waiting
    notify(story["assessor"], "submission", f"{NAME} submitted again.", "/marking/1")
    db.session.commit()
    before = {where for where, text in _every_text_value()
              for needle in NEEDLES if needle.lower() in text.lower()}
    assert "job.payload" in before
    to_staff = db.session.scalar(select(func.count(Job.id)).where(
        Job.kind == "email", Job.payload["user_id"].as_integer() != learner_id))
    auth.login(story["admin"])
    assert _erase(client, story).status_code == 302
    found = [(where, needle) for where, text in _every_text_value()
             for needle in NEEDLES if needle.lower() in text.lower()]
    assert found == []
    kept = list(db.session.scalars(select(Job).where(Job.kind == "email")))
    assert len(kept) == to_staff and all(j.payload["user_id"] != learner_id for j in kept)
    assert any(f"Erased learner #{learner_id} submitted again." == j.payload["message"]
               for j in kept)
