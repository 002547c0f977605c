"""The similar-meaning check of a submitted answer, as an outbox job run by `flask worker`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from learning.assessment.models import Submission, SubmittedWork
from learning.assessment.originality import similar
from learning.assessment.originality.models import SentenceVectors, TextSource
from learning.core import audit, jobs
from learning.core.extensions import db

#: The kind of job; its once-key adds the work's id, so a work has one such job at a time.
KIND = "originality-similar"


def request_check(work: SubmittedWork, source: TextSource) -> None:
    """Queue the check of a work just submitted (its report says pending); caller commits.

    The web process decides nothing about the model: whether it is installed is the
    worker's to find out (its note then says so), so no web process imports it.
    """
    jobs.enqueue_once(KIND, {"work_id": work.id, "source_id": source.id},
                      once_key=f"{KIND}:{work.id}")


def run(payload: dict[str, Any], context: jobs.Context) -> None:
    """Find the reworded passages, store the answer's vectors, and add both to the report.

    Safe to run twice and by two workers at once: the result is written only while the
    report still says pending, under the work's row lock, so the first to finish writes it
    and any other changes nothing. Work erased meanwhile (no report) is left alone.
    """
    work_id = int(payload["work_id"])
    found = db.session.execute(
        select(SubmittedWork.text, SubmittedWork.originality_report, Submission.learner_id,
               Submission.task_slug)
        .join(Submission, Submission.id == SubmittedWork.submission_id)
        .where(SubmittedWork.id == work_id)).first()
    if found is None or not _pending(found.originality_report):
        db.session.rollback()
        return
    task = next((t for t in current_app.extensions["catalog"].tasks
                 if t.slug == found.task_slug), None)
    # The same exclusions as the word-level check at submit: the learner's own work, the
    # question (in every answer), and sentences shown already as same words.
    spans = [(int(a), int(b)) for a, b in found.originality_report.get("spans", [])]
    reworded, note = similar.check(found.text, spans, exclude_owner_user_id=found.learner_id,
                                   ignore=task.question if task else None)
    # End the reading transaction before taking the lock: on SQLite a transaction that has
    # read cannot wait for another writer (it fails instead), and a fresh one can.
    db.session.rollback()
    if not _hold(work_id):
        db.session.rollback()
        return
    report = db.session.scalar(select(SubmittedWork.originality_report)
                               .where(SubmittedWork.id == work_id))
    if report is None or not _pending(report):  # erased, or another run wrote it first
        db.session.rollback()
        return
    source = db.session.get(TextSource, int(payload.get("source_id") or 0))
    if source is not None and not _has_vectors(source.id):
        similar.store(source)
    # A source removed since the check ran (its learner erased) is not named.
    ids = [m.source_id for m in reworded]
    alive = set(db.session.scalars(select(TextSource.id).where(TextSource.id.in_(ids)))) \
        if ids else set()
    shown = [asdict(m) for m in reworded if m.source_id in alive]
    db.session.execute(
        update(SubmittedWork).where(SubmittedWork.id == work_id)
        .values(originality_report={**report, "similar": shown, "similar_note": note,
                                    "similar_pending": False})
        .execution_options(synchronize_session=False))
    audit.record("originality.similar_checked", subject=db.session.get(SubmittedWork, work_id),
                 sources=len(shown),
                 passages=sum(len(m["passages"]) for m in shown), note=bool(note))
    db.session.commit()


def _pending(report: dict | None) -> bool:
    return bool(report and report.get("similar_pending"))


def _hold(work_id: int) -> bool:
    """Lock the work's row until commit (a no-op UPDATE): two runs write one at a time."""
    held = db.session.execute(
        update(SubmittedWork).where(SubmittedWork.id == work_id)
        .values(originality_share=SubmittedWork.originality_share)
        .execution_options(synchronize_session=False))
    return bool(getattr(held, "rowcount", 0))


def _has_vectors(source_id: int) -> bool:
    """Vectors are there already (a resubmission of the same words, a re-run): stored vectors
    are left as they are, so the worker's vectors in memory need not be loaded again."""
    model = similar.model()
    if model is None:
        return True  # nothing to store without the model
    return db.session.scalar(select(SentenceVectors.id).where(
        SentenceVectors.source_id == source_id, SentenceVectors.model == model.name)) is not None


def describe(payload: dict[str, Any]) -> str:
    return f"Check submitted work {payload.get('work_id')} for similar meaning"


jobs.register(KIND, run, describe)
