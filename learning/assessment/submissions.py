"""Learners' written answers: drafts that are never lost, conflicts, restore, submit."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from learning.assessment.models import (
    Decision,
    DraftVersion,
    Submission,
    SubmissionStatus,
    SubmittedWork,
)
from learning.assessment.originality import index as originality
from learning.assessment.originality import similar_job
from learning.content.tasks import Task
from learning.core import audit
from learning.core.extensions import db
from learning.core.rendering import render_answer
from learning.people.models import CohortStaff, Enrolment, Role, User
from learning.people.notifications import notify

_WORD = re.compile(r"[\w][\w'’-]*")
#: Statuses in which the learner may edit their text.
EDITABLE = {SubmissionStatus.DRAFT.value, SubmissionStatus.REFERRED.value}
MAX_TEXT = 60_000  # characters: far above any guidance word count; stops abuse, not learners
#: MAX_TEXT in words, as the writing page states it: English runs at about six characters a
#: word, counting the space after it. Even at 12 bytes a character (four-byte characters,
#: percent-encoded) an answer this long stays well inside the 3 MB request limit.
MAX_TEXT_WORDS = MAX_TEXT // 6


def length_problem(text: str) -> str | None:
    """Why an answer is too long to save, naming the limit; None when it fits.

    Line breaks count once, as the browser counts them in the box (it sends each as two).
    """
    length = len(text.replace("\r\n", "\n"))
    if length <= MAX_TEXT:
        return None
    return (f"Your answer is {length:,} characters long. An answer can be at most "
            f"{MAX_TEXT:,} characters (about {MAX_TEXT_WORDS:,} words): shorten it, then save "
            "again.")


class SubmissionError(Exception):
    """A rule stops this action; the message is safe to show to the learner."""


def tasks_for(learner: User, catalog, units: set[str] | None = None) -> list[Task]:
    """The written tasks for the learner's units (every task when their cohort names none).

    Pass `units` (membership.unit_ids_for) when the page has them already.
    """
    from learning.people.membership import unit_ids_for

    if units is None:
        units = unit_ids_for(learner)
    if not units:
        return list(catalog.tasks)
    return [t for t in catalog.tasks
            if any((c := catalog.criterion(cid)) and c.unit_id in units for cid in t.criteria)]


@cache  # the dashboard runs it on every view: built once per process
def _learners_submissions():
    has_text = exists().where(DraftVersion.submission_id == Submission.id)
    unread = exists().where(SubmittedWork.submission_id == Submission.id,
                            Decision.work_id == SubmittedWork.id,
                            Decision.released_at.is_not(None), Decision.learner_read_at.is_(None))
    return select(Submission, has_text, unread).where(
        Submission.learner_id == bindparam("learner_id"))


def submissions_by_task(learner: User) -> dict[str, Submission]:
    """The learner's submissions by task, each knowing whether text was ever saved and
    whether released feedback waits to be read (one statement)."""
    found = {}
    for sub, has_text, unread in db.session.execute(_learners_submissions(),
                                                    {"learner_id": learner.id}):
        sub.has_text, sub.unread_feedback = bool(has_text), bool(unread)
        found[sub.task_slug] = sub
    return found


def count_words(text: str) -> int:
    return len(_WORD.findall(text or ""))


def get_submission(learner: User, task: Task) -> Submission | None:
    return db.session.scalar(select(Submission).where(
        Submission.learner_id == learner.id, Submission.task_slug == task.slug))


def get_or_create(learner: User, task: Task) -> Submission:
    """The learner's record for this task, created on first use (safe if two tabs race)."""
    sub = get_submission(learner, task)
    if sub is not None:
        return sub
    sub = Submission(learner_id=learner.id, task_slug=task.slug,
                     status=SubmissionStatus.DRAFT.value)
    db.session.add(sub)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        sub = get_submission(learner, task)
        if sub is None:  # not the race above: let the error show
            raise
    return sub


def latest_draft(sub: Submission) -> DraftVersion | None:
    """The current text: the newest version that is not a parked conflict."""
    return db.session.scalar(select(DraftVersion).where(
        DraftVersion.submission_id == sub.id, DraftVersion.kind != "conflict")
        .order_by(DraftVersion.number.desc()).limit(1))


