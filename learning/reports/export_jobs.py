"""Large CSV exports made by the worker: asked for, prepared with progress, downloaded once
ready by the person who asked (audited), and forgotten after EXPORT_KEEP_DAYS.

A completion matrix of a few thousand rows streams straight to the browser (exports.py); a
larger one takes seconds of a web worker's time (7-13 s at 20,000 learners), so it is made
by `flask worker` into the database instead, with the same generator, so the file is the
same either way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, select

from learning.cohorts.items import items_for
from learning.core import audit, jobs
from learning.core.extensions import db
from learning.core.jobs import Job
from learning.core.types import utcnow
from learning.people.models import User
from learning.people.permissions import STAFF_ROLES
from learning.reports import exports, matrix
from learning.reports.matrix import Filters
from learning.reports.models import ExportFile

#: The outbox's kind of job that makes one export.
KIND = "report-export"
#: The exports the worker can make, by name: (file name, what it is in words).
MATRIX = "completion-matrix"
NAMES = {MATRIX: "the completion matrix"}
#: Rows above which the matrix CSV is made by the worker, not streamed (EXPORT_INLINE_ROWS):
#: 1-2.4 s of streaming on a busy 2-core machine (bench/reports.py; docs/deploy.md).
INLINE_ROWS = 2000
#: Days a prepared file is kept for its requester (EXPORT_KEEP_DAYS).
KEEP_DAYS = 7
#: Rows between progress reports while a file is made.
PROGRESS_EVERY = 1000


def inline_rows() -> int:
    return int(current_app.config.get("EXPORT_INLINE_ROWS", INLINE_ROWS))


def keep() -> timedelta:
    return timedelta(days=float(current_app.config.get("EXPORT_KEEP_DAYS", KEEP_DAYS)))


def scope(filters: Filters, today: date) -> dict[str, Any]:
    """What an export is of, as stored: the report's filters and the UK date it is for."""
    return {**dataclasses.asdict(filters), "today": today.isoformat()}


def _once_key(user_id: int, kind: str, data: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]
    return f"export:{user_id}:{kind}:{digest}"


def request_export(actor: User, kind: str, filters: Filters, today: date,
                   now: datetime | None = None) -> tuple[ExportFile, bool]:
    """Queue the making of an export: (export, True) when queued now (audited), or the same
    export already waiting or being made for this person, (export, False), as when a button
    is pressed twice. The caller commits."""
    now = now or utcnow()
    data = scope(filters, today)
    job, queued = jobs.enqueue_once(KIND, {}, _once_key(actor.id, kind, data), now)
    if not queued:
        found = db.session.scalar(select(ExportFile).where(ExportFile.job_id == job.id))
        if found is not None:
            return found, False
        raise RuntimeError(f"job {job.id} has no export")  # queued with one, always
    export = ExportFile(user_id=actor.id, kind=kind, filters=data, status="pending",
                        job_id=job.id, size=0, rows=0, created_at=now,
                        expires_at=now + keep())
    db.session.add(export)
    db.session.flush()
    job.payload = {"export_id": export.id}
    audit.record("report.export_requested", actor=actor, subject=export, kind=kind,
                 filters=data)
    return export, True


def kept_for(user: User, now: datetime | None = None) -> list[ExportFile]:
    """The person's exports not yet expired, newest first (one query; the files themselves
    are not loaded)."""
    from sqlalchemy.orm import defer

    now = now or utcnow()
    return list(db.session.scalars(
        select(ExportFile).options(defer(ExportFile.content))
        .where(ExportFile.user_id == user.id, ExportFile.expires_at > now)
        .order_by(ExportFile.created_at.desc(), ExportFile.id.desc())))


def job_of(export: ExportFile) -> Job | None:
    return db.session.get(Job, export.job_id) if export.job_id else None


def _viewer(export: ExportFile) -> User:
    """The requester, who must still be staff: the export has their scope as it is now."""
    viewer = db.session.get(User, export.user_id)
    if viewer is None or not viewer.active or not any(viewer.has_role(r) for r in STAFF_ROLES):
        raise jobs.GiveUp("the person who asked for it no longer has a staff role")
    return viewer


def run(payload: dict[str, Any], context: jobs.Context) -> None:
    """The worker's handler: make the file with the same generator as the download, with
    progress every PROGRESS_EVERY rows, and store it for its requester."""
    export = db.session.get(ExportFile, payload.get("export_id"))
    if export is None:
        raise jobs.GiveUp("the export is no longer there (it expired)")
    if export.kind != MATRIX:
        raise jobs.GiveUp(f"no such export: {export.kind}")
    viewer = _viewer(export)
    fields = {f.name for f in dataclasses.fields(Filters)}
    filters = Filters(**{k: v for k, v in export.filters.items() if k in fields})
    today = date.fromisoformat(export.filters["today"])
    items = items_for(current_app.extensions["catalog"], current_app.extensions["quizzes"])
    total = matrix.count_rows(viewer, items, filters, today)
    db.session.commit()  # nothing held open while the progress is written beside it
    context.progress(0, total)
    parts, done, reported = [], -1, 0  # the header line is not a row
    # Not streaming: a failure part-way fails the attempt (and it is tried again) instead of
    # a file that ends with the "incomplete" row being kept as if it were whole.
    for chunk in exports.matrix_csv(viewer, items, filters, today, streaming=False):
        parts.append(chunk)
        done += chunk.count("\r\n")
        if done - reported >= PROGRESS_EVERY:
            context.progress(min(done, total), total)
            reported = done
    content = "".join(parts).encode("utf-8")
    export.content, export.size, export.rows = content, len(content), max(done, 0)
    export.status, export.finished_at = "done", utcnow()
    db.session.commit()
    context.progress(total, total)
    return None


def describe(payload: dict[str, Any]) -> str:
    return f"Prepare a large CSV export (export {payload.get('export_id', '?')})"


jobs.register(KIND, run, describe)


def forget_expired(now: datetime) -> int:
    """Remove files past their `expires_at` (the worker runs this about hourly)."""
    return cast(CursorResult[Any], db.session.execute(
        delete(ExportFile).where(ExportFile.expires_at <= now)
        .execution_options(synchronize_session=False))).rowcount


jobs.register_cleanup("expired exports", forget_expired)


def record_download(export: ExportFile, actor: User) -> None:
    """Who downloaded which file of personal data; committed with the response."""
    audit.record("report.export_download", actor=actor, subject=export, kind=export.kind,
                 filters=export.filters, rows=export.rows, bytes=export.size)
