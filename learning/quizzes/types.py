"""The quiz model: frozen dataclasses for quizzes and questions, and their JSON-able snapshots."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

#: Every question type, in the order the docs list them (the grading registry uses the same names).
QUESTION_TYPE_NAMES = (
    "single", "multiple", "truefalse", "matching", "ordering", "short", "numerical",
    "description",
)
#: Same rule as module slugs in content/: lowercase words joined by single hyphens.
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Where a missing-word question's blank goes: three or more underscores, or `{gap}`.
GAP_RE = re.compile(r"_{3,}|\{gap\}")
FEEDBACK_TIMINGS = ("immediate", "after_submit", "after_pass_or_last")
ANSWER_TIMINGS = (*FEEDBACK_TIMINGS, "never")
LAYOUTS = ("one_per_page", "all_on_one_page")


def plain_number(x: float) -> int | float:
    """`1.0` -> `1`, so snapshots (and so version hashes) don't depend on how a number was typed."""
    return int(x) if float(x).is_integer() else float(x)


def decimal_of(x: float) -> Decimal:
    """The decimal the author wrote (3.14, not 3.140000000000000124...) so tolerances are exact."""
    return Decimal(repr(float(x)))


@dataclass(frozen=True)
class Option:
    """A choice in a `single` or `multiple` question; weight is percent of the marks (-100..100)."""

    id: str
    text: str
    weight: float = 0.0
    feedback: str = ""


@dataclass(frozen=True)
class MatchPair:
    """One prompt of a `matching` question and the answer that belongs with it."""

    id: str
    prompt: str
    answer: str


@dataclass(frozen=True)
class OrderItem:
    """One item of an `ordering` question (the question lists items in the correct order)."""

    id: str
    text: str


@dataclass(frozen=True)
class TextAnswer:
    """An accepted `short` answer; `*` matches any run of characters, `\\*` a literal star."""

    text: str
    fraction: float = 1.0
    feedback: str = ""


@dataclass(frozen=True)
class NumericAnswer:
    """An accepted `numerical` answer: value +/- tolerance, or the range min..max (inclusive)."""

    value: float | None = None
    tolerance: float = 0.0
    min: float | None = None
    max: float | None = None
    fraction: float = 1.0
    feedback: str = ""
    #: Moodle's `*` answer: any number at all (GIFT's `~#feedback` for other answers).
    any: bool = False

    def accepts(self, number: Decimal) -> bool:
        """Whether `number` is within this answer (every number is, for an `any` answer)."""
        if self.any:
            return True
        low, high = self.bounds()
        return low <= number <= high

    def bounds(self) -> tuple[Decimal, Decimal]:
        """Lowest and highest accepted values, as exact decimals."""
        if self.value is not None:
            value, tolerance = decimal_of(self.value), decimal_of(self.tolerance)
            return value - tolerance, value + tolerance
        assert self.min is not None and self.max is not None
        return decimal_of(self.min), decimal_of(self.max)

    def to_snapshot(self) -> dict[str, Any]:
        """Plain dict in the YAML form."""
        out: dict[str, Any]
        if self.any:
            out = {"any": True}
        elif self.value is not None:
            out = {"value": plain_number(self.value), "tolerance": plain_number(self.tolerance)}
        else:
            assert self.min is not None and self.max is not None
            out = {"min": plain_number(self.min), "max": plain_number(self.max)}
        out.update(fraction=plain_number(self.fraction), feedback=self.feedback)
        return out


# Which fields belong to which type: used by snapshots, the YAML writer and the loader's checks.
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "single": ("options",),
    "multiple": ("options",),
    "truefalse": ("answer", "feedback_true", "feedback_false"),
    "matching": ("pairs", "distractors"),
    "ordering": ("items",),
    "short": ("answers", "lenient", "case_sensitive"),
    "numerical": ("answers",),
    # Moodle's "description": text shown among the questions, with no answer and no marks.
    "description": (),
}
COMMON_FIELDS = ("id", "type", "name", "text", "text_format", "category", "category_path",
                 "marks", "general_feedback", "teaches")
#: `teaches:` of a question: `module-slug#anchor`, or `"#anchor"` in a quiz of one module.
TEACHES_RE = re.compile(r"^(?P<module>[a-z0-9]+(?:-[a-z0-9]+)*)?#(?P<anchor>[A-Za-z0-9_-]+)$")


