"""The writing-process report: how an answer came to be, told as facts (pure; no database).

Built from the saved versions (always there) and what the writing page's script recorded
(writing_activity.py: typing, active time, pastes; absent without JavaScript). It says what
happened, never what it means: no guess at who or what wrote the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: A pause between saves longer than this starts a new sitting.
SITTING_GAP = timedelta(minutes=30)
#: Words in a row that must match for pasted text to count as found in the final text: as
#: the originality check's shingles, long enough that common phrases do not count.
RUN = 5
#: How many pastes the report lists, largest first.
LARGEST = 5
#: On the timeline a pause between sittings takes this share of the width, whatever its
#: length, so a week away does not squash the writing into two vertical lines.
BREAK_SHARE = 0.06

_WORD = re.compile(r"[\w][\w'’-]*")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Version:
    """A saved version, as the report needs it."""

    number: int
    saved_at: datetime
    words: int
    kind: str


@dataclass(frozen=True)
class Recorded:
    """One save's worth of what the script recorded (a WritingActivity row)."""

    received_at: datetime
    typed: int
    active_seconds: int
    #: Each {"at": ISO time, "chars": int, "text": str, "own": bool}.
    pastes: Sequence[dict]
    #: The version the save made or found current.
    draft_number: int = 0


@dataclass(frozen=True)
class Point:
    """A point on the timeline: x and y between 0 and 1."""

    at: datetime
    words: int
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class Sitting:
    start: datetime
    end: datetime
    saves: int

    @property
    def minutes(self) -> int:
        return round((self.end - self.start).total_seconds() / 60)


@dataclass(frozen=True)
class PasteFact:
    at: datetime
    chars: int
    #: Text cut or copied from the same box: moved, not brought in.
    own: bool
    #: Share of the pasted words found in the final text (of the first 5,000 characters kept).
    kept: float
    #: Where it ended up, in words: "paragraph 2", "paragraphs 1 and 3", or "" when nowhere.
    where: str
    before_submit: timedelta


@dataclass(frozen=True)
class Report:
    points: list[Point]
    #: x of each pause between sittings on the timeline.
    breaks: list[float]
    max_words: int
    sittings: list[Sitting]
    #: Whether the writing page's script sent anything (None in the fields below when not).
    recorded: bool
    active_seconds: int | None
    typed_chars: int | None
    paste_count: int | None
    pasted_chars: int | None
    largest: list[PasteFact]
    #: Share (0..1) of the final text's words that arrived by paste from outside the box.
    paste_share: float | None
    facts: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        """The report in a few words, for a one-line summary beside the originality result."""
        if not self.recorded:
            return (f"{_times(len(self.sittings), 'sitting', 'sittings')}, no typing or paste "
                    "details")
        if self.paste_share:
            return f"{round(self.paste_share * 100)} % of the final text arrived by paste"
        if self.paste_count:
            return "pasted text is not in the final answer"
        return (f"{_times(len(self.sittings), 'sitting', 'sittings')}, no text pasted from "
                "elsewhere")


# ---- words, runs and where pasted text ended up ----

def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text or "")]


def _paragraph_of_each_word(text: str) -> list[int]:
    """For each word of `text`, the number (from 1) of the paragraph it is in."""
    numbers: list[int] = []
    for n, paragraph in enumerate((p for p in _PARAGRAPH_BREAK.split(text or "")
                                   if _WORD.search(p)), 1):
        numbers += [n] * len(_WORD.findall(paragraph))
    return numbers


def found_in(final: list[str], pasted: list[str]) -> tuple[set[int], int]:
    """Which words of `final` lie in a run also in `pasted`, and how many pasted words do.

    A run is RUN words in a row; a paste shorter than that must appear whole.
    """
    size = min(RUN, len(pasted))
    if size == 0:
        return set(), 0
    runs: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(pasted) - size + 1):
        runs.setdefault(tuple(pasted[i:i + size]), []).append(i)
    in_final: set[int] = set()
    in_paste: set[int] = set()
    for i in range(len(final) - size + 1):
        starts = runs.get(tuple(final[i:i + size]))
        if starts:
            in_final.update(range(i, i + size))
            for s in starts:
                in_paste.update(range(s, s + size))
    return in_final, len(in_paste)


