"""Releasing a decision: a summary to confirm first; released work stays findable."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from learning.assessment import submissions as svc
from learning.assessment.models import Decision, Submission
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import Notification
from tests.conftest import csrf_from


@pytest.fixture
def tasks(app):
    return app.extensions["catalog"].tasks


@pytest.fixture
def people(make_user, make_cohort):
    learner = make_user("learner", name="Maya Patel")
    assessor = make_user("assessor", name="Asha Assessor")
    make_cohort("Tuesday group", learners=[learner], assessors=[assessor])
    return {"learner": learner, "assessor": assessor}


def submitted(learner, task, text="Partners share what they know so a worry is seen early."):
    sub = svc.get_or_create(learner, task)
    svc.save_draft(sub, text, None, utcnow())
    svc.submit(sub, task, learner, True, "", utcnow())
    return sub


def marking_form(client, sub, task, met=True, feedback="Clear and accurate.", actions="",
                 action="release"):
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "feedback": feedback, "actions": actions,
            "action": action}
    for cid in task.criteria:
        data[f"met-{cid}"] = "met" if met else "not-met"
        data[f"comment-{cid}"] = f"Comment on {cid}"
    return client.post(f"/marking/{sub.id}", data=data)


def confirm(client, sub, digest=None):
    summary = client.get(f"/marking/{sub.id}/release").get_data(as_text=True)
    found = re.search(r'name="digest" value="([0-9a-f]+)"', summary)
    return client.post(f"/marking/{sub.id}/release", data={
        "csrf_token": csrf_from(summary), "digest": digest or found.group(1)})


def released(sub_id):
    return list(db.session.scalars(select(Decision).join(Decision.work).where(
        Decision.released_at.is_not(None))))


def test_release_shows_a_summary_and_releases_only_when_confirmed(client, auth, people, tasks):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    first = marking_form(client, sub, task, met=False, feedback="Needs more depth.",
                         actions="Explain why sharing protects the child.")
    assert first.status_code == 302 and first.headers["Location"].endswith("/release")
    summary = unescape(client.get(f"/marking/{sub.id}/release").get_data(as_text=True))
    assert "Check your decision before you release it" in summary
    assert "Outcome:" in summary and "Referred" in summary
    for cid in task.criteria:
        assert f"Comment on {cid}" in summary
    assert "Not yet met" in summary and "Needs more depth." in summary
    assert "Explain why sharing protects the child." in summary
    assert "Release to the learner" in summary and "Go back and change it" in summary
    # Nothing is released yet: the learner sees no feedback, the work is being marked.
    db.session.expire_all()
    assert not released(sub.id)
    assert db.session.get(Submission, sub.id).status == "being_marked"
    assert not db.session.scalar(select(Notification).where(
        Notification.user_id == people["learner"].id))
    # Going back shows the saved marking in the form.
    back = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    assert "Needs more depth." in back

    done = confirm(client, sub)
    assert done.status_code == 302
    db.session.expire_all()
    assert [d.outcome for d in released(sub.id)] == ["referred"]
    assert db.session.get(Submission, sub.id).status == "referred"
    assert "Decision released to Maya Patel." in client.get("/marking/").get_data(as_text=True)


def test_a_changed_draft_is_not_released_from_an_old_summary(client, auth, people, tasks):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    marking_form(client, sub, task, feedback="First feedback.")
    summary = client.get(f"/marking/{sub.id}/release").get_data(as_text=True)
    old = re.search(r'name="digest" value="([0-9a-f]+)"', summary).group(1)
    marking_form(client, sub, task, feedback="Second feedback, from another tab.",
                 action="save")
    refused = confirm(client, sub, digest=old)
    assert refused.status_code == 422
    page = unescape(refused.get_data(as_text=True))
    assert "Your marking changed after you checked it" in page
    assert "Second feedback, from another tab." in page  # the summary shows what it is now
    db.session.expire_all()
    assert not released(sub.id)


def test_a_release_refused_on_the_form_saves_nothing(client, auth, people, tasks):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    refused = marking_form(client, sub, task, met=False, actions="")
    assert refused.status_code == 422
    assert "Say what the learner must do" in unescape(refused.get_data(as_text=True))
    assert db.session.scalar(select(Decision)) is None


def test_the_summary_needs_a_complete_saved_draft(client, auth, people, tasks):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    nothing = client.get(f"/marking/{sub.id}/release", follow_redirects=True)
    assert "There is no saved marking to release" in nothing.get_data(as_text=True)
    marking_form(client, sub, task, feedback="", action="save")  # half done
    half = client.get(f"/marking/{sub.id}/release", follow_redirects=True)
    assert "Write overall feedback for the learner." in half.get_data(as_text=True)


def test_confirming_twice_releases_once(client, auth, people, tasks):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    marking_form(client, sub, task)
    summary = client.get(f"/marking/{sub.id}/release").get_data(as_text=True)
    data = {"csrf_token": csrf_from(summary),
            "digest": re.search(r'name="digest" value="([0-9a-f]+)"', summary).group(1)}
    client.post(f"/marking/{sub.id}/release", data=data)
    again = client.post(f"/marking/{sub.id}/release", data=data, follow_redirects=True)
    assert "This work has already been decided." in again.get_data(as_text=True)
    db.session.expire_all()
    assert len(released(sub.id)) == 1


def test_only_the_learners_assessors_reach_the_summary(client, auth, people, tasks, make_user,
                                                       make_cohort):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    stranger = make_user("assessor")
    make_cohort("Other group", learners=[make_user("learner")], assessors=[stranger])
    auth.login(stranger)
    assert client.get(f"/marking/{sub.id}/release").status_code == 403
    page = client.get("/marking/").get_data(as_text=True)
    assert client.post(f"/marking/{sub.id}/release", data={
        "csrf_token": csrf_from(page), "digest": "x"}).status_code == 403


def test_released_work_is_found_with_the_released_filter(client, auth, people, tasks):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    marking_form(client, sub, task)
    confirm(client, sub)
    client.get("/marking/")  # reads the flash message ("released to Maya Patel")
    waiting = client.get("/marking/").get_data(as_text=True)
    assert "Maya Patel" not in waiting and "Nothing is waiting for you" in waiting
    found = unescape(client.get("/marking/?status=released").get_data(as_text=True))
    assert "1 answer with a released decision" in found
    row = found[found.index("<tbody>"):]
    assert "Maya Patel" in row and task.title in row and "Achieved" in row
    assert "Asha Assessor" in row
    assert f'href="/marking/{sub.id}"' in row
    assert '<option value="released" selected>Released</option>' in found


def test_the_marking_page_lists_the_learners_released_decisions(client, auth, people, tasks):
    first, second = tasks[0], tasks[1]
    done = submitted(people["learner"], first)
    auth.login(people["assessor"])
    marking_form(client, done, first)
    confirm(client, done)
    waiting = submitted(people["learner"], second)
    page = unescape(client.get(f"/marking/{waiting.id}").get_data(as_text=True))
    history = page[page.index("Decisions released to Maya Patel"):]
    assert f'<a href="/marking/{done.id}">{first.title}</a>' in history
    assert "Achieved" in history and "Asha Assessor" in history


def test_the_released_filter_runs_a_fixed_number_of_statements(app, client, auth, make_user,
                                                               make_cohort, tasks,
                                                               count_queries):
    task = tasks[0]
    assessor = make_user("assessor")
    learners = [make_user("learner") for _ in range(6)]
    make_cohort("Big", learners=learners, assessors=[assessor])
    auth.login(assessor)

    def decide(learner):
        sub = submitted(learner, task)
        marking_form(client, sub, task)
        confirm(client, sub)

    decide(learners[0])
    with app.app_context(), count_queries() as few:
        client.get("/marking/?status=released")
    for learner in learners[1:]:
        decide(learner)
    with app.app_context(), count_queries() as many:
        page = client.get("/marking/?status=released").get_data(as_text=True)
    assert "6 answers with a released decision" in page
    assert many.count == few.count


def test_each_error_links_to_its_field_with_the_message_beside_it(client, auth, people, tasks):
    task = tasks[1]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    refused = client.post(f"/marking/{sub.id}", data={
        "csrf_token": csrf_from(page), "feedback": " ", "actions": "", "action": "release"})
    assert refused.status_code == 422
    html = unescape(refused.get_data(as_text=True))
    start = html.index('class="error-summary"')
    summary = html[start:html.index("</ul>", start)]
    criterion = task.criteria[0]
    number = client.application.extensions["catalog"].criterion(criterion).number
    assert (f'<a href="#met-1-yes">{number}: Decide met or not yet met for this criterion.</a>'
            in summary)
    assert '<a href="#feedback">Write overall feedback for the learner.</a>' in summary
    assert "#actions" not in summary  # the outcome is not known yet
    # Each link's target exists, and its message is beside it, tied to it for screen readers.
    assert 'id="met-1-yes"' in html and 'id="feedback"' in html
    assert 'aria-describedby="guide-1 met-1-error"' in html
    assert 'id="met-1-error"><span class="visually-hidden">Error: </span>Decide met' in html
    assert 'aria-describedby="feedback-error" aria-invalid="true"' in html
    assert db.session.scalar(select(Decision)) is None


def test_a_referral_without_actions_links_to_the_actions_box(client, auth, people, tasks):
    task = tasks[0]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    refused = marking_form(client, sub, task, met=False, actions=" ")
    html = unescape(refused.get_data(as_text=True))
    assert ('<a href="#actions">Say what the learner must do before resubmitting.</a>'
            in html)
    assert 'aria-describedby="actions-hint actions-error" aria-invalid="true"' in html
    # What was typed is kept.
    assert f"Comment on {task.criteria[0]}</textarea>" in html


def test_the_reasons_to_refer_can_be_inserted_into_the_criterions_comment(client, auth,
                                                                          people, tasks):
    task = tasks[1]
    sub = submitted(people["learner"], task)
    auth.login(people["assessor"])
    page = client.get(f"/marking/{sub.id}").get_data(as_text=True)
    number = client.application.extensions["catalog"].criterion(task.criteria[0]).number
    guide = task.marking_guide[0]
    assert len(guide.refer_when) == 2
    for reason in guide.refer_when:
        shown = reason.replace("'", "&#39;").replace('"', "&#34;")
        # Listed as text to copy; the button (shown by site.js) names the reason and the box.
        assert (f'<li>{shown} <button type="button" class="button button-secondary '
                f'insert-reason" data-insert-into="comment-1" data-text="{shown}" '
                f'aria-label="Insert: {shown} (into the comment on {number})" hidden>'
                f'Insert</button></li>') in page
    assert 'id="comment-1"' in page