@dataclass(frozen=True)
class Question:
    """One question; only the fields of its `type` are used (see TYPE_FIELDS)."""

    id: str
    type: str
    text: str
    marks: float = 1.0
    category: str = ""
    general_feedback: str = ""
    options: tuple[Option, ...] = ()
    answer: bool | None = None
    feedback_true: str = ""
    feedback_false: str = ""
    pairs: tuple[MatchPair, ...] = ()
    distractors: tuple[str, ...] = ()
    items: tuple[OrderItem, ...] = ()
    text_answers: tuple[TextAnswer, ...] = ()
    numeric_answers: tuple[NumericAnswer, ...] = ()
    #: Short answers: forgive curly quotes, repeated spaces and NFKC look-alikes (our quizzes'
    #: default); False compares as Moodle does (imported GIFT). See grading.text_matches.
    lenient: bool = True
    case_sensitive: bool = False
    #: The author's name for the question (GIFT's ::title::), shown to authors; may be "".
    name: str = ""
    #: Moodle's full category path ($course$/top/A/B) from a GIFT import, written back on
    #: export; `category` is the slug the quiz's draw uses.
    category_path: str = ""
    #: How every text of the question is written (text, feedback, option texts, prompts,
    #: items): Moodle's "markdown", "html", "moodle" (HTML, line breaks kept) or "plain"
    #: (shown exactly as typed); see learning.core.rendering.render_text.
    text_format: str = "markdown"
    #: The module section that teaches it, as `module-slug#anchor` (the loader fills in the
    #: module of a one-module quiz). A pointer into the course, not what the learner saw: it
    #: is left out of snapshots (and so of the version), and a review links with the quiz
    #: file's current value, which `flask content check` has checked against the modules.
    teaches: str = field(default="", compare=False)

    @property
    def is_description(self) -> bool:
        """Text shown among the questions with nothing to answer: never graded or counted."""
        return self.type == "description"

    def gap(self) -> tuple[str, str] | None:
        """Text before and after the missing-word blank, or None if the text has no blank."""
        match = GAP_RE.search(self.text)
        if match is None:
            return None
        return self.text[: match.start()], self.text[match.end() :]

    def match_choices(self) -> tuple[str, ...]:
        """A matching question's answer choices: each distinct answer once, then the distractors."""
        seen = dict.fromkeys(pair.answer for pair in self.pairs)
        return (*seen, *(d for d in self.distractors if d not in seen))

    def to_snapshot(self) -> dict[str, Any]:
        """Everything needed to show and grade this question again, as a JSON-able dict.

        The keys are those of the YAML format with every default written out, so
        `question_from_snapshot(q.to_snapshot()) == q` and equal questions give equal snapshots.
        """
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "text": self.text,
            "category": self.category,
            "marks": plain_number(self.marks),
            "general_feedback": self.general_feedback,
        }
        # Only when set, so that quizzes without them keep the version they had.
        out.update({k: v for k, v in (("name", self.name),
                                      ("category_path", self.category_path)) if v})
        if self.text_format != "markdown":  # so that quizzes without it keep their version
            out["text_format"] = self.text_format
        if self.type in ("single", "multiple"):
            out["options"] = [
                {"id": o.id, "text": o.text, "weight": plain_number(o.weight),
                 "feedback": o.feedback}
                for o in self.options
            ]
        elif self.type == "truefalse":
            out.update(
                answer=self.answer, feedback_true=self.feedback_true,
                feedback_false=self.feedback_false,
            )
        elif self.type == "matching":
            out["pairs"] = [
                {"id": p.id, "prompt": p.prompt, "answer": p.answer} for p in self.pairs
            ]
            out["distractors"] = list(self.distractors)
        elif self.type == "ordering":
            out["items"] = [{"id": i.id, "text": i.text} for i in self.items]
        elif self.type == "short":
            out["answers"] = [
                {"text": a.text, "fraction": plain_number(a.fraction), "feedback": a.feedback}
                for a in self.text_answers
            ]
            out.update(lenient=self.lenient, case_sensitive=self.case_sensitive)
        elif self.type == "numerical":
            out["answers"] = [a.to_snapshot() for a in self.numeric_answers]
        return out


@dataclass(frozen=True)
class Draw:
    """Ask a random subset: `total` from the whole pool, or so many from each category."""

    total: int | None = None
    per_category: tuple[tuple[str, int], ...] = ()

    def to_snapshot(self) -> dict[str, Any]:
        """Plain dict in the YAML form."""
        if self.total is not None:
            return {"total": self.total}
        return {"per_category": dict(self.per_category)}


