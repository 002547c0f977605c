"""Written answers: drafts, conflicts, restore, submit, mark, refer, resubmit, achieve."""

import re

import pytest
from sqlalchemy import func, select

from learning.assessment import marking, submissions
from learning.assessment.marking import MarkingError, outcome_of, release_refusal
from learning.assessment.models import Decision, DraftVersion, Submission, SubmittedWork
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import Notification
from tests.conftest import ESSAYS, csrf_from, post_form


@pytest.fixture
def task(app):
    tasks = app.extensions["catalog"].tasks
    assert tasks, "tests/data/content/tasks/ must hold at least one task"
    return tasks[0]


@pytest.fixture
def people(make_user, make_cohort):
    learner = make_user("learner", name="Maya Patel")
    assessor = make_user("assessor", name="Asha Assessor")
    iqa = make_user("iqa")
    make_cohort("Tuesday group", learners=[learner], assessors=[assessor], iqas=[iqa])
    return {"learner": learner, "assessor": assessor, "iqa": iqa}


def _save(client, task, text, based_on=None, url=None):
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    if based_on is None:
        m = re.search(r'name="based_on" type="hidden" value="(\d*)"', page)
        based_on = m.group(1) if m else ""
    return client.post(url or f"/tasks/{task.slug}", data={
        "csrf_token": csrf_from(page), "text": text, "based_on": based_on, "save": "1"})


def _submit(client, task):
    return post_form(client, f"/tasks/{task.slug}/submit", data={
        "declaration": "y", "sources": "Module 1", "confirm_short": "y"})


def _mark(client, sub_id, task, met=True, release=True, feedback="Clear and accurate.",
          actions=""):
    page = client.get(f"/marking/{sub_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "feedback": feedback, "actions": actions,
            "action": "release" if release else "save"}
    for cid in task.criteria:
        data[f"met-{cid}"] = "met" if met else "not-met"
        data[f"comment-{cid}"] = "Comment on " + cid
    response = client.post(f"/marking/{sub_id}", data=data)
    if not release or response.status_code != 302:
        return response
    # "Release decision…" saves the marking and shows the summary; confirming releases it.
    assert response.headers["Location"].endswith(f"/marking/{sub_id}/release")
    summary = client.get(f"/marking/{sub_id}/release").get_data(as_text=True)
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', summary).group(1)
    return client.post(f"/marking/{sub_id}/release",
                       data={"csrf_token": csrf_from(summary), "digest": digest})


def test_every_save_is_a_version_and_restore_keeps_history(client, auth, people, task):
    auth.login(people["learner"])
    _save(client, task, "First thoughts about partnership working.")
    _save(client, task, "Second, longer thoughts about partnership working and sharing.")
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert "Second, longer thoughts" in page and "version 2" in page
    versions = client.get(f"/tasks/{task.slug}/versions").get_data(as_text=True)
    assert "Version 1" in versions and "Version 2" in versions
    post_form(client, f"/tasks/{task.slug}/versions/1", f"/tasks/{task.slug}/versions/1/restore")
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert "First thoughts about partnership working." in page
    assert db.session.scalar(select(func.count(DraftVersion.id))) == 3  # nothing overwritten


def test_autosave_json_and_word_count(client, auth, people, task):
    auth.login(people["learner"])
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    response = client.post(f"/tasks/{task.slug}/autosave", data={
        "csrf_token": csrf_from(page), "text": "one two three four", "based_on": ""})
    assert response.status_code == 200
    assert response.get_json()["words"] == 4 and response.get_json()["version"] == 1


