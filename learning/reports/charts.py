"""Charts drawn on the server as SVG (no script, no CDN), each with a data table beside it.

`line_chart` and `bar_chart` are pure: numbers in, an SVG string out, every piece of text
escaped by markupsafe. Colour never carries meaning alone: lines also differ by dash pattern
and marker shape and are numbered at their ends, the numbers of a key written in HTML beside
the picture (so long names wrap on a narrow screen, never cut short); bars carry their
numbers. The `*_chart` functions read the figures (a fixed number of grouped queries) and
return a `Chart` holding both the picture and the table that screen-reader users read
instead.
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup
from sqlalchemy import ColumnElement, Date, Select, case, cast, func, select
from sqlalchemy import Table as SqlTable

from learning.assessment.models import Decision, Submission, SubmittedWork
from learning.cohorts.items import Item
from learning.content.catalog import ModuleCompletion
from learning.core.extensions import db
from learning.course.models import ModuleProgress
from learning.people.models import Cohort, Enrolment
from learning.quizzes.models import AttemptState, QuizAttempt
from learning.quizzes.types import Quiz
from learning.reports.models import ChartFigures, MatrixCohortPace

#: Colours with at least 3:1 contrast on white, told apart by hue for most colour vision.
PALETTE = ("#0072b2", "#b34700", "#007a5a", "#a3427b", "#1b1b1b", "#6f3a00")
#: Dash patterns and markers, so lines differ without colour.
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "12 6")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "ring")
DASH_WORDS = ("solid", "long dashes", "dots", "dash-dot", "short dashes", "very long dashes")
BAR_COLOUR = "#1d4f76"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
WIDTH, HEIGHT = 720, 360


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class KeyItem:
    """One line of a line chart's key: a small drawing of the line, its number, its name."""

    number: int
    name: str
    #: How the line looks, in words ("long dashes line, square markers").
    words: str
    swatch: Markup


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    #: One or two sentences saying what the chart shows (also the SVG's <desc>).
    summary: str
    svg: Markup
    table: Table
    note: str = ""
    #: A line chart's key, shown as an HTML list under the picture.
    key: tuple[KeyItem, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.table.rows


# ---- drawing (pure) ----

def _num(x: float) -> str:
    """Coordinates with one decimal place: short, and never in exponent form."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _label(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _ticks(top: float, steps: int = 5, whole: bool = False) -> list[float]:
    """Round tick values from 0 to at least `top`; `whole`: counts, so whole numbers only
    (never "2.5 attempts")."""
    if top <= 0:
        return [0, 1]
    raw = top / steps
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 0.1
    if whole:
        magnitude = max(magnitude, 1)
    for m in ((1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)):
        step = m * magnitude
        if step >= raw:
            break
    count = int(-(-top // step))
    return [round(i * step, 2) for i in range(count + 1)]


def _open(chart_id: str, title: str, desc: str) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-labelledby="{i}-title {i}-desc" '
        'font-family="{f}" font-size="13">'
        '<title id="{i}-title">{t}</title><desc id="{i}-desc">{d}</desc>'
    ).format(w=WIDTH, h=HEIGHT, i=chart_id, f=FONT, t=title, d=desc)


def _text(x: float, y: float, text: str, anchor: str = "middle", fill: str = "#1b1b1b",
          extra: Markup | None = None) -> Markup:
    """`extra` is more attributes, already Markup (a literal or a format of one)."""
    return Markup('<text x="{}" y="{}" text-anchor="{}" fill="{}"{}>{}</text>').format(
        _num(x), _num(y), anchor, fill, extra or "", text)


def _axes(left: float, top: float, right: float, bottom: float, ticks: Sequence[float],
          y_label: str, x_label: str) -> list[Markup]:
    out = []
    scale = (bottom - top) / (ticks[-1] or 1)
    for t in ticks:
        y = bottom - t * scale
        out.append(Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d4d6d7"/>').format(
            _num(left), _num(y), _num(right), _num(y)))
        out.append(_text(left - 6, y + 4, _label(t), "end"))
    out.append(Markup('<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#1b1b1b"/>'
                      '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#1b1b1b"/>').format(
        l=_num(left), r=_num(right), t=_num(top), b=_num(bottom)))
    out.append(_text(14, (top + bottom) / 2, y_label, extra=Markup(
        ' transform="rotate(-90 14 {})"').format(_num((top + bottom) / 2))))
    out.append(_text((left + right) / 2, HEIGHT - 6, x_label))
    return out


def _marker(shape: str, x: float, y: float, colour: str) -> Markup:
    if shape == "circle":
        return Markup('<circle cx="{}" cy="{}" r="4" fill="{}"/>').format(_num(x), _num(y),
                                                                          colour)
    if shape == "ring":
        return Markup('<circle cx="{}" cy="{}" r="4" fill="#fff" stroke="{}" '
                      'stroke-width="2"/>').format(_num(x), _num(y), colour)
    paths = {
        "square": f"M{x - 4:.1f} {y - 4:.1f}h8v8h-8z",
        "triangle": f"M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}H{x - 5:.1f}z",
        "diamond": f"M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}"
                   f"L{x - 5:.1f} {y:.1f}z",
        "cross": f"M{x - 4:.1f} {y - 4:.1f}L{x + 4:.1f} {y + 4:.1f}M{x + 4:.1f} {y - 4:.1f}"
                 f"L{x - 4:.1f} {y + 4:.1f}",
    }
    if shape == "cross":
        return Markup('<path d="{}" stroke="{}" stroke-width="2.5" fill="none"/>').format(
            paths[shape], colour)
    return Markup('<path d="{}" fill="{}"/>').format(paths[shape], colour)


def _spread(positions: list[float], gap: float, low: float, high: float) -> list[float]:
    """Move end labels apart so none overlap, keeping their order."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [0.0] * len(positions)
    floor = low
    for i in order:
        placed[i] = max(positions[i], floor)
        floor = placed[i] + gap
    overflow = max((placed[i] for i in order), default=high) - high
    if overflow > 0:
        placed = [p - overflow for p in placed]
    return placed


def line_chart(chart_id: str, title: str, desc: str, x_labels: Sequence[str],
               series: Sequence[Series], y_label: str, x_label: str,
               y_max: float | None = None) -> Markup:
    """Lines with markers, each numbered at its end as in its `key`; up to six series."""
    left, top, right, bottom = 56.0, 16.0, WIDTH - 40.0, HEIGHT - 56.0
    peak = max((v for s in series for v in s.values), default=0)
    ticks = _ticks(max(y_max or 0, peak))
    scale = (bottom - top) / (ticks[-1] or 1)
    n = len(x_labels)
    step = (right - left) / (n - 1) if n > 1 else 0

    def x_of(i: int) -> float:
        return left + i * step if n > 1 else (left + right) / 2

    parts = [_open(chart_id, title, desc), *_axes(left, top, right, bottom, ticks, y_label,
                                                  x_label)]
    every = max(1, -(-n // 8))
    for i, lab in enumerate(x_labels):
        if (n - 1 - i) % every == 0:  # counted from the newest, so the last is always shown
            parts.append(_text(x_of(i), bottom + 18, lab))
    ends = []
    for k, s in enumerate(series[:len(PALETTE)]):
        colour, dash, shape = PALETTE[k], DASHES[k], MARKERS[k]
        points = [(x_of(i), bottom - v * scale) for i, v in enumerate(s.values)]
        parts.append(Markup('<g><polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"'
                            '{}/>').format(" ".join(f"{_num(x)},{_num(y)}" for x, y in points),
                                           colour,
                                           Markup(' stroke-dasharray="{}"').format(dash)
                                           if dash else ""))
        parts.extend(_marker(shape, x, y, colour) for x, y in points)
        parts.append(Markup("</g>"))
        if points:
            ends.append((points[-1][1], str(k + 1), colour))
    placed = _spread([y for y, _, _ in ends], 15, top + 4, bottom)
    for (_, number, colour), ly in zip(ends, placed, strict=True):
        parts.append(_text(right + 10, ly + 4, number, "start", colour,
                           Markup(' font-weight="700"')))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def bar_chart(chart_id: str, title: str, desc: str, labels: Sequence[str],
              values: Sequence[int], y_label: str, x_label: str) -> Markup:
    """Vertical bars, each with its number written above it."""
    left, top, right, bottom = 56.0, 24.0, WIDTH - 16.0, HEIGHT - 56.0
    ticks = _ticks(max(values, default=0), whole=True)
    scale = (bottom - top) / (ticks[-1] or 1)
    slot = (right - left) / max(1, len(values))
    parts = [_open(chart_id, title, desc), *_axes(left, top, right, bottom, ticks, y_label,
                                                  x_label)]
    for i, (lab, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + slot * 0.15
        height = value * scale
        parts.append(Markup('<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>').format(
            _num(x), _num(bottom - height), _num(slot * 0.7), _num(height), BAR_COLOUR))
        parts.append(_text(x + slot * 0.35, bottom - height - 5, str(value), extra=Markup(
            ' font-weight="700"')))
        parts.append(_text(x + slot * 0.35, bottom + 18, lab))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def key_words(index: int) -> str:
    """How series `index` looks, in words, for the table and the key."""
    return f"{DASH_WORDS[index]} line, {MARKERS[index]} markers"


def key(series: Sequence[Series]) -> tuple[KeyItem, ...]:
    """The key of a line chart: each line drawn small with its number, and its full name."""
    items = []
    for k, s in enumerate(series[:len(PALETTE)]):
        colour, dash = PALETTE[k], DASHES[k]
        swatch = Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart-key" viewBox="0 0 56 16" '
            'width="56" height="16" aria-hidden="true" focusable="false" font-family="{f}" '
            'font-size="13"><line x1="2" y1="8" x2="34" y2="8" stroke="{c}" '
            'stroke-width="2.5"{d}/>{m}{n}</svg>').format(
            f=FONT, c=colour, d=Markup(' stroke-dasharray="{}"').format(dash) if dash else "",
            m=_marker(MARKERS[k], 18, 8, colour),
            n=_text(42, 13, str(k + 1), "start", colour, Markup(' font-weight="700"')))
        items.append(KeyItem(k + 1, s.name, key_words(k), swatch))
    return tuple(items)


# ---- figures from the database ----

def _day(column):
    """The calendar day (UTC) of a timestamp, in SQL."""
    if db.engine.dialect.name == "sqlite":
        return func.date(column)
    return cast(column, Date)


def _days_between(start, end):
    if db.engine.dialect.name == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return func.extract("epoch", end - start) / 86400.0


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _completed_when(modules: Sequence[Item]):
    """SQL, for a ModuleProgress row joined to its learner's Cohort: when the module became
    complete by the rule of the cohort's unit (learning.course.completion), or NULL while it
    is not. Read only: its completion date. Read and quiz passed: the later of that date and
    the first pass of each of its quizzes, once every one is passed. (The rule in SQL, for
    one grouped query; tests/test_module_completion.py checks it agrees with the matrix.)"""
    completed = ModuleProgress.completed_at
    needed = {m.slug: len(m.quizzes) for m in modules if m.quizzes}
    strict = {unit for m in modules for unit, rule in m.rules
              if rule is not ModuleCompletion.READ}
    if not needed or not strict:
        return completed, None
    module_of = {q: m.slug for m in modules for q in m.quizzes}
    first = (select(QuizAttempt.user_id, QuizAttempt.quiz_slug,
                    func.min(QuizAttempt.submitted_at).label("first"))
             .where(QuizAttempt.state == AttemptState.SUBMITTED.value,
                    QuizAttempt.passed.is_(True), QuizAttempt.quiz_slug.in_(sorted(module_of)))
             .group_by(QuizAttempt.user_id, QuizAttempt.quiz_slug).subquery())
    module = case(module_of, value=first.c.quiz_slug)
    passes = (select(first.c.user_id, module.label("module_slug"),
                     func.max(first.c.first).label("last"), func.count().label("quizzes"))
              .group_by(first.c.user_id, module).subquery())
    later = case((passes.c.last > completed, passes.c.last), else_=completed)
    when = case((Cohort.unit_id.is_(None) | Cohort.unit_id.not_in(sorted(strict)), completed),
                (case(needed, value=ModuleProgress.module_slug, else_=0) == 0, completed),
                (passes.c.quizzes >= case(needed, value=ModuleProgress.module_slug), later),
                else_=None)
    return when, passes


def completion_chart(cohorts: Select, module_slugs: Sequence[str], today: date,
                     max_cohorts: int = 6, max_weeks: int = 26,
                     modules: Sequence[Item] = ()) -> Chart:
    """Average modules completed per learner, cumulative by week, one line per cohort (the
    largest cohorts when there are more than `max_cohorts`). Two queries. `modules`: the
    course's module items, for the completion rule of each cohort's unit (without them a
    module is complete when read)."""
    # Each cohort's current learners are counted in its stored pace (learning.reports.summary).
    chosen = db.session.execute(
        select(Cohort.id, Cohort.name, MatrixCohortPace.learners,
               func.count().over().label("cohorts"))
        .join(MatrixCohortPace, MatrixCohortPace.cohort_id == Cohort.id)
        .where(Cohort.id.in_(cohorts))
        .order_by(MatrixCohortPace.learners.desc(), Cohort.name).limit(max_cohorts)).all()
    total = chosen[0].cohorts if chosen else 0
    by_day: dict[int, dict[date, int]] = defaultdict(dict)
    if chosen:
        completed, passes = _completed_when(modules)
        day = _day(completed)
        query = (select(Enrolment.cohort_id, day, func.count())
                 .join(ModuleProgress, ModuleProgress.user_id == Enrolment.user_id)
                 .join(Cohort, Cohort.id == Enrolment.cohort_id))
        if passes is not None:
            query = query.outerjoin(passes, (passes.c.user_id == ModuleProgress.user_id)
                                    & (passes.c.module_slug == ModuleProgress.module_slug))
        for cohort_id, when, count in db.session.execute(
                query.where(Enrolment.left_at.is_(None),
                            Enrolment.cohort_id.in_([c.id for c in chosen]),
                            completed.is_not(None),
                            ModuleProgress.module_slug.in_(module_slugs))
                .group_by(Enrolment.cohort_id, day)):
            by_day[cohort_id][_as_date(when)] = count
    this_week = today - timedelta(days=today.weekday())
    first = min((d for days in by_day.values() for d in days), default=this_week)
    first_week = max(first - timedelta(days=first.weekday()),
                     this_week - timedelta(weeks=max_weeks - 1))
    weeks = max(4, (this_week - first_week).days // 7 + 1)
    starts = [this_week - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    series = []
    for c in chosen:
        days = by_day.get(c.id, {})
        values = []
        for start in starts:
            end = start + timedelta(days=7)
            done = sum(n for d, n in days.items() if d < end)
            values.append(round(done / c.learners, 1) if c.learners else 0.0)
        series.append(Series(c.name, tuple(values)))
    labels = [f"{s.day} {s:%b}" for s in starts]
    title = "Modules completed per learner, by week"
    if series:
        lead = max(series, key=lambda s: s.values[-1])
        summary = (f"Average number of modules (of {len(module_slugs)}) each learner has "
                   f"completed, week by week, over the {weeks} weeks to the week beginning "
                   f"{labels[-1]}. "
                   f"{lead.name} is furthest on, at {_label(lead.values[-1])} per learner.")
    else:
        summary = "No learners are in these cohorts yet."
    svg = line_chart("chart-completion", title, summary, labels, series,
                     "Modules per learner", "Week beginning", y_max=len(module_slugs))
    headers = ("Week beginning", *(f"{s.name} ({key_words(i)})" for i, s in enumerate(series)))
    rows = tuple((lab, *(_label(s.values[i]) for s in series))
                 for i, lab in enumerate(labels)) if series else ()
    note = (f"Showing the {len(chosen)} largest of {total} cohorts: choose a cohort to see "
            "another." if total > len(chosen) else "")
    table = Table("Average modules completed per learner, cumulative, by week", headers, rows)
    return Chart("chart-completion", title, summary, svg, table, note, key(series))


BANDS = tuple(f"{10 * i}–{10 * i + 9}%" for i in range(9)) + ("90–100%",)


def score_band(percent) -> ColumnElement[int]:
    """SQL: the band (0 to 9, BANDS) of a score in percent."""
    return case(*((percent < 10 * (i + 1), i) for i in range(9)), else_=9)


def quiz_chart(learners: Select, quiz: Quiz | None = None,
               figures: dict[str, float] | None = None) -> Chart:
    """How many submitted attempts scored in each 10% band. One query (none when the
    learners' figures are given): over each learner's stored figures for every quiz, or over
    the quiz's attempts for one."""
    if quiz is None:
        figures = figures or added_up(learners)
        counts = [int(figures[f"score_{i}"]) for i in range(10)]
    else:
        band = score_band(QuizAttempt.percent)
        counts = [0] * 10
        for i, n in db.session.execute(
                select(band, func.count())
                .where(QuizAttempt.state == "submitted", QuizAttempt.percent.is_not(None),
                       QuizAttempt.user_id.in_(learners), QuizAttempt.quiz_slug == quiz.slug)
                .group_by(band)):
            counts[int(i)] = n
    total = sum(counts)
    which = f"‘{quiz.title}’" if quiz else "all quizzes"
    title = f"Quiz scores: {which}"
    if total:
        top = max(range(10), key=lambda i: counts[i])
        high = counts[8] + counts[9]
        summary = (f"{total} submitted attempts at {which}, counted by score in bands of 10%. "
                   f"The most common band is {BANDS[top]} ({counts[top]} attempts); "
                   f"{high} ({round(100 * high / total)}%) scored 80% or more.")
    else:
        summary = f"No attempts at {which} have been submitted yet."
    svg = bar_chart("chart-scores", title, summary, BANDS, counts, "Attempts", "Score")
    rows = tuple((b, str(n)) for b, n in zip(BANDS, counts, strict=True)) if total else ()
    return Chart("chart-scores", title, summary, svg,
                 Table("Submitted quiz attempts by score band", ("Score", "Attempts"), rows))


#: Turnaround bands: (label, lower bound in days, upper bound or None).
TURNAROUND = (("Under 1 day", 0, 1), ("1–2 days", 1, 3), ("3–6 days", 3, 7),
              ("7–13 days", 7, 14), ("14–20 days", 14, 21), ("21–27 days", 21, 28),
              ("28+ days", 28, None))
TARGET_DAYS = 14


def turnaround_band(days) -> ColumnElement[int]:
    """SQL: the band (TURNAROUND) of a number of days."""
    return case(*((days < upper, i) for i, (_, _, upper) in enumerate(TURNAROUND) if upper),
                else_=len(TURNAROUND) - 1)


def turnaround_chart(learners: Select, figures: dict[str, float] | None = None) -> Chart:
    """Days from a submission to the first decision released on it, in bands. One query
    (none when the learners' figures are given), over each learner's stored figures."""
    figures = figures or added_up(learners)
    counts = [int(figures[f"decided_{i}"]) for i in range(len(TURNAROUND))]
    total_days = float(figures["decided_days"])
    total = sum(counts)
    labels = [t[0] for t in TURNAROUND]
    title = "Marking turnaround: days from submission to decision"
    if total:
        within = sum(n for n, (_, _, upper) in zip(counts, TURNAROUND, strict=True)
                     if upper is not None and upper <= TARGET_DAYS)
        summary = (f"{total} submissions decided; on average {total_days / total:.1f} days "
                   f"from submission to the first released decision. {within} "
                   f"({round(100 * within / total)}%) were decided within {TARGET_DAYS} days.")
    else:
        summary = "No decisions have been released yet."
    svg = bar_chart("chart-turnaround", title, summary, labels, counts, "Submissions",
                    "Days to decision")
    table_rows = tuple((lab, str(n)) for lab, n in zip(labels, counts, strict=True)) \
        if total else ()
    return Chart("chart-turnaround", title, summary, svg,
                 Table("Submissions by days to the first decision",
                       ("Days to decision", "Submissions"), table_rows))


# ---- each learner's figures, stored so that a chart reads a row per learner ----

FIGURES = typing.cast(SqlTable, ChartFigures.__table__)
FIGURE_COLUMNS = tuple(c.name for c in FIGURES.columns if c.name != "user_id")


def added_up(learners: Select) -> dict[str, float]:
    """Every figure added up over these learners (each once, whatever their cohorts), in one
    query. The figures are kept up to date with the matrix summary (learning.reports.summary).
    """
    row = db.session.execute(select(*(func.coalesce(func.sum(FIGURES.c[c]), 0)
                                      for c in FIGURE_COLUMNS))
                             .where(FIGURES.c.user_id.in_(learners))).one()
    return dict(zip(FIGURE_COLUMNS, row, strict=True))


def _first_decisions() -> Select:
    """SQL: each submitted work's first released decision (a later one, after an IQA
    disagreement, is not counted again): the learner and the days it took."""
    first = (select(Decision.work_id, func.min(Decision.id).label("id"))
             .where(Decision.released_at.is_not(None)).group_by(Decision.work_id).subquery())
    return (select(Submission.learner_id.label("user_id"),
                   _days_between(SubmittedWork.submitted_at, Decision.released_at)
                   .label("days"))
            .select_from(first)
            .join(Decision, Decision.id == first.c.id)
            .join(SubmittedWork, SubmittedWork.id == first.c.work_id)
            .join(Submission, Submission.id == SubmittedWork.submission_id))


def learner_figures(user_ids: Iterable[int] | None = None) -> list[dict]:
    """The figures of these learners (None: everyone with any), worked out from their quiz
    attempts and decisions: two grouped queries."""
    figures: dict[int, dict] = {}

    def of(user_id: int) -> dict:
        return figures.setdefault(user_id, {"user_id": user_id,
                                            **{c: 0 for c in FIGURE_COLUMNS},
                                            "decided_days": 0.0})

    ids = None if user_ids is None else sorted(set(user_ids))
    band = score_band(QuizAttempt.percent)
    scores = (select(QuizAttempt.user_id, band, func.count())
              .where(QuizAttempt.state == "submitted", QuizAttempt.percent.is_not(None))
              .group_by(QuizAttempt.user_id, band))
    decided = _first_decisions()
    if ids is not None:
        scores = scores.where(QuizAttempt.user_id.in_(ids))
        decided = decided.where(Submission.learner_id.in_(ids))
    timed = decided.subquery()
    band = turnaround_band(timed.c.days)
    for user_id, i, n in db.session.execute(scores):
        of(user_id)[f"score_{int(i)}"] = n
    for user_id, i, n, days in db.session.execute(
            select(timed.c.user_id, band, func.count(), func.sum(timed.c.days))
            .group_by(timed.c.user_id, band)):
        row = of(user_id)
        row[f"decided_{int(i)}"] = n
        row["decided_days"] += float(days or 0)
    return list(figures.values())
