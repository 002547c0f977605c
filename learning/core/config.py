"""Configuration read from the environment, with a development and a test variant."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from learning.core.dates import DEFAULT_ZONE
from learning.core.in_use import APP_NAME

BASE_DIR = Path(__file__).resolve().parents[2]


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


#: A shorter SECRET_KEY could be guessed offline from one signed cookie.
MIN_SECRET_KEY_BYTES = 32


class ConfigError(RuntimeError):
    """Raised at start-up when the environment is not fit to run the app."""


#: Failed logins one client address may make, across every account, before it must wait.
#: Only failures count, so a classroom behind one address can all log in at 9 o'clock.
LOGIN_LIMIT_PER_ADDRESS = "20 per minute; 100 per hour"


def _rate_limit(name: str, default: str) -> str:
    """A Flask-Limiter rate such as "20 per minute; 100 per hour", checked at start-up."""
    from limits import parse_many

    value = os.environ.get(name) or default
    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a rate such as {default!r}, not {value!r}.") from exc
    return value


def _redis_url() -> str:
    """REDIS_URL, if set: the shared store for per-address login limits."""
    url = os.environ.get("REDIS_URL", "").strip()
    if url and not url.startswith(("redis://", "rediss://", "redis+unix://")):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or redis+unix:// "
                          "(for example redis://127.0.0.1:6379/0).")
    return url


def _number(name: str, default: float, least: float, whole: bool = True) -> float:
    """A number from the environment, at least `least`; a clear message otherwise."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = None
    if value is None or value != value or value < least or value == float("inf"):
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name} must be {kind} of at least {least:g}, not {raw!r}.")
    return value


#: The outbox's defaults (docs/deploy.md): how long one SMTP step may wait, how often a job is
#: tried, the first wait after a failure (doubling each time, at most an hour), how long a
#: worker's claim on a job lasts, and how long finished jobs are kept.
MAIL_TIMEOUT = 10
JOB_MAX_ATTEMPTS = 8
JOB_BACKOFF_SECONDS = 30
JOB_LEASE_SECONDS = 300
JOB_KEEP_DAYS = 30
#: An enrolment CSV with more learners than this is imported by the worker, not the request.
CSV_IMPORT_INLINE_ROWS = 200


def _jobs() -> dict:
    return {
        "MAIL_TIMEOUT": _number("MAIL_TIMEOUT", MAIL_TIMEOUT, 1, whole=False),
        "JOB_MAX_ATTEMPTS": int(_number("JOB_MAX_ATTEMPTS", JOB_MAX_ATTEMPTS, 1)),
        "JOB_BACKOFF_SECONDS": _number("JOB_BACKOFF_SECONDS", JOB_BACKOFF_SECONDS, 1,
                                       whole=False),
        "JOB_LEASE_SECONDS": _number("JOB_LEASE_SECONDS", JOB_LEASE_SECONDS, 30, whole=False),
        "JOB_KEEP_DAYS": _number("JOB_KEEP_DAYS", JOB_KEEP_DAYS, 1, whole=False),
    }


#: A METRICS_TOKEN shorter than this could be guessed.
MIN_METRICS_TOKEN_CHARS = 24


def _operations() -> dict:
    """Serving behind a proxy, and /metrics (docs/deploy.md): both off unless configured."""
    token = os.environ.get("METRICS_TOKEN", "").strip()
    if token and len(token) < MIN_METRICS_TOKEN_CHARS:
        raise ConfigError(f"METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_CHARS} "
                          "characters (python -c 'import secrets; print(secrets.token_hex(24))').")
    return {
        # How many reverse proxies (nginx...) stand in front of the app and set
        # X-Forwarded-For and X-Forwarded-Proto; 0: those headers are never believed.
        "TRUSTED_PROXY_COUNT": int(_number("TRUSTED_PROXY_COUNT", 0, 0)),
        # /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; unset: 404.
        "METRICS_TOKEN": token,
    }