def test_a_second_tab_never_silently_overwrites_newer_text(client, auth, people, task):
    auth.login(people["learner"])
    _save(client, task, "Tab A wrote this first.")
    # Tab B opened the page at version 1 ...
    stale_page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    _save(client, task, "Tab A wrote more later.")  # ... and tab A saved version 2.
    response = client.post(f"/tasks/{task.slug}/autosave", data={
        "csrf_token": csrf_from(stale_page), "text": "Tab B's different text.",
        "based_on": "1"})
    assert response.status_code == 409 and response.get_json()["conflict"]
    conflict_page = client.get(response.get_json()["url"]).get_data(as_text=True)
    assert "Two versions of your answer" in conflict_page
    assert "Tab B&#39;s different text." in conflict_page or "Tab B's different text." in \
        conflict_page
    assert "Tab A wrote more later." in conflict_page
    current = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert "Tab A wrote more later." in current  # the newer text stayed current


def test_submit_needs_the_declaration_and_locks_the_text(client, auth, people, task):
    auth.login(people["learner"])
    _save(client, task, "My own answer about working together.")
    refused = post_form(client, f"/tasks/{task.slug}/submit", data={"sources": ""})
    assert refused.status_code == 422
    assert "Confirm that this is your own work" in refused.get_data(as_text=True)
    assert _submit(client, task).status_code == 302
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert "Submitted" in page and "locked" in page
    assert "your assessor aims to mark it within 10 working days, so by <time" in page
    late = _save(client, task, "Sneaky edit after submitting.")
    assert late.status_code == 422
    assert "cannot be changed now" in late.get_data(as_text=True)


def test_full_loop_refer_resubmit_achieve(client, auth, people, task):
    learner, assessor = people["learner"], people["assessor"]
    auth.login(learner)
    _save(client, task, "Partnership working means agencies talk.")
    _submit(client, task)
    sub = db.session.scalar(select(Submission))
    auth.logout()

    auth.login(assessor)
    queue = client.get("/marking/").get_data(as_text=True)
    assert "Maya Patel" in queue and "0" in queue
    draft = _mark(client, sub.id, task, met=False, release=False,
                  feedback="Needs more depth.", actions="Explain why sharing matters.")
    assert draft.status_code == 302
    auth.logout()

    auth.login(learner)  # a marking draft is never visible to the learner
    feedback_page = client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True)
    assert "Needs more depth." not in feedback_page
    assert "Being marked" in client.get("/tasks/").get_data(as_text=True)
    auth.logout()

    auth.login(assessor)
    no_actions = _mark(client, sub.id, task, met=False, actions="")
    assert no_actions.status_code == 422
    assert "Say what the learner must do" in no_actions.get_data(as_text=True)
    _mark(client, sub.id, task, met=False, feedback="Needs more depth.",
          actions="Explain why sharing matters.")
    auth.logout()

    auth.login(learner)
    feedback_page = client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True)
    assert "Referred" in feedback_page and "Explain why sharing matters." in feedback_page
    assert db.session.scalar(select(Notification).where(
        Notification.user_id == learner.id, Notification.kind == "feedback")) is not None
    _save(client, task, "Partnership working means agencies talk and share information "
                        "so that the child is safer.")
    _submit(client, task)
    auth.logout()

    auth.login(assessor)
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    assert "What changed since submission 1" in page
    assert "[added: " in page and "Needs more depth." in page  # diff and earlier feedback
    _mark(client, sub.id, task, met=True)
    auth.logout()

    db.session.expire_all()
    sub = db.session.get(Submission, sub.id)
    assert sub.status == "achieved"
    assert db.session.scalar(select(func.count(SubmittedWork.id))) == 2
    assert db.session.scalar(select(func.count(Decision.id))) == 2  # both decisions kept
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    for expected in ("submission.submit", "decision.save_draft", "decision.release",
                     "submission.resubmit"):
        assert expected in actions



def test_the_outcome_follows_the_criteria():
    met, not_met = (True, ""), (False, "Say more.")
    assert outcome_of(("a", "b"), {"a": met, "b": met}) == ([], True)
    assert outcome_of(("a", "b"), {"a": met, "b": not_met}) == ([], False)
    assert outcome_of(("a", "b"), {"a": met}) == (["b"], False)
    assert outcome_of(("a",), {"a": (None, "A comment but no decision.")}) == (["a"], False)


