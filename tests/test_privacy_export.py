"""A learner's data export: one zip with their records (data.json) and their writing, for
them and for administrators only."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from learning.assessment import marking, submissions, writing_activity
from learning.core import audit
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.course import progress
from learning.iqa import reviews, sampling
from learning.iqa.models import IqaSample
from learning.people import invitations
from learning.privacy import export
from learning.quizzes import attempts

#: Words that occur only in what the learner wrote, so a search for them finds their writing.
FIRST = ("Zanzibarquokka: partnership working means that the nursery, the health visitor and "
         "social care share what each of them knows and plan together for the child.")
SECOND = (FIRST + " Nobody sees the whole picture alone, which is why the key person talks to "
          "the health visitor about missed check-ups.")
RESUBMITTED = (SECOND + " Xylophonemarmot: for Sam, the key person and the health visitor "
               "together would notice the pattern of hunger and the missed check-up.")
SOURCES = "Quokkabook, Working Together 2023, chapter 2"
SHORT_ANSWER = "Marmaladeotter officer"
NAME, EMAIL, REF = "Ottoline Vantongeren", "ottoline.v@example.test", "ULN7788990011"
#: Text the learner pasted into the writing page (the script's report with the second save).
PASTED = "Xylophonemarmot pasted: the key person talks to the health visitor."


def _decide(work, task, assessor, met: bool, feedback: str):
    criteria = {c: (met, f"{'Met' if met else 'Not yet'}: Zanzibarquokka, as {NAME} wrote.")
                for c in task.criteria}
    return marking.save_decision(work, task, assessor, criteria, feedback,
                                 "" if met else "Explain why Zanzibarquokka matters.",
                                 utcnow(), release=True)


@pytest.fixture
def story(app, make_user, make_cohort, make_centre):
    """A learner with everything: progress, a quiz with a typed answer, two saved versions,
    a referral, a resubmission, an achievement, an IQA review that names her, notifications."""
    catalog, quizzes = app.extensions["catalog"], app.extensions["quizzes"]
    learner = make_user("learner", name=NAME, email=EMAIL)
    learner.learner_ref = REF
    people = {"learner": learner, "classmate": make_user("learner", name="Bram Classmate"),
              "assessor": make_user("assessor", name="Asha Assessor"),
              "iqa": make_user("iqa", name="Ivy Iqa"),
              "coordinator": make_user("coordinator", name="Cora Coordinator"),
              "admin": make_user("admin", name="Adam Admin")}
    centre = make_centre("North", coordinators=[people["coordinator"]])
    make_cohort("Monday", learners=[learner, people["classmate"]],
                assessors=[people["assessor"]], iqas=[people["iqa"]], centre=centre)
    sampling.save_plan(people["assessor"], 100, False, people["iqa"], utcnow())
    progress.mark_complete(learner, catalog.modules[0])
    quiz = quizzes["who-does-what-check"]
    attempt = attempts.start_attempt(learner, quiz, utcnow())
    attempts.save_answers(attempt, {"staff-worry": SHORT_ANSWER}, utcnow())
    attempts.submit_attempt(attempt, utcnow())
    task = catalog.tasks[0]
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, FIRST, None, utcnow())
    submissions.save_draft(sub, SECOND, 1, utcnow() + timedelta(seconds=1))
    writing_activity.record(sub, 2, writing_activity.parse(json.dumps({
        "v": 1, "typed": 150, "active": 240,
        "pastes": [{"chars": len(PASTED), "ago": 1000, "text": PASTED, "own": False}]})),
        utcnow())
    work = submissions.submit(sub, task, learner, True, SOURCES, utcnow())
    _decide(work, task, people["assessor"], False, f"{NAME}, say more than Zanzibarquokka.")
    submissions.save_draft(sub, RESUBMITTED, 2, utcnow() + timedelta(seconds=2))
    work = submissions.submit(sub, task, learner, True, SOURCES, utcnow())
    decision = _decide(work, task, people["assessor"], True, "Well done, Ottoline.")
    sample = db.session.scalar(select(IqaSample).where(IqaSample.decision_id == decision.id))
    reviews.record_review(sample, people["iqa"], "agree",
                          f"Fair decision. Ottoline's answer ({REF}) now explains why.", "",
                          task.title, utcnow())
    audit.record_view("view.marking", people["assessor"], learner.id, submission_id=sub.id)
    return {**people, "task": task, "quiz": quiz, "submission": sub}


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def test_a_learner_downloads_everything_held_about_them(client, auth, story):
    auth.login(story["learner"])
    page = client.get("/account/data").get_data(as_text=True)
    assert 'href="/account/data.zip"' in page
    assert 'href="/account/data"' in client.get("/dashboard").get_data(as_text=True)
    response = client.get("/account/data.zip")
    archive = _zip(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_length == len(response.get_data())
    assert f"joined-up-data-{story['learner'].id}-" in response.headers["Content-Disposition"]
    names = archive.namelist()
    slug = story["task"].slug
    data = json.loads(archive.read("data.json"))
    assert data["format"] == export.FORMAT
    assert data["account"] | {"roles": None} == data["account"] | {
        "name": NAME, "email": EMAIL, "learner_ref": REF, "roles": None}
    assert [e["cohort"] for e in data["enrolments"]] == ["Monday"]
    assert data["module_progress"][0]["completed_at"]
    [quiz] = data["quiz_attempts"]
    assert quiz["title"] == "Who does what check" and quiz["state"] == "submitted"
    assert SHORT_ANSWER in [a["your_answer"] for a in quiz["answers"]]
    [written] = data["written_tasks"]
    assert [v["version"] for v in written["versions"]] == [1, 2, 3]
    assert [r["round"] for r in written["submissions"]] == [1, 2]
    [activity] = written["writing_activity"]
    assert (activity["version"], activity["typed_characters"], activity["active_seconds"]) == (
        2, 150, 240)
    assert activity["pastes"][0]["text"] == PASTED
    first, second = written["submissions"]
    assert first["sources"] == SOURCES
    # Each round's writing-process report, as the learner and their assessor read it.
    assert first["how_it_was_written"]["pastes"] == 1
    assert "Text was pasted in 1 time" in " ".join(first["how_it_was_written"]["facts"])
    assert first["decisions"][0]["outcome"] == "referred"
    assert first["decisions"][0]["feedback"].startswith(NAME)
    assert second["decisions"][0]["outcome"] == "achieved"
    assert second["decisions"][0]["assessor"] == "Asha Assessor"
    [review] = second["decisions"][0]["quality_assurance"]
    assert review["iqa"] == "Ivy Iqa" and review["verdict"] == "agree"
    assert {n["kind"] for n in data["notifications"]} == {"feedback"}
    assert data["logins"] and data["originality_copies"]
    events = {(e["action"], e["by"]) for e in data["audit_events"]}
    assert {("login", "you"), ("submission.submit", "you"),
            ("decision.release", "Asha Assessor"), ("view.marking", "Asha Assessor")} <= events
    # Every saved version and every round is a Markdown file named in data.json.
    files = [v["file"] for v in written["versions"]] + [r["file"] for r in
                                                          written["submissions"]]
    assert sorted(files) == sorted(n for n in names if n.startswith("writing/"))
    assert all(f.startswith(f"writing/{slug}/") and f.endswith(".md") for f in files)
    assert FIRST in archive.read(files[0]).decode()
    round_two = archive.read(files[-1]).decode()
    assert round_two.startswith(f"# {story['task'].title}: submission round 2")
    assert RESUBMITTED in round_two and SOURCES in round_two
    assert "README.txt" in names
    # The download is in the audit log, as the learner's own.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.export"))
    assert (event.actor_id, event.subject_id, event.detail) == (
        story["learner"].id, str(story["learner"].id), {"by_self": True})


def test_the_export_lists_emails_to_the_learner_without_set_password_links(
        client, auth, deliver_outbox, story):
    learner = story["learner"]
    deliver_outbox()  # the two "feedback is ready" emails, sent
    link = invitations.issue(learner, invitations.RESET)
    invitations.email_link(link)
    db.session.commit()  # and a set-password link, waiting
    auth.login(learner)
    data = json.loads(_zip(client.get("/account/data.zip")).read("data.json"))
    emails = data["emails"]
    assert [e["status"] for e in emails] == ["sent", "sent", "waiting to be sent"]
    assert emails[0]["message"].startswith("Feedback on") and emails[0]["sent_at"]
    assert emails[2]["link"] == "(a set-password link, hidden)" and emails[2]["sent_at"] is None
    assert link.token not in json.dumps(data)


def test_the_export_leaves_out_others_data_and_hidden_marks(client, auth, story):
    auth.login(story["classmate"])
    data = json.loads(_zip(client.get(
        f"/account/data.zip?user_id={story['learner'].id}")).read("data.json"))
    assert data["account"]["name"] == "Bram Classmate"  # the URL names nobody else
    assert data["written_tasks"] == [] and NAME not in json.dumps(data)
    auth.logout()
    auth.login(story["learner"])
    quiz = json.loads(_zip(client.get("/account/data.zip")).read("data.json"))["quiz_attempts"]
    assert all(set(a) == {"question", "your_answer", "saved_at"} for a in quiz[0]["answers"])


def test_an_admin_downloads_a_learners_data_and_it_is_recorded(client, auth, story):
    learner, admin = story["learner"], story["admin"]
    auth.login(admin)
    person = client.get(f"/admin/people/{learner.id}").get_data(as_text=True)
    assert f'href="/admin/people/{learner.id}/data.zip"' in person
    data = json.loads(_zip(client.get(f"/admin/people/{learner.id}/data.zip")).read("data.json"))
    assert data["account"]["email"] == EMAIL
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.export"))
    assert (event.actor_id, event.subject_id, event.detail) == (
        admin.id, str(learner.id), {"by_self": False})


@pytest.mark.parametrize("who", ["classmate", "assessor", "iqa", "coordinator"])
def test_only_admins_download_someone_elses_data(client, auth, story, who):
    """Guard: export.may_export. Without it any logged-in person could download anyone's."""
    auth.login(story[who])
    response = client.get(f"/admin/people/{story['learner'].id}/data.zip")
    assert response.status_code == 403
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "privacy.export")) is None