def _instance_secret(instance_path: Path) -> str:
    """Development only: a random key kept in instance/, so logins survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def database_url(raw: str | None, default: str) -> str:
    """The SQLAlchemy URL for DATABASE_URL.

    postgres:// and postgresql:// (as hosting platforms write them) mean PostgreSQL through
    psycopg 3; anything SQLAlchemy cannot read is refused with a message, not a traceback.
    """
    url = (raw or "").strip() or default
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    try:
        make_url(url)
    except ArgumentError as exc:
        raise ConfigError("DATABASE_URL is not a database address SQLAlchemy understands. "
                          "Use for example postgresql+psycopg://user:password@host/joinedup "
                          "or sqlite:////srv/joinedup/joined-up.sqlite3.") from exc
    return url


#: Requests (a CSV upload, an essay) larger than this are refused before they are read,
#: with a 413 page that states the limit (core/errors.py).
MAX_CONTENT_LENGTH = 3 * 1024 * 1024

#: How long an SQLite connection waits for another's write lock before it gives up.
SQLITE_BUSY_TIMEOUT_MS = 5000


def engine_options(url: str) -> dict:
    """Connection settings: PostgreSQL connections are checked before use (no error after
    the server restarts), give up connecting after 5 seconds instead of hanging, and name
    themselves, so a restore can see that the app is running (core/in_use.py)."""
    if url.startswith("sqlite"):
        return {}
    return {"pool_pre_ping": True,
            "connect_args": {"connect_timeout": 5, "application_name": APP_NAME}}


def from_environment(instance_path: Path, serving: bool = True) -> dict:
    """Build the settings dict for the app from environment variables.

    `serving`: False for the flask commands that answer no requests (content check, db
    upgrade, quiz import...). Only sessions and CSRF tokens are signed with SECRET_KEY (links
    carry random tokens, stored hashed), so those commands run without one; a key that is set
    but too short is refused everywhere, being a mistake to put right.
    """
    env = os.environ.get("APP_ENV", "production").strip().lower()
    if env not in {"production", "development"}:
        raise ConfigError(f"APP_ENV must be 'production' or 'development', not {env!r}.")
    secret = os.environ.get("SECRET_KEY", "")
    if not secret and env == "production" and not serving:
        secret = secrets.token_hex(32)  # signs nothing that outlives this command
    if not secret:
        if env == "production":
            raise ConfigError(
                "SECRET_KEY is not set. In production set SECRET_KEY to a long random value "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set APP_ENV=development to use a generated development key."
            )
        secret = _instance_secret(instance_path)
    if env == "production" and len(secret.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"SECRET_KEY is {len(secret.encode())} bytes long; in production it must be at "
            f"least {MIN_SECRET_KEY_BYTES} (sessions and set-password links are signed with "
            "it). Make one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    default_db = f"sqlite:///{instance_path / 'joined-up.sqlite3'}"
    return {
        "APP_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": (url := database_url(os.environ.get("DATABASE_URL"),
                                                        default_db)),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        "CONTENT_DIR": Path(os.environ.get("CONTENT_DIR") or BASE_DIR / "content"),
        "QUIZ_DIR": Path(os.environ.get("QUIZ_DIR") or BASE_DIR / "quizzes"),
        "SELF_REGISTRATION": _bool("SELF_REGISTRATION", False),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        # Remember-me lasts at most 30 days; staff sessions end after SESSION_IDLE_HOURS idle.
        "REMEMBER_ME_DAYS": min(int(os.environ.get("REMEMBER_ME_DAYS") or 30), 30),
        "REMEMBER_COOKIE_DURATION": timedelta(days=min(
            int(os.environ.get("REMEMBER_ME_DAYS") or 30), 30)),
        "SESSION_IDLE_HOURS": float(os.environ.get("SESSION_IDLE_HOURS") or 8),
        # A form's CSRF token lasts as long as the login session, not Flask-WTF's default
        # hour: a learner may write an answer for longer than that and must not lose it.
        "WTF_CSRF_TIME_LIMIT": None,
        "SITE_NAME": os.environ.get("SITE_NAME", "Joined Up"),
        "DISPLAY_TIMEZONE": os.environ.get("DISPLAY_TIMEZONE") or DEFAULT_ZONE,
        "SQLALCHEMY_RECORD_QUERIES": False,
        # Email is optional: without MAIL_SERVER, notifications stay in the app (and are
        # logged to the console in development).
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT") or 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "joined-up@localhost"),
        "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:5000"),
        # The outbox (`flask worker`): SMTP timeout, attempts, back-off, lease, keeping.
        **_jobs(),
        **_operations(),
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        # The completion matrix CSV above this many rows is prepared by the worker, and kept
        # for its requester this many days (learning/reports/export_jobs.py).
        "EXPORT_INLINE_ROWS": int(os.environ.get("EXPORT_INLINE_ROWS") or 2000),
        "EXPORT_KEEP_DAYS": float(os.environ.get("EXPORT_KEEP_DAYS") or 7),
        # CSV imports of more learners than this run in the worker, with a progress page.
        "CSV_IMPORT_INLINE_ROWS": int(_number("CSV_IMPORT_INLINE_ROWS", CSV_IMPORT_INLINE_ROWS,
                                              1)),
        # Working days an answer may wait for a first decision before it shows as overdue.
        "MARKING_TARGET_WORKING_DAYS": int(os.environ.get("MARKING_TARGET_WORKING_DAYS") or 10),
        # Per-address login limits are counted in Redis when REDIS_URL is set, so every app
        # server shares them; in each process's memory otherwise.
        "REDIS_URL": _redis_url(),
        "LOGIN_LIMIT_PER_ADDRESS": _rate_limit("LOGIN_LIMIT_PER_ADDRESS",
                                               LOGIN_LIMIT_PER_ADDRESS),
        # Password checks running at once on this server, across every worker (each costs
        # about 100 ms of a core); 0 means half the cores (people/password_checks.py). Their
        # lock files live in PASSWORD_CHECK_DIR, on this server's own disk.
        "PASSWORD_CHECKS_AT_ONCE": int(os.environ.get("PASSWORD_CHECKS_AT_ONCE") or 0),
        "PASSWORD_CHECK_DIR": os.environ.get("PASSWORD_CHECK_DIR")
        or str(instance_path / "password-checks"),
    }


def settings_for_tests(database_url: str, **overrides) -> dict:
    """Settings for the test suite: a fixed key, CSRF on (tests post real tokens)."""
    settings = {
        "APP_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "CONTENT_DIR": BASE_DIR / "content",
        "QUIZ_DIR": BASE_DIR / "quizzes",
        "SELF_REGISTRATION": False,
        "SESSION_COOKIE_SECURE": False,
        "SITE_NAME": "Joined Up",
        "DISPLAY_TIMEZONE": DEFAULT_ZONE,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_RECORD_QUERIES": True,
        "REMEMBER_ME_DAYS": 30,
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "SESSION_IDLE_HOURS": 8,
        "REDIS_URL": "",
        "LOGIN_LIMIT_PER_ADDRESS": LOGIN_LIMIT_PER_ADDRESS,
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,  # as in production: a 413, not a parse
        # A short SMTP timeout: a test's mail server that never answers fails in a second.
        "MAIL_TIMEOUT": 1,
        "JOB_MAX_ATTEMPTS": JOB_MAX_ATTEMPTS,
        "JOB_BACKOFF_SECONDS": JOB_BACKOFF_SECONDS,
        "JOB_LEASE_SECONDS": JOB_LEASE_SECONDS,
        "JOB_KEEP_DAYS": JOB_KEEP_DAYS,
        "CSV_IMPORT_INLINE_ROWS": CSV_IMPORT_INLINE_ROWS,
    }
    settings.update(overrides)
    return settings