def test_release_needs_every_criterion_actions_for_a_referral_and_feedback():
    assert release_refusal(["b"], False, "Good.", "Do more.").startswith("Decide met or not")
    assert release_refusal([], False, "Good.", " ") == \
        "Say what the learner must do before resubmitting."
    assert release_refusal([], True, " ", "") == "Write overall feedback for the learner."
    assert release_refusal([], True, "Good.", "") == ""


def test_decided_work_cannot_be_marked_again(people, task):
    learner, assessor = people["learner"], people["assessor"]
    sub = submissions.get_or_create(learner, task)
    submissions.save_draft(sub, "My answer.", None, utcnow())
    work = submissions.submit(sub, task, learner, True, "", utcnow())
    met = {c: (True, "") for c in task.criteria}
    decision = marking.save_decision(work, task, assessor, met, "Well done.", "", utcnow(),
                                     release=True)
    assert decision.outcome == "achieved" and sub.status == "achieved"
    for release in (False, True):
        with pytest.raises(MarkingError, match="already been decided"):
            marking.save_decision(work, task, assessor, met, "Again.", "", utcnow(), release)

def test_access_rules(client, auth, people, task, make_user, make_cohort):
    learner = people["learner"]
    auth.login(learner)
    _save(client, task, "Private answer.")
    _submit(client, task)
    sub = db.session.scalar(select(Submission))
    auth.logout()
    other_assessor = make_user("assessor")
    make_cohort("Other group", learners=[make_user("learner")], assessors=[other_assessor])
    auth.login(other_assessor)
    assert client.get(f"/marking/{sub.id}").status_code == 403
    assert "Private answer" not in client.get("/marking/").get_data(as_text=True)
    auth.logout()
    auth.login(make_user("learner"))  # another learner has their own, empty record
    assert "Private answer" not in client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    assert client.get(f"/marking/{sub.id}").status_code == 403
    auth.logout()
    auth.login(people["iqa"])
    assert client.get(f"/marking/{sub.id}").status_code == 403


def test_resubmission_limit(client, auth, people, task, app, monkeypatch):
    from dataclasses import replace

    strict = replace(task, resubmissions_allowed=0)
    catalog = app.extensions["catalog"]
    monkeypatch.setitem(app.extensions, "catalog", replace(
        catalog, tasks=tuple(strict if t.slug == task.slug else t for t in catalog.tasks)))
    auth.login(people["learner"])
    _save(client, task, "Attempt one.")
    _submit(client, task)
    sub = db.session.scalar(select(Submission))
    auth.logout()
    auth.login(people["assessor"])
    _mark(client, sub.id, strict, met=False, actions="Add more.")
    auth.logout()
    auth.login(people["learner"])
    _save(client, task, "Attempt two.")
    refused = _submit(client, task)
    assert "You have used all your resubmissions" in refused.get_data(as_text=True)


def test_marking_queue_query_count_is_fixed(client, auth, make_user, make_cohort, task,
                                            count_queries):
    from learning.assessment import submissions as svc
    from learning.core.types import utcnow

    assessor = make_user("assessor")
    learners = [make_user("learner") for _ in range(12)]
    make_cohort("Big", learners=learners, assessors=[assessor])

    def submit_for(learner):
        sub = svc.get_or_create(learner, task)
        svc.save_draft(sub, "Some words here.", None, utcnow())
        svc.submit(sub, task, learner, True, "", utcnow())

    auth.login(assessor)
    submit_for(learners[0])
    with count_queries() as few:
        client.get("/marking/")
    for learner in learners[1:]:
        submit_for(learner)
    with count_queries() as many:
        page = client.get("/marking/").get_data(as_text=True)
    assert page.count("/marking/") >= 12
    assert many.count == few.count