def _next_number(sub: Submission) -> int:
    return (db.session.scalar(select(func.max(DraftVersion.number)).where(
        DraftVersion.submission_id == sub.id)) or 0) + 1


@dataclass(frozen=True)
class SaveResult:
    version: DraftVersion
    #: Set when the browser's text was based on an older version than the current one.
    conflict_with: DraftVersion | None = None
    unchanged: bool = False


def save_draft(sub: Submission, text: str, based_on: int | None, now: datetime,
               kind: str = "save") -> SaveResult:
    """Keep the learner's text as a new version.

    If the text was written on top of an older version than the current one (another tab or
    device saved since), it is kept as a "conflict" version and the current text stays
    current: the learner then sees both and chooses. Nothing is ever overwritten.
    """
    if sub.status not in EDITABLE:
        raise SubmissionError("This answer has been submitted, so it cannot be changed now.")
    text = (text or "").replace("\r\n", "\n")
    if problem := length_problem(text):
        raise SubmissionError(problem)
    # Hold the answer for this save (a no-op UPDATE that keeps its row until commit): the
    # stale check below and the insert are then one step, so of two saves made on the same
    # version (two tabs, a double autosave) only the first becomes current; the other is
    # kept as a conflict. It also refuses a save that arrives after the answer was submitted.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(Submission).where(Submission.id == sub.id, Submission.status.in_(EDITABLE))
        .values(status=Submission.status).execution_options(synchronize_session=False)))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise SubmissionError("This answer has been submitted, so it cannot be changed now.")
    current = latest_draft(sub)
    if current is not None and current.text == text:
        db.session.commit()
        return SaveResult(current, unchanged=True)
    stale = current is not None and based_on is not None and based_on != current.number \
        and kind != "restore"
    html = str(render_answer(text))  # once, here: pages show the stored HTML
    for _ in range(3):  # two saves racing for the same number: retry with the next one
        version = DraftVersion(submission_id=sub.id, number=_next_number(sub), text=text,
                               html=html, word_count=count_words(text), saved_at=now,
                               kind="conflict" if stale else kind, based_on=based_on)
        db.session.add(version)
        try:
            db.session.commit()
            break
        except IntegrityError:
            db.session.rollback()
    else:
        raise SubmissionError("Your answer could not be saved just now. Try again.")
    if version.kind == "autosave":
        thin_autosaves(sub, version)
    return SaveResult(version, conflict_with=current if stale else None)


#: A save that keeps less than this share of a draft's words is checked with the learner first.
SHRINK_SHARE = 0.5
#: ...when the draft has at least this many words (a few words cut from a short note is normal).
SHRINK_FROM_WORDS = 20


def much_shorter(old_words: int, new_text: str) -> bool:
    """Would saving `new_text` replace a draft of `old_words` words with far fewer (or none)?"""
    return old_words >= SHRINK_FROM_WORDS and count_words(new_text) < old_words * SHRINK_SHARE


#: Autosave runs every few seconds of typing; one autosave per window is enough history.
AUTOSAVE_WINDOW = timedelta(minutes=10)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_start(at: datetime) -> datetime:
    """The start of the AUTOSAVE_WINDOW (aligned to the clock, in UTC) that `at` falls in."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return _EPOCH + ((at - _EPOCH) // AUTOSAVE_WINDOW) * AUTOSAVE_WINDOW


def thin_autosaves(sub: Submission, newest: DraftVersion) -> int:
    """Drop the autosaves that `newest` supersedes in its window; commits; returns how many.

    Kept always: every manual save, restore and conflict version, every version that was
    submitted, and the last autosave of each window, so the history still shows how the
    answer grew, one step per ten minutes at least. This is the one place versions are
    removed, and only versions whose text a later version of the same window replaces.
    """
    start = window_start(newest.saved_at)
    submitted = select(SubmittedWork.draft_version_id).where(
        SubmittedWork.submission_id == sub.id)
    result = cast(CursorResult[Any], db.session.execute(
        delete(DraftVersion).where(
            DraftVersion.submission_id == sub.id, DraftVersion.kind == "autosave",
            DraftVersion.number < newest.number, DraftVersion.saved_at >= start,
            DraftVersion.saved_at < start + AUTOSAVE_WINDOW, DraftVersion.id.not_in(submitted))
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return result.rowcount


def versions(sub: Submission) -> list[DraftVersion]:
    return list(db.session.scalars(select(DraftVersion).where(
        DraftVersion.submission_id == sub.id).order_by(DraftVersion.number.desc())))


def restore(sub: Submission, number: int, now: datetime) -> DraftVersion:
    """Make an earlier version current again by saving its text as a new version."""
    old = db.session.scalar(select(DraftVersion).where(
        DraftVersion.submission_id == sub.id, DraftVersion.number == number))
    if old is None:
        raise SubmissionError("That version does not exist.")
    return save_draft(sub, old.text, None, now, kind="restore").version


def rounds_used(sub: Submission) -> int:
    return len(sub.rounds)


def resubmissions_left(sub: Submission, task: Task) -> int:
    """How many more times a referred answer may be resubmitted."""
    return max(0, task.resubmissions_allowed + 1 - rounds_used(sub))


def below_guidance(draft: DraftVersion | None, task: Task) -> bool:
    """The answer is shorter than the task's word guidance: submitting it asks to confirm."""
    return draft is not None and draft.word_count < task.min_words


