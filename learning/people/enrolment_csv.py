"""Bulk enrolment from a CSV file: read it, check every row, preview, then import all or none.

`read` turns bytes into text, `check` validates the text against the database without
changing anything, and `import_text` checks again and writes everything in one transaction.
Row numbers are counted as a spreadsheet counts them: the column headings are row 1.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from learning.core import audit
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.names import name_problem
from learning.core.types import utcnow
from learning.people import accounts, invitations, membership
from learning.people.admin import managed_cohort_ids
from learning.people.models import (
    Cohort,
    CohortStaff,
    Enrolment,
    Invitation,
    Role,
    User,
    UserRole,
)
from learning.people.permissions import (
    COORDINATOR_MANAGES,
    actor_centre_ids,
    holds_only,
    ties_outside,
)

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
#: Accepted headings for each column, compared ignoring case, spaces, "_" and "-".
HEADINGS = {
    "name": ("name", "fullname", "learnername"),
    "email": ("email", "emailaddress"),
    "cohort": ("cohort", "cohortname"),
    "learner_ref": ("learnerref", "learnerreference", "learnerreferencenumber",
                    "learnerrefnumber"),
}
REQUIRED = ("name", "email", "cohort")
TEMPLATE = "name,email,cohort,learner_ref\n"
_LIMITS = {"name": 120, "email": 254, "cohort": 120, "learner_ref": 50}
_SAVE_AS = ("In Excel choose File, Save a copy, and the type “CSV UTF-8 (comma delimited)”, "
            "then upload that file.")


class CsvFileError(ValueError):
    """The file as a whole cannot be read; the message says how to fix it."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong: a row (None for the whole file) and a column (None for the whole row)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(p for p in (f"row {self.row}" if self.row else "",
                                      f"column {self.column}" if self.column else "") if p)
        return f"{where[0].upper()}{where[1:]}: {self.message}" if where else self.message


@dataclass(frozen=True)
class CsvRow:
    row: int
    name: str
    email: str
    cohort: str
    learner_ref: str | None


@dataclass(frozen=True)
class PlannedRow:
    """What importing one row will do."""

    source: CsvRow
    cohort: Cohort
    user: User | None  # the existing account with this email, if there is one
    already_enrolled: bool = False
    grant_learner: bool = False

    @property
    def outcome(self) -> str:
        if self.user is None:
            return "New account, invited to set a password, and enrolled"
        if self.already_enrolled:
            return "Existing account, already in this cohort: no change"
        words = "Existing account, enrolled"
        if self.grant_learner:
            words += ", and given the learner role"
        if not self.user.active:
            words += " (the account is deactivated: they cannot log in until it is reactivated)"
        return words


@dataclass
class Preview:
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def new_accounts(self) -> int:
        return sum(1 for r in self.rows if r.user is None)

    @property
    def existing_accounts(self) -> int:
        return sum(1 for r in self.rows if r.user is not None and not r.already_enrolled)

    @property
    def unchanged(self) -> int:
        return sum(1 for r in self.rows if r.already_enrolled)


@dataclass(frozen=True)
class ImportResult:
    links: list[invitations.IssuedLink]
    enrolled_existing: int
    unchanged: int
    #: New learners whose link was queued to be emailed (none when mail is off).
    emailed: int = 0

    @property
    def created(self) -> int:
        return len(self.links)


class ImportRefused(Exception):
    """Checking again at import time found problems; nothing was imported."""

    def __init__(self, preview: Preview):
        super().__init__(f"{len(preview.problems)} problems")
        self.preview = preview


# ---- reading the file (pure) ----