def test_copied_answer_is_flagged_to_the_assessor_only(client, auth, people, task, runner):
    result = runner.invoke(args=["originality", "add-reference", str(ESSAYS)])
    assert result.exit_code == 0, result.output
    essay = sorted(ESSAYS.glob("*.txt"))[0].read_text(encoding="utf-8-sig")
    copied = " ".join(essay.split()[:120])
    auth.login(people["learner"])
    _save(client, task, "In my own words first. " + copied)
    _submit(client, task)
    learner_views = [client.get(f"/tasks/{task.slug}").get_data(as_text=True),
                     client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True)]
    assert not any("Originality" in page or "matches the reference" in page
                   for page in learner_views)
    auth.logout()
    auth.login(people["assessor"])
    sub = db.session.scalar(select(Submission))
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    assert re.search(r"<summary>Originality: \d+% of this answer matches other work "
                     r"\(1 source\)</summary>", page)
    assert "matches the reference essay" in page
    work = db.session.scalar(select(SubmittedWork))
    assert work.originality_share >= 0.5


def test_full_loop_continues_through_iqa_to_reassessment(client, auth, people, task):
    """draft -> submit -> achieve -> IQA disagrees -> reassess -> the learner's outcome changes
    only with the assessor's new decision."""
    from learning.iqa.models import IqaSample, SamplingPlan

    learner, assessor, iqa = people["learner"], people["assessor"], people["iqa"]
    db.session.add(SamplingPlan(assessor_id=assessor.id, rate=0))
    db.session.commit()
    auth.login(learner)
    _save(client, task, "Agencies share information and plan together around the child.")
    _submit(client, task)
    sub = db.session.scalar(select(Submission))
    auth.logout()
    auth.login(assessor)
    _mark(client, sub.id, task, met=True)
    auth.logout()
    decision = db.session.scalar(select(Decision))

    auth.login(iqa)
    sample = db.session.scalar(select(IqaSample).where(IqaSample.decision_id == decision.id))
    if sample is None:  # not drawn by the plan: the IQA picks it by hand
        post_form(client, "/iqa/decisions", f"/iqa/decisions/{decision.id}/sample")
        sample = db.session.scalar(select(IqaSample).where(
            IqaSample.decision_id == decision.id))
    review = post_form(client, f"/iqa/samples/{sample.id}", data={
        "verdict": "disagree", "comments": "The answer does not explain why.",
        "action": "Reassess 2.3 against the marking guide."})
    assert review.status_code == 302
    auth.logout()

    db.session.expire_all()
    sub = db.session.get(Submission, sub.id)
    assert sub.reassess and sub.status == "achieved"  # the learner's outcome stands for now
    auth.login(assessor)
    assert "IQA action" in client.get("/marking/").get_data(as_text=True)
    _mark(client, sub.id, task, met=False, actions="Explain why sharing protects the child.")
    auth.logout()

    db.session.expire_all()
    sub = db.session.get(Submission, sub.id)
    assert sub.status == "referred" and not sub.reassess
    assert db.session.scalar(select(func.count(Decision.id))) == 2  # first decision kept
    auth.login(learner)
    feedback = client.get(f"/tasks/{task.slug}/feedback").get_data(as_text=True)
    assert "Explain why sharing protects the child." in feedback


def test_a_long_writing_session_can_still_save(client, auth, people, task, monkeypatch):
    """A learner who writes for hours with the page open can still save their answer."""
    import time

    auth.login(people["learner"])
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    later = time.time() + 3 * 60 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.post(f"/tasks/{task.slug}", data={
        "csrf_token": csrf_from(page), "text": "Three hours of careful writing.",
        "based_on": "", "save": "1"})
    assert response.status_code == 302
    assert "Three hours of careful writing." in client.get(f"/tasks/{task.slug}").get_data(
        as_text=True)


def test_dashboard_lists_the_learners_tasks_and_their_status(client, auth, people, task):
    auth.login(people["learner"])
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Your written tasks" in dashboard and task.title in dashboard
    assert "Not started" in dashboard
    _save(client, task, "A first go.")
    _submit(client, task)
    assert "Submitted" in client.get("/dashboard").get_data(as_text=True)


