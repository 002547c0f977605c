"""Set-password links: stored as hashes, single use, expiring; the public page; reset links."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.core.types import utcnow
from learning.people import invitations
from learning.people.models import Invitation
from tests.conftest import PASSWORD, csrf_from

NEW_PASSWORD = "a brand new long password"


@pytest.fixture
def invited(make_user):
    """A learner without a password, and a fresh invitation link for them."""
    user = make_user("learner")
    user.password_hash = None
    link = invitations.issue(user, invitations.INVITE)
    db.session.commit()
    return link


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    page = client.get(path)
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                   "password": password,
                                   "confirm": password if confirm is None else confirm})


def test_only_the_hash_is_stored(invited):
    stored = db.session.get(Invitation, invited.invitation.id)
    assert stored.token_hash == hashlib.sha256(invited.token.encode()).hexdigest()
    assert invited.token not in {stored.token_hash, stored.purpose}
    assert stored.expires_at - stored.created_at == timedelta(days=7)


def test_link_path_matches_the_route(app, invited):
    with app.test_request_context():
        assert url_for("invitations.set_password", token=invited.token) == invited.path


def test_set_password_logs_in_and_the_password_works(client, auth, invited):
    page = client.get(invited.path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Set your password" in html and invited.user.email in html
    response = set_password(client, invited.path)
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200  # logged in
    auth.logout()
    assert auth.login(invited.user.email, NEW_PASSWORD).status_code == 302
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.set_password"))


def test_link_works_once(client, auth, invited):
    set_password(client, invited.path)
    auth.logout()
    again = client.get(invited.path)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    with pytest.raises(invitations.LinkError, match="already been used"):
        invitations.use(invited.token, "another long password here")


def test_expired_link_is_refused(client, make_user):
    user = make_user("learner")
    link = invitations.issue(user, invitations.INVITE, now=utcnow() - timedelta(days=8))
    db.session.commit()
    response = client.get(link.path)
    assert response.status_code == 410
    assert "This link expired on" in response.get_data(as_text=True)
    with pytest.raises(invitations.LinkError, match="expired"):
        invitations.use(link.token, NEW_PASSWORD)


def test_unknown_link(client):
    response = client.get("/set-password/not-a-real-token")
    assert response.status_code == 404
    assert "not recognised" in response.get_data(as_text=True)


def test_short_or_mismatched_password_keeps_the_link(client, invited):
    response = set_password(client, invited.path, "short")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least 12 characters" in html and 'href="#password"' in html
    response = set_password(client, invited.path, NEW_PASSWORD, "something else entirely")
    assert response.status_code == 422
    assert "do not match" in response.get_data(as_text=True)
    assert db.session.get(Invitation, invited.invitation.id).used_at is None
    assert set_password(client, invited.path).status_code == 302


def test_deactivated_account_cannot_use_a_link(client, invited):
    invited.user.active = False
    db.session.commit()
    response = client.get(invited.path)
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)


def test_using_one_link_closes_the_older_ones(invited):
    newer = invitations.issue(invited.user, invitations.INVITE)
    db.session.commit()
    invitations.use(newer.token, NEW_PASSWORD)
    with pytest.raises(invitations.LinkError):
        invitations.find(invited.token)


def _reset_link_from_page(client, person) -> str:
    page = client.get(f"/admin/people/{person.id}").get_data(as_text=True)
    response = client.post(f"/admin/people/{person.id}/reset-link",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return re.search(r"http://localhost(/set-password/[\w-]+)",
                     response.get_data(as_text=True)).group(1)


def test_coordinator_makes_a_reset_link_for_their_learner(client, auth, make_user,
                                                            make_centre, make_cohort):
    coordinator, learner = make_user("coordinator"), make_user("learner")
    make_cohort("C", learners=[learner],
                centre=make_centre(coordinators=[coordinator]))
    auth.login(coordinator)
    path = _reset_link_from_page(client, learner)
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == learner.id))
    assert invitation.purpose == "reset"
    assert invitation.expires_at - invitation.created_at == timedelta(hours=24)
    assert invitation.created_by_id == coordinator.id
    auth.logout()
    assert auth.login(learner).status_code == 302  # the old password still works until used
    auth.logout()
    assert set_password(client, path).status_code == 302
    auth.logout()
    assert auth.login(learner, PASSWORD).status_code == 422  # refused: old password gone
    assert auth.login(learner, NEW_PASSWORD).status_code == 302


def test_reset_link_for_someone_without_a_password_is_a_new_invitation(client, auth, make_user,
                                                                      invited):
    auth.login(make_user("admin"))
    _reset_link_from_page(client, invited.user)
    newest = invitations.links_for(invited.user)[0]
    assert newest.purpose == "invite"


def test_links_are_emailed_when_mail_is_configured(app, client, auth, make_user,
                                                   deliver_outbox):
    learner = make_user("learner")
    auth.login(make_user("admin"))
    path = _reset_link_from_page(client, learner)
    sent = deliver_outbox()
    assert [m["To"] for m in sent] == [learner.email]
    body = sent[0].get_content()
    assert "set a new password" in body and f"{path}\n" in body


def test_a_sent_link_is_not_kept_in_the_outbox(app, client, auth, make_user, deliver_outbox):
    """The outbox holds a set-password link only until its email is sent: a copy of the
    database taken afterwards hands out no working link."""
    learner = make_user("learner")
    auth.login(make_user("admin"))
    token = _reset_link_from_page(client, learner).rsplit("/", 1)[1]
    job = db.session.scalar(select(Job))
    assert token in job.payload["link"]  # the worker needs it to send the email
    deliver_outbox()
    db.session.refresh(job)
    assert job.status == "done" and token not in str(job.payload)
