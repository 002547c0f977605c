"""Cohort membership and staff assignments: who is in which cohort, and who may see them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.orm import selectinload

from learning.core import audit
from learning.core.extensions import db
from learning.core.types import utcnow
from learning.people.models import Cohort, CohortStaff, Enrolment, Role, User
from learning.people.permissions import visible_cohort_ids


@cache  # every page of a learner's runs it: built once per process, run with the user's id
def _current_cohorts():
    user_id = bindparam("user_id", type_=Integer)
    enrolled = select(Enrolment.cohort_id).where(Enrolment.user_id == user_id,
                                                 Enrolment.left_at.is_(None))
    staffed = select(CohortStaff.cohort_id).where(CohortStaff.user_id == user_id)
    return select(Cohort).where(Cohort.id.in_(enrolled.union(staffed))).order_by(Cohort.name)


def current_cohorts(user: User) -> list[Cohort]:
    """Cohorts the user is enrolled in now, or assigned to as staff."""
    return list(db.session.scalars(_current_cohorts(), {"user_id": user.id}))


def unit_ids_for(learner: User) -> set[str]:
    """The qualification units a learner studies, from their current cohorts (may be empty)."""
    return unit_ids_of(current_cohorts(learner))


def unit_ids_of(cohorts: list[Cohort]) -> set[str]:
    """The units these cohorts study: for a page that has read the cohorts already."""
    return {c.unit_id for c in cohorts if c.unit_id}


def unit_ids_by(user_ids: list[int]) -> dict[int, set[str]]:
    """The units each learner studies in their current enrolments, in one query (a list of
    learners; unit_ids_for also counts cohorts a person staffs, as their own pages do)."""
    found: dict[int, set[str]] = {u: set() for u in user_ids}
    if user_ids:
        for user_id, unit_id in db.session.execute(
                select(Enrolment.user_id, Cohort.unit_id)
                .join(Cohort, Cohort.id == Enrolment.cohort_id)
                .where(Enrolment.user_id.in_(user_ids), Enrolment.left_at.is_(None),
                       Cohort.unit_id.is_not(None))):
            found[user_id].add(str(unit_id))
    return found


class ConflictOfInterest(ValueError):
    """Someone would assess or quality-assure their own work; the message says who and where."""


def is_staff_of(user: User, cohort: Cohort) -> bool:
    return db.session.scalar(select(select(CohortStaff.user_id).where(
        CohortStaff.user_id == user.id, CohortStaff.cohort_id == cohort.id).exists())) or False


def is_learner_in(user: User, cohort: Cohort) -> bool:
    return db.session.scalar(select(select(Enrolment.id).where(
        Enrolment.user_id == user.id, Enrolment.cohort_id == cohort.id,
        Enrolment.left_at.is_(None)).exists())) or False


def insert_enrolments(rows: list[dict]) -> None:
    """Insert current enrolments in bulk, skipping any that exist already (another import or
    a coordinator may have enrolled the same person a moment ago): one per learner and cohort.
    """
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    keys, current = ["user_id", "cohort_id"], Enrolment.left_at.is_(None)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(postgresql.insert(Enrolment).on_conflict_do_nothing(
            index_elements=keys, index_where=current), rows)
    else:
        db.session.execute(sqlite.insert(Enrolment).on_conflict_do_nothing(
            index_elements=keys, index_where=current), rows)


def enrol(learner: User, cohort: Cohort, actor: User | None = None) -> Enrolment:
    """Enrol a learner (idempotent for a current enrolment); the caller commits.

    Refuses (ConflictOfInterest) someone who assesses or quality-assures this cohort.
    """
    if is_staff_of(learner, cohort):
        raise ConflictOfInterest(f"{learner.name} is an assessor or IQA of {cohort.name}, so "
                                 "cannot also be a learner in it.")
    existing = db.session.scalar(select(Enrolment).where(
        Enrolment.user_id == learner.id, Enrolment.cohort_id == cohort.id,
        Enrolment.left_at.is_(None)))
    if existing:
        return existing
    enrolment = Enrolment(user=learner, cohort=cohort, enrolled_at=utcnow())
    db.session.add(enrolment)
    audit.record("cohort.enrol", actor=actor, subject=cohort, learner_id=learner.id)
    return enrolment


def assign_staff(user: User, cohort: Cohort, role: Role, actor: User | None = None) -> None:
    """Assign an assessor or IQA to a cohort (idempotent); the caller commits.

    Refuses (ConflictOfInterest) a learner in this cohort: nobody marks their own work.
    """
    if role not in (Role.ASSESSOR, Role.IQA):
        raise ValueError("only assessors and IQAs are assigned to cohorts")
    if is_learner_in(user, cohort):
        raise ConflictOfInterest(f"{user.name} is a learner in {cohort.name}, so cannot also "
                                 "assess or quality-assure it.")
    if db.session.get(CohortStaff, (cohort.id, user.id, str(role))) is None:
        db.session.add(CohortStaff(cohort=cohort, user=user, role=str(role)))
        audit.record("cohort.assign", actor=actor, subject=cohort, user_id=user.id,
                     role=str(role))


@dataclass(frozen=True)
class LearnerRow:
    learner: User
    cohort: Cohort


def visible_learners(viewer: User, cohort_id: int | None = None) -> list[LearnerRow]:
    """Learners currently enrolled in cohorts the viewer may see, in two queries in all."""
    query = (
        select(Enrolment)
        .where(Enrolment.left_at.is_(None))
        .options(selectinload(Enrolment.user), selectinload(Enrolment.cohort))
        .join(Enrolment.user)
        .order_by(User.name, User.id)
    )
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        query = query.where(Enrolment.cohort_id.in_(visible))
    if cohort_id is not None:
        query = query.where(Enrolment.cohort_id == cohort_id)
    return [LearnerRow(e.user, e.cohort) for e in db.session.scalars(query)]


def visible_cohorts(viewer: User) -> list[Cohort]:
    query = select(Cohort).order_by(Cohort.name)
    visible = visible_cohort_ids(viewer)
    if visible is not None:
        query = query.where(Cohort.id.in_(visible))
    return list(db.session.scalars(query))
