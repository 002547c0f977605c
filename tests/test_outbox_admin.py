"""The outbox page: administrators see waiting and failed email (never a set-password link)
and try a failed one again, once however many press at once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from learning.core import jobs
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.people.notifications import notify
from tests.conftest import Auth, csrf_from, post_form
from tests.test_races import _hold_inside, _together


def _fail_all(error: str = "SMTPServerDisconnected: Connection unexpectedly closed") -> None:
    db.session.execute(update(Job).values(status="failed", attempts=8, last_error=error))
    db.session.commit()


@pytest.fixture
def failed(app, make_user, deliver_outbox):
    """One email that failed for good."""
    notify(make_user("learner", email="amira@example.org"), "feedback",
           "Feedback on 'Working together' is ready.", "/tasks/working-together/feedback")
    _fail_all()
    return db.session.scalar(select(Job))


def _retry(client, job_id: int):
    return post_form(client, "/admin/outbox", f"/admin/outbox/{job_id}/retry")


@pytest.mark.parametrize("role", ["learner", "assessor", "iqa", "coordinator"])
def test_only_administrators_see_the_outbox_or_retry(client, auth, make_user, failed, role):
    """Guard: role_required(Role.ADMIN) on both views (coordinators manage people, but not
    the site's email)."""
    auth.login(make_user(role))
    assert client.get("/admin/outbox").status_code == 403
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    response = client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token})
    assert response.status_code == 403
    db.session.refresh(failed)
    assert failed.status == "failed"
    assert "/admin/outbox" not in client.get("/dashboard").get_data(as_text=True)


def test_administrators_see_failed_and_waiting_email_with_links_hidden(
        client, auth, make_user, failed):
    admin = make_user("admin")
    learner = make_user("learner", email="ben@example.org")
    auth.login(admin)
    page = client.get(f"/admin/people/{learner.id}").get_data(as_text=True)
    made = client.post(f"/admin/people/{learner.id}/reset-link",
                       data={"csrf_token": csrf_from(page)}).get_data(as_text=True)
    token = re.search(r"/set-password/([\w-]+)", made).group(1)
    assert "on its way to ben@example.org" in made
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert 'aria-current="page">Outbox</a>' in html
    assert "1 failed, 1 waiting" in html
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert "Email to amira@example.org: Feedback on &#39;Working together&#39; is ready." in \
        rows[0] and "Failed" in rows[0] and "Connection unexpectedly closed" in rows[0]
    assert "Try again" in rows[0]
    assert "Email to ben@example.org: Use this link to set a new password" in rows[1]
    assert "(a set-password link, hidden)" in rows[1] and "Waiting" in rows[1]
    assert "Try again" not in rows[1]
    assert token not in html
    failed_only = client.get("/admin/outbox?show=failed").get_data(as_text=True)
    assert "amira@example.org" in failed_only and "ben@example.org" not in failed_only


def test_a_link_in_any_text_is_hidden_on_the_page(client, auth, make_user, deliver_outbox):
    """However a set-password link got into a message or an error, admins never see it."""
    notify(make_user("learner"), "note", "Try http://x.test/set-password/abcDEF123-_x now.")
    _fail_all("SMTPDataError: rejected /set-password/abcDEF123-_x")
    auth.login(make_user("admin"))
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "abcDEF123" not in html and "Try http://x.test/set-password/(hidden) now." in html
    assert "rejected /set-password/(hidden)" in html


def test_retrying_a_failed_email_sends_it_and_is_audited(client, auth, make_user, failed,
                                                         deliver_outbox):
    admin = make_user("admin")
    auth.login(admin)
    response = _retry(client, failed.id)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/outbox")
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "the worker will try it again in a moment" in html
    db.session.refresh(failed)
    assert (failed.status, failed.attempts) == ("pending", 0)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.retry"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (admin.id, "Job",
                                                                      str(failed.id))
    assert "A failed email tried again" in client.get("/admin/audit").get_data(as_text=True)
    assert [m["To"] for m in deliver_outbox()] == ["amira@example.org"]
    again = _retry(client, failed.id)  # sent now: nothing to retry
    assert again.status_code == 302
    assert "has not failed" in client.get("/admin/outbox").get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "job.retry")) == 1


def test_two_administrators_retrying_at_once_give_one_retry(app, make_user, failed,
                                                            monkeypatch):
    """Guard: the conditional UPDATE in jobs.retry (only a job still failed changes)."""
    clients = []
    for _ in range(2):
        c = app.test_client()
        Auth(c).login(make_user("admin"))
        token = csrf_from(c.get("/admin/outbox").get_data(as_text=True))
        clients.append((c, token))
    _hold_inside(monkeypatch, jobs, "retry")  # both are past their checks before either acts

    def press(c, token):
        return lambda: c.post(f"/admin/outbox/{failed.id}/retry",
                              data={"csrf_token": token}).status_code

    results = _together(app, [press(c, t) for c, t in clients])
    assert results == [302, 302]
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "job.retry")) == 1
    db.session.refresh(failed)
    assert (failed.status, failed.attempts) == ("pending", 0)


def test_the_outbox_comes_a_page_at_a_time(client, auth, make_user, deliver_outbox):
    learner = make_user("learner")
    for n in range(30):
        notify(learner, "feedback", f"Message number {n}.", "/x")
    db.session.commit()
    auth.login(make_user("admin"))
    first = client.get("/admin/outbox").get_data(as_text=True)
    assert "30 emails waiting or failed" in first and "page 1 of 2" in first
    assert first.count("Message number") == 25
    second = client.get("/admin/outbox?page=2").get_data(as_text=True)
    assert second.count("Message number") == 5 and "Message number 0." in second


def test_an_unknown_choice_is_named_not_a_500(client, auth, make_user):
    auth.login(make_user("admin"))
    response = client.get("/admin/outbox?show=everything")
    assert response.status_code == 422
    assert "There is a problem" in response.get_data(as_text=True)


def test_retrying_a_job_that_does_not_exist_is_404(client, auth, make_user):
    auth.login(make_user("admin"))
    assert _retry(client, 999).status_code == 404
