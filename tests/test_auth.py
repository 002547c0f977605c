"""Logging in and out, failed logins, password change, self-registration."""

import pytest
from sqlalchemy import select

from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.people.models import User
from tests.conftest import PASSWORD, csrf_from, post_form


def test_login_lands_learner_on_dashboard(client, auth, make_user):
    user = make_user("learner", name="Priya Shah")
    response = auth.login(user)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Hello, Priya Shah" in page
    assert db.session.get(User, user.id).last_login_at is not None


def test_login_email_is_case_insensitive(client, auth, make_user):
    make_user("learner", email="sam@example.test")
    assert auth.login("  SAM@Example.test ").status_code == 302


def test_wrong_password_and_unknown_email_give_the_same_message(client, auth, make_user):
    user = make_user("learner")
    wrong = auth.login(user, "not-the-password")
    unknown = auth.login("nobody@example.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 422
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert "The email address or password is not correct." in html
        assert "Error: Log in" in html  # the title says there is an error
        assert 'href="#password"' in html  # the error summary links to the field
    assert client.get("/dashboard").status_code == 302  # still logged out


def test_deactivated_account_cannot_log_in(client, auth, make_user):
    user = make_user("learner", active=False)
    assert auth.login(user).status_code == 422


def test_login_needs_csrf_token(client, make_user):
    user = make_user("learner")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)


def test_next_parameter_only_follows_local_paths(client, make_user):
    user = make_user("learner")
    for target, expected in (("/course", "/course"), ("https://evil.test/", "/dashboard"),
                             ("//evil.test/", "/dashboard")):
        client.get("/logout")
        page = client.get(f"/login?next={target}")
        from tests.conftest import csrf_from
        token = csrf_from(page.get_data(as_text=True))
        response = client.post(f"/login?next={target}", data={
            "email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.headers["Location"] == expected
        post_form(client, "/dashboard", "/logout")


@pytest.mark.parametrize("target", ["/dashboard%0d%0aSet-Cookie:%20x=1", "/course%0a",
                                    "/%09/evil.test", "/%5cevil.test", "/\\evil.test",
                                    "/course%7f", "/%1b[31m"])
def test_next_with_a_control_character_or_backslash_goes_to_the_dashboard(client, make_user,
                                                                          target):
    user = make_user("learner")
    token = csrf_from(client.get(f"/login?next={target}").get_data(as_text=True))
    response = client.post(f"/login?next={target}", data={
        "email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_logout_is_a_post_and_ends_the_session(client, auth, make_user):
    auth.login(make_user("learner"))
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_change_password(client, auth, make_user):
    user = make_user("learner")
    auth.login(user)
    bad = post_form(client, "/account/password", data={
        "current": "wrong-password-here", "new": "a-brand-new-password",
        "confirm": "a-brand-new-password"})
    assert "Your current password is not correct." in bad.get_data(as_text=True)
    short = post_form(client, "/account/password", data={
        "current": PASSWORD, "new": "short", "confirm": "short"})
    assert "at least 12 characters" in short.get_data(as_text=True)
    ok = post_form(client, "/account/password", data={
        "current": PASSWORD, "new": "a-brand-new-password", "confirm": "a-brand-new-password"})
    assert ok.status_code == 302
    auth.logout()
    assert auth.login(user, PASSWORD).status_code == 422
    assert auth.login(user, "a-brand-new-password").status_code == 302
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "user.change_password" in actions


def test_registration_is_off_by_default(client):
    assert client.get("/register").status_code == 404
    assert "Create an account" not in client.get("/login").get_data(as_text=True)


def test_registration_when_switched_on(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "SELF_REGISTRATION", True)
    response = post_form(client, "/register", data={
        "name": "Kemi Adeyemi", "email": "kemi@example.org",
        "password": "long-enough-password", "confirm": "long-enough-password"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "kemi@example.org"))
    assert user is not None and user.has_role("learner") and not user.has_role("admin")
    auth.logout()
    dup = post_form(client, "/register", data={
        "name": "Someone", "email": "kemi@example.org",
        "password": "long-enough-password", "confirm": "long-enough-password"})
    assert dup.status_code == 422
    assert "You may already have an account" in dup.get_data(as_text=True)


def test_repeated_failures_are_slowed_down_without_revealing_accounts(client, auth, make_user):
    from learning.people import accounts

    user = make_user("learner")
    for _ in range(accounts.MAX_FAILURES):
        auth.login(user, "wrong-password-again")
        auth.login("nobody@example.org", "wrong-password-again")
    for who in (user, "nobody@example.org"):  # the same answer for a real and a made-up email
        refused = auth.login(who, "wrong-password-again")
        assert "Too many failed attempts" in refused.get_data(as_text=True)
    locked = auth.login(user)  # even the right password waits out the window
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    events = db.session.scalars(select(AuditEvent.subject_id).where(
        AuditEvent.action == "login.failed")).all()
    assert user.email not in " ".join(events)  # addresses are not stored in clear


def test_failures_expire(client, auth, make_user):
    from datetime import timedelta

    from learning.people import accounts

    user = make_user("learner")
    for _ in range(accounts.MAX_FAILURES):
        auth.login(user, "wrong-password-again")
    for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "login.failed")):
        event.at -= accounts.FAILURE_WINDOW + timedelta(seconds=1)
    db.session.commit()
    assert auth.login(user).status_code == 302
