"""IQA sampling: which released decisions an internal quality assurer reviews."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select

from learning.assessment.models import Decision, SubmittedWork
from learning.content.access import get_catalog
from learning.core import audit
from learning.core.extensions import db
from learning.iqa.models import IqaSample, SamplingPlan
from learning.people.models import CohortStaff, Enrolment, Role, User
from learning.people.notifications import notify

#: Sampling rates (percent) when no plan has been set for an assessor.
DEFAULT_RATE = 25
NEW_ASSESSOR_RATE = 100


def plan_for(assessor_id: int) -> SamplingPlan:
    plan = db.session.get(SamplingPlan, assessor_id)
    return plan or SamplingPlan(assessor_id=assessor_id, rate=DEFAULT_RATE, new_assessor=False)


def rate_of(plan: SamplingPlan) -> int:
    return max(plan.rate, NEW_ASSESSOR_RATE) if plan.new_assessor else plan.rate


def rule_in_words(plan: SamplingPlan) -> str:
    """The plan's rule as the IQA page states it."""
    if plan.new_assessor:
        return "New assessor: every released decision is sampled."
    return (f"{plan.rate}% of released decisions at random, plus the assessor's first referral "
            "and first achievement.")


def save_plan(assessor: User, rate: int, new_assessor: bool, actor: User,
              now: datetime) -> SamplingPlan:
    """Set an assessor's plan; it applies to decisions released from now on."""
    if not 0 <= rate <= 100:
        raise ValueError("rate must be 0..100")
    plan = db.session.get(SamplingPlan, assessor.id)
    before = (plan.rate, plan.new_assessor) if plan is not None else None
    if plan is None:
        plan = SamplingPlan(assessor_id=assessor.id)
        db.session.add(plan)
    plan.rate, plan.new_assessor = rate, new_assessor
    plan.updated_at, plan.updated_by_id = now, actor.id
    audit.record("iqa.plan", actor=actor, subject=assessor, rate=rate,
                 new_assessor=new_assessor,
                 previous=None if before is None else {"rate": before[0],
                                                       "new_assessor": before[1]})
    db.session.commit()
    return plan


def _draw(decision_id: int) -> int:
    """A stable pseudo-random number 0..99 per decision, so sampling can be explained."""
    return int(hashlib.sha256(f"iqa:{decision_id}".encode()).hexdigest(), 16) % 100


def should_sample(rate: int, draw: int, outcome: str, sampled_outcomes: set[str]) -> bool:
    """The plan's rule (pure): sample `rate`% at random, and always the first referral and
    the first achievement of each assessor, so the sample covers both kinds of decision."""
    return draw < rate or outcome not in sampled_outcomes


def consider(decision: Decision, now: datetime) -> IqaSample | None:
    """Called when a decision is released: add it to the sample if the plan says so."""
    plan = plan_for(decision.assessor_id)
    sampled_outcomes = set(db.session.scalars(
        select(Decision.outcome).join(IqaSample, IqaSample.decision_id == Decision.id)
        .where(Decision.assessor_id == decision.assessor_id)))
    if not should_sample(rate_of(plan), _draw(decision.id), decision.outcome, sampled_outcomes):
        return None
    return _add(decision, "plan", None, now)


def sample_by_hand(decision: Decision, iqa, now: datetime) -> IqaSample:
    """An IQA picks any released decision to review."""
    existing = db.session.scalar(select(IqaSample).where(IqaSample.decision_id == decision.id))
    if existing is not None:
        return existing
    sample = _add(decision, "manual", iqa.id, now)
    db.session.commit()
    return sample


def iqas_for(learner_id: int) -> list[User]:
    """IQAs assigned to the learner's current cohorts."""
    return list(db.session.scalars(
        select(User).join(CohortStaff, CohortStaff.user_id == User.id)
        .join(Enrolment, Enrolment.cohort_id == CohortStaff.cohort_id)
        .where(Enrolment.user_id == learner_id, Enrolment.left_at.is_(None),
               CohortStaff.role == Role.IQA.value).distinct()))


def task_title(slug: str) -> str:
    return next((t.title for t in get_catalog().tasks if t.slug == slug), slug)


def sample_message(decision: Decision, work: SubmittedWork) -> str:
    """What the IQA is told: whose answer, to which task, decided how and by whom."""
    sub = work.submission
    assessor = db.session.get_one(User, decision.assessor_id)
    return (f"{sub.learner.name}'s answer to '{task_title(sub.task_slug)}', "
            f"{decision.outcome} by {assessor.name}, is in your IQA sample.")


def _add(decision: Decision, reason: str, by_id: int | None, now: datetime) -> IqaSample:
    sample = IqaSample(decision_id=decision.id, reason=reason, sampled_at=now,
                       sampled_by_id=by_id)
    db.session.add(sample)
    db.session.flush()
    work = db.session.get_one(SubmittedWork, decision.work_id)
    actor = db.session.get(User, by_id) if by_id is not None else None
    audit.record("iqa.sample", actor=actor, subject=sample, decision_id=decision.id,
                 reason=reason, submission_id=work.submission_id)
    if reason == "plan":
        message = sample_message(decision, work)
        for iqa in iqas_for(work.submission.learner_id):
            notify(iqa, "iqa-sample", message, f"/iqa/samples/{sample.id}")
    return sample
