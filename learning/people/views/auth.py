"""Logging in and out, changing a password, and optional self-registration."""

import math
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from learning.core import errors
from learning.core.extensions import db
from learning.people import accounts, password_checks, sessions, throttle
from learning.people.forms.auth import ChangePasswordForm, LoginForm, RegisterForm
from learning.people.models import Role

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only follow `next` to a path on this site, never to another host.

    A control character or a backslash means the link is not one of ours: a line break cannot
    go in a Location header, and browsers read a backslash as a slash and drop tabs and line
    breaks, so `/<backslash>evil.test` and `/<tab>/evil.test` would go to another host.
    """
    if not target or "\\" in target or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Email and password login; failures never say whether the email exists.

    Failed logins are limited per address tried (accounts.authenticate) and, across
    accounts, per client address (init_app below).
    """
    if current_user.is_authenticated:
        # Where a login that succeeded in the background (static/js/site.js) goes next.
        return redirect(_safe_next(request.args.get("next")) or url_for("home.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.TooManyAttempts as exc:
            form.password.errors.append(str(exc))
            return _login_page(form, 429, exc.wait)
        except password_checks.Busy as exc:
            return _busy(form, exc)
        if user is not None:
            sessions.log_in(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")) or url_for("home.dashboard"))
        form.password.errors.append("The email address or password is not correct.")
    return _login_page(form, 422 if form.errors else 200)


def _login_page(form: LoginForm, status: int, wait: timedelta | None = None):
    response = make_response(render_template(
        "auth/login.html", form=form, registration=current_app.config["SELF_REGISTRATION"]),
        status)
    if wait is not None:
        response.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return response


def _busy(form: LoginForm, busy: password_checks.Busy):
    """Every password-check turn is taken (a whole class logging in at once): 503.

    With JavaScript the login page never shows this: it sent the form in the background and
    tries again by itself after Retry-After (static/js/site.js). Without, the person is asked
    to send it again; the password is never sent back to the browser.
    """
    if request.headers.get("X-Login-Script"):
        # The page's script only needs to know when to try again: the cheapest answer, as a
        # storm brings many of these.
        response = make_response("", 503)
        response.headers["Retry-After"] = str(busy.retry_after)
    else:
        form.password.errors.append(
            "Many people are logging in at this moment, so your password could not be "
            f"checked yet. Wait {busy.retry_after} seconds, enter your password again and "
            "press Log in.")
        response = _login_page(form, 503, timedelta(seconds=busy.retry_after))
    response.headers["X-Login-Busy"] = "1"
    return response


def _failed(response) -> bool:
    # Only failures count against a client address: a classroom behind one address (a
    # college's network) can all log in at once. A successful login is a redirect, and a
    # login turned away as busy (503) had no password checked.
    return response.status_code not in (302, 503)


def _address_refused(limit: RequestLimit):
    """The login page, saying how long this client address must wait (for any account)."""
    wait = timedelta(seconds=max(1.0, limit.reset_at - time.time()))
    form = LoginForm()
    form.password.errors = ["Too many failed logins from your network. Try again in "
                            f"{throttle.in_words(wait)}."]
    return _login_page(form, 429, wait)


def init_app(app) -> None:
    """Limit failed logins per client address across accounts (LOGIN_LIMIT_PER_ADDRESS).

    Counted by Flask-Limiter in Redis when REDIS_URL is set, so every app server shares the
    count, and in this process's memory otherwise (or while Redis does not answer). The
    address is request.remote_addr: X-Forwarded-For is never read here, as anyone can send
    it; behind a proxy, the app must be told which proxy to believe (docs/deploy.md).

    A Limiter per app, not one in core.extensions: its storage belongs to the instance, and
    a second app in the same process (tests build several) would take over the first's.
    """
    limiter = Limiter(get_remote_address, app=app,
                      storage_uri=app.config.get("REDIS_URL") or "memory://",
                      key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "joined-up"),
                      in_memory_fallback_enabled=True)
    app.extensions["login_limiter"] = limiter
    app.view_functions["auth.login"] = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
        deduct_when=_failed, on_breach=_address_refused)(login)

    @app.errorhandler(password_checks.Busy)
    def busy(exc: password_checks.Busy):
        """Setting or changing a password waited long for a turn: a 503 that says so."""
        response = errors.page(503, "Many people are logging in at this moment. Go back "
                               f"and send the form again in {exc.retry_after} seconds.")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response


@bp.post("/logout")
def logout():
    """Log out (POST, so another site cannot log you out with a link).

    The session row ends, so a copy of this browser's cookies no longer logs anyone in.
    """
    if current_user.is_authenticated:
        sessions.end(current_user.session_token, "logout")
        db.session.commit()
    logout_user()
    flash("You have logged out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change your own password; the current one is needed."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.new.data)
        except accounts.WeakPassword as exc:
            form.new.errors.append(str(exc))
        except accounts.AccountError as exc:
            form.current.errors.append(str(exc))
        else:
            # Every session of this person ended with the change (a stolen cookie stops
            # working); this browser carries on in a fresh one.
            sessions.log_in(current_user._get_current_object())
            flash("Your password has been changed. You have been logged out everywhere else.",
                  "success")
            return redirect(url_for("home.dashboard"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Learner self-registration, only when SELF_REGISTRATION is switched on."""
    if not current_app.config["SELF_REGISTRATION"]:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.name.data, form.password.data,
                                        [Role.LEARNER])
        except accounts.WeakPassword as exc:
            form.password.errors.append(str(exc))
        except accounts.AccountError:
            # Same words whether or not the address is taken would be ideal, but a person
            # who owns the address needs to know to log in instead.
            form.email.errors.append("You may already have an account: try logging in, "
                                     "or ask your training coordinator.")
        else:
            db.session.commit()
            sessions.log_in(user)
            flash("Your account has been created.", "success")
            return redirect(url_for("home.dashboard"))
    return render_template("auth/register.html", form=form), 422 if form.errors else 200