def test_an_answer_is_rendered_once_and_pages_show_what_was_stored(client, auth, people, task):
    auth.login(people["learner"])
    _save(client, task, "Partnership means **sharing** what we know.\n\n- police\n- health")
    version = db.session.scalar(select(DraftVersion))
    assert version.html == ("<p>Partnership means <strong>sharing</strong> what we know.</p>\n"
                            "<ul><li>police</li><li>health</li></ul>")
    _submit(client, task)
    work = db.session.scalar(select(SubmittedWork))
    assert work.html == version.html
    # Pages use the stored HTML: change it behind their back and the page shows the change.
    work.html = "<p>Rendered when it was submitted.</p>"
    db.session.commit()
    auth.logout()
    auth.login(people["assessor"])
    page = client.get(f"/marking/{work.submission_id}").get_data(as_text=True)
    assert "Rendered when it was submitted." in page


def test_autosaves_are_thinned_to_the_last_of_each_ten_minutes(people, task):
    from datetime import UTC, datetime, timedelta

    from learning.assessment import submissions

    sub = submissions.get_or_create(people["learner"], task)
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the start of a window

    def save(text, minutes, kind="autosave"):
        current = submissions.latest_draft(sub)
        return submissions.save_draft(sub, text, current.number if current else None,
                                      t0 + timedelta(minutes=minutes), kind=kind).version

    save("one", 0)
    save("one two", 3)
    manual = save("one two three", 4, kind="save")
    save("one two three four", 6)
    last_of_first = save("one two three four five", 9)
    save("six", 11)  # the next window
    newest = save("six seven", 14)
    kept = [(v.kind, v.text) for v in reversed(submissions.versions(sub))]
    assert kept == [("save", manual.text), ("autosave", last_of_first.text),
                    ("autosave", newest.text)]
    # An unchanged autosave stores nothing at all.
    assert submissions.save_draft(sub, "six seven", newest.number, t0 + timedelta(minutes=15),
                                  kind="autosave").unchanged
    assert len(submissions.versions(sub)) == 3


def test_the_autosave_window_is_aligned_to_the_clock():
    from datetime import UTC, datetime

    from learning.assessment.submissions import window_start

    assert window_start(datetime(2026, 12, 1, 9, 19, 59, tzinfo=UTC)) == \
        datetime(2026, 12, 1, 9, 10, tzinfo=UTC)
    assert window_start(datetime(2026, 12, 1, 9, 20, tzinfo=UTC)) == \
        datetime(2026, 12, 1, 9, 20, tzinfo=UTC)


def test_a_submitted_autosave_is_never_thinned(people, task):
    """Referred work goes back to the learner: their next autosave in the same ten minutes
    must not remove the version that was handed in."""
    from datetime import UTC, datetime, timedelta

    from learning.assessment import submissions

    sub = submissions.get_or_create(people["learner"], task)
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    handed_in = submissions.save_draft(sub, "first answer", None, t0, kind="autosave").version
    db.session.add(SubmittedWork(submission_id=sub.id, number=1, text=handed_in.text,
                                 word_count=2, draft_version_id=handed_in.id,
                                 submitted_at=t0, declared_at=t0))
    db.session.commit()
    submissions.save_draft(sub, "first answer, improved", handed_in.number,
                           t0 + timedelta(minutes=2), kind="autosave")
    assert handed_in.id in {v.id for v in submissions.versions(sub)}


def test_save_and_preview_keeps_the_text_in_the_box(client, auth, people, task):
    auth.login(people["learner"])
    text = "Partnership working means agencies plan together around the child."
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    response = client.post(f"/tasks/{task.slug}", data={
        "csrf_token": csrf_from(page), "text": text, "based_on": "", "preview": "1"})
    html = response.get_data(as_text=True)
    assert '<section class="preview"' in html
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert box.strip() == text
    # Pressing Save draft on that page now saves the same text again: nothing is lost.
    again = _save(client, task, box.strip())
    assert again.status_code == 302
    assert db.session.scalar(select(DraftVersion).order_by(DraftVersion.number.desc())
                             ).text == text


