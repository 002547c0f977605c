"""Internal quality assurance: what an IQA may see, their reviews, plans and the IQA report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, case, exists, false, func, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from learning.assessment.models import Decision, Submission, SubmittedWork
from learning.assessment.signals import decision_released
from learning.core import audit
from learning.core.extensions import db
from learning.core.pagination import Page, paginate
from learning.iqa import sampling
from learning.iqa.models import IqaReview, IqaSample, SamplingPlan
from learning.people.models import Cohort, CohortStaff, Enrolment, Role, User, UserRole
from learning.people.notifications import notify
from learning.people.permissions import centre_cohort_ids


class ReviewError(Exception):
    """The review cannot be recorded as it is; the message says why."""


# ---- scope ----
# Reviewing is done as an IQA, so only the cohorts someone quality-assures count there,
# whatever other roles they hold. Plans and the report are also open to coordinators (their
# centres' cohorts) and admins (every cohort).

def _iqa_cohorts(user: User) -> Select:
    return select(CohortStaff.cohort_id).where(CohortStaff.user_id == user.id,
                                               CohortStaff.role == Role.IQA.value)


def _oversight_cohorts(user: User):
    """Cohorts whose assessors the user plans for and reports on; None means every cohort."""
    if user.has_role(Role.ADMIN):
        return None
    parts = []
    if user.has_role(Role.COORDINATOR):
        parts.append(centre_cohort_ids(user))
    if user.has_role(Role.IQA):
        parts.append(_iqa_cohorts(user))
    if not parts:
        return select(Cohort.id).where(false())
    return parts[0] if len(parts) == 1 else union(*parts)


def _learners_in(cohorts) -> Select:
    return select(Enrolment.user_id).where(Enrolment.left_at.is_(None),
                                           Enrolment.cohort_id.in_(cohorts))


def _in_scope(query: Select, cohorts) -> Select:
    """Keep rows whose learner is now in one of the cohorts (None: keep every row)."""
    if cohorts is None:
        return query
    return query.where(Submission.learner_id.in_(_learners_in(cohorts)))


def covers_learner(user: User, learner_id: int) -> bool:
    """The learner is now in a cohort the user quality-assures."""
    return bool(db.session.scalar(select(_learners_in(_iqa_cohorts(user))
                                         .where(Enrolment.user_id == learner_id).exists())))


def assessors_in_scope(user: User, as_iqa: bool = False) -> list[User]:
    """Assessors of the cohorts the user oversees (or, with as_iqa, quality-assures)."""
    cohorts = _iqa_cohorts(user) if as_iqa else _oversight_cohorts(user)
    if cohorts is None:
        ids = select(UserRole.user_id).where(UserRole.role == Role.ASSESSOR.value)
    else:
        ids = select(CohortStaff.user_id).where(CohortStaff.role == Role.ASSESSOR.value,
                                                CohortStaff.cohort_id.in_(cohorts))
    return list(db.session.scalars(select(User).where(User.id.in_(ids))
                                   .order_by(User.name, User.id)))


# ---- the sample ----

def review_status(sample: IqaSample) -> str:
    """Where a sampled decision stands, in words (the latest review counts)."""
    if not sample.reviews:
        return "Not reviewed"
    latest = sample.reviews[-1]
    if latest.verdict == "agree":
        return "Agreed"
    return "Disagreed: action open" if latest.action_closed_at is None \
        else "Disagreed: action closed"


@dataclass(frozen=True)
class SampleRow:
    sample: IqaSample
    decision: Decision
    submission: Submission
    learner: User
    assessor: User
    status: str


_Learner = aliased(User, name="learner")
_Assessor = aliased(User, name="assessor")


def _join_people(query: Select) -> Select:
    """Join the submission, learner and assessor of each decision to a query on Decision."""
    return (query.join(SubmittedWork, Decision.work_id == SubmittedWork.id)
            .join(Submission, SubmittedWork.submission_id == Submission.id)
            .join(_Learner, _Learner.id == Submission.learner_id)
            .join(_Assessor, _Assessor.id == Decision.assessor_id))


def _with_people(query: Select) -> Select:
    """Add the submission, learner and assessor of each decision to a query on Decision."""
    return _join_people(query).add_columns(Submission, _Learner, _Assessor)


def sample_rows(user: User, assessor_id: int | None = None,
                reviewed: bool | None = None) -> list[SampleRow]:
    """Sampled decisions the user may review: not yet reviewed first, newest first within."""
    has_review = exists().where(IqaReview.sample_id == IqaSample.id)
    query = (_with_people(select(IqaSample, Decision)
                          .join(Decision, IqaSample.decision_id == Decision.id))
             .options(selectinload(IqaSample.reviews))
             .order_by(case((has_review, 1), else_=0), Decision.released_at.desc(),
                       IqaSample.id.desc()))
    query = _in_scope(query, _iqa_cohorts(user))
    if assessor_id:
        query = query.where(Decision.assessor_id == assessor_id)
    if reviewed is True:
        query = query.where(has_review)
    elif reviewed is False:
        query = query.where(~has_review)
    return [SampleRow(sample, decision, sub, learner, assessor, review_status(sample))
            for sample, decision, sub, learner, assessor in db.session.execute(query)]


def waiting_for_review(user: User) -> int:
    """How many sampled decisions in the IQA's cohorts have no review yet and are theirs to
    review (not their own decision, not their own work): one statement."""
    has_review = exists().where(IqaReview.sample_id == IqaSample.id)
    query = _in_scope(select(func.count(IqaSample.id))
                      .join(Decision, IqaSample.decision_id == Decision.id)
                      .join(SubmittedWork, Decision.work_id == SubmittedWork.id)
                      .join(Submission, SubmittedWork.submission_id == Submission.id)
                      .where(~has_review, Decision.assessor_id != user.id,
                             Submission.learner_id != user.id), _iqa_cohorts(user))
    return db.session.scalar(query) or 0


@dataclass(frozen=True)
class OpenAction:
    review: IqaReview
    submission: Submission
    learner: User
    assessor: User


def open_actions(user: User) -> list[OpenAction]:
    """Disagreements in the IQA's cohorts whose assessor has not yet made a new decision
    (the report's "open actions"), oldest first: one statement."""
    query = _in_scope(
        _with_people(select(IqaReview, Decision.id)
                     .join(IqaSample, IqaReview.sample_id == IqaSample.id)
                     .join(Decision, IqaSample.decision_id == Decision.id))
        .where(IqaReview.verdict == "disagree", IqaReview.action_closed_at.is_(None))
        .order_by(IqaReview.created_at, IqaReview.id), _iqa_cohorts(user))
    return [OpenAction(review, sub, learner, assessor)
            for review, _, sub, learner, assessor in db.session.execute(query)]


@dataclass(frozen=True)
class DecisionRow:
    decision: Decision
    submission: Submission
    learner: User
    assessor: User


def unsampled_decisions(user: User, page: int = 1) -> Page:
    """Released decisions in the user's cohorts that are not in the sample, newest first.

    The page's rows are DecisionRows; the people come with the decisions (two statements).
    """
    sampled = exists().where(IqaSample.decision_id == Decision.id)
    query = (_in_scope(_join_people(select(Decision)), _iqa_cohorts(user))
             .where(Decision.released_at.is_not(None), ~sampled,
                     Decision.assessor_id != user.id, Submission.learner_id != user.id)
             .options(contains_eager(Decision.work).contains_eager(SubmittedWork.submission)
                      .contains_eager(Submission.learner.of_type(_Learner)),
                      contains_eager(Decision.assessor.of_type(_Assessor)))
             .order_by(Decision.released_at.desc(), Decision.id.desc()))
    found = paginate(query, page)
    return found.with_rows([DecisionRow(d, d.work.submission, d.work.submission.learner,
                                        d.assessor) for d in found.rows])


def released_decision(decision_id: int) -> Decision | None:
    decision = db.session.get(Decision, decision_id)
    return decision if decision is not None and decision.is_released else None


def add_to_sample(decision: Decision, iqa: User, now: datetime) -> IqaSample:
    """The IQA picks a released decision by hand (the caller has checked the learner)."""
    try:
        return sampling.sample_by_hand(decision, iqa, now)
    except IntegrityError:
        # Someone sampled it a moment ago (the plan or another IQA): that sample will do.
        db.session.rollback()
        sample = db.session.scalar(select(IqaSample).where(IqaSample.decision_id == decision.id))
        if sample is None:  # not the race above: let the error show
            raise
        return sample


def get_sample(sample_id: int) -> IqaSample | None:
    return db.session.scalar(select(IqaSample).where(IqaSample.id == sample_id).options(
        joinedload(IqaSample.decision).joinedload(Decision.work)
        .joinedload(SubmittedWork.submission).joinedload(Submission.learner),
        joinedload(IqaSample.decision).selectinload(Decision.criteria),
        selectinload(IqaSample.reviews).joinedload(IqaReview.iqa)))


def can_review(user: User, sample: IqaSample) -> bool:
    """IQAs review sampled decisions for learners in their own cohorts, never on their own work
    (an IQA may open a decision they made as assessor, but not record a review of it)."""
    learner_id = sample.decision.work.submission.learner_id
    if not user.has_role(Role.IQA) or user.id == learner_id:
        return False
    return covers_learner(user, learner_id)


def may_sample(user: User, decision: Decision) -> bool:
    """An IQA picks decisions in their cohorts, but not their own decisions or their own work."""
    learner_id = decision.work.submission.learner_id
    if not user.has_role(Role.IQA) or user.id in (learner_id, decision.assessor_id):
        return False
    return covers_learner(user, learner_id)


def later_decisions(sample: IqaSample) -> list[Decision]:
    """Decisions released on the same work after the sampled one (e.g. after an IQA action)."""
    sub = sample.decision.work.submission
    return [d for w in sub.rounds for d in w.decisions
            if d.is_released and d.id > sample.decision_id]


def _checked(verdict: str, comments: str, action: str) -> tuple[str, str]:
    """The comments and action, trimmed, once the verdict and action make sense together."""
    comments, action = (comments or "").strip(), (action or "").strip()
    if verdict not in ("agree", "disagree"):
        raise ReviewError("Choose whether you agree or disagree with the assessor's decision.")
    if verdict == "disagree" and not action:
        raise ReviewError("Say what the assessor must do, because you disagree with the "
                          "decision.")
    return comments, action


def action_message(sub: Submission, task_title: str, iqa: User) -> str:
    """What the assessor is told: whose answer, to which task, and which IQA disagreed."""
    return (f"IQA action on {sub.learner.name}'s answer to '{task_title}': {iqa.name} "
            "disagreed with your decision. Make a new decision.")


def record_review(sample: IqaSample, iqa: User, verdict: str, comments: str, action: str,
                  task_title: str, now: datetime) -> IqaReview:
    """Add the IQA's verdict (reviews are never edited: a second review is a new row).

    Disagreeing reopens the work for its assessor: the learner's outcome stands until the
    assessor releases a new decision, which closes the action.
    """
    comments, action = _checked(verdict, comments, action)
    decision = sample.decision
    if decision.assessor_id == iqa.id:
        raise ReviewError("You made this decision, so another IQA must review it.")
    sub = decision.work.submission
    # Hold the submission (a no-op UPDATE keeps its row until commit), then look again: if
    # the assessor released a newer decision meanwhile, this review would reopen work that
    # has moved on, so it is refused. The assessor's release holds the same row, so the two
    # never interleave.
    db.session.execute(update(Submission).where(Submission.id == sub.id)
                       .values(reassess=Submission.reassess)
                       .execution_options(synchronize_session=False))
    if db.session.scalar(select(exists().where(
            Decision.work_id == SubmittedWork.id, SubmittedWork.submission_id == sub.id,
            Decision.released_at.is_not(None), Decision.id != decision.id,
            Decision.released_at >= decision.released_at))):
        db.session.rollback()
        raise ReviewError("The assessor released a newer decision on this work a moment ago. "
                          "Your review was not recorded: review the newer decision instead.")
    review = IqaReview(sample=sample, iqa_id=iqa.id, verdict=verdict, comments=comments,
                       action=action, created_at=now)
    db.session.add(review)
    db.session.flush()
    if verdict == "disagree":
        sub.reassess = True
        notify(decision.assessor, "iqa-action", action_message(sub, task_title, iqa),
               f"/marking/{sub.id}")
    audit.record("iqa.review", actor=iqa, subject=review, verdict=verdict,
                 sample_id=sample.id, decision_id=decision.id, submission_id=sub.id,
                 reopened=verdict == "disagree")
    db.session.commit()
    return review


# ---- correcting a review ----

def _followed(review: IqaReview):
    """SQL: the assessor has released a decision on the work after the sampled one, or a later
    review of the sample followed this one (either way this review has been acted on)."""
    sample = review.sample
    later_release = exists().where(
        Decision.work_id == SubmittedWork.id,
        SubmittedWork.submission_id == sample.decision.work.submission_id,
        Decision.released_at.is_not(None), Decision.id > sample.decision_id)
    newer = aliased(IqaReview)
    later_review = exists().where(newer.sample_id == review.sample_id, newer.id > review.id)
    return later_release | later_review


def can_correct(user: User, review: IqaReview) -> bool:
    """Only the IQA who wrote a review corrects it, and only until the assessor acts on it."""
    if review.iqa_id != user.id or review.action_closed_at is not None:
        return False
    return can_review(user, review.sample) and not db.session.scalar(
        select(_followed(review)))


def correct_review(review: IqaReview, iqa: User, verdict: str, comments: str, action: str,
                   task_title: str, now: datetime) -> IqaReview:
    """Change a saved review (the caller has checked can_correct). Refused, changing nothing,
    once the assessor has acted on it: checked in the same UPDATE that changes it."""
    comments, action = _checked(verdict, comments, action)
    sample = review.sample
    sub = sample.decision.work.submission
    before = {"verdict": review.verdict, "comments": review.comments, "action": review.action}
    # Hold the submission as record_review does: the assessor's release holds the same row,
    # so the release and this correction never interleave.
    db.session.execute(update(Submission).where(Submission.id == sub.id)
                       .values(reassess=Submission.reassess)
                       .execution_options(synchronize_session=False))
    changed = cast(CursorResult[Any], db.session.execute(
        update(IqaReview)
        .where(IqaReview.id == review.id, IqaReview.iqa_id == iqa.id,
               IqaReview.action_closed_at.is_(None), ~_followed(review))
        .values(verdict=verdict, comments=comments, action=action)
        .execution_options(synchronize_session=False)))
    if changed.rowcount != 1:
        db.session.rollback()
        raise ReviewError("The assessor has acted on this review (or another review followed "
                          "it), so it can no longer be corrected. Add a new review instead.")
    db.session.refresh(review)
    other_open = db.session.scalar(select(exists().where(
        IqaReview.id != review.id, IqaReview.verdict == "disagree",
        IqaReview.action_closed_at.is_(None), IqaReview.sample_id == IqaSample.id,
        IqaSample.decision_id == Decision.id, Decision.work_id == SubmittedWork.id,
        SubmittedWork.submission_id == sub.id)))
    db.session.execute(update(Submission).where(Submission.id == sub.id)
                       .values(reassess=verdict == "disagree" or bool(other_open))
                       .execution_options(synchronize_session=False))
    db.session.refresh(sub)
    assessor = sample.decision.assessor
    if verdict == "disagree" and (before["verdict"] != "disagree" or before["action"] != action):
        notify(assessor, "iqa-action", action_message(sub, task_title, iqa)
               if before["verdict"] != "disagree" else
               f"IQA action on {sub.learner.name}'s answer to '{task_title}' was corrected by "
               f"{iqa.name}: read it again before you make a new decision.", f"/marking/{sub.id}")
    elif verdict == "agree" and before["verdict"] == "disagree":
        notify(assessor, "iqa-action", f"IQA action on {sub.learner.name}'s answer to "
               f"'{task_title}' withdrawn: {iqa.name} now agrees with your decision.",
               f"/marking/{sub.id}")
    audit.record("iqa.review_correct", actor=iqa, subject=review, previous=before,
                 verdict=verdict, sample_id=sample.id, submission_id=sub.id)
    db.session.commit()
    return review


# ---- sampling plans ----

@dataclass(frozen=True)
class PlanRow:
    assessor: User
    plan: SamplingPlan
    #: False while the assessor has the default plan (nobody has set one).
    stored: bool
    rule: str


def plan_rows(user: User) -> list[PlanRow]:
    """Each assessor the user may plan for, with their plan (two queries)."""
    assessors = assessors_in_scope(user)
    stored = {p.assessor_id: p for p in db.session.scalars(select(SamplingPlan).where(
        SamplingPlan.assessor_id.in_([a.id for a in assessors])))}
    rows = []
    for a in assessors:
        plan = stored.get(a.id) or SamplingPlan(assessor_id=a.id, rate=sampling.DEFAULT_RATE,
                                                new_assessor=False)
        rows.append(PlanRow(a, plan, a.id in stored, sampling.rule_in_words(plan)))
    return rows


def may_plan_for(user: User, assessor: User) -> bool:
    return any(a.id == assessor.id for a in assessors_in_scope(user))


# ---- the report ----

@dataclass(frozen=True)
class ReportRow:
    assessor: User
    released: int
    sampled: int
    reviewed: int
    agreed: int
    open_actions: int

    @property
    def sampled_percent(self) -> int | None:
        return round(100 * self.sampled / self.released) if self.released else None

    @property
    def agreement_percent(self) -> int | None:
        return round(100 * self.agreed / self.reviewed) if self.reviewed else None


def report(user: User) -> list[ReportRow]:
    """Per assessor: released, sampled, reviewed, agreement, open actions (five queries).

    An IQA's or coordinator's figures cover learners in the cohorts they oversee. A decision
    reviewed more than once counts once, with its latest verdict.
    """
    assessors = assessors_in_scope(user)
    ids = [a.id for a in assessors]
    cohorts = _oversight_cohorts(user)

    def per_assessor(*columns, joins=()) -> Select:
        query = select(Decision.assessor_id, *columns).select_from(Decision)
        for join in joins:
            query = query.join(*join)
        query = query.join(SubmittedWork, Decision.work_id == SubmittedWork.id).join(
            Submission, SubmittedWork.submission_id == Submission.id)
        return _in_scope(query.where(Decision.assessor_id.in_(ids),
                                     Decision.released_at.is_not(None)), cohorts
                         ).group_by(Decision.assessor_id)

    sample_join = (IqaSample, IqaSample.decision_id == Decision.id)
    review_join = (IqaReview, IqaReview.sample_id == IqaSample.id)
    latest = select(func.max(IqaReview.id)).group_by(IqaReview.sample_id)
    released = dict(db.session.execute(per_assessor(func.count(Decision.id))).all())
    sampled = dict(db.session.execute(per_assessor(func.count(IqaSample.id),
                                                   joins=[sample_join])).all())
    verdicts = {a: (n, agreed) for a, n, agreed in db.session.execute(
        per_assessor(func.count(IqaReview.id),
                     func.sum(case((IqaReview.verdict == "agree", 1), else_=0)),
                     joins=[sample_join, review_join]).where(IqaReview.id.in_(latest)))}
    open_actions = dict(db.session.execute(
        per_assessor(func.count(IqaReview.id), joins=[sample_join, review_join])
        .where(IqaReview.verdict == "disagree", IqaReview.action_closed_at.is_(None))).all())
    return [ReportRow(a, released.get(a.id, 0), sampled.get(a.id, 0),
                      verdicts.get(a.id, (0, 0))[0], int(verdicts.get(a.id, (0, 0))[1] or 0),
                      open_actions.get(a.id, 0)) for a in assessors]


def close_open_actions(sub: Submission, now: datetime) -> None:
    """A new released decision answers any open IQA action on this submission."""
    open_reviews = db.session.scalars(
        select(IqaReview).join(IqaSample).join(Decision).join(SubmittedWork)
        .where(SubmittedWork.submission_id == sub.id, IqaReview.verdict == "disagree",
               IqaReview.action_closed_at.is_(None)))
    for review in open_reviews:
        review.action_closed_at = now


@decision_released.connect
def _on_release(decision: Decision, submission: Submission, now: datetime) -> None:
    """A released decision answers open IQA actions and may enter the IQA's sample."""
    close_open_actions(submission, now)
    sampling.consider(decision, now)
