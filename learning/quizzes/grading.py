"""Question types and pure grading: answers checked against questions; nothing is recorded here."""

from __future__ import annotations

import random
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, ClassVar

from learning.quizzes.types import Question, Quiz, plain_number

#: Longest typed answer kept; a pasted essay is cut, not refused.
MAX_TEXT_ANSWER = 1000
#: A number once Moodle's rewriting is done (qtype_numerical_answer_processor::apply_units).
_MOODLE_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?")
#: Other ways of writing an exponent that Moodle turns into `e`: 3x10^2, 3*10**2, 3×10^2.
_EXPONENT_RE = re.compile(r"(?:e|E|(?:x|\*|×)10(?:\^|\*\*))([+-]?\d+)")
#: What PHP's trim() strips, which Moodle uses on short answers (not Unicode spaces).
_PHP_TRIM = " \t\n\r\0\x0b"
#: The thousands separator of Moodle's English language pack (langconfig `thousandssep`).
THOUSANDS_SEPARATOR = ","
_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}
# Phones type curly quotes ("children’s"); authors type straight ones.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})

Parts = list[tuple[str, bool]]


@dataclass(frozen=True)
class Grade:
    """The result of one answer: score 0..1, marks, and the feedback that answer earned."""

    question_id: str
    score: float
    max_marks: float
    feedback: tuple[str, ...] = ()
    general_feedback: str = ""
    #: (option / prompt / item id, right?) for the parts the learner answered, for review ticks.
    parts: tuple[tuple[str, bool], ...] = ()
    answered: bool = False
    marks: float = field(init=False)
    correct: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "marks", round(self.score * self.max_marks, 6))
        object.__setattr__(self, "correct", self.score == 1.0)


@dataclass(frozen=True)
class AttemptGrade:
    """All the answers of one attempt, graded."""

    total_marks: float
    max_marks: float
    percent: float
    grades: tuple[Grade, ...]

    def passed(self, pass_mark: float) -> bool:
        """True if the attempt reached `pass_mark` percent (compared exactly, not rounded)."""
        return self.total_marks * 100 >= pass_mark * self.max_marks - 1e-9

    def grade_for(self, question_id: str) -> Grade | None:
        """The grade of one question, or None if it wasn't in the attempt."""
        return next((g for g in self.grades if g.question_id == question_id), None)