LONG = " ".join(["Agencies share what they know so that a child is kept safe."] * 4)


def test_a_much_shorter_save_asks_first_and_saves_nothing_until_confirmed(client, auth,
                                                                         people, task):
    auth.login(people["learner"])
    _save(client, task, LONG)
    response = _save(client, task, "")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Save a much shorter answer?" in html and "has 0 words" in html
    assert db.session.scalar(select(func.count(DraftVersion.id))) == 1
    confirm = re.search(r'name="confirm_shorter" type="hidden" value="([^"]*)"', html).group(1)
    assert confirm == "1"
    page = client.post(f"/tasks/{task.slug}", data={
        "csrf_token": csrf_from(html), "text": "", "confirm_shorter": "1", "save": "1",
        "based_on": re.search(r'name="based_on" type="hidden" value="(\d*)"', html).group(1)})
    assert page.status_code == 302
    versions = list(db.session.scalars(select(DraftVersion).order_by(DraftVersion.number)))
    assert [v.text for v in versions] == [LONG, ""]  # the long one is still there


def test_autosave_never_replaces_a_draft_with_a_much_shorter_text(client, auth, people, task):
    auth.login(people["learner"])
    _save(client, task, LONG)
    page = client.get(f"/tasks/{task.slug}").get_data(as_text=True)
    response = client.post(f"/tasks/{task.slug}/autosave", data={
        "csrf_token": csrf_from(page), "text": "Agencies", "based_on": "1"})
    assert response.status_code == 409
    assert "much shorter than your saved draft" in response.get_json()["message"]
    assert db.session.scalar(select(func.count(DraftVersion.id))) == 1


def test_an_answer_below_the_word_guidance_is_submitted_only_when_confirmed(
        client, auth, people, task):
    auth.login(people["learner"])
    _save(client, task, "Too short an answer.")
    page = client.get(f"/tasks/{task.slug}/submit").get_data(as_text=True)
    assert "Submit it anyway" in page
    refused = post_form(client, f"/tasks/{task.slug}/submit", data={"declaration": "y"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (f"Your answer has 4 words, fewer than the guidance of {task.min_words}. Tick the "
            "box to submit it anyway") in html
    assert 'href="#confirm_short"' in html and 'id="confirm_short-error"' in html
    assert db.session.scalar(select(func.count()).select_from(SubmittedWork)) == 0
    assert _submit(client, task).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SubmittedWork)) == 1


def test_a_long_enough_answer_asks_no_confirmation(client, auth, people, task):
    auth.login(people["learner"])
    _save(client, task, " ".join(["partnership"] * task.min_words))
    assert "Submit it anyway" not in client.get(f"/tasks/{task.slug}/submit").get_data(
        as_text=True)
    done = post_form(client, f"/tasks/{task.slug}/submit", data={"declaration": "y"})
    assert done.status_code == 302


def test_a_task_has_the_same_status_on_the_list_the_dashboard_and_its_page(
        client, auth, people, task):
    """Opening the writing page used to make it "Draft" on the task page while the list said
    "Not started"; after opening it, both said "Draft" though nothing was written."""
    auth.login(people["learner"])

    def shown(url, where=None):
        html = client.get(url).get_data(as_text=True)
        part = html.split(where)[1] if where else html
        return re.search(r'class="tag tag-[a-z_]+">([^<]+)</span>', part).group(1)

    page = f"/tasks/{task.slug}"
    assert shown(page) == "Not started"  # the first visit makes the record, starts nothing
    assert shown("/tasks/", task.title) == shown("/dashboard", task.title) == "Not started"
    _save(client, task, "A first go at an answer.")
    assert shown(page) == shown("/tasks/", task.title) == shown("/dashboard", task.title) \
        == "Draft"
    _submit(client, task)
    assert shown(page) == shown("/tasks/", task.title) == shown("/dashboard", task.title) \
        == "Submitted"
