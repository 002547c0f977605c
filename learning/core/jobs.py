"""The outbox: a small job queue in the database, for work an action leaves to a worker.

An action adds a job to the session (`enqueue`) and commits it with its own change, so a job
exists exactly when the action happened, and the action never waits on the network. A
separate process, `flask worker` (core/worker.py), runs jobs: each kind of job has a handler
that its domain registers here (people registers "email"), since core imports no domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, cast

from sqlalchemy import (
    JSON,
    CheckConstraint,
    CursorResult,
    Index,
    Select,
    String,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from learning.core import audit
from learning.core.extensions import Model, db
from learning.core.pagination import Page, paginate
from learning.core.types import UTCDateTime, utcnow


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for a worker (at run_after, or now)
    RUNNING = "running"  # claimed by a worker until locked_until
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; an admin may retry it


_STATUS_CHECK = "status IN (" + ", ".join(f"'{s.value}'" for s in JobStatus) + ")"
#: A job with a `once_key` is one of a kind while it waits or runs (see `enqueue_once`).
_ACTIVE = "once_key IS NOT NULL AND status IN ('pending', 'running')"


class Job(Model):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="known_status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # What a worker asks for: pending jobs that are due, running ones whose lease ran out.
        Index("ix_job_due", "status", "run_after"),
        # At most one waiting or running job per once_key: the database settles a race
        # between two requests for the same slow work (two admins, a double-click).
        Index("uq_job_once_key_active", "once_key", unique=True,
              sqlite_where=text(_ACTIVE), postgresql_where=text(_ACTIVE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Which handler runs it: a name a domain registered ("email").
    kind: Mapped[str] = mapped_column(String(40))
    #: What the handler needs, as JSON. No secret belongs here longer than it must: a handler
    #: may hand back a payload without it once the job is done.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.PENDING.value)
    #: Attempts begun, counted when a worker claims the job (so a worker that dies counts).
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this time: now when queued, later when backing off after a failure.
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The lease of the worker that claimed it: after this another worker may take it over.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Which worker holds the lease (host:pid:random), so a late finish by a worker that lost
    #: its lease changes nothing.
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: How far a long job has come, e.g. {"done": 120, "total": 5000}; null for short jobs.
    progress: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set for work that must not run twice at once ("originality-reindex"): while one job
    #: with this key waits or runs, another is refused (a partial unique index).
    once_key: Mapped[str | None] = mapped_column(String(100))

    @property
    def status_enum(self) -> JobStatus:
        return JobStatus(self.status)


# ---- kinds of job, registered by their domains ----

class Context(Protocol):
    """What a handler may tell the worker while it runs."""

    job_id: int
    attempt: int

    def progress(self, done: int, total: int) -> None:
        """Record how far a long job has come (and keep its lease)."""


#: A handler runs one job. It raises to fail the attempt (GiveUp: no further attempts) and
#: may return the payload to keep once done (for example without a set-password link).
Handler = Callable[[dict[str, Any], Context], dict[str, Any] | None]


class GiveUp(Exception):
    """Raised by a handler when trying again cannot help (an address the server refuses)."""


@dataclass(frozen=True)
class Kind:
    name: str
    run: Handler
    #: One line about a job for the admins' outbox page, with any secret masked.
    describe: Callable[[dict[str, Any]], str]


_KINDS: dict[str, Kind] = {}


def register(name: str, run: Handler, describe: Callable[[dict[str, Any]], str]) -> None:
    """Make `name` a kind of job (a domain calls this when its module is imported)."""
    if len(name) > 40:
        raise ValueError(f"job kind {name!r} is longer than 40 characters")
    _KINDS[name] = Kind(name, run, describe)


#: Tidy-ups a domain asks the worker to run now and then (about hourly), by name: each
#: takes the time now, forgets what has expired, and returns how many rows it removed.
_CLEANUPS: dict[str, Callable[[datetime], int]] = {}


def register_cleanup(name: str, cleanup: Callable[[datetime], int]) -> None:
    """Have the worker run `cleanup(now)` when it forgets old jobs (reports' expired files)."""
    _CLEANUPS[name] = cleanup


def cleanups() -> dict[str, Callable[[datetime], int]]:
    return dict(_CLEANUPS)


def kind(name: str) -> Kind | None:
    return _KINDS.get(name)


def kinds() -> list[str]:
    """The kinds of job registered in this process, by name."""
    return sorted(_KINDS)


def describe(job: Job) -> str:
    """What a job is, in a line an admin may see; a kind this code no longer knows is named."""
    known = kind(job.kind)
    if known is None:
        return f"A job of a kind this version does not know ({job.kind})"
    return known.describe(job.payload or {})


# ---- adding jobs (inside the action's transaction) ----

def enqueue(kind_name: str, payload: dict[str, Any], now: datetime | None = None) -> Job:
    """Add a job to the session; it is stored, and runs, only if the caller commits."""
    if kind_name not in _KINDS:
        raise ValueError(f"no handler is registered for jobs of kind {kind_name!r}")
    now = now or utcnow()
    job = Job(kind=kind_name, payload=payload, status=JobStatus.PENDING.value, attempts=0,
              run_after=now, created_at=now, updated_at=now, last_error="")
    db.session.add(job)
    return job


def active(once_key: str) -> Job | None:
    """The job with this key that is waiting or running, if there is one."""
    return db.session.scalar(select(Job).where(
        Job.once_key == once_key,
        Job.status.in_([JobStatus.PENDING.value, JobStatus.RUNNING.value])))


def enqueue_once(kind_name: str, payload: dict[str, Any], once_key: str,
                 now: datetime | None = None) -> tuple[Job, bool]:
    """Queue a job unless one with `once_key` is waiting or running: (the job, True) when
    this call queued it, (the one already there, False) otherwise; the caller commits.

    One INSERT ... ON CONFLICT DO NOTHING against the partial unique index: a job another
    request has just queued and not yet committed is waited for (PostgreSQL) or cannot be
    there (SQLite has one writer at a time), so two requests at once give one job.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    if kind_name not in _KINDS:
        raise ValueError(f"no handler is registered for jobs of kind {kind_name!r}")
    now = now or utcnow()
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    row = {"kind": kind_name, "payload": payload, "status": JobStatus.PENDING.value,
           "attempts": 0, "run_after": now, "created_at": now, "updated_at": now,
           "last_error": "", "once_key": once_key}
    for _ in range(3):  # again only if the job in the way finished in the meantime
        new_id = db.session.scalar(
            dialect.insert(Job).values(row)
            .on_conflict_do_nothing(index_elements=["once_key"], index_where=text(_ACTIVE))
            .returning(Job.id))
        if new_id is not None:
            return db.session.get_one(Job, new_id), True
        if (found := active(once_key)) is not None:
            return found, False
    raise RuntimeError(f"could not queue or find a job with once-key {once_key!r}")


#: Rows written per statement when many jobs are queued at once (a CSV import's emails).
_BATCH = 500


def enqueue_many(kind_name: str, payloads: Iterable[dict[str, Any]],
                 now: datetime | None = None) -> int:
    """Add many jobs of one kind with multi-row INSERTs; the caller commits. Returns how many."""
    if kind_name not in _KINDS:
        raise ValueError(f"no handler is registered for jobs of kind {kind_name!r}")
    now = now or utcnow()
    rows = [{"kind": kind_name, "payload": p, "status": JobStatus.PENDING.value, "attempts": 0,
             "run_after": now, "created_at": now, "updated_at": now, "last_error": ""}
            for p in payloads]
    for start in range(0, len(rows), _BATCH):
        db.session.execute(insert(Job), rows[start:start + _BATCH])
    return len(rows)


# ---- when to try again (pure) ----

#: However many attempts have failed, the next waits at most this long.
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int, base_seconds: float, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ... capped."""
    if attempts < 1:
        return timedelta(0)
    # Past 2**20 the cap has long been reached; the exponent is bounded so it cannot overflow.
    return min(cap, timedelta(seconds=base_seconds * 2 ** min(attempts - 1, 20)))


# ---- what admins see and do ----

#: The outbox page's views of the queue: each a set of statuses.
GROUPS: dict[str, tuple[JobStatus, ...]] = {
    "unsent": (JobStatus.FAILED, JobStatus.PENDING, JobStatus.RUNNING),
    "failed": (JobStatus.FAILED,),
    "waiting": (JobStatus.PENDING, JobStatus.RUNNING),
    "done": (JobStatus.DONE,),
}


def listing(group: str, number: int) -> Page:
    """Page `number` of the jobs in a group, newest first (failed ones first when mixed)."""
    statuses = [s.value for s in GROUPS.get(group, GROUPS["unsent"])]
    query: Select = select(Job).where(Job.status.in_(statuses))
    failed_first = (Job.status != JobStatus.FAILED.value)
    return paginate(query.order_by(failed_first, Job.created_at.desc(), Job.id.desc()), number)


def counts() -> dict[str, int]:
    """How many jobs are in each status."""
    found = {status: n for status, n in db.session.execute(
        select(Job.status, func.count(Job.id)).group_by(Job.status))}
    return {s.value: found.get(s.value, 0) for s in JobStatus}


def retry(job_id: int, actor: Any, now: datetime | None = None) -> bool:
    """Give a failed job a fresh set of attempts, now; audited, and the caller commits.

    Claimed with one conditional UPDATE, so two admins pressing "Try again" at once give one
    retry (and one audit record); False for the one that finds it no longer failed.
    """
    now = now or utcnow()
    # A job that is one of a kind stays failed while another with its key waits or runs.
    other, this = aliased(Job), aliased(Job)
    same_key = select(this.once_key).where(this.id == job_id).scalar_subquery()
    busy = select(other.id).where(other.once_key == same_key, other.id != job_id,
                                  other.status.in_([JobStatus.PENDING.value,
                                                    JobStatus.RUNNING.value])).exists()
    # Session.execute is typed as returning Result; for an UPDATE it is a CursorResult.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.FAILED.value,
                          ~busy)
        .values(status=JobStatus.PENDING.value, attempts=0, run_after=now, updated_at=now,
                finished_at=None, locked_until=None, locked_by=None)
        .execution_options(synchronize_session=False))).rowcount
    if claimed != 1:
        return False
    job = db.session.get_one(Job, job_id)
    db.session.refresh(job)
    audit.record("job.retry", actor=actor, subject=job, kind=job.kind, last_error=job.last_error)
    return True
