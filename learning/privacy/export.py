"""A subject access request in one file: a zip of a learner's records (data.json) and their
writing (one Markdown file per saved version and per submitted round).

Reads every domain and writes nothing: the view records the download in the audit log.
Writing is read a batch of rows at a time and goes into the zip as it arrives, and the zip
stays in memory only up to SPOOL_BYTES (then it moves to a temporary file), so a learner with
hundreds of 60 KB autosaves costs little memory.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from learning.assessment import evidence, writing_activity
from learning.assessment.models import (
    Decision,
    DraftVersion,
    Submission,
    SubmittedWork,
    WritingActivity,
)
from learning.assessment.originality.models import TextSource
from learning.content.catalog import Catalog
from learning.core.audit import AuditEvent
from learning.core.extensions import db
from learning.core.jobs import Job, JobStatus
from learning.core.types import utcnow
from learning.course.models import ModuleProgress
from learning.iqa.models import IqaReview, IqaSample
from learning.people.admin import ACTION_LABELS
from learning.people.models import (
    Centre,
    Cohort,
    Enrolment,
    Invitation,
    LoginSession,
    Notification,
    Role,
    User,
)
from learning.people.notifications import EMAIL, HIDDEN_LINK
from learning.quizzes.models import QuizAttempt

FORMAT = "joined-up-personal-data/1"
#: The zip is built in memory up to this size, then in a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
#: Saved versions read from the database at a time.
BATCH = 50

README = """\
Everything Joined Up holds about you
====================================

data.json     Your records: account, roles, cohorts, module progress, quiz attempts and
              answers, written tasks (every saved version, what the writing page recorded
              of how you wrote, the writing-process report of every submission round, the
              released decisions and feedback on them, and internal quality assurance
              reviews of those decisions), notifications, emails to you, logins,
              set-password links,
              copies kept for the originality check, and audit events about you
              (including who opened your work). Times are UTC (ISO 8601).
writing/      What you wrote, one Markdown file per saved version and per submission round,
              in a folder per written task. data.json names the file for each one.

