"""X-Forwarded-* headers are believed only when TRUSTED_PROXY_COUNT says a proxy sets them."""

from __future__ import annotations

import pytest
from flask import request

from learning import create_app
from learning.core.config import ConfigError, from_environment
from learning.core.extensions import db
from tests.conftest import PASSWORD, csrf_from, fixture_settings


def _login(client, email: str, password: str = "wrong-password-again", **headers):
    token = csrf_from(client.get("/login", headers=headers).get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, headers=headers)


@pytest.fixture
def make_app(database_url):
    """make_app(proxies) -> an app told that `proxies` proxies stand in front of it, with a
    route that shows the client address and scheme the app believes."""
    made = []

    def make(proxies: int):
        app = create_app(fixture_settings(database_url, TRUSTED_PROXY_COUNT=proxies,
                                          LOGIN_LIMIT_PER_ADDRESS="3 per minute"))

        @app.get("/_address_for_test")
        def address():
            return f"{request.remote_addr} {request.scheme}"

        made.append(app)
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # nginx on this machine
        return client

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# Over HTTPS Flask-WTF also checks that a form comes from this site (browsers send Referer
# to the same origin: Referrer-Policy same-origin).
HTTPS = {"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}
ATTACKER = {"X-Forwarded-For": "203.0.113.50", **HTTPS}
LEARNER = {"X-Forwarded-For": "198.51.100.7", **HTTPS}


def test_behind_a_trusted_proxy_each_client_address_is_limited_on_its_own(make_app,
                                                                          make_user):
    """Every request comes from the proxy; the limit counts the client that the proxy names
    in X-Forwarded-For, so one guesser does not lock out everyone behind the proxy."""
    user = make_user("learner")
    client = make_app(1)
    for n in range(3):
        assert _login(client, f"person{n}@example.test", **ATTACKER).status_code == 422
    assert _login(client, user.email, PASSWORD, **ATTACKER).status_code == 429
    assert _login(client, user.email, PASSWORD, **LEARNER).status_code == 302


def test_without_the_setting_a_forged_forwarded_for_changes_nothing(make_app, make_user):
    user = make_user("learner")
    client = make_app(0)
    for n in range(3):
        assert _login(client, f"person{n}@example.test", **ATTACKER).status_code == 422
    # Another X-Forwarded-For neither escapes the count nor is taken for another client.
    assert _login(client, user.email, PASSWORD, **LEARNER).status_code == 429
    assert client.get("/_address_for_test", headers=LEARNER).text == "127.0.0.1 http"


def test_the_address_the_trusted_proxy_appended_is_the_one_believed(make_app):
    """nginx appends the address it saw to whatever the client sent: with one proxy the
    last entry is believed, and a client's own entries before it are not."""
    client = make_app(1)
    forged = {"X-Forwarded-For": "10.9.9.9, 203.0.113.60", "X-Forwarded-Proto": "https"}
    assert client.get("/_address_for_test", headers=forged).text == "203.0.113.60 https"
    two = {"X-Forwarded-For": "10.9.9.9, 203.0.113.60", "X-Forwarded-Proto": "https, http"}
    assert make_app(2).get("/_address_for_test", headers=two).text == "10.9.9.9 https"


def test_the_setting_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    assert from_environment(tmp_path)["TRUSTED_PROXY_COUNT"] == 0
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "2")
    assert from_environment(tmp_path)["TRUSTED_PROXY_COUNT"] == 2
    for bad in ("-1", "yes", "1.5"):
        monkeypatch.setenv("TRUSTED_PROXY_COUNT", bad)
        with pytest.raises(ConfigError, match="TRUSTED_PROXY_COUNT must be a whole number"):
            from_environment(tmp_path)
