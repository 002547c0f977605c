"""Evidence per criterion: passages of a submitted answer attached to criteria while marking.

A passage is character offsets into SubmittedWork.text with the quoted text kept beside them.
It belongs to the round it was made on, and is withdrawn, never deleted. A released decision
shows the passages its assessor had attached when it was released (`shown_with`), so a later
withdrawal (after an IQA reopened the work) never rewrites what the learner was shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from learning.assessment.marking import WAITING, MarkingError, current_round
from learning.assessment.models import Decision, Evidence, SubmittedWork
from learning.content.catalog import Catalog
from learning.content.tasks import Task
from learning.core import audit
from learning.core.extensions import db
from learning.people.models import User

#: Longest note an assessor can add to a passage.
MAX_NOTE = 2000
#: How much of a passage the no-JavaScript list shows.
PREVIEW = 90


class EvidenceError(Exception):
    """The passage cannot be attached as it is; the message says what to fix."""


@dataclass(frozen=True)
class Passage:
    """A sentence (or list line) of the answer, numbered, for choosing without a mouse."""

    number: int
    start: int
    end: int
    text: str

    @property
    def preview(self) -> str:
        return self.text if len(self.text) <= PREVIEW else self.text[:PREVIEW - 1] + "…"


_SENTENCE = re.compile(r"[^.!?]*(?:[.!?]+[\"'”’)\]]*(?=\s|$)|$)")
_BULLET = re.compile(r"(?:[-*+]|\d+[.)])\s+")


def passages(text: str) -> list[Passage]:
    """The answer cut into sentences, each line (a list item) on its own, with offsets."""
    out: list[Passage] = []
    at = 0
    for line in text.split("\n"):
        line_start = at
        at += len(line) + 1
        bullet = _BULLET.match(line.lstrip())
        skip = (len(line) - len(line.lstrip())) + (bullet.end() if bullet else 0)
        for m in _SENTENCE.finditer(line, skip):
            piece = m.group()
            if not piece.strip():
                continue
            start = line_start + m.start() + (len(piece) - len(piece.lstrip()))
            end = line_start + m.end() - (len(piece) - len(piece.rstrip()))
            out.append(Passage(len(out) + 1, start, end, text[start:end]))
    return out


def passage_problem(text: str, start: int | None, end: int | None,
                    quote: str | None) -> str:
    """Why these offsets do not name a passage of this text ("" when they do). `quote`, when
    given (the browser's selection), must be exactly the text between them."""
    if start is None or end is None:
        return "Choose a passage of the answer."
    if not 0 <= start < end <= len(text):
        return "That passage is not in this answer. Choose it again."
    if quote is not None and text[start:end] != quote.replace("\r\n", "\n"):
        return ("The selected text does not match the answer (it may have changed). "
                "Select it again.")
    if not text[start:end].strip():
        return "The passage is only spaces. Choose some words of the answer."
    return ""


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The offsets without the spaces and line breaks a selection often takes at its ends."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def editable_problem(work: SubmittedWork) -> str:
    """Why evidence on this round cannot change now ("" when it can): as for the decision,
    only the current round, only while it waits for a decision (or an IQA reopened it)."""
    sub = work.submission
    if work is not current_round(sub):
        return "A newer submission has arrived: its evidence starts afresh."
    if sub.status not in WAITING and not sub.reassess:
        return "This work has already been decided, so its evidence cannot change."
    return ""


def add_evidence(work: SubmittedWork, task: Task, assessor: User, criterion_id: str,
                 start: int | None, end: int | None, quote: str | None, met: bool | None,
                 note: str, now: datetime) -> Evidence:
    """Attach a passage of this round to a criterion (met or not yet met), with a note."""
    if problem := editable_problem(work):
        raise MarkingError(problem)
    if criterion_id not in task.criteria:
        raise EvidenceError("Choose the criterion this passage is evidence for.")
    if problem := passage_problem(work.text, start, end, quote):
        raise EvidenceError(problem)
    if met is None:
        raise EvidenceError("Say whether the passage shows the criterion met or not yet met.")
    if len(note) > MAX_NOTE:
        raise EvidenceError(f"A note can be at most {MAX_NOTE:,} characters.")
    assert start is not None and end is not None  # passage_problem said so
    start, end = trimmed(work.text, start, end)
    item = Evidence(work=work, assessor_id=assessor.id, criterion_id=criterion_id,
                    start_offset=start, end_offset=end, quote=work.text[start:end], met=met,
                    note=note.strip(), created_at=now)
    db.session.add(item)
    db.session.flush()
    audit.record("evidence.add", actor=assessor, subject=work.submission, round=work.number,
                 evidence_id=item.id, criterion=criterion_id, met=met, start=start, end=end)
    db.session.commit()
    return item


def withdraw_evidence(work: SubmittedWork, assessor: User, evidence_id: int | None,
                      now: datetime) -> Evidence:
    """Take a passage off its criterion. The row stays (withdrawn_at): a decision released
    before keeps showing it."""
    if problem := editable_problem(work):
        raise MarkingError(problem)
    item = next((e for e in work.evidence if e.id == evidence_id
                 and e.assessor_id == assessor.id and e.withdrawn_at is None), None)
    if item is None:
        raise EvidenceError("That passage is no longer attached. Reload the page.")
    item.withdrawn_at = now
    audit.record("evidence.withdraw", actor=assessor, subject=work.submission,
                 round=work.number, evidence_id=item.id, criterion=item.criterion_id)
    db.session.commit()
    return item


# ---- which passages a page shows (pure) ----

def current(work: SubmittedWork, assessor: User) -> list[Evidence]:
    """The assessor's passages on this round now attached, in the answer's order."""
    return [e for e in work.evidence if e.assessor_id == assessor.id and e.withdrawn_at is None]


def shown_with(decision: Decision, items: Iterable[Evidence]) -> list[Evidence]:
    """The passages a released decision shows: its assessor's, on its round, attached when
    it was released (made before, and not withdrawn by then)."""
    at = decision.released_at
    if at is None:
        return []
    return [e for e in items if e.work_id == decision.work_id
            and e.assessor_id == decision.assessor_id and e.created_at <= at
            and (e.withdrawn_at is None or e.withdrawn_at > at)]


def by_criterion(items: Iterable[Evidence]) -> dict[str, list[Evidence]]:
    out: dict[str, list[Evidence]] = {}
    for e in items:
        out.setdefault(e.criterion_id, []).append(e)
    return out


# ---- the answer with its passages marked (pure) ----

@dataclass(frozen=True)
class Mark:
    """One passage as the highlighted answer labels it: its key in the list below the
    answer, and what it says ("2.3 met")."""

    key: int
    start: int
    end: int
    label: str
    met: bool = True


@dataclass(frozen=True)
class Piece:
    """A run of text with the passages covering it (none: plain text)."""

    start: int
    text: str
    marks: tuple[Mark, ...]

    @property
    def label(self) -> str:
        return "; ".join(f"{m.key}: {m.label}" for m in self.marks)

    @property
    def all_met(self) -> bool:
        return all(m.met for m in self.marks)


def marks_for(text: str, items: Sequence[Evidence],
              number_of: dict[str, str] | None = None) -> list[Mark]:
    """A mark per passage, keyed 1, 2, … in the given order; a passage whose quote no longer
    matches the text (erased work) is listed but not drawn."""
    number_of = number_of or {}
    out = []
    for key, e in enumerate(items, 1):
        if text[e.start_offset:e.end_offset] == e.quote:
            out.append(Mark(key, e.start_offset, e.end_offset,
                            f"{number_of.get(e.criterion_id, e.criterion_id)} "
                            f"{'met' if e.met else 'not yet met'}", e.met))
    return out


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: text between blank lines, spaces at the ends left off."""
    out, at = [], 0
    for m in [*_PARAGRAPH_BREAK.finditer(text), None]:
        stop = m.start() if m else len(text)
        start, end = trimmed(text, at, stop)
        if end > start:
            out.append((start, end))
        at = m.end() if m else len(text)
    return out


def highlighted(text: str, marks: Sequence[Mark]) -> list[list[Piece]]:
    """The answer as paragraphs of pieces, cut wherever a passage starts or ends, so
    overlapping passages give a piece labelled with every passage covering it. The template
    escapes each piece: nothing of the answer is ever markup."""
    out = []
    for p_start, p_end in paragraphs(text):
        cuts = {p_start, p_end}
        cuts.update(x for m in marks for x in (m.start, m.end) if p_start < x < p_end)
        edges = sorted(cuts)
        pieces = []
        for a, b in zip(edges, edges[1:], strict=False):
            covering = tuple(m for m in marks if m.start <= a and b <= m.end)
            pieces.append(Piece(a, text[a:b], covering))
        out.append(pieces)
    return out


# ---- what a released decision shows, ready for a template ----

@dataclass(frozen=True)
class Shown:
    """The passages a released decision shows, and its answer with them marked."""

    items: list[Evidence]
    view: list[list[Piece]]
    numbers: dict[str, str]


def on_rounds(work_ids: Sequence[int]) -> dict[int, list[Evidence]]:
    """Every passage (withdrawn ones too) on these rounds, by round, in one statement."""
    out: dict[int, list[Evidence]] = {i: [] for i in work_ids}
    if work_ids:
        for e in db.session.scalars(select(Evidence).where(Evidence.work_id.in_(work_ids))
                                    .order_by(Evidence.start_offset, Evidence.id)):
            out[e.work_id].append(e)
    return out


def criterion_numbers(catalog: Catalog, ids: Iterable[str]) -> dict[str, str]:
    """Each criterion's number as people read it ("2.3"), its id when the catalog lost it."""
    return {cid: (c.number if (c := catalog.criterion(cid)) else cid) for cid in ids}


def shown(decisions: Iterable[Decision], items_by_work: dict[int, list[Evidence]],
          catalog: Catalog) -> dict[int, Shown]:
    """For each released decision with passages: what it shows, by decision id."""
    out = {}
    for d in decisions:
        items = shown_with(d, items_by_work.get(d.work_id, []))
        if items:
            numbers = criterion_numbers(catalog, {e.criterion_id for e in items})
            out[d.id] = Shown(items, highlighted(d.work.text,
                                                 marks_for(d.work.text, items, numbers)),
                              numbers)
    return out