Not included: marking that an assessor has not released yet (it is theirs until they do),
per-question quiz marks (the quiz shows them when its settings allow), and the originality
report (it quotes other learners' work). Ask your centre about anything else.
"""


def may_export(viewer: User, person: User) -> bool:
    """People download their own data; administrators anyone's (a centre answering a subject
    access request)."""
    return viewer.id == person.id or viewer.has_role(Role.ADMIN)


def filename(person: User, today: date) -> str:
    return f"joined-up-data-{person.id}-{today.isoformat()}.zip"


# ---- names of the writing files (pure) ----

def _folder(task_slug: str) -> str:
    return "writing/" + (re.sub(r"[^a-z0-9]+", "-", task_slug.lower()).strip("-") or "task")


def version_path(task_slug: str, number: int, saved_at: datetime) -> str:
    return f"{_folder(task_slug)}/version-{number:03d}-saved-{saved_at:%Y-%m-%d}.md"


def round_path(task_slug: str, number: int, submitted_at: datetime) -> str:
    return f"{_folder(task_slug)}/submission-round-{number}-{submitted_at:%Y-%m-%d}.md"


def markdown(heading: str, facts: list[tuple[str, str]], text: str, sources: str = "") -> str:
    """One piece of writing as a Markdown file: a heading, a few facts, the text as written."""
    lines = [f"# {heading}", "", *(f"- {name}: {value}" for name, value in facts), "", "---",
             "", text.rstrip(), ""]
    if sources.strip():
        lines += ["## Sources", "", sources.rstrip(), ""]
    return "\n".join(lines)


_KIND_WORDS = {"save": "saved", "autosave": "saved automatically",
               "restore": "an earlier version restored",
               "conflict": "kept from another tab or device (not made current)"}


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


# ---- the records (data.json) ----

def records(person: User, catalog: Catalog) -> dict[str, Any]:
    """Everything held about `person`, as JSON-able data (their writing by file name)."""
    submissions = _submissions(person)
    attempts = list(db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == person.id)
        .order_by(QuizAttempt.quiz_slug, QuizAttempt.number)))
    return {
        "format": FORMAT,
        "generated_at": _when(utcnow()),
        "account": _account(person),
        "enrolments": _enrolments(person),
        "module_progress": _progress(person, catalog),
        "quiz_attempts": [_attempt(a) for a in attempts],
        "written_tasks": _written(submissions, catalog),
        "originality_copies": [
            {"label": s.label, "words": s.word_count, "kept_since": _when(s.created_at)}
            for s in db.session.scalars(select(TextSource).where(
                TextSource.owner_user_id == person.id).order_by(TextSource.id))],
        "notifications": [
            {"kind": n.kind, "message": n.message, "link": n.link,
             "created_at": _when(n.created_at), "read_at": _when(n.read_at)}
            for n in db.session.scalars(select(Notification).where(
                Notification.user_id == person.id).order_by(Notification.id))],
        "emails": _emails(person),
        "logins": [
            {"started_at": _when(s.created_at), "last_seen_at": _when(s.last_seen_at),
             "ended_at": _when(s.ended_at), "end_reason": s.end_reason,
             "remember_me": s.remember}
            for s in db.session.scalars(select(LoginSession).where(
                LoginSession.user_id == person.id).order_by(LoginSession.id))],
        "set_password_links": [
            {"purpose": i.purpose, "created_at": _when(i.created_at),
             "expires_at": _when(i.expires_at), "used_at": _when(i.used_at)}
            for i in db.session.scalars(select(Invitation).where(
                Invitation.user_id == person.id).order_by(Invitation.id))],
        "audit_events": _audit_events(person, [s.id for s in submissions],
                                      [a.id for a in attempts]),
    }


#: An email's status in the outbox, in words.
_EMAIL_STATUS = {JobStatus.PENDING: "waiting to be sent", JobStatus.RUNNING: "being sent",
                 JobStatus.DONE: "sent", JobStatus.FAILED: "could not be sent"}


def _emails(person: User) -> list[dict[str, Any]]:
    """Emails to the person in the outbox (sent ones are kept for JOB_KEEP_DAYS); never a
    set-password link, which would work for whoever holds the file."""
    return [{"message": job.payload.get("message", ""),
             "link": HIDDEN_LINK if job.payload.get("secret_link") else job.payload.get("link"),
             "status": _EMAIL_STATUS[job.status_enum], "queued_at": _when(job.created_at),
             "sent_at": _when(job.finished_at) if job.status == JobStatus.DONE else None}
            for job in db.session.scalars(select(Job).where(
                Job.kind == EMAIL, Job.payload["user_id"].as_integer() == person.id)
                .order_by(Job.id))]


def _account(person: User) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "email": person.email,
            "learner_ref": person.learner_ref, "active": person.active,
            "password_set": person.password_hash is not None,
            "created_at": _when(person.created_at),
            "last_login_at": _when(person.last_login_at),
            "extra_time_percent_in_timed_quizzes": person.extra_time_percent,
            "erased_at": _when(person.erased_at),
            "roles": [{"role": r.role, "granted_at": _when(r.granted_at)}
                      for r in person.roles]}


def _enrolments(person: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Enrolment, Cohort, Centre.name).join(Cohort, Cohort.id == Enrolment.cohort_id)
        .outerjoin(Centre, Centre.id == Cohort.centre_id)
        .where(Enrolment.user_id == person.id).order_by(Enrolment.enrolled_at))
    return [{"cohort": cohort.name, "centre": centre, "unit": cohort.unit_id,
             "cohort_starts_on": _when(cohort.starts_on), "cohort_ends_on": _when(cohort.ends_on),
             "enrolled_at": _when(e.enrolled_at), "left_at": _when(e.left_at)}
            for e, cohort, centre in rows]


def _progress(person: User, catalog: Catalog) -> list[dict[str, Any]]:
    titles = {m.slug: m.title for m in catalog.modules}
    return [{"module": p.module_slug, "title": titles.get(p.module_slug, p.module_slug),
             "started_at": _when(p.started_at), "last_viewed_at": _when(p.last_viewed_at),
             "completed_at": _when(p.completed_at)}
            for p in db.session.scalars(select(ModuleProgress).where(
                ModuleProgress.user_id == person.id).order_by(ModuleProgress.started_at))]


def answer_in_words(view: dict[str, Any], answer: Any) -> Any:
    """A stored answer with option and item ids replaced by the words the learner saw."""
    words = {o["id"]: o["text"] for key in ("options", "items", "prompts")
             for o in view.get(key, []) if isinstance(o, dict) and "id" in o}
    if isinstance(answer, str):
        return words.get(answer, answer)
    if isinstance(answer, list):
        return [words.get(a, a) if isinstance(a, str) else a for a in answer]
    if isinstance(answer, dict):
        return {words.get(k, k): v for k, v in answer.items()}
    return answer


def _attempt(attempt: QuizAttempt) -> dict[str, Any]:
    views = {item["view"]["id"]: item["view"] for item in attempt.questions}
    return {
        "quiz": attempt.quiz_slug, "title": attempt.settings.get("title", attempt.quiz_slug),
        "attempt": attempt.number, "state": attempt.state,
        "started_at": _when(attempt.started_at), "submitted_at": _when(attempt.submitted_at),
        "timed_out": attempt.timed_out, "marks": attempt.marks, "max_marks": attempt.max_marks,
        "percent": attempt.percent, "passed": attempt.passed,
        "answers": [{"question": views.get(a.question_id, {}).get("text", a.question_id),
                     "your_answer": answer_in_words(views.get(a.question_id, {}), a.answer),
                     "saved_at": _when(a.saved_at),
                     # a flag for review the learner set while taking the quiz
                     **({"flagged_for_review_at": _when(a.flagged_at)} if a.flagged_at else {})}
                    for a in attempt.answers],
    }


def _submissions(person: User) -> list[Submission]:
    return list(db.session.scalars(
        select(Submission).where(Submission.learner_id == person.id)
        .options(selectinload(Submission.rounds).options(
            selectinload(SubmittedWork.decisions).options(selectinload(Decision.criteria),
                                                          selectinload(Decision.assessor)),
            selectinload(SubmittedWork.evidence)))
        .order_by(Submission.task_slug)))


def _written(submissions: list[Submission], catalog: Catalog) -> list[dict[str, Any]]:
    titles = {t.slug: t.title for t in catalog.tasks}
    ids = [s.id for s in submissions]
    versions: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        slugs = {s.id: s.task_slug for s in submissions}
        for sub_id, number, kind, saved_at, words in db.session.execute(
                select(DraftVersion.submission_id, DraftVersion.number, DraftVersion.kind,
                       DraftVersion.saved_at, DraftVersion.word_count)
                .where(DraftVersion.submission_id.in_(ids)).order_by(DraftVersion.number)):
            versions[sub_id].append({
                "version": number, "how": _KIND_WORDS.get(kind, kind),
                "saved_at": _when(saved_at), "words": words,
                "file": version_path(slugs[sub_id], number, saved_at)})
    reviews = _reviews([d.id for s in submissions for w in s.rounds for d in w.decisions
                        if d.is_released])
    activity = _activity(ids)
    history, recorded = writing_activity.history(ids)
    return [{"task": s.task_slug, "title": titles.get(s.task_slug, s.task_slug),
             "status": s.status, "started_at": _when(s.created_at),
             "versions": versions[s.id], "writing_activity": activity[s.id],
             "submissions": [_round(s, w, reviews) | {"how_it_was_written": _process(
                 writing_activity.round_report(w, history[s.id], recorded[s.id]))}
                 for w in s.rounds]} for s in submissions]


def _process(report) -> dict[str, Any]:
    """The writing-process report of a round, as its facts and figures."""
    return {"facts": report.facts, "sittings": len(report.sittings),
            "active_writing_seconds": report.active_seconds,
            "typed_characters": report.typed_chars, "pastes": report.paste_count,
            "share_of_final_text_pasted": None if report.paste_share is None
            else round(report.paste_share, 3)}


def _activity(submission_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """What the writing page's script recorded with each save, by submission."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in submission_ids}
    if submission_ids:
        for row in db.session.scalars(select(WritingActivity).where(
                WritingActivity.submission_id.in_(submission_ids))
                .order_by(WritingActivity.received_at, WritingActivity.id)):
            out[row.submission_id].append({
                "recorded_at": _when(row.received_at), "version": row.draft_number,
                "typed_characters": row.typed_chars, "active_seconds": row.active_seconds,
                "pastes": [{"at": p.get("at"), "characters": p.get("chars"),
                            "text": p.get("text"), "moved_within_the_answer": p.get("own")}
                           for p in row.pastes]})
    return out


