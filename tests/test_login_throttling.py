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
