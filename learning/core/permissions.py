"""Role checks for views: require a role, or abort with 403 when a per-object check fails."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str) -> Callable:
    """Require a logged-in user holding at least one of the roles; otherwise 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require(condition: bool) -> None:
    """Abort with 403 unless the per-object check passed."""
    if not condition:
        abort(403)