def normalise_text(text: str, fold_case: bool = True) -> str:
    """What lenient short answers are compared on: NFKC, straight quotes, single spaces, and
    (unless the question is case-sensitive) casefolded."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join((text.casefold() if fold_case else text).split())


@lru_cache(maxsize=2048)
def _wildcard(pattern: str, fold_case: bool = True) -> re.Pattern[str]:
    """A lenient accepted answer as a regex: `*` is any run of characters, `\\*` a literal star."""
    pieces = re.split(r"(\\\*|\*)", normalise_text(pattern, fold_case))
    regex = "".join(
        ".*" if p == "*" else re.escape("*") if p == "\\*" else re.escape(p) for p in pieces
    )
    return re.compile(regex, re.DOTALL)


@lru_cache(maxsize=2048)
def _moodle_wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """An accepted answer as Moodle compares it (qtype_shortanswer_question::
    compare_string_with_wildcard): NFC, runs of unescaped `*` are any text, `\\*` a star,
    and case ignored unless the question is case-sensitive. Nothing else is forgiven."""
    bits = re.split(r"(?<!\\)\*+", unicodedata.normalize("NFC", pattern))
    regex = ".*".join(re.escape(bit.replace("\\*", "*")) for bit in bits)
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def text_matches(pattern: str, typed: str, *, lenient: bool, case_sensitive: bool) -> bool:
    """Whether a typed short answer matches one accepted answer (the one place this is decided).

    Strict (as Moodle): only surrounding spaces trimmed, and case ignored unless the question
    is case-sensitive. Lenient (our own quizzes' default): also NFKC, curly quotes as straight
    ones and runs of spaces as one, since learners on phones type those without meaning to.
    """
    if lenient:
        return _wildcard(pattern, not case_sensitive).fullmatch(
            normalise_text(typed, not case_sensitive)) is not None
    typed = unicodedata.normalize("NFC", typed).strip(_PHP_TRIM)
    return _moodle_wildcard(pattern, not case_sensitive).fullmatch(typed) is not None


def parse_number(text: str) -> Decimal | None:
    """A typed number read as Moodle reads one with no units (qtype_numerical_answer_processor::
    apply_units): spaces dropped, `3x10^2` as `3e2`, and commas dropped when there is a point or
    more than one comma, else a lone comma taken as a decimal point ("1,5" is 1.5, so is
    "1,822" 1.822: Moodle asks the learner to re-enter that, see validation_error). None if
    what is left is not a plain number."""
    text = _EXPONENT_RE.sub(r"e\1", text.replace(" ", ""))
    thousands = "." in text or text.count(",") > 1  # "2,456,789", "1,822.5"
    text = text.replace(",", "" if thousands else ".")
    if len(text) > 40 or not _MOODLE_NUMBER_RE.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None


def _single(raw: Any) -> Any:
    """One value from what may be a form's list of values; two or more is junk (None)."""
    if isinstance(raw, list | tuple):
        return raw[0] if len(raw) == 1 else None
    return raw


def _clamp(score: float, low: float = 0.0) -> float:
    """Into [low, 1], snapping float noise (0.9999999999, 1e-17) to 1, 0 and `low`."""
    score = min(1.0, max(low, score))
    if score > 1 - 1e-9:
        return 1.0
    if abs(score) < 1e-9:
        return 0.0
    return low if score < low + 1e-9 else score


def _is_blank(answer: Any) -> bool:
    return answer is None or answer == "" or answer == [] or answer == {}


def _shuffled(items: Sequence[Any], rng: random.Random | None, seed: str | None = None) -> list:
    """A copy shuffled by rng; without one, by a fixed seed if given, else left in order."""
    out = list(items)
    if rng is not None:
        rng.shuffle(out)
    elif seed is not None:
        random.Random(seed).shuffle(out)
    return out


class QuestionType(ABC):
    """One kind of question. Subclasses define how answers are read, scored and shown."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""

    @abstractmethod
    def normalise_answer(self, question: Question, raw: Any) -> Any:
        """Form data (a string, a list of strings, a mapping) -> canonical JSON-able answer.

        Unknown option ids and unparseable values are dropped, not errors: a stale or
        tampered form must not crash grading. What is left is what gets graded; an
        answer with nothing left is blank (None, [] or {}).
        """

    @abstractmethod
    def score(self, question: Question, answer: Any) -> tuple[float, list[str], Parts]:
        """(raw score, feedback, parts) for a canonical, non-blank answer."""

    def min_score(self, question: Question) -> float:
        """The lowest score an answer can earn (Moodle's get_min_fraction): 0 for most types."""
        return 0.0

    def validation_error(self, question: Question, answer: Any) -> str:
        """What the learner should fix in a saved answer before submitting ("" if nothing),
        as Moodle's get_validation_error; the answer is still graded if they don't."""
        return ""

    def grade(self, question: Question, answer: Any) -> Grade:
        """Grade one answer (raw or canonical); a blank answer scores 0 with no feedback."""
        answer = self.normalise_answer(question, answer)
        if _is_blank(answer):
            return Grade(question.id, 0.0, question.marks,
                         general_feedback=question.general_feedback)
        score, feedback, parts = self.score(question, answer)
        return Grade(
            question.id, _clamp(score, self.min_score(question)), question.marks,
            tuple(f for f in feedback if f),
            question.general_feedback, tuple(parts), answered=True,
        )

    def public_view(self, question: Question, rng: random.Random | None = None) -> dict[str, Any]:
        """What the browser may see before answers are revealed: no weights, flags or feedback.

        Pass an rng (seeded per attempt and question) only when the quiz shuffles options.
        Matching choices and ordering items are always scrambled, since their author order
        is the answer; without an rng that scramble is fixed per question id.
        """
        view: dict[str, Any] = {
            "id": question.id, "type": question.type, "text": question.text,
            "marks": plain_number(question.marks), **_format_view(question),
        }
        return view | self.public_parts(question, rng)

    def public_parts(self, question: Question, rng: random.Random | None) -> dict[str, Any]:
        """The type-specific part of public_view."""
        return {}

    def correct_answer_view(self, question: Question) -> dict[str, Any]:
        """For review pages: the right answer (canonical form, under "answer") and all feedback."""
        return {"id": question.id, "type": question.type, "text": question.text,
                "general_feedback": question.general_feedback,
                **_format_view(question)} | self.answer_parts(question)

    @abstractmethod
    def answer_parts(self, question: Question) -> dict[str, Any]:
        """The type-specific part of correct_answer_view."""


def _format_view(question: Question) -> dict[str, str]:
    """The text format, only when not Markdown: views stored before formats existed have
    none, and templates render a missing format as Markdown."""
    fmt = question.text_format
    return {} if fmt == "markdown" else {"text_format": fmt}


def _gap_view(question: Question) -> dict[str, Any]:
    gap = question.gap()
    return {} if gap is None else {"gap": {"before": gap[0], "after": gap[1]}}


def _options_review(question: Question, is_right: Any) -> list[dict[str, Any]]:
    return [{"id": o.id, "text": o.text, "weight": plain_number(o.weight),
             "correct": is_right(o.weight), "feedback": o.feedback} for o in question.options]


class SingleChoice(QuestionType):
    """One option; score is its weight (100 for the right one, maybe partial or negative).

    A negative weight scores negative, as in Moodle's qtype_multichoice_single_question
    (grade_response returns the chosen answer's fraction; get_min_fraction is the lowest one).
    """

    name, label = "single", "Single choice"

    def normalise_answer(self, question: Question, raw: Any) -> str | None:
        value = _single(raw)
        ids = {o.id for o in question.options}
        return value.strip() if isinstance(value, str) and value.strip() in ids else None

    def score(self, question: Question, answer: str) -> tuple[float, list[str], Parts]:
        option = next(o for o in question.options if o.id == answer)
        return option.weight / 100, [option.feedback], [(option.id, option.weight == 100)]

    def min_score(self, question: Question) -> float:
        return min(0.0, *(o.weight / 100 for o in question.options))

    def public_parts(self, question: Question, rng: random.Random | None) -> dict[str, Any]:
        options = _shuffled(question.options, rng)
        return {"options": [{"id": o.id, "text": o.text} for o in options]} | _gap_view(question)

    def answer_parts(self, question: Question) -> dict[str, Any]:
        right = next((o.id for o in question.options if o.weight == 100), None)
        return {"answer": right, "options": _options_review(question, lambda w: w == 100)}


class MultipleResponse(QuestionType):
    """Any number of options; score is the sum of picked weights / 100, clamped to [0, 1]."""

    name, label = "multiple", "Multiple response"

    def normalise_answer(self, question: Question, raw: Any) -> list[str]:
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list | tuple | set | frozenset):
            return []
        picked = {v.strip() for v in raw if isinstance(v, str)}
        return [o.id for o in question.options if o.id in picked]  # duplicates count once

    def score(self, question: Question, answer: list[str]) -> tuple[float, list[str], Parts]:
        picked = [o for o in question.options if o.id in answer]
        # Divide by the actual positive total (99.99 for 3 x 33.33) so all-right is exactly 1.
        positive = sum(o.weight for o in question.options if o.weight > 0)
        score = sum(o.weight for o in picked) / positive
        return score, [o.feedback for o in picked], [(o.id, o.weight > 0) for o in picked]

    def public_parts(self, question: Question, rng: random.Random | None) -> dict[str, Any]:
        options = _shuffled(question.options, rng)
        return {"options": [{"id": o.id, "text": o.text} for o in options]}

    def answer_parts(self, question: Question) -> dict[str, Any]:
        right = [o.id for o in question.options if o.weight > 0]
        return {"answer": right, "options": _options_review(question, lambda w: w > 0)}


class TrueFalse(QuestionType):
    """True or false; feedback_true / feedback_false follow what the learner said."""

    name, label = "truefalse", "True or false"

    def normalise_answer(self, question: Question, raw: Any) -> bool | None:
        value = _single(raw)
        if isinstance(value, bool):
            return value
        text = str(value).strip().casefold() if isinstance(value, str | int) else ""
        return True if text in _TRUE else False if text in _FALSE else None

    def score(self, question: Question, answer: bool) -> tuple[float, list[str], Parts]:
        right = answer == question.answer
        feedback = question.feedback_true if answer else question.feedback_false
        return float(right), [feedback], [(str(answer).lower(), right)]

    def public_parts(self, question: Question, rng: random.Random | None) -> dict[str, Any]:
        return {"options": [{"id": "true", "text": "True"}, {"id": "false", "text": "False"}]}

    def answer_parts(self, question: Question) -> dict[str, Any]:
        return {"answer": question.answer, "feedback_true": question.feedback_true,
                "feedback_false": question.feedback_false}


class Matching(QuestionType):
    """Each prompt gets one answer; score is the share of prompts matched correctly."""

    name, label = "matching", "Matching"

    def normalise_answer(self, question: Question, raw: Any) -> dict[str, str]:
        if not isinstance(raw, Mapping):
            return {}
        choices = set(question.match_choices())
        out = {}
        for pair in question.pairs:
            value = _single(raw.get(pair.id))
            if isinstance(value, str) and value.strip() in choices:
                out[pair.id] = value.strip()
        return out

    def score(self, question: Question, answer: dict[str, str]) -> tuple[float, list[str], Parts]:
        parts = [(p.id, answer.get(p.id) == p.answer) for p in question.pairs]
        return sum(right for _, right in parts) / len(question.pairs), [], parts

    def public_parts(self, question: Question, rng: random.Random | None) -> dict[str, Any]:
        prompts = _shuffled(question.pairs, rng)
        return {"prompts": [{"id": p.id, "text": p.prompt} for p in prompts],
                "choices": _shuffled(question.match_choices(), rng, question.id)}

    def answer_parts(self, question: Question) -> dict[str, Any]:
        return {"answer": {p.id: p.answer for p in question.pairs},
                "pairs": [{"id": p.id, "prompt": p.prompt, "answer": p.answer}
                          for p in question.pairs],
                "distractors": list(question.distractors)}


class Ordering(QuestionType):
    """Put items in order; scored like Moodle's "relative to the next item (excluding last)".

    Each adjacent pair in the learner's order that is also adjacent in the right order
    earns 1/(n-1). So moving one item to the wrong end costs one or two pairs, not
    (as with absolute positions) every item it displaced.
    """

    name, label = "ordering", "Ordering"

    def normalise_answer(self, question: Question, raw: Any) -> list[str]:
        if isinstance(raw, Mapping):  # {item id: position}, from numbered drop-downs (no JS)
            positions = []
            for index, item in enumerate(question.items):
                value = _single(raw.get(item.id))
                text = str(value).strip() if isinstance(value, str | int) else ""
                if re.fullmatch(r"-?\d{1,6}", text):
                    positions.append((int(text), index, item.id))
            return [item_id for *_, item_id in sorted(positions)]
        if isinstance(raw, str):  # "listen,record,report" from a drag-and-drop hidden field
            raw = raw.split(",")
        if not isinstance(raw, list | tuple):
            return []
        known = {i.id for i in question.items}
        return list(dict.fromkeys(v.strip() for v in raw if isinstance(v, str)
                                  and v.strip() in known))

    def score(self, question: Question, answer: list[str]) -> tuple[float, list[str], Parts]:
        ids = [i.id for i in question.items]
        following = dict(zip(ids, ids[1:], strict=False))
        parts = [(a, following.get(a) == b) for a, b in zip(answer, answer[1:], strict=False)]
        hits = sum(right for _, right in parts)
        # The last item has no next; tick it if it really is last (and nothing is missing).
        parts.append((answer[-1], answer[-1] == ids[-1] and len(answer) == len(ids)))
        return hits / (len(ids) - 1), [], parts

    def public_parts(self, question: Question, rng: random.Random | None) -> dict[str, Any]:
        items = _shuffled(question.items, rng, question.id)
        if items == list(question.items):  # never show the answer as the starting order
            items = items[1:] + items[:1]
        return {"items": [{"id": i.id, "text": i.text} for i in items]}

    def answer_parts(self, question: Question) -> dict[str, Any]:
        return {"answer": [i.id for i in question.items],
                "items": [{"id": i.id, "text": i.text} for i in question.items]}


class ShortAnswer(QuestionType):
    """Typed text compared with each accepted answer (see text_matches); `*` is a wildcard.

    The first accepted answer that matches, in file order, wins, as in Moodle's
    question_first_matching_answer_grading_strategy: put specific answers before broad ones.
    """

    name, label = "short", "Short answer"

    def normalise_answer(self, question: Question, raw: Any) -> str | None:
        value = _single(raw)
        if not isinstance(value, str) or not value.strip():
            return None
        return value.strip()[:MAX_TEXT_ANSWER]

    def score(self, question: Question, answer: str) -> tuple[float, list[str], Parts]:
        first = next((a for a in question.text_answers
                      if text_matches(a.text, answer, lenient=question.lenient,
                                      case_sensitive=question.case_sensitive)), None)
        if first is None:
            return 0.0, [], []
        return first.fraction, [first.feedback], []

    def public_parts(self, question: Question, rng: random.Random | None) -> dict[str, Any]:
        return _gap_view(question)

    def answer_parts(self, question: Question) -> dict[str, Any]:
        full = next(a.text for a in question.text_answers if a.fraction == 1)
        return {"answer": full.replace("\\*", "*"),
                "answers": [{"text": a.text, "fraction": plain_number(a.fraction),
                             "feedback": a.feedback} for a in question.text_answers]}


class Numerical(QuestionType):
    """A number, accepted within value +/- tolerance or min..max (both ends included).

    Compared as exact decimals, so 3.13 is inside 3.14 +/- 0.01. The first matching answer
    in file order wins, as in Moodle's qtype_numerical_question::get_matching_answer; an
    "any other answer" (`*`) matches every number. Typed text is read as Moodle reads it
    (parse_number); the canonical answer is the text as typed, trimmed, without a leading "+".
    Text that is not a number even to Moodle ("fourteen", "NaN") counts as blank.
    """

    name, label = "numerical", "Numerical"

    def normalise_answer(self, question: Question, raw: Any) -> str | None:
        value = _single(raw)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None
        text = value.strip() if isinstance(value, str) else repr(value)
        if len(text) > 40 or parse_number(text) is None:
            return None
        return text.removeprefix("+")

    def score(self, question: Question, answer: str) -> tuple[float, list[str], Parts]:
        number = parse_number(answer)
        if number is None:  # pragma: no cover - normalise_answer already checked
            return 0.0, [], []
        first = next((a for a in question.numeric_answers if a.accepts(number)), None)
        if first is None:
            return 0.0, [], []
        return first.fraction, [first.feedback], []

    def validation_error(self, question: Question, answer: Any) -> str:
        # Moodle (qtype_numerical_question::get_validation_error) asks again when the answer
        # has the thousands separator, because "1,822" would be read as 1.822.
        if isinstance(answer, str) and THOUSANDS_SEPARATOR in answer:
            return ("Please enter your answer without using the thousands separator "
                    f"({THOUSANDS_SEPARATOR}): a comma is read as a decimal point.")
        return ""

    def answer_parts(self, question: Question) -> dict[str, Any]:
        full = next(a for a in question.numeric_answers if a.fraction == 1)
        if full.any:
            answer, shown = "0", "any number"
        elif full.value is not None:
            answer = repr(plain_number(full.value))
            shown = answer + (f" ± {plain_number(full.tolerance)}" if full.tolerance else "")
        else:
            answer = repr(plain_number(full.min or 0))
            shown = f"{answer} to {plain_number(full.max or 0)}"
        # "answer" is a canonical answer that scores 1; "shown" is how to write it for people.
        return {"answer": answer, "shown": shown,
                "answers": [a.to_snapshot() for a in question.numeric_answers]}


class Description(QuestionType):
    """Text shown among the questions (Moodle's "description"): nothing to answer, 0 marks.

    Never graded: grade_attempt leaves it out, so it has no answer row, adds nothing to the
    attempt's marks and is not in the statistics.
    """

    name, label = "description", "Information"

    def normalise_answer(self, question: Question, raw: Any) -> None:
        return None

    def score(self, question: Question, answer: Any) -> tuple[float, list[str], Parts]:
        return 0.0, [], []  # pragma: no cover - a description's answer is always blank

    def public_view(self, question: Question, rng: random.Random | None = None) -> dict[str, Any]:
        return {"id": question.id, "type": question.type, "text": question.text, "marks": 0,
                **_format_view(question)}

    def answer_parts(self, question: Question) -> dict[str, Any]:
        return {}


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleResponse(), TrueFalse(), Matching(), Ordering(),
                        ShortAnswer(), Numerical(), Description())
}


