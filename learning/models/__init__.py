"""Database models, one file per aggregate; imported here so Alembic sees every table."""

from learning.models.audit import AuditEvent
from learning.models.centre import Centre, CentreMember
from learning.models.cohort import Cohort, CohortStaff, Enrolment
from learning.models.deadline import Deadline
from learning.models.invitation import Invitation
from learning.models.iqa import IqaReview, IqaSample, SamplingPlan
from learning.models.notification import Notification
from learning.models.originality import Fingerprint, SourceKind, TextSource
from learning.models.progress import ModuleProgress
from learning.models.quiz import AttemptState, QuizAnswer, QuizAttempt
from learning.models.submission import (
    CriterionDecision,
    Decision,
    DraftVersion,
    Submission,
    SubmissionStatus,
    SubmittedWork,
)
from learning.models.user import Role, User, UserRole

__all__ = [
    "Centre",
    "CentreMember",
    "Deadline",
    "Fingerprint",
    "Invitation",
    "CriterionDecision",
    "Decision",
    "DraftVersion",
    "IqaReview",
    "IqaSample",
    "Notification",
    "SamplingPlan",
    "SourceKind",
    "Submission",
    "SubmissionStatus",
    "SubmittedWork",
    "TextSource",
    "AttemptState",
    "AuditEvent",
    "Cohort",
    "CohortStaff",
    "Enrolment",
    "ModuleProgress",
    "QuizAnswer",
    "QuizAttempt",
    "Role",
    "User",
    "UserRole",
]
