"""Large enrolment imports run by the worker, a batch at a time, with progress and an outcome.

An import of more than CSV_IMPORT_INLINE_ROWS learners is not done in the request: "Import"
queues an "enrolment-import" job and the coordinator watches its progress page. The job
checks the whole file first (a problem anywhere imports nothing), then writes it in batches,
each committed with its progress, its queued emails and the running totals. A worker that dies
halfway leaves its last batch rolled back and the earlier ones recorded, so the retried job
carries on from there: no account or enrolment is made twice.

Set-password links are never stored: each new account's token is worked out from SECRET_KEY
and a random salt kept on the import, so the page can show the links once to the uploader, and
the uploader alone may download them as a CSV file while they work; the salt is forgotten when
they expire (LINKS_KEEP), and the links with it. Small imports, done in the request, keep the
same record (import_inline), so their links can be downloaded the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, inspect, select, update

from learning.core import audit, jobs
from learning.core.extensions import db
from learning.core.jobs import Job, JobStatus
from learning.core.types import utcnow
from learning.people import enrolment_csv as csv_import
from learning.people import invitations
from learning.people.csv_uploads import Claimed
from learning.people.models import Cohort, Enrolment, EnrolmentImport, Invitation, Role, User

KIND = "enrolment-import"
WAITING, RUNNING, DONE, FAILED = "waiting", "running", "done", "failed"
#: Rows written and committed together; progress moves on once per batch.
BATCH = 250
#: Links can be shown or downloaded until this long after the import ends, when they expire
#: and are forgotten (the accounts stay; a coordinator makes a new link from the person's page).
LINKS_KEEP = invitations.LIFETIMES[invitations.INVITE]
#: A finished import's record (counts, problems) is kept this long for its page.
KEEP = timedelta(days=7)


def inline_limit() -> int:
    """Imports of more learners than this go to the worker."""
    return int(current_app.config.get("CSV_IMPORT_INLINE_ROWS", 200))


def queue(upload: Claimed, actor: User, now: datetime | None = None) -> EnrolmentImport:
    """Record the import and queue its job (the caller commits both with the upload's claim)."""
    now = now or utcnow()
    remove_old(now)
    record = EnrolmentImport(upload_token=upload.token, actor_id=actor.id,
                             filename=upload.filename, text=upload.text, status=WAITING,
                             rows_total=upload.rows, rows_done=0, created=0,
                             enrolled_existing=0, unchanged=0, emailed=0, new_user_ids=[],
                             link_salt=secrets.token_urlsafe(24), problems=[], created_at=now)
    db.session.add(record)
    db.session.flush()
    job = jobs.enqueue(KIND, {"import_id": record.id}, now)
    db.session.flush()
    record.job_id = job.id
    audit.record("enrolment.import.queue", actor=actor, subject=record,
                 filename=upload.filename, rows=upload.rows)
    return record


def import_inline(upload: Claimed, actor: User) -> tuple[EnrolmentImport,
                                                          csv_import.ImportResult]:
    """Import a small file in this request (commits), kept on a record as the worker's
    imports are, so its links can be downloaded later; the page shows them now, once.

    Raises ImportRefused with nothing written or kept, as csv_import.import_text does.
    """
    remove_old(utcnow())
    record = EnrolmentImport(upload_token=upload.token, actor_id=actor.id,
                             filename=upload.filename, text="", status=RUNNING,
                             rows_total=upload.rows, rows_done=0, created=0,
                             enrolled_existing=0, unchanged=0, emailed=0, new_user_ids=[],
                             link_salt=secrets.token_urlsafe(24), problems=[],
                             created_at=utcnow())
    db.session.add(record)
    db.session.flush()
    salt, import_id = record.link_salt or "", record.id

    def written(result: csv_import.ImportResult) -> None:
        now = utcnow()
        record.status, record.finished_at, record.links_shown_at = DONE, now, now
        record.rows_done = record.rows_total
        record.created, record.emailed = result.created, result.emailed
        record.enrolled_existing, record.unchanged = result.enrolled_existing, result.unchanged
        record.new_user_ids = [link.user.id for link in result.links]
        if not record.new_user_ids:
            record.link_salt = None

    try:
        result = csv_import.import_text(
            upload.text, actor, upload.filename,
            token_for=lambda user: _token(salt, import_id, user.id), before_commit=written)
    except csv_import.ImportRefused:
        if inspect(record).persistent:  # refused before writing: the record goes too
            db.session.delete(record)
            db.session.flush()
        raise
    return record, result


def find(import_id: int, actor: User) -> EnrolmentImport | None:
    """The import, if `actor` started it: only the uploader sees its page and its links."""
    return db.session.scalar(select(EnrolmentImport).where(
        EnrolmentImport.id == import_id, EnrolmentImport.actor_id == actor.id))


def for_upload(token: str, actor: User) -> EnrolmentImport | None:
    """The import a claimed upload became (a second press of "Import" is sent to it)."""
    return db.session.scalar(select(EnrolmentImport).where(
        EnrolmentImport.upload_token == token, EnrolmentImport.actor_id == actor.id))


def remove_old(now: datetime) -> None:
    """Forget links nobody came back for and the records of long-finished imports."""
    db.session.execute(update(EnrolmentImport).where(
        EnrolmentImport.finished_at < now - LINKS_KEEP, EnrolmentImport.link_salt.is_not(None))
        .values(link_salt=None).execution_options(synchronize_session=False))
    db.session.execute(delete(EnrolmentImport).where(EnrolmentImport.finished_at < now - KEEP)
                       .execution_options(synchronize_session=False))


def settle(record: EnrolmentImport, now: datetime | None = None) -> Job | None:
    """The import's job; an import whose job the worker gave up on (or that is gone) is
    marked stopped, keeping what was written. The caller commits."""
    job = db.session.get(Job, record.job_id) if record.job_id is not None else None
    given_up = job is None or job.status == JobStatus.FAILED.value
    if record.status in (WAITING, RUNNING) and given_up:
        _stop(record, [], now or utcnow())
    return job


# ---- what the progress page says (pure) ----

#: A queued import that has not started after this long suggests no worker is running.
SLOW_START = timedelta(minutes=5)


def summary(record: EnrolmentImport, job: Job | None = None,
            now: datetime | None = None) -> str:
    """One sentence for the status region: waiting, N of M, done or stopped."""
    if record.status in (WAITING, RUNNING):
        if record.status == WAITING:
            words = (f"Waiting to start: {record.rows_total:,} learners from "
                     f"{record.filename}.")
            if (now or utcnow()) - record.created_at > SLOW_START:
                words += (" It has waited several minutes: the server’s background worker may "
                          "not be running, so tell your administrator.")
        else:
            words = (f"Importing: {record.rows_done:,} of {record.rows_total:,} learners "
                     "done.")
        if job is not None and job.last_error:
            words += " The server hit a problem and will try again shortly."
        return words + " This page updates itself."
    if record.status == DONE:
        return f"Finished: all {record.rows_total:,} learners in {record.filename} are enrolled."
    why = ("" if record.problems else
           " The server could not finish the import, even after trying again.")
    if record.rows_done:
        return (f"Stopped after {record.rows_done:,} of {record.rows_total:,} learners: "
                f"those are enrolled, the rest are not.{why}")
    return f"Stopped: nothing was imported.{why}"


@dataclass(frozen=True)
class ShownLink:
    """A set-password link as the done page shows it (like invitations.IssuedLink)."""

    user: User
    token: str
    expires_at: datetime


def _token(salt: str, import_id: int, user_id: int) -> str:
    """The link token of one new account: without SECRET_KEY and the salt it cannot be made,
    so the database alone hands out no working link (as invitation.token_hash promises)."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"enrolment-import:{import_id}:{salt}:{user_id}".encode(),
                      hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def take_links(record: EnrolmentImport, now: datetime | None = None) -> list[ShownLink] | None:
    """The set-password links, for the page's one showing; None if they were shown (or
    forgotten). After that, only the uploader's CSV download (`download`) gives them.

    Claimed by a conditional UPDATE, so two tabs opening the page at once show them once. The
    caller commits.
    """
    now = now or utcnow()
    if (record.link_salt is None or record.links_shown_at is not None
            or record.status not in (DONE, FAILED)):
        return None
    taken = cast(CursorResult[Any], db.session.execute(
        update(EnrolmentImport).where(EnrolmentImport.id == record.id,
                                      EnrolmentImport.links_shown_at.is_(None))
        .values(links_shown_at=now).execution_options(synchronize_session=False))).rowcount
    record.links_shown_at = now
    if taken != 1:
        return None
    return working_links(record, now)


def working_links(record: EnrolmentImport, now: datetime | None = None) -> list[ShownLink]:
    """The import's links that still work (not used, replaced or expired), in file order.

    A link whose account has since been changed (a new link made, the key changed) is left
    out rather than shown wrong.
    """
    salt = record.link_salt
    if salt is None or record.status not in (DONE, FAILED):
        return []
    now = now or utcnow()
    ids = [int(i) for i in record.new_user_ids]
    tokens = {user_id: _token(salt, record.id, user_id) for user_id in ids}
    hashes = {invitations.token_hash(t): user_id for user_id, t in tokens.items()}
    found: dict[str, datetime] = {}
    for start in range(0, len(hashes), 500):
        found.update(db.session.execute(
            select(Invitation.token_hash, Invitation.expires_at).where(
                Invitation.token_hash.in_(list(hashes)[start:start + 500]),
                Invitation.used_at.is_(None), Invitation.expires_at > now)).all())
    users = {u.id: u for start in range(0, len(ids), 500) for u in db.session.scalars(
        select(User).where(User.id.in_(ids[start:start + 500])))}
    return [ShownLink(users[user_id], tokens[user_id], found[h])
            for h, user_id in hashes.items() if h in found and user_id in users]


def downloadable_until(record: EnrolmentImport, now: datetime | None = None) -> datetime | None:
    """Until when the uploader may download the links (None: there are none to download)."""
    if record.link_salt is None or record.finished_at is None or not record.new_user_ids:
        return None
    until = record.finished_at + LINKS_KEEP
    return until if until > (now or utcnow()) else None


@dataclass(frozen=True)
class DownloadRow:
    """One line of the links file."""

    name: str
    email: str
    cohort: str
    link: str
    expires_at: datetime


def download(record: EnrolmentImport, actor: User,
             url_for_token: Callable[[str], str]) -> list[DownloadRow]:
    """The links that still work, as the uploader downloads them; audited (the caller
    commits). An empty list means none works any more: nothing is recorded."""
    links = working_links(record)
    if not links:
        return []
    cohorts = _cohorts_of([link.user.id for link in links])
    audit.record("enrolment.links_download", actor=actor, subject=record,
                 filename=record.filename[:200], links=len(links))
    return [DownloadRow(link.user.name, link.user.email, cohorts.get(link.user.id, ""),
                        url_for_token(link.token), link.expires_at) for link in links]


def _cohorts_of(user_ids: list[int]) -> dict[int, str]:
    """The cohorts each learner is now in, by name ("; " between two)."""
    names: dict[int, list[str]] = {}
    for start in range(0, len(user_ids), 500):
        for user_id, name in db.session.execute(
                select(Enrolment.user_id, Cohort.name)
                .join(Cohort, Cohort.id == Enrolment.cohort_id)
                .where(Enrolment.user_id.in_(user_ids[start:start + 500]),
                       Enrolment.left_at.is_(None)).order_by(Cohort.name)):
            names.setdefault(user_id, []).append(name)
    return {user_id: "; ".join(n) for user_id, n in names.items()}


# ---- the job ----

def _stop(record: EnrolmentImport, problems: list[str], now: datetime) -> None:
    """Mark the import stopped: the file is forgotten; links of accounts made so far stay
    for their one showing and the download."""
    record.status, record.problems, record.text = FAILED, problems, ""
    record.finished_at = now
    if not record.new_user_ids:
        record.link_salt = None


def _fail(record: EnrolmentImport, problems: list[str], now: datetime) -> None:
    _stop(record, problems, now)
    db.session.commit()


def run(payload: dict[str, Any], ctx: jobs.Context) -> dict[str, Any] | None:
    """Run one import (the worker calls this). Safe to run again after a crash: it carries on
    after the last committed batch, and does nothing for an import already finished."""
    record = db.session.get(EnrolmentImport, int(payload.get("import_id", 0)))
    if record is None or record.status in (DONE, FAILED):
        return None
    actor = db.session.get(User, record.actor_id)
    now = utcnow()
    if actor is None or not actor.active or not actor.has_role(Role.COORDINATOR, Role.ADMIN):
        _fail(record, ["The person who uploaded the file can no longer enrol learners."], now)
        return None
    record.status = RUNNING
    db.session.commit()
    preview = csv_import.check(record.text, actor)
    if not preview.ok:
        # Found before anything was written (or, on a retry, a change since: the rows
        # already written stay, and the page says how far it got).
        _fail(record, [str(p) for p in preview.problems]
              or ["The file has no learners to import."], now)
        return None
    rows, salt, import_id = preview.rows, record.link_salt or "", record.id
    record.rows_total = len(rows)

    def token_for(user: User) -> str:
        return _token(salt, import_id, user.id)

    with db.session.no_autoflush:
        for start in range(record.rows_done, len(rows), BATCH):
            batch = rows[start:start + BATCH]
            now = utcnow()
            links = csv_import.write_batch(batch, actor, now, token_for if salt else None)
            record.emailed += invitations.email_links(links)
            record.new_user_ids = [*record.new_user_ids, *(link.user.id for link in links)]
            record.created += len(links)
            record.enrolled_existing += sum(1 for p in batch
                                            if p.user is not None and not p.already_enrolled)
            record.unchanged += sum(1 for p in batch if p.already_enrolled)
            record.rows_done = start + len(batch)
            if record.rows_done == len(rows):
                _finished(record, actor, now)
            db.session.commit()
            ctx.progress(record.rows_done, len(rows))
    if record.status != DONE:  # an empty remainder: every batch was written before
        _finished(record, actor, utcnow())
        db.session.commit()
    return None


def _finished(record: EnrolmentImport, actor: User, now: datetime) -> None:
    record.status, record.text, record.finished_at = DONE, "", now
    if not record.new_user_ids:
        record.link_salt = None
    audit.record("enrolment.import", actor=actor, filename=record.filename[:200],
                 rows=record.rows_total, created=record.created,
                 enrolled_existing=record.enrolled_existing, unchanged=record.unchanged,
                 import_id=record.id)


def describe(payload: dict[str, Any]) -> str:
    return f"Enrolment import {payload.get('import_id', '?')} from a CSV file"


jobs.register(KIND, run, describe)
