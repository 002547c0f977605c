"""The worker: claims due jobs from the outbox, runs each with its kind's handler, retries.

Claiming is one short transaction: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, so
workers running at once take different jobs without waiting for each other; on SQLite a
conditional UPDATE (only rows still due change), so of two workers exactly one gets a job.
A claimed job carries a lease (`locked_until`): if its worker dies (kill -9, a lost machine),
another worker takes it over once the lease has run out. Nothing is held open while a handler
talks to the network, so a slow mail server delays only its own message.

Delivery is at least once, not exactly once: a worker that dies after the mail server has
accepted a message but before it has marked the job done leaves the job to be run again
when its lease runs out, and that message is sent twice. Handlers are written to bear it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, and_, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from learning.core import jobs
from learning.core.extensions import db
from learning.core.jobs import Job, JobStatus
from learning.core.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """How the worker retries, from the app's config (core/config.py has the defaults)."""

    max_attempts: int = 8
    backoff_seconds: float = 30.0
    lease: timedelta = timedelta(minutes=5)
    #: Jobs claimed at a time. One: each job's lease starts when it starts, so a job never
    #: sits claimed behind slow ones until its lease runs out and another worker sends it
    #: too; and a second worker takes the next job instead of waiting behind this one.
    batch: int = 1
    keep_done: timedelta = timedelta(days=30)


def settings_from(config: Mapping[str, Any]) -> Settings:
    return Settings(max_attempts=int(config.get("JOB_MAX_ATTEMPTS", 8)),
                    backoff_seconds=float(config.get("JOB_BACKOFF_SECONDS", 30)),
                    lease=timedelta(seconds=float(config.get("JOB_LEASE_SECONDS", 300))),
                    keep_done=timedelta(days=float(config.get("JOB_KEEP_DAYS", 30))))


def new_worker_id() -> str:
    """host:pid:random, unique to one worker (threads in one process get their own)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds the lease on: what its handler needs."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


# ---- claiming ----

def _due(now: datetime):
    """Pending jobs whose time has come, and claimed ones whose worker's lease ran out."""
    return or_(and_(Job.status == JobStatus.PENDING.value, Job.run_after <= now),
               and_(Job.status == JobStatus.RUNNING.value, Job.locked_until < now))


def _candidates(now: datetime, limit: int) -> list[int]:
    """Ids of due jobs, oldest due first. On PostgreSQL the rows are locked for this
    transaction and rows another worker has locked are skipped, not waited for."""
    query = select(Job.id).where(_due(now)).order_by(Job.run_after, Job.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def _take(ids: list[int], worker_id: str, now: datetime, lease: timedelta) -> list[Claimed]:
    """Claim those of `ids` that are still due, in one conditional UPDATE: only rows that
    change are ours, so of two workers that chose the same job, one gets it."""
    rows = db.session.execute(
        update(Job).where(Job.id.in_(ids), _due(now))
        .values(status=JobStatus.RUNNING.value, attempts=Job.attempts + 1,
                locked_until=now + lease, locked_by=worker_id, updated_at=now)
        .returning(Job.id, Job.kind, Job.payload, Job.attempts)
        .execution_options(synchronize_session=False)).all()
    return sorted((Claimed(r.id, r.kind, dict(r.payload or {}), r.attempts) for r in rows),
                  key=lambda c: ids.index(c.id))


#: Rounds of choosing and claiming before a worker that keeps losing every job it chose to
#: another worker says there is nothing for it (and looks again later).
_CLAIM_ROUNDS = 3


def claim(worker_id: str, now: datetime, settings: Settings) -> list[Claimed]:
    """Claim up to `settings.batch` due jobs, committed before any of them runs; [] when
    nothing is due."""
    for _ in range(_CLAIM_ROUNDS):
        try:
            ids = _candidates(now, settings.batch)
            claimed = _take(ids, worker_id, now, settings.lease) if ids else []
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        if claimed or not ids:
            return claimed
    return []


# ---- running one job ----

@dataclass
class _Context:
    job_id: int
    attempt: int
    worker_id: str
    lease: timedelta

    def progress(self, done: int, total: int) -> None:
        """Record progress and renew the lease, on a connection of its own so the handler's
        own transaction is neither committed nor waited for."""
        now = utcnow()
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == self.job_id,
                                           Job.locked_by == self.worker_id)
                         .values(progress={"done": done, "total": total},
                                 locked_until=now + self.lease, updated_at=now))


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:1000]


def _finish(claimed: Claimed, worker_id: str, **values) -> bool:
    """Write the outcome if this worker still holds the job; commit. False if it lost the
    lease meanwhile (another worker has the job now, and will write its own outcome)."""
    held = cast(CursorResult[Any], db.session.execute(
        update(Job).where(Job.id == claimed.id, Job.status == JobStatus.RUNNING.value,
                          Job.locked_by == worker_id, Job.attempts == claimed.attempts)
        .values(locked_until=None, **values)
        .execution_options(synchronize_session=False))).rowcount == 1
    db.session.commit()
    if not held:
        log.warning("job %s: the lease ran out before it finished; another worker has it",
                    claimed.id)
    return held


