"""A login storm cannot take every core: password checks run a few at a time per server."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import func, select

from learning.core.extensions import db
from learning.people import accounts, password_checks
from learning.people.models import LoginThrottle
from tests.conftest import PASSWORD, csrf_from
from tests.test_races import _together


class Gauge:
    """Stands in for the hash function: counts how many run at once (each takes a while)."""

    def __init__(self, real, seconds: float = 0.15):
        self.real, self.seconds = real, seconds
        self.now = self.most = self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, *args):
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        time.sleep(self.seconds)
        with self.lock:
            self.now -= 1
        return self.real(*args)


def test_no_more_logins_check_a_password_at_once_than_the_server_allows(
        app, make_user, monkeypatch):
    people = [make_user("learner") for _ in range(6)]
    monkeypatch.setitem(app.config, "PASSWORD_CHECKS_AT_ONCE", 2)
    gauge = Gauge(accounts.check_password_hash)
    monkeypatch.setattr(accounts, "check_password_hash", gauge)
    results = _together(app, [lambda e=p.email: accounts.authenticate(e, PASSWORD)
                              for p in people])
    assert gauge.most == 2, results
    logged_in = [r for r in results if getattr(r, "email", None)]
    busy = [r for r in results if isinstance(r, password_checks.Busy)]
    assert len(logged_in) >= 2 and len(logged_in) + len(busy) == len(people), results
    assert gauge.calls == len(logged_in)  # a busy login checked nothing...
    tried = db.session.scalar(select(func.count()).select_from(LoginThrottle))
    assert tried == len(logged_in)  # ...and counted no try against its address


def test_only_one_login_waits_for_a_turn_the_others_are_told_at_once(app, make_user,
                                                                     monkeypatch):
    """A waiting sync worker serves nobody: two waiting would leave fewer for every page."""
    people = [make_user("learner") for _ in range(3)]
    monkeypatch.setitem(app.config, "PASSWORD_CHECKS_AT_ONCE", 1)
    monkeypatch.setattr(password_checks, "LOGIN_WAIT", 5)
    holding, took = threading.Event(), {}

    def hold():  # another login's check, for half a second
        with app.app_context(), password_checks.turn():
            holding.set()
            time.sleep(0.5)

    def login(email):
        started = time.monotonic()
        try:
            return accounts.authenticate(email, PASSWORD)
        finally:
            took[email] = time.monotonic() - started

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    results = _together(app, [lambda e=p.email: login(e) for p in people])
    holder.join()
    waited = [p for p, r in zip(people, results, strict=True) if getattr(r, "email", None)]
    told = [p for p, r in zip(people, results, strict=True)
            if isinstance(r, password_checks.Busy)]
    assert len(waited) == 1 and len(told) == 2, results
    assert all(took[p.email] < 0.4 for p in told)  # not kept waiting for the turn


def test_new_passwords_wait_for_a_turn_rather_than_fail(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_CHECKS_AT_ONCE", 1)
    gauge = Gauge(lambda password: "hash", seconds=0.05)
    monkeypatch.setattr(password_checks, "generate_password_hash", gauge)
    results = _together(app, [lambda: password_checks.make("a-long-new-password")] * 4)
    assert results == ["hash"] * 4 and gauge.most == 1


def _post_login(client, email: str, password: str = PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


@pytest.fixture
def every_turn_taken(app, monkeypatch):
    """The server's one turn is held (a storm of logins), and logins do not wait for it."""
    monkeypatch.setitem(app.config, "PASSWORD_CHECKS_AT_ONCE", 1)
    monkeypatch.setattr(password_checks, "LOGIN_WAIT", 0)
    with password_checks.turn():
        yield


def test_a_busy_login_says_so_and_costs_no_try(app, client, make_user, every_turn_taken):
    learner = make_user("learner")
    for _ in range(25):  # more than the per-address limit of failed logins (20 a minute)
        response = _post_login(client, learner.email, "a-secret-the-page-must-not-echo")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["X-Login-Busy"] == "1"
    assert int(response.headers["Retry-After"]) == password_checks.RETRY_AFTER
    assert "Many people are logging in at this moment" in html
    assert 'href="#password"' in html  # the error summary leads to the password field
    assert f'value="{learner.email}"' in html  # the email stays; the password is never echoed
    assert "a-secret-the-page-must-not-echo" not in html
    assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 0


def test_the_login_pages_script_gets_a_short_busy_answer(app, client, make_user,
                                                        every_turn_taken):
    learner = make_user("learner")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", headers={"X-Login-Script": "1"}, data={
        "email": learner.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 503 and response.headers["X-Login-Busy"] == "1"
    assert response.headers["Retry-After"] == str(password_checks.RETRY_AFTER)
    assert response.get_data() == b""


def test_after_a_busy_moment_the_same_browser_logs_in(app, client, make_user, monkeypatch):
    learner = make_user("learner")
    monkeypatch.setitem(app.config, "PASSWORD_CHECKS_AT_ONCE", 1)
    monkeypatch.setattr(password_checks, "LOGIN_WAIT", 0)
    with password_checks.turn():
        for _ in range(25):
            assert _post_login(client, learner.email).status_code == 503
    response = _post_login(client, learner.email)
    assert response.status_code == 302  # neither the address nor the account was held back
    # The page's script then opens the login page, which sends a logged-in visitor on.
    assert client.get("/login?next=/course").headers["Location"] == "/course"
    assert client.get("/login?next=//evil.example").headers["Location"] == "/dashboard"


def test_a_password_change_that_cannot_get_a_turn_gets_a_busy_page(
        app, client, auth, make_user, every_turn_taken, monkeypatch):
    learner = make_user("learner")
    monkeypatch.setattr(password_checks, "LONG_WAIT", 0)
    monkeypatch.setattr(accounts, "authenticate", lambda email, password: learner)
    auth.login(learner)
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post("/account/password", data={
        "csrf_token": csrf_from(page), "current": PASSWORD,
        "new": "a-brand-new-long-passphrase", "confirm": "a-brand-new-long-passphrase"})
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "Many people are logging in at this moment" in html
    assert re.search(r"<h1[^>]*>", html)
