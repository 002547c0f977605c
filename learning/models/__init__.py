"""Database models, one file per aggregate; imported here so Alembic sees every table."""

from learning.models.audit import AuditEvent
from learning.models.cohort import Cohort, CohortStaff, Enrolment
from learning.models.progress import ModuleProgress
from learning.models.user import Role, User, UserRole

__all__ = [
    "AuditEvent",
    "Cohort",
    "CohortStaff",
    "Enrolment",
    "ModuleProgress",
    "Role",
    "User",
    "UserRole",
]