def _failed(claimed: Claimed, worker_id: str, settings: Settings, error: str,
            now: datetime, give_up: bool = False) -> str:
    give_up = give_up or claimed.attempts >= settings.max_attempts
    if give_up:
        _finish(claimed, worker_id, status=JobStatus.FAILED.value, last_error=error,
                finished_at=now, updated_at=now)
        log.error("job %s (%s) failed for good after %s attempts: %s", claimed.id,
                  claimed.kind, claimed.attempts, error)
        return "failed"
    retry_at = now + jobs.backoff(claimed.attempts, settings.backoff_seconds)
    _finish(claimed, worker_id, status=JobStatus.PENDING.value, last_error=error,
            run_after=retry_at, updated_at=now)
    log.warning("job %s (%s) attempt %s failed, next at %s: %s", claimed.id, claimed.kind,
                claimed.attempts, retry_at.isoformat(timespec="seconds"), error)
    return "retry"


def run_one(claimed: Claimed, worker_id: str, settings: Settings,
            clock: Callable[[], datetime] = utcnow) -> str:
    """Run a claimed job and record how it went: "done", "retry" or "failed"."""
    if claimed.attempts > settings.max_attempts:
        # Its worker died on the last attempt (the job may be what kills workers).
        return _failed(claimed, worker_id, settings, "The worker running the last attempt "
                       "stopped before it finished.", clock(), give_up=True)
    known = jobs.kind(claimed.kind)
    try:
        if known is None:
            raise LookupError(f"no handler for jobs of kind {claimed.kind!r} in this worker")
        kept = known.run(dict(claimed.payload),
                         _Context(claimed.id, claimed.attempts, worker_id, settings.lease))
    except Exception as exc:  # noqa: BLE001 (any failure of a handler is the job's, not ours)
        db.session.rollback()
        return _failed(claimed, worker_id, settings, _error_text(exc), clock(),
                       give_up=isinstance(exc, jobs.GiveUp))
    now = clock()
    values: dict[str, Any] = {"status": JobStatus.DONE.value, "finished_at": now,
                              "updated_at": now, "last_error": ""}
    if kept is not None:
        values["payload"] = kept
    _finish(claimed, worker_id, **values)
    log.info("job %s (%s) done", claimed.id, claimed.kind)
    return "done"


# ---- draining and serving ----

@dataclass
class Counts:
    done: int = 0
    retry: int = 0
    failed: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.done + self.retry + self.failed


def _drain(worker_id: str, settings: Settings, now: datetime | None,
           stop: threading.Event | None = None) -> Counts:
    counts = Counts()
    clock = (lambda: now) if now is not None else utcnow
    while stop is None or not stop.is_set():
        claimed = claim(worker_id, clock(), settings)
        if not claimed:
            break
        for job in claimed:
            outcome = run_one(job, worker_id, settings, clock)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            counts.ids.append(job.id)
    return counts


def run_pending(app: Flask | None = None, now: datetime | None = None,
                worker_id: str | None = None) -> Counts:
    """Run every job that is due, then return: `flask worker --once`, and the tests' worker.

    Jobs put off by a failure are not waited for. With `app`, runs in an app context (and so
    a database session) of its own, as a separate worker process would.
    """
    if app is not None:
        with app.app_context():
            try:
                return run_pending(None, now, worker_id)
            finally:
                db.session.remove()
    from flask import current_app

    settings = settings_from(current_app.config)
    return _drain(worker_id or new_worker_id(), settings, now)


def prune(now: datetime, keep: timedelta) -> int:
    """Forget jobs done longer ago than `keep` (what they sent is no longer needed)."""
    gone = cast(CursorResult[Any], db.session.execute(
        delete(Job).where(Job.status == JobStatus.DONE.value, Job.finished_at < now - keep)
        .execution_options(synchronize_session=False))).rowcount
    db.session.commit()
    return gone


def run_cleanups(now: datetime) -> dict[str, int]:
    """The domains' tidy-ups (jobs.register_cleanup), each committed on its own; one that
    fails is logged and the others still run."""
    removed = {}
    for name, cleanup in jobs.cleanups().items():
        try:
            removed[name] = cleanup(now)
            db.session.commit()
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("worker: the clean-up %s failed (%s)", name, _error_text(exc))
            continue
        if removed[name]:
            log.info("worker: %s removed %s", name, removed[name])
    return removed


#: How often a running worker forgets old finished jobs.
PRUNE_EVERY = timedelta(hours=1)


def serve(app: Flask, poll_seconds: float, stop: threading.Event) -> None:
    """Run jobs as they fall due until `stop` is set (SIGTERM or Ctrl-C finish the job in
    hand first). A database that stops answering is waited for, not fatal."""
    worker_id = new_worker_id()
    log.info("worker %s started: looking for jobs every %s s", worker_id, poll_seconds)
    with app.app_context():
        settings = settings_from(app.config)
        pruned_at: datetime | None = None
        while not stop.is_set():
            ran = 0
            try:
                ran = _drain(worker_id, settings, None, stop).total
                if pruned_at is None or utcnow() - pruned_at > PRUNE_EVERY:
                    pruned_at = utcnow()
                    if gone := prune(pruned_at, settings.keep_done):
                        log.info("forgot %s jobs finished over %s ago", gone,
                                 settings.keep_done)
                    run_cleanups(pruned_at)
            except SQLAlchemyError as exc:
                db.session.rollback()
                log.warning("worker: the database did not answer (%s); trying again",
                            _error_text(exc))
            finally:
                db.session.remove()
            if not ran:
                stop.wait(poll_seconds)
    log.info("worker %s stopped", worker_id)