@dataclass(frozen=True)
class QuizSettings:
    """How a quiz is taken and marked; the defaults are those documented in docs/quiz-format.md."""

    pass_mark: float = 80
    attempts_allowed: int | None = None  # None means unlimited
    delay_minutes: int = 0
    shuffle_questions: bool = False
    shuffle_options: bool = False
    draw: Draw | None = None
    time_limit_minutes: int | None = None
    feedback: str = "after_submit"
    show_correct_answers: str = "after_pass_or_last"
    layout: str = "all_on_one_page"
    counts_toward_completion: bool = True

    def to_snapshot(self) -> dict[str, Any]:
        """Plain dict in the YAML form, every setting written out."""
        return {
            "pass_mark": plain_number(self.pass_mark),
            "attempts_allowed": (
                "unlimited" if self.attempts_allowed is None else self.attempts_allowed
            ),
            "delay_minutes": self.delay_minutes,
            "shuffle_questions": self.shuffle_questions,
            "shuffle_options": self.shuffle_options,
            "draw": None if self.draw is None else self.draw.to_snapshot(),
            "time_limit_minutes": self.time_limit_minutes,
            "feedback": self.feedback,
            "show_correct_answers": self.show_correct_answers,
            "layout": self.layout,
            "counts_toward_completion": self.counts_toward_completion,
        }


@dataclass(frozen=True)
class Quiz:
    """A quiz definition read from one YAML file in quizzes/."""

    slug: str
    title: str
    modules: tuple[str, ...] = ()
    intro: str = ""
    settings: QuizSettings = field(default_factory=QuizSettings)
    questions: tuple[Question, ...] = ()
    path: str = field(default="", compare=False)

    @property
    def graded_questions(self) -> tuple[Question, ...]:
        """The questions to answer (descriptions left out): what draws and counts use."""
        return tuple(q for q in self.questions if not q.is_description)

    def question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return next((q for q in self.questions if q.id == question_id), None)

    def to_snapshot(self) -> dict[str, Any]:
        """The whole definition as a JSON-able dict (the YAML form, defaults written out)."""
        return {
            "quiz": {
                "slug": self.slug,
                "title": self.title,
                "modules": list(self.modules),
                "intro": self.intro,
                "settings": self.settings.to_snapshot(),
            },
            "questions": [q.to_snapshot() for q in self.questions],
        }

    @cached_property
    def version(self) -> str:
        """sha256 of the normalised definition: same content, same version, whatever the layout.

        Comments, key order and YAML style don't change it; any change to a question, the
        settings or the header does. Attempts store it to say which version a learner saw.
        """
        canonical = json.dumps(
            self.to_snapshot(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def question_to_yaml_data(question: Question) -> dict[str, Any]:
    """The question in the YAML format, defaults left out, as an author would write it."""
    q = question
    out: dict[str, Any] = {"id": q.id, "type": q.type, **_non_empty(
        name=q.name, category=q.category, category_path=q.category_path)}
    if q.marks != 1 and not q.is_description:
        out["marks"] = plain_number(q.marks)
    if q.text_format != "markdown":
        out["text_format"] = q.text_format
    out["text"] = q.text
    if q.type in ("single", "multiple"):
        out["options"] = [_option_data(q.type, o) for o in q.options]
    elif q.type == "truefalse":
        out["answer"] = q.answer
        out.update(_non_empty(feedback_true=q.feedback_true, feedback_false=q.feedback_false))
    elif q.type == "matching":
        out["pairs"] = [{"id": p.id, "prompt": p.prompt, "answer": p.answer} for p in q.pairs]
        if q.distractors:
            out["distractors"] = list(q.distractors)
    elif q.type == "ordering":
        out["items"] = [{"id": i.id, "text": i.text} for i in q.items]
    elif q.type == "short":
        out["answers"] = [
            {"text": a.text, **_fraction_data(a.fraction), **_non_empty(feedback=a.feedback)}
            for a in q.text_answers
        ]
        if not q.lenient:
            out["lenient"] = False
        if q.case_sensitive:
            out["case_sensitive"] = True
    elif q.type == "numerical":
        out["answers"] = []
        for a in q.numeric_answers:
            data = a.to_snapshot()
            if data.get("tolerance") == 0:
                del data["tolerance"]
            del data["fraction"], data["feedback"]
            data.update(_fraction_data(a.fraction))
            out["answers"].append({**data, **_non_empty(feedback=a.feedback)})
    out.update(_non_empty(general_feedback=q.general_feedback, teaches=q.teaches))
    return out


def _option_data(qtype: str, option: Option) -> dict[str, Any]:
    out: dict[str, Any] = {"id": option.id, "text": option.text}
    if qtype == "single" and option.weight == 100:
        out["correct"] = True
    elif qtype == "multiple" or option.weight != 0:
        out["weight"] = plain_number(option.weight)
    return {**out, **_non_empty(feedback=option.feedback)}


def _fraction_data(fraction: float) -> dict[str, Any]:
    return {} if fraction == 1 else {"fraction": plain_number(fraction)}


def _non_empty(**values: str) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}
