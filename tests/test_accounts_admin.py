"""Administrators add a person with any roles, and run centres, from the admin pages and
with `flask centres`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.people.models import Centre, CentreMember, Invitation, User
from tests.conftest import post_form


def _audits(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_admin_adds_an_assessor_who_gets_a_link_to_set_a_password(client, auth, make_user,
                                                                     make_centre):
    centre = make_centre("North College")
    auth.login(make_user("admin"))
    page = client.get("/admin/people/new")
    assert page.status_code == 200 and "<h1>Add a person</h1>" in page.get_data(as_text=True)
    done = post_form(client, "/admin/people/new", data={
        "name": "Sam Patel", "email": " Sam.Patel@Example.org ", "roles": ["assessor", "iqa"],
        "centres": [str(centre.id)]})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "/set-password/" in html
    assert done.headers["Cache-Control"] == "no-store"
    person = db.session.scalar(select(User).where(User.email == "sam.patel@example.org"))
    assert person.name == "Sam Patel" and person.password_hash is None
    assert {r.role for r in person.roles} == {"assessor", "iqa"}
    assert db.session.scalar(select(CentreMember.centre_id).where(
        CentreMember.user_id == person.id)) == centre.id
    assert db.session.scalar(select(Invitation).where(Invitation.user_id == person.id))
    assert [e.subject_id for e in _audits("user.create")] == [str(person.id)]


def test_adding_a_person_says_what_is_wrong_and_keeps_what_was_typed(client, auth, make_user):
    auth.login(make_user("admin"))
    taken = make_user("learner", email="taken@example.org")
    response = post_form(client, "/admin/people/new", data={
        "name": "Sam Patel", "email": taken.email, "roles": []})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose at least one role." in html and 'href="#roles"' in html
    response = post_form(client, "/admin/people/new", data={
        "name": "Sam Patel", "email": taken.email, "roles": ["learner"]})
    html = response.get_data(as_text=True)
    assert "An account with the email taken@example.org already exists." in html
    assert 'value="Sam Patel"' in html
    assert db.session.scalar(select(User).where(User.name == "Sam Patel")) is None


@pytest.mark.parametrize("role", ["coordinator", "assessor", "learner"])
def test_only_admins_add_people_and_run_centres(client, auth, make_user, make_centre, role):
    centre = make_centre("North College")
    auth.login(make_user(role))
    assert client.get("/admin/people/new").status_code == 403
    assert client.get("/admin/centres").status_code == 403
    assert post_form(client, "/dashboard", "/admin/centres",
                     data={"name": "Sneaky"}).status_code == 403
    assert post_form(client, "/dashboard", f"/admin/centres/{centre.id}/archive"
                     ).status_code == 403
    assert db.session.scalar(select(Centre).where(Centre.name == "Sneaky")) is None


def test_an_admin_adds_renames_and_archives_centres(client, auth, make_user, make_centre):
    make_centre("North College")
    coordinator = make_user("coordinator")
    auth.login(make_user("admin"))
    assert post_form(client, "/admin/centres", "/admin/centres",
                     data={"name": "  South   College "}).status_code == 302
    south = db.session.scalar(select(Centre).where(Centre.name == "South College"))
    refused = post_form(client, "/admin/centres", "/admin/centres",
                        data={"name": "north college"})
    assert refused.status_code == 422
    assert "There is already a centre called north college." in refused.get_data(as_text=True)
    clash = post_form(client, "/admin/centres", f"/admin/centres/{south.id}/rename",
                      data={"name": "North College"})
    assert clash.status_code == 422 and f'href="#name-{south.id}"' in clash.get_data(
        as_text=True)
    assert post_form(client, "/admin/centres", f"/admin/centres/{south.id}/rename",
                     data={"name": "South Training"}).status_code == 302
    assert post_form(client, "/admin/centres", f"/admin/centres/{south.id}/archive"
                     ).status_code == 302
    db.session.refresh(south)
    assert south.name == "South Training" and south.archived
    assert [len(_audits(a)) for a in ("centre.create", "centre.rename", "centre.archive")] == [
        1, 1, 1]
    # An archived centre is not offered for a new cohort.
    db.session.add(CentreMember(centre_id=south.id, user_id=coordinator.id))
    db.session.commit()
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert ">North College</option>" in page and ">South Training</option>" not in page
    post_form(client, "/admin/centres", f"/admin/centres/{south.id}/unarchive")
    assert ">South Training</option>" in client.get("/cohorts/new").get_data(as_text=True)


def test_flask_centres_commands(runner, app):
    def run(*args):
        return runner.invoke(args=["centres", *args])

    assert run("create", "West College").exit_code == 0
    assert "already a centre" in run("create", "west college").output
    assert run("rename", "West College", "West Training").exit_code == 0
    assert run("archive", "West Training").exit_code == 0
    listed = run("list")
    assert listed.exit_code == 0 and "West Training  (archived)" in listed.output
    missing = run("archive", "Nowhere")
    assert missing.exit_code != 0 and "There is no centre called 'Nowhere'" in missing.output


def test_two_admins_adding_the_same_centre_or_person_at_once_get_a_message(
        client, auth, make_user, monkeypatch):
    """The check before the insert cannot see a row another request is adding at that moment:
    the database's unique name and email decide, and the loser is told, never a 500."""
    from learning.people import accounts, centres

    auth.login(make_user("admin"))
    make_user("learner", email="taken@example.org")
    db.session.add(Centre(name="North College"))
    db.session.commit()
    monkeypatch.setattr(centres, "_taken", lambda name, other_than=None: False)
    monkeypatch.setattr(accounts, "find_by_email", lambda email: None)
    late = post_form(client, "/admin/centres", "/admin/centres", data={"name": "North College"})
    assert late.status_code == 422
    assert "There is already a centre called North College." in late.get_data(as_text=True)
    late = post_form(client, "/admin/people/new", data={
        "name": "Sam Patel", "email": "taken@example.org", "roles": ["learner"]})
    assert late.status_code == 422
    assert "An account with the email taken@example.org already exists." in late.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Centre)) == 1
