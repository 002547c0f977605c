"""Sessions end when they should: logout, password change or reset, deactivation, roles."""

from __future__ import annotations

from datetime import timedelta

from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people import admin as people
from learning.people import invitations, sessions
from learning.people.models import LoginSession, Role
from tests.conftest import PASSWORD, csrf_from, post_form


def login(client, user, remember=False):
    page = client.get("/login")
    data = {"email": user.email, "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True))}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def remember_cookie(client):
    return client.get_cookie("remember_token")


def replay(app, cookie) -> bool:
    """A fresh browser that only has a copy of the remember-me cookie: is it let in?"""
    thief = app.test_client()
    thief.set_cookie("remember_token", cookie.value)
    return thief.get("/dashboard").status_code == 200


def test_a_replayed_remember_cookie_is_refused_after_logout(app, client, auth, make_user):
    learner = make_user(Role.LEARNER)
    login(client, learner, remember=True)
    cookie = remember_cookie(client)
    assert cookie is not None and replay(app, cookie)  # the cookie works while logged in
    auth.logout()
    assert not logged_in(client)
    assert not replay(app, cookie)


def test_logging_out_ends_only_that_session(app, make_user, auth):
    learner = make_user(Role.LEARNER)
    phone, laptop = app.test_client(), app.test_client()
    login(phone, learner)
    login(laptop, learner)
    post_form(phone, "/dashboard", "/logout")
    assert not logged_in(phone)
    assert logged_in(laptop)


def test_changing_the_password_ends_every_other_session(app, make_user):
    learner = make_user(Role.LEARNER)
    phone, laptop = app.test_client(), app.test_client()
    login(phone, learner, remember=True)
    cookie = remember_cookie(phone)
    login(laptop, learner)
    response = post_form(laptop, "/account/password", data={
        "current": PASSWORD, "new": "a-brand-new-long-passphrase",
        "confirm": "a-brand-new-long-passphrase"})
    assert response.status_code == 302
    assert logged_in(laptop)  # the browser that changed it carries on
    assert not logged_in(phone)
    assert not replay(app, cookie)


def test_a_password_reset_link_ends_every_session(app, client, make_user):
    learner = make_user(Role.LEARNER)
    login(client, learner, remember=True)
    cookie = remember_cookie(client)
    link = invitations.issue(learner, invitations.RESET)
    db.session.commit()
    invitations.use(link.token, "another-long-passphrase-2026")
    assert not logged_in(client)
    assert not replay(app, cookie)


def test_deactivation_ends_every_session(client, make_user):
    learner = make_user(Role.LEARNER)
    admin = make_user(Role.ADMIN)
    login(client, learner)
    people.set_active(learner, False, admin)
    db.session.commit()
    people.set_active(learner, True, admin)  # even once reactivated, the old session is gone
    db.session.commit()
    assert not logged_in(client)


def test_removing_a_role_ends_every_session(client, make_user):
    person = make_user(roles=[Role.ASSESSOR, Role.LEARNER])
    admin = make_user(Role.ADMIN)
    login(client, person)
    people.set_roles(person, {Role.LEARNER}, admin)
    db.session.commit()
    assert not logged_in(client)


def test_granting_a_role_keeps_the_session(client, make_user):
    person = make_user(Role.LEARNER)
    admin = make_user(Role.ADMIN)
    login(client, person)
    people.set_roles(person, {Role.LEARNER, Role.ASSESSOR}, admin)
    db.session.commit()
    assert logged_in(client)


def _age(user, **delta):
    row = db.session.query(LoginSession).filter_by(user_id=user.id).one()
    row.last_seen_at = utcnow() - timedelta(**delta)
    db.session.commit()


def test_a_staff_session_ends_after_eight_idle_hours(client, make_user):
    assessor = make_user(Role.ASSESSOR)
    login(client, assessor, remember=True)
    _age(assessor, hours=7, minutes=50)
    assert logged_in(client)
    _age(assessor, hours=8, minutes=10)
    assert not logged_in(client)


def test_a_learner_who_chose_remember_me_stays_for_weeks_not_more(client, make_user):
    learner = make_user(Role.LEARNER)
    login(client, learner, remember=True)
    _age(learner, days=20)
    assert logged_in(client)
    row = db.session.query(LoginSession).filter_by(user_id=learner.id).one()
    row.created_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert not logged_in(client)


def test_a_learner_without_remember_me_ends_after_eight_idle_hours(client, make_user):
    learner = make_user(Role.LEARNER)
    login(client, learner)
    _age(learner, hours=9)
    assert not logged_in(client)


def test_the_remember_cookie_lasts_at_most_30_days(client, make_user):
    learner = make_user(Role.LEARNER)
    response = login(client, learner, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("remember_token="))
    cookie = remember_cookie(client)
    assert cookie.expires is not None
    lifetime = cookie.expires - utcnow().timestamp() if isinstance(cookie.expires, float) \
        else cookie.expires.timestamp() - utcnow().timestamp()
    assert timedelta(days=29) < timedelta(seconds=lifetime) <= timedelta(days=30, minutes=1), \
        header


def test_only_the_exact_session_secret_logs_in(app, make_user):
    learner = make_user(Role.LEARNER)
    with app.test_request_context():
        token = sessions.start(learner, remember=False)
        db.session.commit()
        row_id, secret = token.split(":")
        assert sessions.load(token, sessions.Limits()) == learner
        assert sessions.load(str(learner.id), sessions.Limits()) is None  # old-style cookie
        assert sessions.load(f"{row_id}:{secret[:-1]}x", sessions.Limits()) is None
        assert sessions.load(f"{row_id}:", sessions.Limits()) is None


def test_the_remember_limit_cannot_be_configured_above_30_days():
    assert sessions.limits_from({"REMEMBER_ME_DAYS": 365}).remember == timedelta(days=30)
