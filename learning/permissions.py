"""Who may do what: role checks for views and per-object checks for records."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import exists, select

from learning.extensions import db
from learning.models import CohortStaff, Enrolment, Role, User

#: Roles that may look at other people's learning records (scoped further per object).
STAFF_ROLES = (Role.ASSESSOR, Role.IQA, Role.COORDINATOR, Role.ADMIN)


def role_required(*roles: Role) -> Callable:
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


def sees_all_learners(user: User) -> bool:
    """Coordinators and admins see every cohort (a centre has one coordinator team)."""
    return user.has_role(Role.COORDINATOR, Role.ADMIN)


def staffed_cohort_ids(user: User) -> select:
    """The cohorts an assessor or IQA is assigned to, as a subquery."""
    return select(CohortStaff.cohort_id).where(CohortStaff.user_id == user.id)


def can_view_learner(viewer: User, learner: User) -> bool:
    """A learner sees themselves; assessors and IQAs their cohorts' learners; coordinators all."""
    if not viewer.is_authenticated:
        return False
    if viewer.id == learner.id:
        return True
    if sees_all_learners(viewer):
        return True
    if not viewer.has_role(Role.ASSESSOR, Role.IQA):
        return False
    shared = exists().where(
        Enrolment.user_id == learner.id,
        Enrolment.left_at.is_(None),
        Enrolment.cohort_id.in_(staffed_cohort_ids(viewer)),
    )
    return bool(db.session.scalar(select(shared)))


def require(condition: bool) -> None:
    """Abort with 403 unless the per-object check passed."""
    if not condition:
        abort(403)
