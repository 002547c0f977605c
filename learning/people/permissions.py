"""Who may see whom: the cohorts a member of staff can see, and per-learner checks."""

from __future__ import annotations

from sqlalchemy import Select, exists, false, select, union

from learning.core.extensions import db
from learning.people.models import (
    CentreMember,
    Cohort,
    CohortStaff,
    Enrolment,
    Role,
    User,
    UserRole,
)

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


# ---- centres are a hard boundary ----
# A coordinator acts only on people wholly inside their centres: no enrolment (now or in the
# past), staff assignment or centre membership anywhere else, and no role they do not manage.
# Otherwise enrolling, assigning or importing would pull a person (and their records) across
# the boundary. Moving a person between centres is an administrator's action.

#: Roles a coordinator may enrol, assign or manage; anyone holding another role is admin-only.
COORDINATOR_MANAGES = frozenset({Role.LEARNER, Role.ASSESSOR, Role.IQA})
OTHER_CENTRE = "This person belongs to another centre: ask an administrator."


def actor_centre_ids(actor: User):
    """The centres a coordinator belongs to, as a subquery."""
    return select(CentreMember.centre_id).where(CentreMember.user_id == actor.id)


def _outside(centre_column, centres):
    # A cohort with no centre belongs to nobody's centre: only admins manage it.
    return centre_column.is_(None) | centre_column.not_in(centres)


def ties_outside(person_id_column, centres):
    """SQL condition: the person has an enrolment, assignment or membership outside `centres`."""
    enrolled = exists().where(Enrolment.user_id == person_id_column,
                              Enrolment.cohort_id == Cohort.id,
                              _outside(Cohort.centre_id, centres))
    staffed = exists().where(CohortStaff.user_id == person_id_column,
                             CohortStaff.cohort_id == Cohort.id,
                             _outside(Cohort.centre_id, centres))
    member = exists().where(CentreMember.user_id == person_id_column,
                            CentreMember.centre_id.not_in(centres))
    return enrolled | staffed | member


def ties_inside(person_id_column, centres):
    """SQL condition: the person has an enrolment, assignment or membership inside `centres`."""
    enrolled = exists().where(Enrolment.user_id == person_id_column,
                              Enrolment.cohort_id == Cohort.id, Cohort.centre_id.in_(centres))
    staffed = exists().where(CohortStaff.user_id == person_id_column,
                             CohortStaff.cohort_id == Cohort.id, Cohort.centre_id.in_(centres))
    member = exists().where(CentreMember.user_id == person_id_column,
                            CentreMember.centre_id.in_(centres))
    return enrolled | staffed | member


def holds_only(roles: frozenset[Role]):
    """SQL condition: the person holds no role outside `roles`."""
    return ~exists().where(UserRole.user_id == User.id,
                           UserRole.role.not_in([str(r) for r in roles]))


def within_reach(actor: User, person: User) -> bool:
    """May `actor` enrol, assign or import this existing account? Admins: anyone. A
    coordinator: someone else who holds only roles they manage and has no tie outside their
    centres (a person with no ties yet, e.g. a new account, is within reach)."""
    if actor.has_role(Role.ADMIN):
        return True
    if not actor.has_role(Role.COORDINATOR) or actor.id == person.id:
        return False
    if person.role_set - COORDINATOR_MANAGES:
        return False
    return not db.session.scalar(select(ties_outside(person.id, actor_centre_ids(actor))))
