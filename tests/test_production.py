"""Production settings: HSTS over HTTPS, a long enough SECRET_KEY or no start at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from learning import HSTS_MAX_AGE, create_app
from learning.core.config import ConfigError, from_environment

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 32


@pytest.fixture
def production_env(tmp_path, monkeypatch):
    for name in ("SESSION_COOKIE_SECURE", "REDIS_URL", "LOGIN_LIMIT_PER_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    return tmp_path


def test_hsts_only_when_session_cookies_are_secure(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers  # tests: plain HTTP
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert client.get("/login").headers["Strict-Transport-Security"] == (
        f"max-age={HSTS_MAX_AGE}")
    assert HSTS_MAX_AGE == 31_536_000  # a year


def test_production_sends_hsts_and_development_does_not(production_env, monkeypatch):
    production = create_app(from_environment(production_env))
    assert production.test_client().get("/login").headers["Strict-Transport-Security"]
    monkeypatch.setenv("APP_ENV", "development")
    development = create_app(from_environment(production_env))
    assert "Strict-Transport-Security" not in development.test_client().get("/login").headers
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")  # plain HTTP on a closed network
    closed = create_app(from_environment(production_env))
    assert "Strict-Transport-Security" not in closed.test_client().get("/login").headers


@pytest.mark.parametrize("key", ["short", "x" * 31, "é" * 15])  # é is two bytes: 30 bytes
def test_production_refuses_a_short_secret_key(production_env, monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match=r"SECRET_KEY is \d+ bytes long; in production it "
                                          r"must be at least 32"):
        from_environment(production_env)


def test_a_32_byte_key_is_enough_and_development_may_use_any(production_env, monkeypatch):
    assert from_environment(production_env)["SECRET_KEY"] == GOOD_KEY
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("SECRET_KEY", "dev")
    assert from_environment(production_env)["SECRET_KEY"] == "dev"


@pytest.mark.parametrize("command", [
    [sys.executable, "-c", "import app"],  # what gunicorn app:app does first
    [sys.executable, "-m", "flask", "--app", "app", "routes"],
    # gunicorn's master stops too, instead of starting failing workers for ever
    [str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "-b", "127.0.0.1:0",
     "--no-control-socket", "app:app"],
])
def test_start_up_stops_with_a_message_and_no_traceback(tmp_path, command):
    env = {name: value for name, value in os.environ.items()
           if name not in ("SECRET_KEY", "REDIS_URL", "LOGIN_LIMIT_PER_ADDRESS")}
    env.update(APP_ENV="production", SECRET_KEY="too-short-a-key",
               DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode != 0
    assert "Joined Up cannot start: SECRET_KEY is 15 bytes long" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_the_outbox_settings_have_defaults_and_refuse_nonsense(production_env, monkeypatch):
    settings = from_environment(production_env)
    assert (settings["MAIL_TIMEOUT"], settings["JOB_MAX_ATTEMPTS"],
            settings["JOB_BACKOFF_SECONDS"], settings["JOB_LEASE_SECONDS"]) == (10, 8, 30, 300)
    monkeypatch.setenv("MAIL_TIMEOUT", "2.5")
    monkeypatch.setenv("JOB_MAX_ATTEMPTS", "3")
    assert (from_environment(production_env)["MAIL_TIMEOUT"],
            from_environment(production_env)["JOB_MAX_ATTEMPTS"]) == (2.5, 3)
    for name, value in (("JOB_MAX_ATTEMPTS", "0"), ("JOB_MAX_ATTEMPTS", "2.5"),
                        ("JOB_BACKOFF_SECONDS", "nan"), ("MAIL_TIMEOUT", "soon"),
                        ("JOB_LEASE_SECONDS", "5"), ("JOB_BACKOFF_SECONDS", "inf")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=f"^{name} must be .* not '{value}'"):
            from_environment(production_env)
        monkeypatch.delenv(name)


def _production_without_a_key(tmp_path) -> dict:
    env = {name: value for name, value in os.environ.items()
           if name not in ("SECRET_KEY", "REDIS_URL", "LOGIN_LIMIT_PER_ADDRESS")}
    env.update(APP_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
               CONTENT_DIR=str(ROOT / "tests" / "data" / "content"),
               QUIZ_DIR=str(ROOT / "tests" / "data" / "quizzes"))
    return env


@pytest.mark.parametrize("command", [
    ["content", "check"], ["db", "upgrade"], ["routes"]])
def test_commands_that_serve_no_requests_need_no_secret_key(tmp_path, command):
    """The README's commands work as written: only serving signs sessions and forms."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command], cwd=ROOT,
                          env=_production_without_a_key(tmp_path), capture_output=True,
                          text=True, timeout=120, check=False)
    assert "SECRET_KEY" not in done.stderr + done.stdout
    assert done.returncode == 0, done.stderr


def test_serving_still_needs_a_secret_key(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT,
                          env=_production_without_a_key(tmp_path), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "Joined Up cannot start: SECRET_KEY is not set" in done.stderr
