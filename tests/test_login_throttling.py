"""Login throttling: per account (counted atomically, a growing wait) and per client address."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people import accounts, throttle
from learning.people.models import LoginThrottle
from tests.conftest import PASSWORD, csrf_from

# ---- the rule, pure ----


def test_the_wait_doubles_from_30_seconds_up_to_10_minutes():
    waits = [throttle.wait_after(n) for n in range(throttle.MAX_FAILURES - 1,
                                                     throttle.MAX_FAILURES + 8)]
    assert waits == [None, timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2),
                     timedelta(minutes=4), timedelta(minutes=8), timedelta(minutes=10),
                     timedelta(minutes=10), timedelta(minutes=10)]
    assert throttle.wait_after(10_000) == throttle.LONGEST_WAIT
    # A count must outlive the longest wait, or waiting it out would also reset the count.
    assert throttle.LONGEST_WAIT <= throttle.FAILURE_WINDOW


@pytest.mark.parametrize(("seconds", "words"), [
    (0.2, "1 second"), (1, "1 second"), (29.5, "30 seconds"), (30, "30 seconds"),
    (60, "1 minute"), (61, "2 minutes"), (119, "2 minutes"), (600, "10 minutes"),
])
def test_waits_in_plain_words(seconds, words):
    assert throttle.in_words(timedelta(seconds=seconds)) == words


# ---- per account ----


def _fail(email: str, now, times: int = 1) -> None:
    for _ in range(times):
        assert accounts.authenticate(email, "wrong-password-again", now=now) is None


def test_after_the_free_tries_each_wait_doubles_and_a_success_starts_again(app, make_user):
    user = make_user("learner")
    start = utcnow()
    _fail(user.email, start, throttle.MAX_FAILURES)
    with pytest.raises(accounts.TooManyAttempts) as refused:
        accounts.authenticate(user.email, PASSWORD, now=start)  # even the right password
    assert refused.value.wait == timedelta(seconds=30)
    assert "Try again in 30 seconds." in str(refused.value)
    later = start + timedelta(seconds=30)
    _fail(user.email, later)  # waited: checked (and wrong again), so the next wait is a minute
    with pytest.raises(accounts.TooManyAttempts) as refused:
        accounts.authenticate(user.email, PASSWORD, now=later)
    assert "Try again in 1 minute." in str(refused.value)
    later += timedelta(minutes=1)
    assert accounts.authenticate(user.email, PASSWORD, now=later) is not None
    row = db.session.get(LoginThrottle, accounts._email_key(user.email))
    assert (row.tries, row.wait_until) == (0, None)  # the real person is back to a fresh count
    _fail(user.email, later, throttle.MAX_FAILURES - 1)  # nine more free tries, then a wait
    with pytest.raises(accounts.TooManyAttempts):
        _fail(user.email, later, 2)


def test_an_unknown_address_gets_the_same_answer_as_a_real_one(app, make_user):
    user = make_user("learner")
    now = utcnow()
    answers = []
    for email in (user.email, "nobody@example.test"):
        _fail(email, now, throttle.MAX_FAILURES)
        with pytest.raises(accounts.TooManyAttempts) as refused:
            accounts.authenticate(email, "wrong-password-again", now=now)
        answers.append((str(refused.value), refused.value.wait))
    assert answers[0] == answers[1]


def test_old_counts_are_cleared_when_a_new_address_is_counted(app):
    now = utcnow()
    _fail("old@example.test", now - throttle.FAILURE_WINDOW - timedelta(minutes=1))
    _fail("recent@example.test", now - timedelta(minutes=1))
    _fail("new@example.test", now)
    keys = set(db.session.scalars(select(LoginThrottle.key)))
    assert keys == {accounts._email_key("recent@example.test"),
                    accounts._email_key("new@example.test")}


def test_other_databases_count_the_same_way(app, make_user, monkeypatch):
    """Databases without INSERT ... ON CONFLICT add the counter row by insert-and-see."""
    monkeypatch.setattr(throttle, "_dialect_name", lambda: "other")
    user = make_user("learner")
    now = utcnow()
    _fail(user.email, now, throttle.MAX_FAILURES)
    with pytest.raises(accounts.TooManyAttempts):
        accounts.authenticate(user.email, PASSWORD, now=now)
    assert db.session.get(LoginThrottle, accounts._email_key(user.email)).tries == 10


def _burst(app, email: str, size: int, password: str = "wrong-password-again") -> list[int]:
    """`size` logins for one address from `size` client addresses, all released together."""
    go = threading.Barrier(size, timeout=30)
    statuses: list[int] = []
    problems: list[BaseException] = []

    def one(i: int) -> None:
        try:
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"192.0.2.{i + 1}"  # a spread-out attacker
            token = csrf_from(client.get("/login").get_data(as_text=True))
            go.wait()
            response = client.post("/login", data={"email": email, "password": password,
                                                   "csrf_token": token})
            statuses.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            problems.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not problems, problems
    return statuses


def test_24_concurrent_wrong_passwords_for_one_account_check_at_most_10(
        app, make_user, monkeypatch):
    """Counted from audit rows read before the check, all 24 were checked (20 on PostgreSQL);
    a try is now claimed with a conditional UPDATE before its password is checked."""
    user = make_user("learner")
    checks: list[str] = []
    lock = threading.Lock()

    def counting(pwhash, password):
        with lock:
            checks.append(pwhash)
        return check_password_hash(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    statuses = _burst(app, user.email, 24)
    assert len(statuses) == 24
    # At most MAX_FAILURES, the guarantee; here exactly that many, as all 24 arrive within the
    # first wait.
    assert len(checks) == throttle.MAX_FAILURES
    assert statuses.count(422) == len(checks)  # every checked try was told "not correct"
    assert statuses.count(429) == 24 - len(checks)  # every other one was told to wait
    row = db.session.get(LoginThrottle, accounts._email_key(user.email))
    db.session.refresh(row)
    assert row.tries == len(checks) and row.wait_until is not None


# ---- per client address, across accounts (Flask-Limiter) ----


def _login(client, email: str, password: str = "wrong-password-again", **headers):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, headers=headers)


def test_failed_logins_from_one_address_are_limited_across_accounts(app, make_user,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "5 per minute")
    user = make_user("learner")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for n in range(5):  # one try each at five accounts: no per-account count comes near
        assert _login(attacker, f"person{n}@example.test").status_code == 422
    refused = _login(attacker, user.email, PASSWORD)  # even a right password now waits
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    wait = int(refused.headers["Retry-After"])  # the rest of the minute the five fell in
    assert 0 < wait <= 61
    assert ("Too many failed logins from your network. Try again in "
            f"{throttle.in_words(timedelta(seconds=wait))}.") in html
    # X-Forwarded-For is anyone's to send: it neither names another address nor resets it.
    spoofed = _login(attacker, user.email, PASSWORD, **{"X-Forwarded-For": "198.51.100.9"})
    assert spoofed.status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.8"
    assert _login(elsewhere, user.email, PASSWORD).status_code == 302


def test_a_classroom_behind_one_address_can_all_log_in(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "5 per minute")
    for _ in range(12):  # more learners than the limit: successful logins do not count
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "203.0.113.20"
        assert _login(client, make_user("learner").email, PASSWORD).status_code == 302


def _redis_or_skip() -> str:
    import os

    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not answering at {url} ({exc.__class__.__name__}): the count "
                    "shared between app servers is not tested (set TEST_REDIS_URL)")
    return url


def test_app_servers_share_the_per_address_count_through_redis(app, database_url):
    """Two apps (two servers) with the same REDIS_URL: failures on one count on the other."""
    import secrets

    import redis

    from learning import create_app
    from tests.conftest import fixture_settings

    url = _redis_or_skip()
    prefix = f"joined-up-test-{secrets.token_hex(4)}"  # shared Redis: touch only our keys
    servers = [create_app(fixture_settings(database_url, REDIS_URL=url,
                                           RATELIMIT_KEY_PREFIX=prefix,
                                           LOGIN_LIMIT_PER_ADDRESS="3 per minute"))
               for _ in range(2)]
    try:
        clients = [server.test_client() for server in servers]
        for client in clients:
            client.environ_base["REMOTE_ADDR"] = "203.0.113.30"
        assert _login(clients[0], "a@example.test").status_code == 422
        assert _login(clients[1], "b@example.test").status_code == 422
        assert _login(clients[0], "c@example.test").status_code == 422
        assert _login(clients[1], "d@example.test").status_code == 429  # 4th, on server 2
    finally:
        store = redis.Redis.from_url(url)
        for key in store.scan_iter(match=f"*{prefix}*"):
            store.delete(key)
        for server in servers:
            with server.app_context():
                db.session.remove()
                db.engine.dispose()


def test_logins_go_on_when_redis_does_not_answer(app, database_url, make_user, caplog):
    """Redis down: each server counts in its own memory meanwhile, and says so in the log."""
    from learning import create_app
    from tests.conftest import fixture_settings

    server = create_app(fixture_settings(database_url, REDIS_URL="redis://127.0.0.1:1/0",
                                         LOGIN_LIMIT_PER_ADDRESS="2 per minute"))
    try:
        client = server.test_client()
        user = make_user("learner")
        assert _login(client, "a@example.test").status_code == 422
        assert "falling back to in-memory storage" in caplog.text
        assert _login(client, "b@example.test").status_code == 422
        assert _login(client, user.email, PASSWORD).status_code == 429  # still limited
    finally:
        with server.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(("name", "value", "words"), [
    ("LOGIN_LIMIT_PER_ADDRESS", "lots", "must be a rate such as"),
    ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL must start with redis://"),
])
def test_login_limit_settings_are_checked_at_start_up(tmp_path, monkeypatch, name, value,
                                                      words):
    from learning.core.config import ConfigError, from_environment

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=words):
        from_environment(tmp_path)


def test_login_limit_settings_from_the_environment(tmp_path, monkeypatch):
    from learning.core.config import from_environment

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("LOGIN_LIMIT_PER_ADDRESS", raising=False)
    assert from_environment(tmp_path)["REDIS_URL"] == ""
    assert from_environment(tmp_path)["LOGIN_LIMIT_PER_ADDRESS"] == "20 per minute; 100 per hour"
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/2")
    monkeypatch.setenv("LOGIN_LIMIT_PER_ADDRESS", "60 per minute")
    settings = from_environment(tmp_path)
    assert (settings["REDIS_URL"], settings["LOGIN_LIMIT_PER_ADDRESS"]) == (
        "redis://cache.internal:6379/2", "60 per minute")
