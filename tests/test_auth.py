"""Logging in and out, failed logins, password change, self-registration."""

import re

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


def test_repeated_failures_are_slowed_down_without_revealing_accounts(
        app, client, auth, make_user, monkeypatch):
    from learning.people import throttle

    # The count per account, not per client address (tests/test_login_throttling.py).
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "1000 per minute")
    user = make_user("learner")
    for _ in range(throttle.MAX_FAILURES):
        auth.login(user, "wrong-password-again")
        auth.login("nobody@example.org", "wrong-password-again")
    refusals = []
    for who in (user, "nobody@example.org"):  # the same answer for a real and a made-up email
        refused = auth.login(who, "wrong-password-again")
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])  # 30 seconds from the tenth failure
        assert 0 < wait <= 30
        html = refused.get_data(as_text=True)
        assert "Too many failed attempts" in html
        assert f"Try again in {wait} seconds." in html
        refusals.append(html.replace(getattr(who, "email", who), "")
                        .replace(f"{wait} seconds", "N seconds"))
    assert refusals[0] == refusals[1]
    locked = auth.login(user)  # even the right password waits (seconds, not 15 minutes)
    assert re.search(r"Try again in \d+ seconds\.", locked.get_data(as_text=True))
    events = db.session.scalars(select(AuditEvent.subject_id).where(
        AuditEvent.action == "login.failed")).all()
    assert user.email not in " ".join(events)  # addresses are not stored in clear


def test_failures_expire(client, auth, make_user):
    from datetime import timedelta

    from learning.people import throttle
    from learning.people.models import LoginThrottle

    user = make_user("learner")
    for _ in range(throttle.MAX_FAILURES):
        auth.login(user, "wrong-password-again")
    assert "Try again in" in auth.login(user).get_data(as_text=True)
    for row in db.session.scalars(select(LoginThrottle)):
        row.last_try_at -= throttle.FAILURE_WINDOW + timedelta(seconds=1)
        row.wait_until -= throttle.FAILURE_WINDOW + timedelta(seconds=1)
    db.session.commit()
    assert auth.login(user).status_code == 302


def test_every_kind_of_account_costs_exactly_one_hash_check_of_the_same_cost(
        app, make_user, monkeypatch):
    """An invited account (no password yet) used to answer without any hash check, ten times
    faster than a real one: the time told an attacker which addresses had accounts."""
    from werkzeug.security import check_password_hash, generate_password_hash

    from learning.people import accounts

    checked: list[str] = []

    def counting(pwhash, password):
        checked.append(pwhash)
        return check_password_hash(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    normal = make_user("learner")
    invited = make_user("learner")
    invited.password_hash = None
    inactive = make_user("learner", active=False)
    db.session.commit()
    kinds = {"normal": normal.email, "invited": invited.email, "deactivated": inactive.email,
             "unknown": "nobody@example.test"}
    for kind, email in kinds.items():
        checked.clear()
        assert accounts.authenticate(email, "not-the-password") is None
        assert len(checked) == 1, f"{kind}: {len(checked)} hash checks"
        if kind in ("invited", "unknown"):
            assert checked == [accounts._DUMMY_HASH], kind
    # The stand-in hash costs what a newly set password costs (same method and parameters).
    method = accounts._DUMMY_HASH.split("$", 1)[0]
    assert method == generate_password_hash("anything-at-all").split("$", 1)[0]
    checked.clear()
    assert accounts.authenticate(normal.email, PASSWORD) is not None
    assert len(checked) == 1