def question_type(question: Question) -> QuestionType:
    """The registered type of a question; ValueError for a type nobody registered."""
    try:
        return QUESTION_TYPES[question.type]
    except KeyError:
        raise ValueError(f"unknown question type {question.type!r}") from None


def normalise_answer(question: Question, raw: Any) -> Any:
    """Form data -> the canonical answer to store (see QuestionType.normalise_answer)."""
    return question_type(question).normalise_answer(question, raw)


def grade(question: Question, answer: Any) -> Grade:
    """Grade one answer to one question."""
    return question_type(question).grade(question, answer)


def public_view(question: Question, rng: random.Random | None = None) -> dict[str, Any]:
    """The question as the learner may see it before answers are revealed."""
    return question_type(question).public_view(question, rng)


def correct_answer_view(question: Question) -> dict[str, Any]:
    """The question with its right answer and all feedback, for review pages."""
    return question_type(question).correct_answer_view(question)


def validation_error(question: Question, answer: Any) -> str:
    """What the learner should fix in a saved answer ("" if nothing); see QuestionType."""
    return question_type(question).validation_error(question, answer)


def grade_attempt(questions: Sequence[Question], answers: Mapping[str, Any]) -> AttemptGrade:
    """Grade every question asked in an attempt; a missing answer is a blank one.

    A negative mark (a single choice with a negative weight) takes marks off the other
    questions, as Moodle's question_usage_by_activity::get_total_mark adds marks up; the total
    never goes below 0, as Moodle's gradebook item for a quiz has grademin 0
    (quiz_grade_item_update), so a learner never sees a negative result.
    """
    questions = [q for q in questions if not q.is_description]  # nothing to grade
    grades = tuple(grade(q, answers.get(q.id)) for q in questions)
    total = max(0.0, round(sum(g.marks for g in grades), 6))
    maximum = round(sum(q.marks for q in questions), 6)
    percent = round(100 * total / maximum, 6) if maximum else 0.0
    return AttemptGrade(total, maximum, percent, grades)