def test_unknown_person_is_404(client, auth, story):
    auth.login(story["admin"])
    assert client.get("/admin/people/999999/data.zip").status_code == 404


def test_answers_are_shown_in_the_words_the_learner_saw():
    view = {"options": [{"id": "a", "text": "The police"}, {"id": "b", "text": "The GP"}],
            "prompts": [{"id": "p1", "text": "Police"}]}
    assert export.answer_in_words(view, "a") == "The police"
    assert export.answer_in_words(view, ["b", "a"]) == ["The GP", "The police"]
    assert export.answer_in_words(view, {"p1": "Looks into crimes"}) == {
        "Police": "Looks into crimes"}
    assert export.answer_in_words(view, True) is True
    assert export.answer_in_words({}, "typed words") == "typed words"


def test_markdown_files_are_named_and_laid_out_plainly():
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert export.version_path("Task One!", 7, at) == (
        "writing/task-one/version-007-saved-2026-03-01.md")
    assert export.round_path("task", 2, at) == "writing/task/submission-round-2-2026-03-01.md"
    text = export.markdown("Title: version 1", [("Words", "3")], "My answer.\n", "A book")
    assert text == ("# Title: version 1\n\n- Words: 3\n\n---\n\nMy answer.\n\n## Sources\n\n"
                    "A book\n")