def read(data: bytes) -> str:
    """Decode an upload as UTF-8 (with or without a byte order mark), or say how to fix it."""
    if not data.strip():
        raise CsvFileError("The file is empty. Add a row of column headings and a row for "
                           "each learner.")
    if len(data) > MAX_BYTES:
        raise CsvFileError(f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is 2 MB. "
                           "Split it into smaller files.")
    if data.startswith(b"PK\x03\x04"):
        raise CsvFileError("This is an Excel workbook, not a CSV file. " + _SAVE_AS)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFileError("The file is saved as “Unicode text” (UTF-16), not CSV UTF-8. "
                           + _SAVE_AS)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError("The file is not saved as CSV UTF-8 (it looks like an older “CSV” "
                           "format such as Windows-1252, which garbles names with accents). "
                           + _SAVE_AS) from None
    if "\x00" in text:
        raise CsvFileError("The file is not a text file. " + _SAVE_AS)
    return text


def _key(heading: str) -> str:
    return re.sub(r"[\s_\-]+", "", heading).lower()


_BY_KEY = {spelling: column for column, spellings in HEADINGS.items() for spelling in spellings}


def _letter(index: int) -> str:
    """Spreadsheet column letters: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _dialect(first_line: str) -> str:
    """Commas, unless the headings are clearly separated by semicolons or tabs instead."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


@dataclass
class Parsed:
    rows: list[CsvRow]
    problems: list[Problem]
    #: Column labels as a spreadsheet user sees them, like "C (Cohort)".
    labels: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> Parsed:
    """Rows and problems found in the text alone (no database): headings, names, emails."""
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        return Parsed([], [Problem(None, None, "The file is empty. Add a row of column "
                                               "headings and a row for each learner.")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(first))
    try:
        headings = next(reader)
    except csv.Error as exc:
        return Parsed([], [Problem(1, None, f"The column headings cannot be read ({exc}).")])
    columns, problems = _columns(headings)
    if problems:
        return Parsed([], problems)
    labels = {name: f"{_letter(i)} ({headings[i].strip()})" for name, i in columns.items()}
    rows: list[CsvRow] = []
    seen: dict[str, int] = {}
    number, counted = 1, 0
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # spreadsheets often save empty rows at the end
            counted += 1
            if counted > MAX_ROWS:
                return Parsed([], [Problem(None, None, f"The file has more than {MAX_ROWS:,} "
                                                       f"learners; the limit is {MAX_ROWS:,} "
                                                       "per file. Split it into smaller "
                                                       "files.")])
            row, row_problems = _row(number, cells, columns, labels, len(headings), seen)
            problems += row_problems
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(number + 1, None, f"This row cannot be read ({exc}). Check "
                                                  "for an unclosed quotation mark."))
    if not rows and not problems:
        problems.append(Problem(None, None, "The file has column headings but no learners."))
    return Parsed(rows, problems, labels)


def _columns(headings: list[str]) -> tuple[dict[str, int], list[Problem]]:
    columns: dict[str, int] = {}
    problems = []
    for i, heading in enumerate(headings):
        if not heading.strip():
            continue
        column = _BY_KEY.get(_key(heading))
        if column is None:
            problems.append(Problem(1, f"{_letter(i)} ({heading.strip()})",
                                    "This is not a column we know. Use only name, email, "
                                    "cohort and (if you have them) learner_ref."))
        elif column in columns:
            problems.append(Problem(1, f"{_letter(i)} ({heading.strip()})",
                                    f"There is already a {column} column, in column "
                                    f"{_letter(columns[column])}."))
        else:
            columns[column] = i
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(Problem(1, None, "The first row must be the column headings, with "
                                         f"{', '.join(missing)} missing here. Start the file "
                                         "with: name,email,cohort,learner_ref"))
    return columns, problems


