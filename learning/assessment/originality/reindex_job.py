"""The originality re-index as an outbox job: asked for on the admin page, run by `flask worker`."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from learning.assessment.originality.index import reindex
from learning.core import audit, jobs
from learning.core.extensions import db
from learning.core.jobs import Job

#: The kind of job, and its once-key: one re-index waits or runs at a time.
KIND = "originality-reindex"


def run(payload: dict[str, Any], context: jobs.Context) -> dict[str, Any]:
    """The worker's handler: the same re-index as `flask originality reindex`, with progress."""
    titles = {task.slug: task.title for task in current_app.extensions["catalog"].tasks}
    done = reindex(titles, progress=context.progress)
    return {**payload, "result": {"texts": done.texts, "references": done.references,
                                  "added": done.added, "fingerprints": done.fingerprints}}


def describe(payload: dict[str, Any]) -> str:
    return "Rebuild the originality check's index (asked for on the admin page)"


jobs.register(KIND, run, describe)


def request_reindex(actor: Any) -> tuple[Job, bool]:
    """Queue a re-index unless one is waiting or running: (job, True) when this call queued
    it (audited), (the one already there, False) otherwise; the caller commits."""
    job, queued = jobs.enqueue_once(KIND, {"requested_by": actor.id}, once_key=KIND)
    if queued:
        audit.record("originality.reindex_requested", actor=actor, subject=job)
    return job, queued


def latest() -> Job | None:
    """The newest re-index job: the one waiting or running, or else the last one finished."""
    return db.session.scalar(select(Job).where(Job.kind == KIND)
                             .order_by(Job.created_at.desc(), Job.id.desc()).limit(1))
