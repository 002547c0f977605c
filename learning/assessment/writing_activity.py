"""What the writing page's script reports with each save: read strictly, kept per save.

The browser sends a small JSON field ("activity") with each save: characters typed, seconds
of active writing and the pastes since the last save it knows was kept. Anything that is not
exactly that shape is ignored as a whole: the answer's text saves either way, and the
writing-process report then simply has fewer facts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from learning.assessment import writing_process
from learning.assessment.models import DraftVersion, Submission, SubmittedWork, WritingActivity
from learning.core.extensions import db

#: The longest field accepted (characters of JSON): 20 pastes of 5,000 characters, escaped.
MAX_FIELD = 150_000
#: Pastes kept per save; the script sends at most this many (larger ones first).
MAX_PASTES = 20
#: The pasted text kept, to find where it ended up in the final answer (the size is whole).
MAX_PASTE_TEXT = 5_000
#: Bounds for what one save can honestly report: a day of writing, far more than any answer.
MAX_TYPED = 500_000
MAX_SECONDS = 24 * 3600
MAX_PASTE_CHARS = 10_000_000
MAX_AGO_MS = MAX_SECONDS * 1000


@dataclass(frozen=True)
class Paste:
    chars: int
    #: Milliseconds before the save was sent (the browser's clock is never trusted).
    ago_ms: int
    text: str
    #: Text cut or copied from the same box (moving a paragraph), not from elsewhere.
    own: bool


@dataclass(frozen=True)
class Activity:
    typed: int
    active_seconds: int
    pastes: tuple[Paste, ...]

    @property
    def empty(self) -> bool:
        return not (self.typed or self.active_seconds or self.pastes)


def _count(value: Any, top: int) -> int | None:
    # bool is an int in Python: refuse it, as JSON true is not a count.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        return None
    return value


def _paste(item: Any) -> Paste | None:
    if not isinstance(item, dict) or set(item) - {"chars", "ago", "text", "own"}:
        return None
    chars, ago = _count(item.get("chars"), MAX_PASTE_CHARS), _count(item.get("ago"), MAX_AGO_MS)
    text, own = item.get("text", ""), item.get("own", False)
    if chars is None or ago is None or not isinstance(text, str) or not isinstance(own, bool):
        return None
    if len(text) > MAX_PASTE_TEXT or len(text) > chars:
        return None
    return Paste(chars=chars, ago_ms=ago, text=text, own=own)


def parse(raw: str | None) -> Activity | None:
    """The activity in the field, or None for anything missing, malformed or out of bounds."""
    if not raw or not isinstance(raw, str) or len(raw) > MAX_FIELD:
        return None
    try:
        data = json.loads(raw)
    except ValueError:  # includes JSONDecodeError and overly deep nesting
        return None
    except RecursionError:
        return None
    if not isinstance(data, dict) or data.get("v") != 1 or set(data) - {"v", "typed", "active",
                                                                          "pastes"}:
        return None
    typed = _count(data.get("typed", 0), MAX_TYPED)
    active = _count(data.get("active", 0), MAX_SECONDS)
    items = data.get("pastes", [])
    if typed is None or active is None or not isinstance(items, list) \
            or len(items) > MAX_PASTES:
        return None
    pastes = [_paste(item) for item in items]
    if any(p is None for p in pastes):
        return None
    return Activity(typed=typed, active_seconds=active,
                    pastes=tuple(p for p in pastes if p is not None))


def record(sub: Submission, draft_number: int, activity: Activity | None,
           now: datetime) -> WritingActivity | None:
    """Keep what the browser reported with a save that was kept; commits. None when empty.

    Paste times are the server's receipt time less the browser's "how long ago", so a
    wrong clock on the learner's device cannot move them.
    """
    if activity is None or activity.empty:
        return None
    row = WritingActivity(
        submission_id=sub.id, draft_number=draft_number, received_at=now,
        typed_chars=activity.typed, active_seconds=activity.active_seconds,
        pastes=[{"at": (now - timedelta(milliseconds=p.ago_ms)).isoformat(), "chars": p.chars,
                 "text": p.text, "own": p.own} for p in activity.pastes])
    db.session.add(row)
    db.session.commit()
    return row


def history(submission_ids: Sequence[int]) -> tuple[
        dict[int, dict[int, writing_process.Version]], dict[int, list[writing_process.Recorded]]]:
    """Every version (by id) and every recorded save of these answers, by submission: two
    statements, however many answers and however long their history."""
    versions: dict[int, dict[int, writing_process.Version]] = {i: {} for i in submission_ids}
    recorded: dict[int, list[writing_process.Recorded]] = {i: [] for i in submission_ids}
    if not submission_ids:
        return versions, recorded
    for vid, sub_id, number, at, words, kind in db.session.execute(
            select(DraftVersion.id, DraftVersion.submission_id, DraftVersion.number,
                   DraftVersion.saved_at, DraftVersion.word_count, DraftVersion.kind)
            .where(DraftVersion.submission_id.in_(submission_ids))):
        versions[sub_id][vid] = writing_process.Version(number, at, words, kind)
    for row in db.session.scalars(select(WritingActivity).where(
            WritingActivity.submission_id.in_(submission_ids))):
        recorded[row.submission_id].append(writing_process.Recorded(
            row.received_at, row.typed_chars, row.active_seconds, row.pastes, row.draft_number))
    return versions, recorded


def round_report(work: SubmittedWork, versions: dict[int, writing_process.Version],
                 recorded: list[writing_process.Recorded]) -> writing_process.Report:
    """The report of one round, from its answer's `history`."""
    made_from = versions.get(work.draft_version_id)
    return writing_process.for_round(list(versions.values()), recorded,
                                     made_from.number if made_from else 0, work.text,
                                     work.submitted_at)


def report_for(work: SubmittedWork) -> writing_process.Report:
    """The writing-process report of one submission round: everything written up to it."""
    versions, recorded = history([work.submission_id])
    return round_report(work, versions[work.submission_id], recorded[work.submission_id])
