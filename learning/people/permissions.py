"""Who may see whom: the cohorts a member of staff can see, and per-learner checks."""

from __future__ import annotations

from sqlalchemy import Select, exists, false, select, union

from learning.core.extensions import db
from learning.people.models import CentreMember, Cohort, CohortStaff, Enrolment, Role, User

#: Roles that may look at other people's learning records (scoped further per object).
STAFF_ROLES = (Role.ASSESSOR, Role.IQA, Role.COORDINATOR, Role.ADMIN)


def staffed_cohort_ids(user: User) -> Select[int]:
    """The cohorts an assessor or IQA is assigned to, as a subquery."""
    return select(CohortStaff.cohort_id).where(CohortStaff.user_id == user.id)


def centre_cohort_ids(user: User) -> Select[int]:
    """The cohorts of the centres a coordinator belongs to, as a subquery."""
    return select(Cohort.id).where(Cohort.centre_id.in_(
        select(CentreMember.centre_id).where(CentreMember.user_id == user.id)))


def visible_cohort_ids(user: User):
    """Cohorts whose learners this person may see, as a subquery; None means all (admins).

    Coordinators see their centres' cohorts; assessors and IQAs the cohorts assigned to them.
    """
    if user.has_role(Role.ADMIN):
        return None
    parts = []
    if user.has_role(Role.COORDINATOR):
        parts.append(centre_cohort_ids(user))
    if user.has_role(Role.ASSESSOR, Role.IQA):
        parts.append(staffed_cohort_ids(user))
    if not parts:
        return select(Cohort.id).where(false())
    return parts[0] if len(parts) == 1 else union(*parts)


def can_view_learner(viewer: User, learner: User) -> bool:
    """A learner sees themselves; staff see learners currently in cohorts visible to them."""
    if not viewer.is_authenticated:
        return False
    if viewer.id == learner.id:
        return True
    visible = visible_cohort_ids(viewer)
    if visible is None:
        return True
    shared = exists().where(
        Enrolment.user_id == learner.id,
        Enrolment.left_at.is_(None),
        Enrolment.cohort_id.in_(visible),
    )
    return bool(db.session.scalar(select(shared)))
