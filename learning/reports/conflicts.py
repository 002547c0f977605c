"""Conflicts of interest for admins: people who assess, or quality-assure, their own work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased

from learning.assessment.models import Decision, Submission, SubmittedWork
from learning.core.extensions import db
from learning.iqa.models import IqaReview, IqaSample
from learning.people.models import Cohort, CohortStaff, Enrolment, User


@dataclass(frozen=True)
class Conflict:
    person: User
    what: str


def conflicts() -> list[Conflict]:
    """Every conflict in the data, in three statements.

    New ones are refused when they would arise (enrolling, assigning, marking, sampling); this
    list finds any made before those rules, or by direct changes to the database.
    """
    found: list[Conflict] = []
    staff_and_learner = (
        select(User, Cohort, CohortStaff.role)
        .join(CohortStaff, CohortStaff.user_id == User.id)
        .join(Cohort, Cohort.id == CohortStaff.cohort_id)
        .join(Enrolment, (Enrolment.user_id == User.id) & (Enrolment.cohort_id == Cohort.id)
              & Enrolment.left_at.is_(None))
        .order_by(User.name, Cohort.name))
    for user, cohort, role in db.session.execute(staff_and_learner):
        found.append(Conflict(user, f"is a learner in {cohort.name} and also its "
                                    f"{'assessor' if role == 'assessor' else 'IQA'}"))
    own_decisions = (
        select(User, Submission.task_slug)
        .join(Decision, Decision.assessor_id == User.id)
        .join(SubmittedWork, SubmittedWork.id == Decision.work_id)
        .join(Submission, Submission.id == SubmittedWork.submission_id)
        .where(Submission.learner_id == User.id).order_by(User.name))
    for user, task in db.session.execute(own_decisions):
        found.append(Conflict(user, f"made an assessment decision on their own answer ({task})"))
    assessor = aliased(User)
    own_reviews = (
        select(User, Submission.task_slug)
        .join(IqaReview, IqaReview.iqa_id == User.id)
        .join(IqaSample, IqaSample.id == IqaReview.sample_id)
        .join(Decision, Decision.id == IqaSample.decision_id)
        .join(assessor, assessor.id == Decision.assessor_id)
        .join(SubmittedWork, SubmittedWork.id == Decision.work_id)
        .join(Submission, Submission.id == SubmittedWork.submission_id)
        .where((Submission.learner_id == User.id) | (Decision.assessor_id == User.id))
        .order_by(User.name))
    for user, task in db.session.execute(own_reviews):
        found.append(Conflict(user, f"reviewed, as IQA, their own work or decision ({task})"))
    return found