def _paragraphs_in_words(numbers: Iterable[int]) -> str:
    found = sorted(set(numbers))
    if not found:
        return ""
    if len(found) == 1:
        return f"paragraph {found[0]}"
    return "paragraphs " + ", ".join(str(n) for n in found[:-1]) + f" and {found[-1]}"


# ---- time in words ----

def duration(delta: timedelta) -> str:
    """'3 minutes', '2 hours 10 minutes', '4 days': rounded as a person would say it."""
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        text = f"{hours} hour{'s' if hours != 1 else ''}"
        return text + (f" {rest} minute{'s' if rest != 1 else ''}" if rest else "")
    days = round(minutes / 1440)
    return f"{days} day{'s' if days != 1 else ''}"


def _times(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


# ---- the report ----

def _sittings(saves: list[datetime], submitted_at: datetime) -> list[Sitting]:
    """Saves grouped by pauses of over SITTING_GAP; submitting ends the last sitting (or is
    one of its own, with no save, after a long pause)."""
    sittings: list[Sitting] = []
    start = prev = None
    count = 0
    for t, is_save in sorted([(t, 1) for t in saves] + [(submitted_at, 0)]):
        if prev is not None and t - prev > SITTING_GAP:
            sittings.append(Sitting(start, prev, count))  # type: ignore[arg-type]
            start, count = None, 0
        if start is None:
            start = t
        prev, count = t, count + is_save
    if start is not None and prev is not None:
        sittings.append(Sitting(start, prev, count))
    return sittings


def _timeline(raw: list[tuple[datetime, int, str]]) -> tuple[list[Point], list[float], int]:
    """Points with time squeezed between sittings (see BREAK_SHARE), and where breaks are."""
    raw = sorted(raw, key=lambda r: r[0])
    top = max([1] + [w for _, w, _ in raw])
    if not raw:
        return [], [], top
    gaps = [(b[0] - a[0]).total_seconds() for a, b in zip(raw, raw[1:], strict=False)]
    written = sum(g for g in gaps if g <= SITTING_GAP.total_seconds())
    pauses = sum(1 for g in gaps if g > SITTING_GAP.total_seconds())
    # The pauses share BREAK_SHARE each of the width (at most 30 % in all); writing time
    # has the rest, in proportion.
    if pauses:
        squeeze = min(0.3, BREAK_SHARE * pauses)
        pause_width = squeeze * written / (pauses * (1 - squeeze)) if written else 1.0
    else:
        pause_width = 0.0
    steps = [g if g <= SITTING_GAP.total_seconds() else pause_width for g in gaps]
    total = sum(steps) or 1
    xs, breaks, at = [0.0], [], 0.0
    for gap, step in zip(gaps, steps, strict=True):
        if gap > SITTING_GAP.total_seconds():
            breaks.append((at + step / 2) / total)
        at += step
        xs.append(at / total)
    if len(raw) == 1:
        xs = [1.0]
    points = [Point(t, w, label, x, w / top) for (t, w, label), x in zip(raw, xs, strict=True)]
    return points, breaks, top


_HOW = {"save": "Saved", "autosave": "Saved automatically", "restore": "Earlier version restored"}


def build(versions: Sequence[Version], recorded: Sequence[Recorded], final_text: str,
          submitted_at: datetime) -> Report:
    """The report for the text submitted at `submitted_at`.

    `versions` and `recorded` are those made up to that submission (conflict versions, which
    never became current, are left out here).
    """
    kept = sorted((v for v in versions if v.kind != "conflict"), key=lambda v: v.number)
    final_words = _words(final_text)
    raw = [(v.saved_at, v.words, _HOW.get(v.kind, v.kind)) for v in kept]
    raw.append((submitted_at, len(final_words), "Submitted"))
    points, breaks, top = _timeline(raw)
    sittings = _sittings([v.saved_at for v in kept], submitted_at)
    facts = []
    first = kept[0].saved_at if kept else submitted_at
    # Versions kept, not saves made: autosaves are thinned to one per ten minutes.
    facts.append(f"Written in {_times(len(sittings), 'sitting', 'sittings')}"
                 + (f" over {duration(submitted_at - first)}" if len(sittings) > 1 else "")
                 + f", with {_times(len(kept), 'saved version', 'saved versions')} kept "
                 "before it was submitted.")
    jumps = [(b.words - a.words, b) for a, b in zip(kept, kept[1:], strict=False)]
    if jumps and max(jumps, key=lambda j: j[0])[0] > 0:
        grew, at = max(jumps, key=lambda j: j[0])
        facts.append(f"The largest growth between two saves was {_times(grew, 'word', 'words')}"
                     f", {duration(submitted_at - at.saved_at)} before submitting.")

    if not recorded:
        facts.append("The writing page sent no details of typing or pasting (for example, "
                     "JavaScript was off), so this report shows the saved versions only.")
        return Report(points, breaks, top, sittings, False, None, None, None, None, [], None,
                      facts)

    active = sum(r.active_seconds for r in recorded)
    typed = sum(r.typed for r in recorded)
    pastes = [p for r in recorded for p in r.pastes]
    paragraphs = _paragraph_of_each_word(final_text)
    from_outside: set[int] = set()
    contributing: list[PasteFact] = []
    every: list[PasteFact] = []
    for p in pastes:
        pasted = _words(p.get("text", ""))
        where, kept_words = found_in(final_words, pasted)
        fact = PasteFact(
            at=datetime.fromisoformat(p["at"]), chars=int(p["chars"]), own=bool(p.get("own")),
            kept=kept_words / len(pasted) if pasted else 0.0,
            where=_paragraphs_in_words(paragraphs[i] for i in where if i < len(paragraphs)),
            before_submit=submitted_at - datetime.fromisoformat(p["at"]))
        every.append(fact)
        if not fact.own and where:
            from_outside |= where
            contributing.append(fact)
    share = len(from_outside) / len(final_words) if final_words else 0.0

    spent = duration(timedelta(seconds=active))
    facts.append(f"{'About ' + spent if active >= 60 else spent.capitalize()} of writing was "
                 "recorded (pauses over 2 minutes are not counted), and "
                 f"{_times(typed, 'character was', 'characters were')} typed.")
    outside = [p for p in every if not p.own]
    moved = len(every) - len(outside)
    if not outside:
        facts.append("No text was pasted into the answer from elsewhere.")
    else:
        facts.append(f"Text was pasted in {_times(len(outside), 'time', 'times')} "
                     f"({_times(sum(p.chars for p in outside), 'character', 'characters')} "
                     "in all).")
        if contributing:
            facts.append(f"{round(share * 100)} % of the final text arrived in "
                         f"{_times(len(contributing), 'paste', 'pastes')}, "
                         f"{_when_pasted(contributing)}.")
        else:
            facts.append("None of the pasted text is in the final answer.")
    if moved:
        facts.append(f"{_times(moved, 'paste', 'pastes')} moved text from within the answer "
                     "itself; moved text is not counted as pasted.")
    largest = sorted(every, key=lambda p: (-p.chars, p.at))[:LARGEST]
    return Report(points, breaks, top, sittings, True, active, typed, len(outside),
                  sum(p.chars for p in outside), largest, share, facts)


def for_round(versions: Sequence[Version], recorded: Sequence[Recorded], draft_number: int,
              final_text: str, submitted_at: datetime) -> Report:
    """The report of the round submitted from version `draft_number`, given the whole history
    of the answer: what was written up to that round (not after it) counts."""
    return build([v for v in versions if v.number <= draft_number],
                 # A save of unchanged text after a referral finds the submitted version.
                 [r for r in recorded if r.draft_number <= draft_number
                  and r.received_at <= submitted_at],
                 final_text, submitted_at)


def _when_pasted(pastes: list[PasteFact]) -> str:
    ordered = sorted(pastes, key=lambda p: p.at)
    if len(ordered) == 1:
        return f"{duration(ordered[0].before_submit)} before submitting"
    if len(ordered) <= 3:
        return ", ".join(duration(p.before_submit) for p in ordered[:-1]) + \
            f" and {duration(ordered[-1].before_submit)} before submitting"
    return (f"the first {duration(ordered[0].before_submit)} and the last "
            f"{duration(ordered[-1].before_submit)} before submitting")
