"""New passwords: at least 12 characters and hard to guess (zxcvbn), wherever one is chosen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.cli import DEMO_PASSWORD, DEMO_USERS
from learning.core.extensions import db
from learning.people import invitations, passwords
from learning.people.models import User
from tests.conftest import PASSWORD, csrf_from, post_form

#: Twelve characters or more, and guessed within the first few thousand tries.
WEAK = "password1234"
STRONG = "kettle orbit maple parade"


@pytest.mark.parametrize("password", [
    "password1234", "Password2026!", "qwertyuiop12", "aaaaaaaaaaaa", "123456789012",
    "iloveyou2026", "football1990",
    # A space or a hyphen hides common words from zxcvbn: scored again without them.
    "qwerty qwerty", "summer holiday", "letmein 12345", "my password is", "password-1234",
])
def test_easily_guessed_passwords_are_refused(password):
    wrong = passwords.problem(password)
    assert wrong is not None and wrong.startswith("This password would be easy to guess")
    assert "three or four words" in wrong  # says what to do


@pytest.mark.parametrize("password", [
    STRONG, PASSWORD, "correct-horse-battery", "a brand new long password",
    "long-enough-password", "tea towel lighthouse", "childcare 2026 ducks",
])
def test_a_few_unrelated_words_are_fine(password):
    assert passwords.problem(password) is None


def test_short_passwords_are_refused_with_the_same_advice():
    wrong = passwords.problem("tea lamp")
    assert wrong is not None and "at least 12 characters" in wrong
    assert "three or four words" in wrong


def test_the_advice_asks_for_no_symbols_digits_or_capitals():
    for wrong in (passwords.problem("short"), passwords.problem(WEAK), passwords.HELP):
        assert wrong is not None
        for rule in ("must contain", "symbol)", "a digit", "capital letter", "uppercase"):
            assert rule not in wrong


def test_the_persons_own_name_and_address_count_against_them():
    mine = passwords.personal_words("kemi.adeyemi@college.ac.uk", "Kemi Adeyemi")
    assert {"kemi", "adeyemi", "college"} <= set(mine)
    assert passwords.problem("adeyemi2026!", mine) is not None
    assert passwords.problem("adeyemi2026!") is None  # to a stranger, an unusual word


def test_very_long_passwords_are_judged_by_their_first_72_characters():
    assert passwords.problem("a" * 500) is not None
    assert passwords.problem(STRONG * 10) is None


def test_the_demo_password_passes_for_every_demo_account():
    for email, name, _roles in DEMO_USERS:
        assert passwords.problem(DEMO_PASSWORD, passwords.personal_words(email, name)) is None


# ---- everywhere a password is chosen ----


def test_change_password_refuses_an_easy_one(client, auth, make_user):
    user = make_user("learner")
    auth.login(user)
    weak = post_form(client, "/account/password", data={
        "current": PASSWORD, "new": WEAK, "confirm": WEAK})
    assert weak.status_code == 422
    html = weak.get_data(as_text=True)
    assert "This password would be easy to guess" in html
    assert 'href="#new"' in html  # the error is on the new password, not the current one
    ok = post_form(client, "/account/password", data={
        "current": PASSWORD, "new": STRONG, "confirm": STRONG})
    assert ok.status_code == 302


def test_set_password_link_refuses_an_easy_one(client, make_user):
    user = make_user("learner")
    user.password_hash = None
    link = invitations.issue(user, invitations.INVITE)
    db.session.commit()
    page = client.get(link.path)
    weak = client.post(link.path, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                        "password": WEAK, "confirm": WEAK})
    assert weak.status_code == 422
    assert "This password would be easy to guess" in weak.get_data(as_text=True)
    assert db.session.get(User, user.id).password_hash is None  # the link still works


def test_self_registration_refuses_an_easy_one(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SELF_REGISTRATION", True)
    weak = post_form(client, "/register", data={
        "name": "Kemi Adeyemi", "email": "kemi@example.org", "password": WEAK,
        "confirm": WEAK})
    assert weak.status_code == 422
    html = weak.get_data(as_text=True)
    assert "This password would be easy to guess" in html
    assert "You may already have an account" not in html
    assert db.session.scalar(select(User).where(User.email == "kemi@example.org")) is None


def test_create_user_command_refuses_an_easy_one(runner):
    result = runner.invoke(args=["create-user", "--email", "boss@example.test", "--name",
                                 "Boss", "--role", "admin", "--password", WEAK])
    assert result.exit_code != 0
    assert "This password would be easy to guess" in result.output
    assert db.session.scalar(select(User).where(User.email == "boss@example.test")) is None