def _row(number: int, cells: list[str], columns: dict[str, int], labels: dict[str, str],
         width: int, seen: dict[str, int]) -> tuple[CsvRow | None, list[Problem]]:
    problems = []
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        problems.append(Problem(number, _letter(width), "This row has more cells than there "
                                "are column headings. Check for a comma inside a name that "
                                "is not in quotation marks."))

    def cell(column: str) -> str:
        i = columns.get(column)
        return " ".join(cells[i].split()) if i is not None and i < len(cells) else ""

    values = {c: cell(c) for c in HEADINGS}
    for column in REQUIRED:
        if not values[column]:
            problems.append(Problem(number, labels[column], f"Enter the learner’s {column}."))
    if problem := name_problem(values["name"], "The name"):
        problems.append(Problem(number, labels["name"], problem))
    for column, limit in _LIMITS.items():
        if len(values[column]) > limit:
            problems.append(Problem(number, labels[column],
                                    f"This is {len(values[column])} characters long; the most "
                                    f"allowed is {limit}."))
    email = ""
    if values["email"]:
        try:
            email = accounts.normalise_email(
                validate_email(values["email"], check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            problems.append(Problem(number, labels["email"],
                                    f"“{values['email']}” is not a valid email address. {exc}"))
        else:
            if email in seen:
                problems.append(Problem(number, labels["email"],
                                        f"{email} is also on row {seen[email]}. Each learner "
                                        "can be on one row only."))
            else:
                seen[email] = number
    if problems:
        return None, problems
    return CsvRow(number, values["name"], email, values["cohort"],
                  values["learner_ref"] or None), []


# ---- checking against the database ----

def check(text: str, actor: User) -> Preview:
    """Every problem in the file, or what importing it would do; changes nothing."""
    parsed = parse(text)
    rows, problems, labels = parsed.rows, parsed.problems, parsed.labels
    if not rows:
        return Preview([], problems)
    by_name = _cohorts_for(actor)
    users = _existing_users([r.email for r in rows])
    enrolled = _current_enrolments([u.id for u in users.values()])
    beyond = _beyond_reach(actor, [u.id for u in users.values()])
    staffing = _staff_pairs([u.id for u in users.values()])
    planned = []
    for row in rows:
        cohort = by_name.get(_cohort_key(row.cohort))
        if cohort is None:
            problems.append(Problem(row.row, labels["cohort"],
                                    f"There is no cohort called “{row.cohort}” among "
                                    f"{'the' if actor.has_role(Role.ADMIN) else 'your'} "
                                    "cohorts. Check the spelling against the list of cohorts."))
            continue
        if cohort.archived:
            problems.append(Problem(row.row, labels["cohort"], f"The cohort “{cohort.name}” is "
                                    "archived, so no one can be enrolled in it."))
            continue
        user = users.get(row.email)
        if user is None:
            planned.append(PlannedRow(row, cohort, None))
            continue
        if user.id in beyond or (user.role_set - {Role.LEARNER}
                                 and not actor.has_role(Role.ADMIN)):
            # One wording for every refusal, so the preview does not tell a coordinator
            # whether the address has an account at another centre, or which roles it holds.
            problems.append(Problem(row.row, labels["email"], f"{row.email} cannot be "
                                    "enrolled from here: ask an administrator."))
            continue
        if (user.id, cohort.id) in staffing:
            problems.append(Problem(row.row, labels["email"], f"{row.email} is an assessor or "
                                    f"IQA of “{cohort.name}”, so cannot be a learner in it."))
            continue
        if row.learner_ref and user.learner_ref and row.learner_ref != user.learner_ref:
            problems.append(Problem(row.row, labels.get("learner_ref"), f"{row.email} already "
                                    f"has the learner reference {user.learner_ref}, not "
                                    f"{row.learner_ref}. Check it is the same person."))
            continue
        planned.append(PlannedRow(row, cohort, user,
                                  already_enrolled=(user.id, cohort.id) in enrolled,
                                  grant_learner=not user.has_role(Role.LEARNER)))
    problems.sort(key=lambda p: (p.row or 0))
    return Preview(planned, problems)


def _beyond_reach(actor: User, user_ids: list[int]) -> set[int]:
    """Existing accounts a coordinator may not import: tied to another centre, or holding a
    role they do not manage (people/permissions.py). Admins reach everyone."""
    if actor.has_role(Role.ADMIN) or not user_ids:
        return set()
    centres = actor_centre_ids(actor)
    return set(db.session.scalars(select(User.id).where(
        User.id.in_(user_ids),
        ties_outside(User.id, centres) | ~holds_only(COORDINATOR_MANAGES))))


def _staff_pairs(user_ids: list[int]) -> set[tuple[int, int]]:
    """(user, cohort) pairs where the person is on the cohort's staff."""
    if not user_ids:
        return set()
    return set(db.session.execute(select(CohortStaff.user_id, CohortStaff.cohort_id)
                                  .where(CohortStaff.user_id.in_(user_ids))).all())


def _cohorts_for(actor: User) -> dict[str, Cohort]:
    """The actor's cohorts by lower-case name (names are unique, so exact matches win)."""
    query = select(Cohort)
    if (scope := managed_cohort_ids(actor)) is not None:
        query = query.where(Cohort.id.in_(scope))
    return {_cohort_key(c.name): c for c in db.session.scalars(query.order_by(Cohort.id))}


def cohort_names(actor: User) -> list[str]:
    """Names of the cohorts the actor can enrol learners in, for the upload page."""
    query = select(Cohort.name).where(Cohort.archived.is_(False)).order_by(Cohort.name)
    if (scope := managed_cohort_ids(actor)) is not None:
        query = query.where(Cohort.id.in_(scope))
    return list(db.session.scalars(query))


def _cohort_key(name: str) -> str:
    return " ".join(name.split()).lower()


def _existing_users(emails: list[str]) -> dict[str, User]:
    users = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        users.update({u.email: u for u in db.session.scalars(
            select(User).where(User.email.in_(chunk)))})
    return users


def _current_enrolments(user_ids: list[int]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start:start + 500]
        pairs.update((user_id, cohort_id) for user_id, cohort_id in db.session.execute(
            select(Enrolment.user_id, Enrolment.cohort_id).where(
                Enrolment.user_id.in_(chunk), Enrolment.left_at.is_(None))))
    return pairs


# ---- importing ----

def import_text(text: str, actor: User, filename: str = "",
                progress: Callable[[int], None] | None = None,
                token_for: Callable[[User], str] | None = None,
                before_commit: Callable[[ImportResult], None] | None = None) -> ImportResult:
    """Check again, then create, invite and enrol every row in one transaction; commits.

    Raises ImportRefused (having changed nothing) if any row has a problem now. Only the
    actor's cohorts can be named, and the actor is recorded in the audit log. `token_for`
    makes each link's token (as write_batch); `before_commit` sees the outcome in the same
    transaction (the import's record is written with it).
    """
    preview = check(text, actor)
    if not preview.ok:
        raise ImportRefused(preview)
    links = []
    now = utcnow()
    try:
        with db.session.no_autoflush:
            for start in range(0, len(preview.rows), _BATCH):
                batch = preview.rows[start:start + _BATCH]
                links += write_batch(batch, actor, now, token_for)
                if progress is not None:
                    progress(len(batch))
        # Queued with the accounts, so the emails exist exactly when the accounts do; the
        # worker sends them after this commit, and this request never waits for it.
        emailed = invitations.email_links(links)
        audit.record("enrolment.import", actor=actor, filename=filename[:200],
                     rows=len(preview.rows), created=preview.new_accounts,
                     enrolled_existing=preview.existing_accounts, unchanged=preview.unchanged)
        new_ids = [link.user.id for link in links]
        result = ImportResult(links, preview.existing_accounts, preview.unchanged, emailed)
        if before_commit is not None:
            before_commit(result)
        db.session.commit()
    except IntegrityError:
        # Someone made one of these accounts between our check and our writes: check again.
        db.session.rollback()
        again = check(text, actor)
        if again.ok:
            again.problems.append(Problem(None, None, "Accounts changed while importing. "
                                                      "Nothing was imported; try again."))
        raise ImportRefused(again) from None
    except Exception:
        db.session.rollback()
        raise
    # The commit expired every account; load the new ones back in a few queries, not one each.
    for start in range(0, len(new_ids), _BATCH):
        db.session.scalars(select(User).where(User.id.in_(new_ids[start:start + _BATCH]))).all()
    return result


#: Rows written per statement: one multi-row INSERT per table per batch, not one per row.
_BATCH = 500


def write_batch(batch: list[PlannedRow], actor: User, now: datetime,
                token_for: Callable[[User], str] | None = None) -> list[invitations.IssuedLink]:
    """The records accounts.create_user, invitations.issue and cohorts.enrol make, with the
    same audit events, written a batch at a time (row by row, 5,000 rows took minutes).
    `token_for` makes each new account's link token (random when not given).

    `check` has just looked up every account and enrolment, so nothing is looked up row by
    row; the unique email index still stops a duplicate account made meanwhile.
    """
    fresh = [p.source for p in batch if p.user is None]
    users: dict[str, User] = {}
    audits: list[dict] = []
    links: list[invitations.IssuedLink] = []
    if fresh:
        db.session.execute(insert(User), [
            {"email": r.email, "name": r.name, "learner_ref": r.learner_ref, "active": True,
             "created_at": now} for r in fresh])
        ids = dict(db.session.execute(select(User.email, User.id).where(
            User.email.in_([r.email for r in fresh]))).all())
        db.session.execute(insert(UserRole), [
            {"user_id": ids[r.email], "role": str(Role.LEARNER), "granted_at": now}
            for r in fresh])
        users = {u.email: u for u in db.session.scalars(
            select(User).where(User.id.in_(ids.values())))}
        for r in fresh:
            user = users[r.email]
            audits.append(_audit("user.create", actor, user, roles=[str(Role.LEARNER)]))
            links.append(_new_link(user, actor, now, audits, token_for))
        db.session.execute(insert(Invitation), [
            {"user_id": link.user.id, "token_hash": link.invitation.token_hash,
             "purpose": link.invitation.purpose, "created_at": now,
             "expires_at": link.expires_at, "created_by_id": actor.id} for link in links])
    enrolments = []
    for planned in batch:
        row, user = planned.source, planned.user or users[planned.source.email]
        if planned.user is not None:
            if planned.grant_learner:
                accounts.grant_role(user, Role.LEARNER, actor=actor)
            if row.learner_ref and not user.learner_ref:
                user.learner_ref = row.learner_ref
        if not planned.already_enrolled:
            enrolments.append({"cohort_id": planned.cohort.id, "user_id": user.id,
                               "enrolled_at": now})
            audits.append(_audit("cohort.enrol", actor, planned.cohort, learner_id=user.id))
    membership.insert_enrolments(enrolments)
    if audits:
        db.session.execute(insert(AuditEvent), audits)
    return links


def _new_link(user: User, actor: User, now: datetime, audits: list[dict],
              token_for: Callable[[User], str] | None = None) -> invitations.IssuedLink:
    """An invitation link as invitations.issue makes it, for inserting with the batch."""
    token = token_for(user) if token_for is not None else secrets.token_urlsafe(32)
    expires_at = now + invitations.LIFETIMES[invitations.INVITE]
    invitation = Invitation(user_id=user.id, token_hash=invitations.token_hash(token),
                            purpose=invitations.INVITE, created_at=now, expires_at=expires_at,
                            created_by_id=actor.id)
    audits.append(_audit("invitation.create", actor, user, purpose=invitations.INVITE,
                         expires_at=expires_at.isoformat(timespec="minutes")))
    return invitations.IssuedLink(invitation, user, token)


def _audit(action: str, actor: User, subject, **detail) -> dict:
    """An audit_event row shaped exactly as audit.record shapes it."""
    return {"at": utcnow(), "actor_id": actor.id, "action": action,
            "subject_type": type(subject).__name__, "subject_id": str(subject.id),
            "detail": detail}