def select_questions(quiz: Quiz, rng: random.Random) -> list[Question]:
    """The questions for a new attempt: drawn and shuffled as the settings say.

    Deterministic for a given rng seed. Without shuffle_questions, drawn questions keep
    the order of the file. Descriptions are never drawn (as Moodle's random questions never
    pick one) and never shuffled: every description is shown, at its place in the file,
    and the questions asked fill the other places.
    """
    pool = list(quiz.graded_questions)
    chosen = _drawn(quiz, pool, rng)
    descriptions = [q for q in quiz.questions if q.is_description]
    if not descriptions:
        return chosen
    place = {q.id: n for n, q in enumerate(quiz.questions)}
    slots = sorted([place[q.id] for q in chosen])
    fixed = {place[q.id]: q for q in descriptions}
    filled = dict(zip(slots, chosen, strict=True)) | fixed
    return [filled[n] for n in sorted(filled)]


def _drawn(quiz: Quiz, pool: list[Question], rng: random.Random) -> list[Question]:
    """The questions to answer, drawn and shuffled from `pool` as the settings say."""
    draw = quiz.settings.draw
    if draw is None:
        chosen = list(pool)
    elif draw.total is not None:
        chosen = rng.sample(pool, min(draw.total, len(pool)))
    else:
        chosen = []
        for category, count in draw.per_category:
            members = [q for q in pool if q.category == category]
            chosen += rng.sample(members, min(count, len(members)))
    if quiz.settings.shuffle_questions:
        rng.shuffle(chosen)
    else:
        chosen.sort(key=pool.index)
    return chosen


def may_reveal(
    when: str, *, answered: bool = False, submitted: bool = False, passed: bool = False,
    attempts_left: bool = True,
) -> bool:
    """Whether a `feedback` or `show_correct_answers` setting allows showing it now.

    `answered`: this question has been answered (and checked) in the attempt;
    `submitted`: the attempt is finished; `attempts_left`: the learner may try again.
    """
    if when == "immediate":
        return answered or submitted
    if when == "after_submit":
        return submitted
    if when == "after_pass_or_last":
        return submitted and (passed or not attempts_left)
    return False  # "never", or anything unknown
