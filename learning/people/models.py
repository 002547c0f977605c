"""Who people are and where they belong: accounts, roles, centres, cohorts, invitations, inbox."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from learning.core.extensions import Model
from learning.core.names import check_name
from learning.core.types import UTCDateTime, utcnow
from learning.people import password_checks


class Role(enum.StrEnum):
    LEARNER = "learner"
    ASSESSOR = "assessor"
    IQA = "iqa"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            "learner": "Learner",
            "assessor": "Assessor",
            "iqa": "Internal quality assurer",
            "coordinator": "Training coordinator",
            "admin": "Administrator",
        }[self.value]


ROLE_VALUES = tuple(r.value for r in Role)
_ROLE_CHECK = "role IN (" + ", ".join(f"'{r}'" for r in ROLE_VALUES) + ")"


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case so look-ups need no function index.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: A person's name: no control, direction or zero-width characters (core/names.py).
    name: Mapped[str] = mapped_column(String(120))
    #: The awarding body's learner reference number, when the centre records one.
    learner_ref: Mapped[str | None] = mapped_column(String(50))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Deactivated accounts cannot log in; nothing they wrote is removed.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When this person's personal data was erased (learning/privacy): the name and email are
    #: placeholders and the account can never be used again.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Extra time in timed quizzes, as a percentage of the limit (UK access arrangements,
    #: e.g. 25), set by the learner's coordinator and enforced by the server.
    extra_time_percent: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    #: This request's login-session token ("<id>:<secret>", see people/sessions.py). Flask-Login
    #: keeps it in the session and the remember-me cookie instead of the user id, so ending
    #: the session row refuses both.
    session_token = None  # type: str | None
    #: Unread notifications, read with the login session at the start of the request
    #: (sessions.load), so the menu costs no statement of its own; None when not read.
    unread_notifications = None  # type: int | None
    #: Of those, how many link to the page of this request (read in the same statement):
    #: opening the page a notification links to reads it.
    unread_here = 0  # type: int

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("Log in through learning.people.sessions.start, not by user id.")
        return self.session_token

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.roles)

    def has_role(self, *roles: Role | str) -> bool:
        mine = {r.role for r in self.roles}
        return any(str(role) in mine for role in roles)

    def set_password(self, password: str) -> None:
        self.password_hash = password_checks.make(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return password_checks.matches(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @validates("name")
    def _plain_name(self, key: str, value: str) -> str:
        return check_name(value, "The name")


class UserRole(Model):
    __tablename__ = "user_role"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="known_role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")


# Centres (a college or training provider): cohorts belong to one; coordinators to some.
class Centre(Model):
    __tablename__ = "centre"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: An archived centre is left out of the centres new cohorts are put in; nothing in it
    #: is deleted, and its cohorts carry on.
    archived: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    @validates("name")
    def _plain_name(self, key: str, value: str) -> str:
        return check_name(value, "The centre name")


class CentreMember(Model):
    """A coordinator's membership of a centre: they manage that centre's cohorts."""

    __tablename__ = "centre_member"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Cohorts: a group of learners with assigned assessors and an internal quality assurer.
class Cohort(Model):
    __tablename__ = "cohort"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                        name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: No control, direction or zero-width characters (core/names.py), as centres and people.
    name: Mapped[str] = mapped_column(String(120), unique=True)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    #: The qualification unit the cohort studies (an id from content/units.yaml, e.g. CYP33),
    #: so learners see their own unit's criteria wording; null shows every unit.
    unit_id: Mapped[str | None] = mapped_column(String(20))
    #: The centre that runs the cohort; its coordinators manage it.
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    #: Archived cohorts drop out of day-to-day lists; nothing in them is deleted.
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="cohort")
    staff: Mapped[list[CohortStaff]] = relationship(back_populates="cohort")

    @validates("name")
    def _plain_name(self, key: str, value: str) -> str:
        return check_name(value, "The cohort name")


class Enrolment(Model):
    """A learner's membership of a cohort. Leaving sets left_at, so history is kept."""

    __tablename__ = "enrolment"
    __table_args__ = (
        Index("ix_enrolment_current", "user_id", "left_at"),
        # One current enrolment per learner and cohort, however many imports run at once.
        Index("uq_enrolment_current", "user_id", "cohort_id", unique=True,
              sqlite_where=text("left_at IS NULL"), postgresql_where=text("left_at IS NULL")),
        CheckConstraint("left_at IS NULL OR left_at >= enrolled_at", name="left_after_enrolled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    user: Mapped[User] = relationship()


class CohortStaff(Model):
    """An assessor or IQA assigned to a cohort; assignments scope what staff may see."""

    __tablename__ = "cohort_staff"
    __table_args__ = (CheckConstraint("role IN ('assessor', 'iqa')", name="staff_role"),)

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="staff")
    user: Mapped[User] = relationship()


# Single-use links to set a password: invitations for new accounts and password resets.
class Invitation(Model):
    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint("purpose IN ('invite', 'reset')", name="known_purpose"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Only a hash is stored: a database leak does not hand out working links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


# In-app notifications: a short message and a link, marked read when opened.
class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginSession(Model):
    """One login: the browser session and its remember-me cookie carry its id and a secret.

    Ending the row (logout, password change, deactivation, role removal) makes both refuse,
    however often they are replayed.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Only a hash is stored: a database leak hands out no working session.
    secret_hash: Mapped[str] = mapped_column(String(64))
    #: Remember-me sessions outlive the browser (at most REMEMBER_ME_DAYS).
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Updated at most every few minutes, so reading a page is not a write.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it ended: logout, password, deactivated, roles, expired.
    end_reason: Mapped[str | None] = mapped_column(String(20))


class LoginThrottle(Model):
    """Tries to log in with one email address (a hash of it): the per-account throttle.

    A try is counted with a conditional UPDATE *before* its password is checked, so however
    many arrive at once, no more than people/throttle.py allows are ever checked.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (CheckConstraint("tries >= 0", name="tries_not_negative"),)

    #: A hash of the normalised address (accounts._email_key): the same for an address with
    #: or without an account, and no mistyped address is kept in clear.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Tries in a row since the last successful login (or since a quiet FAILURE_WINDOW).
    tries: Mapped[int] = mapped_column(default=0)
    last_try_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: No try is claimed before this time; null while the first MAX_FAILURES are free.
    wait_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CsvUpload(Model):
    """An enrolment CSV waiting between its preview and the coordinator's "Import" (an hour at
    most): in the database, so the confirmation may reach any app server (csv_uploads.py)."""

    __tablename__ = "csv_upload"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),
                      CheckConstraint("rows >= 0", name="rows_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The random id the preview page's form carries; unguessable, but only its uploader
    #: may use it anyway.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    #: The checked file as text (at most enrolment_csv.MAX_BYTES).
    text: Mapped[str] = mapped_column(Text)
    #: Learners in the file, counted at the preview: decides inline or the worker.
    rows: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: Set by the one "Import" that claimed it; a second press finds it set.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EnrolmentImport(Model):
    """A large CSV import handed to the worker, with its progress and outcome
    (import_jobs.py). Written a batch at a time, so a retried job carries on where the
    last attempt's last committed batch ended."""

    __tablename__ = "enrolment_import"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'running', 'done', 'failed')",
                        name="known_status"),
        CheckConstraint("rows_done >= 0 AND rows_done <= rows_total", name="done_within_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The upload it came from (csv_upload.token), so a second "Import" finds it.
    upload_token: Mapped[str] = mapped_column(String(64), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    #: The file, until the import ends (then emptied: the records hold what it said).
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    enrolled_existing: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    emailed: Mapped[int] = mapped_column(default=0)
    #: Ids of the accounts made, in file order, for the set-password links page.
    new_user_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: Random salt from which (with SECRET_KEY) each new account's link is worked out again,
    #: for the page's one showing and the uploader's CSV download; null once the links have
    #: expired (or there are none), and then no one can see them again.
    link_salt: Mapped[str | None] = mapped_column(String(64))
    #: When the page showed the links (once); after that only the CSV download gives them.
    links_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it failed: the problems found, one line each.
    problems: Mapped[list] = mapped_column(JSON, default=list)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