def submit(sub: Submission, task: Task, learner: User, declared: bool, sources: str,
           now: datetime) -> SubmittedWork:
    """Lock the current text as a submission round, with the authenticity declaration."""
    if not declared:
        raise SubmissionError("Confirm that this is your own work before you submit.")
    if sub.status not in EDITABLE:
        raise SubmissionError("This answer has already been submitted.")
    if sub.rounds and resubmissions_left(sub, task) == 0:
        raise SubmissionError("You have used all your resubmissions for this task. Speak to "
                              "your assessor.")
    draft = latest_draft(sub)
    if draft is None or not draft.text.strip():
        raise SubmissionError("Write your answer before you submit it.")
    # Claim the change first, in one conditional UPDATE: of two clicks (or tabs) only one
    # finds the answer still editable; the other gets the round the first one made.
    claimed = cast(CursorResult[Any], db.session.execute(
        update(Submission).where(Submission.id == sub.id, Submission.status.in_(EDITABLE))
        .values(status=SubmissionStatus.SUBMITTED.value, submitted_at=now)
        .execution_options(synchronize_session=False)))
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(sub)
        if sub.rounds and sub.status not in EDITABLE:
            return sub.rounds[-1]
        raise SubmissionError("This answer has already been submitted.")
    work = SubmittedWork(submission_id=sub.id, number=rounds_used(sub) + 1, text=draft.text,
                         html=str(draft.rendered),
                         word_count=draft.word_count, draft_version_id=draft.id,
                         submitted_at=now, declared_at=now, sources=(sources or "").strip())
    db.session.add(work)
    db.session.flush()
    db.session.refresh(sub)
    # Compare with everyone else's work and the reference essays (never the learner's own
    # earlier rounds), then add this text to the index for later submissions. Word by word
    # only: similar meaning needs the language model and every answer's vectors in memory
    # (~100 MB at 20,000 answers), which no web process should hold, so the worker adds it
    # (similar_job.py) in a job committed with this submission.
    report = originality.check(work.text, exclude_owner_user_id=learner.id,
                               ignore=task.question, similar_meaning=False)
    work.originality_share = report.share
    work.originality_report = asdict(report)
    source = originality.index_text("submission", f"{task.title}, submission {work.number}",
                                    work.text, owner_user_id=learner.id, ref=str(work.id),
                                    vectors=False)
    similar_job.request_check(work, source)
    action = "submission.resubmit" if work.number > 1 else "submission.submit"
    audit.record(action, actor=learner, subject=sub, round=work.number, task=task.slug,
                 words=work.word_count)
    for assessor in assessors_for(learner):
        verb = "resubmitted" if work.number > 1 else "submitted"
        notify(assessor, "submission", f"{learner.name} {verb} '{task.title}'.",
               f"/marking/{sub.id}")
    db.session.commit()
    return work


def assessors_for(learner: User) -> list[User]:
    """Assessors assigned to the learner's current cohorts."""
    return list(db.session.scalars(
        select(User).join(CohortStaff, CohortStaff.user_id == User.id)
        .join(Enrolment, Enrolment.cohort_id == CohortStaff.cohort_id)
        .where(Enrolment.user_id == learner.id, Enrolment.left_at.is_(None),
               CohortStaff.role == Role.ASSESSOR.value).distinct()))