def _round(sub: Submission, work: SubmittedWork,
           reviews: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "round": work.number, "submitted_at": _when(work.submitted_at),
        "declared_own_work_at": _when(work.declared_at), "words": work.word_count,
        "sources": work.sources, "file": round_path(sub.task_slug, work.number, work.submitted_at),
        "decisions": [{
            "outcome": d.outcome, "released_at": _when(d.released_at),
            "you_opened_it_at": _when(d.learner_read_at),
            "assessor": d.assessor.name, "feedback": d.feedback, "actions": d.actions,
            "criteria": [{"criterion": c.criterion_id, "met": c.met, "comment": c.comment}
                         for c in d.criteria],
            # The passages of the answer the assessor attached to criteria (evidence.py).
            "evidence": [{"criterion": e.criterion_id, "met": e.met, "passage": e.quote,
                          "note": e.note} for e in evidence.shown_with(d, work.evidence)],
            "quality_assurance": reviews.get(d.id, []),
        } for d in work.decisions if d.is_released],
    }


def _reviews(decision_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """IQA reviews of these decisions, by decision id."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not decision_ids:
        return out
    for sample in db.session.scalars(
            select(IqaSample).where(IqaSample.decision_id.in_(decision_ids))
            .options(selectinload(IqaSample.reviews).selectinload(IqaReview.iqa))):
        out[sample.decision_id] = [{
            "sampled_at": _when(sample.sampled_at), "iqa": r.iqa.name, "verdict": r.verdict,
            "comments": r.comments, "action_for_assessor": r.action,
            "reviewed_at": _when(r.created_at), "action_closed_at": _when(r.action_closed_at),
        } for r in sample.reviews]
    return out


def _audit_events(person: User, submission_ids: list[int],
                  attempt_ids: list[int]) -> list[dict[str, Any]]:
    """Events done by the person, about their account, their written work or their quizzes."""
    about = [AuditEvent.actor_id == person.id,
             and_(AuditEvent.subject_type == "User", AuditEvent.subject_id == str(person.id))]
    for kind, ids in (("Submission", submission_ids), ("QuizAttempt", attempt_ids)):
        if ids:
            about.append(and_(AuditEvent.subject_type == kind,
                              AuditEvent.subject_id.in_([str(i) for i in ids])))
    events = list(db.session.scalars(select(AuditEvent).where(or_(*about))
                                      .order_by(AuditEvent.at, AuditEvent.id)))
    names = {person.id: "you"}
    others = {e.actor_id for e in events if e.actor_id is not None} - set(names)
    if others:
        names |= {i: name for i, name in db.session.execute(
            select(User.id, User.name).where(User.id.in_(others)))}
    return [{"at": _when(e.at), "action": e.action,
             "what": ACTION_LABELS.get(e.action, e.action),
             "by": names.get(e.actor_id, "the system") if e.actor_id is not None
             else "the system",
             "detail": e.detail} for e in events]


# ---- the writing (Markdown files) ----

def writing_files(person: User, catalog: Catalog) -> Iterator[tuple[str, str]]:
    """(path in the zip, Markdown) for every saved version and every submitted round."""
    titles = {t.slug: t.title for t in catalog.tasks}
    versions = db.session.execute(
        select(Submission.task_slug, DraftVersion.number, DraftVersion.kind,
               DraftVersion.saved_at, DraftVersion.word_count, DraftVersion.text)
        .join(Submission, Submission.id == DraftVersion.submission_id)
        .where(Submission.learner_id == person.id)
        .order_by(Submission.task_slug, DraftVersion.number)
        .execution_options(yield_per=BATCH))
    for slug, number, kind, saved_at, words, text in versions:
        yield version_path(slug, number, saved_at), markdown(
            f"{titles.get(slug, slug)}: version {number}",
            [("Saved", saved_at.isoformat()), ("How", _KIND_WORDS.get(kind, kind)),
             ("Words", str(words))], text)
    rounds = db.session.execute(
        select(Submission.task_slug, SubmittedWork.number, SubmittedWork.submitted_at,
               SubmittedWork.declared_at, SubmittedWork.word_count, SubmittedWork.text,
               SubmittedWork.sources)
        .join(Submission, Submission.id == SubmittedWork.submission_id)
        .where(Submission.learner_id == person.id)
        .order_by(Submission.task_slug, SubmittedWork.number)
        .execution_options(yield_per=BATCH))
    for slug, number, submitted_at, declared_at, words, text, sources in rounds:
        yield round_path(slug, number, submitted_at), markdown(
            f"{titles.get(slug, slug)}: submission round {number}",
            [("Submitted", submitted_at.isoformat()),
             ("Declared your own work", declared_at.isoformat()), ("Words", str(words))],
            text, sources)


def write_zip(person: User, catalog: Catalog, out: IO[bytes]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        archive.writestr("data.json", json.dumps(records(person, catalog), indent=2,
                                                 ensure_ascii=False))
        for path, body in writing_files(person, catalog):
            archive.writestr(path, body)


def size_of(file: IO[bytes]) -> int:
    """The size of a file made by `build`, leaving it at its start."""
    size = file.seek(0, 2)
    file.seek(0)
    return size


def build(person: User, catalog: Catalog) -> IO[bytes]:
    """The zip, ready to send from its first byte (the caller closes it)."""
    out: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (sent, then closed)
    write_zip(person, catalog, out)
    out.seek(0)
    return out
