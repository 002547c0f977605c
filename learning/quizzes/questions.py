"""Checking question data (from YAML, GIFT or a snapshot) and building Question objects from it."""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from learning.core.problems import Problem
from learning.core.rendering import TEXT_FORMATS
from learning.core.yamlfile import Located
from learning.quizzes.types import (
    COMMON_FIELDS,
    ID_RE,
    QUESTION_TYPE_NAMES,
    TEACHES_RE,
    TYPE_FIELDS,
    MatchPair,
    NumericAnswer,
    Option,
    OrderItem,
    Question,
    TextAnswer,
)


def locate(data: Any, line: int = 0) -> Located:
    """Wrap plain data (a snapshot, or a GIFT question) so every part reports `line`."""
    if isinstance(data, Located):
        return data
    if isinstance(data, dict):
        return Located(
            {str(k): locate(v, line) for k, v in data.items()}, line,
            key_lines={str(k): line for k in data},
        )
    if isinstance(data, list | tuple):
        return Located([locate(v, line) for v in data], line)
    return Located(data, line)


class Checker:
    """Collects the problems found in one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def error(self, line: int, message: str) -> None:
        """Record something that makes the question (or file) unusable."""
        self.problems.append(Problem(self.path, line, message))

    def warn(self, line: int, message: str) -> None:
        """Record something odd that still works."""
        self.problems.append(Problem(self.path, line, message, level="warning"))

    def error_count(self) -> int:
        """How many errors so far (so a builder can tell whether its part added any)."""
        return sum(1 for p in self.problems if p.level == "error")


def _shown(value: Any) -> str:
    """A value as an author would recognise it in a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).removesuffix(".0")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"'{value}'"


class Fields:
    """Typed reading of one mapping, reporting problems as `<where> <message>` at their line."""

    def __init__(self, ck: Checker, node: Located, where: str) -> None:
        self.ck, self.node, self.where = ck, node, where
        self.data: dict[str, Located] = node.value if isinstance(node.value, dict) else {}

    def line(self, key: str) -> int:
        """Line of the value under `key` (the mapping's line when it is absent)."""
        value = self.data.get(key)
        return value.line if value is not None else self.node.line

    def error(self, key: str | None, message: str) -> None:
        """Report `<where> <message>` at the line of `key` (or of the mapping)."""
        self.ck.error(self.node.line if key is None else self.line(key), f"{self.where} {message}")

    def check_keys(
        self, allowed: Iterable[str], required: Iterable[str] = (), elsewhere: str = "",
        qtype: str = "",
    ) -> None:
        """Unknown keys (with a did-you-mean) and missing required keys are errors.

        `elsewhere` names keys that other question types use, so that an `options` on a
        `truefalse` (type `qtype`) is explained rather than called unknown.
        """
        allowed = list(allowed)
        for key in self.data:
            if key in allowed:
                continue
            if key in elsewhere.split():
                message = f"has key '{key}', which type '{qtype}' does not use"
            else:
                message = f"has unknown key '{key}'"
                close = difflib.get_close_matches(key, allowed, n=1)
                if close:
                    message += f"; did you mean '{close[0]}'?"
            self.ck.error(self.node.key_line(key), f"{self.where} {message}")
        for key in required:
            if key not in self.data or self.data[key].value is None:
                self.error(None, f"is missing required key '{key}'")

    def text(self, key: str, *, required: bool = False) -> str:
        """A text field, stripped; numbers and booleans are taken as typed."""
        node = self.data.get(key)
        if node is None or node.value is None:
            return ""
        value = as_text(node)
        if value is None:
            self.error(key, f"{_has(key, node.value)}; {key} must be text")
            return ""
        if required and not value:
            self.error(key, f"has an empty '{key}'")
        return value

    def number(
        self, key: str, default: float | None, low: float | None = None, high: float | None = None,
        rule: str = "",
    ) -> float | None:
        """A finite number between low and high (inclusive); `rule` is the wording of the limit."""
        node = self.data.get(key)
        if node is None or node.value is None:
            return default
        value = node.value
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or not math.isfinite(value):
            self.error(key, f"{_has(key, value)}; {key} must be a number")
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(key, f"{_has(key, float(value))}; {rule}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        """true or false."""
        node = self.data.get(key)
        if node is None or node.value is None:
            return default
        if not isinstance(node.value, bool):
            self.error(key, f"{_has(key, node.value)}; {key} must be true or false")
            return default
        return node.value

    def sequence(self, key: str) -> list[Located] | None:
        """A list, or None (with an error) if it is something else."""
        node = self.data.get(key)
        if node is None or node.value is None:
            return None
        if not isinstance(node.value, list):
            self.error(key, f"{_has(key, node.value)}; {key} must be a list")
            return None
        return node.value


def _has(key: str, value: Any) -> str:
    """'has weight 150', 'has a list as weight': the start of most messages."""
    if isinstance(value, dict | list):
        return f"has {_shown(value)} as {key}"
    return f"has {key} {_shown(value)}"


def as_text(node: Located) -> str | None:
    """The text of a scalar, or None if it isn't one."""
    value = node.value
    if isinstance(value, str):
        return value.strip()
    if node.raw is not None and not isinstance(value, dict | list):
        return node.raw.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _shown(float(value)).strip("'")
    return None


def slugify(text: str, limit: int = 40) -> str:
    """'Call the police!' -> 'call-the-police' (ASCII, lowercase, hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def letter_id(n: int) -> str:
    """0 -> 'a' ... 25 -> 'z', then 'o27', 'o28'..."""
    return chr(ord("a") + n) if n < 26 else f"o{n + 1}"


def _assign_ids(
    f: Fields, kind: str, entries: list[tuple[Located, str | None]], derive: list[str]
) -> list[str]:
    """Check explicit ids; give the others their derived id, skipping any that are taken."""
    taken: set[str] = set()
    for node, given in entries:
        if given is None:
            continue
        if not ID_RE.match(given):
            f.ck.error(node.line, f"{f.where} has {kind} id '{given}'; "
                                  "ids must use only a-z, 0-9 and '-'")
        elif given in taken:
            f.ck.error(node.line, f"{f.where} has {kind} id '{given}' twice")
        taken.add(given)
    ids = []
    for (_, given), wanted in zip(entries, derive, strict=True):
        if given is not None:
            ids.append(given)
            continue
        candidate, n = wanted, 2
        while candidate in taken:
            candidate, n = f"{wanted}-{n}", n + 1
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _entry(
    f: Fields, node: Located, kind: str, n: int, keys: tuple[str, ...], required: tuple[str, ...]
) -> Fields:
    """Fields for one entry of a list, named by its id when it has one ("option 'b'")."""
    given = node.get("id")
    label = f"{kind} '{as_text(given)}'" if given is not None and as_text(given) else f"{kind} {n}"
    sub = Fields(f.ck, node, f"{f.where}: {label}")
    sub.check_keys(keys, required)
    return sub


def _not_mapping(f: Fields, node: Located, kind: str, n: int, needs: str) -> None:
    f.ck.error(node.line, f"{f.where} has {kind} {n} that is not a mapping; it needs {needs}")


def _options(f: Fields, qtype: str) -> dict[str, Any]:
    entries = f.sequence("options")
    if entries is None:
        if "options" not in f.data:
            f.error(None, "is missing required key 'options'")
        return {}
    if len(entries) < 2:
        f.error("options", f"needs at least 2 options, but has {len(entries)}")
    rows = []
    for n, node in enumerate(entries, 1):
        if not isinstance(node.value, dict):
            _not_mapping(f, node, "option", n, "'text' and usually 'correct' or 'weight'")
            continue
        sub = _entry(f, node, "option", n, ("id", "text", "correct", "weight", "feedback"),
                     ("text",))
        if "correct" in sub.data and "weight" in sub.data:
            sub.error("weight", "has both 'correct' and 'weight'; use one or the other")
        weight = sub.number("weight", None, -100, 100, "weights must be between -100 and 100")
        rows.append((node, sub, sub.text("id") or None, sub.text("text", required=True),
                     weight, sub.boolean("correct", False), sub.text("feedback")))
    ids = _assign_ids(f, "option", [(r[0], r[2]) for r in rows],
                      [letter_id(i) for i in range(len(rows))])
    weights = _resolve_weights(f, qtype, rows)
    options = tuple(
        Option(id=oid, text=row[3], weight=w, feedback=row[6])
        for oid, row, w in zip(ids, rows, weights, strict=True)
    )
    seen: dict[str, str] = {}
    for option, row in zip(options, rows, strict=True):
        key = " ".join(option.text.casefold().split())
        if key in seen:
            f.ck.warn(row[0].line, f"{f.where} has options '{seen[key]}' and '{option.id}' "
                                   "with the same text")
        seen.setdefault(key, option.id)
    return {"options": options}


def _resolve_weights(f: Fields, qtype: str, rows: list[tuple]) -> list[float]:
    """Turn `correct:` flags and `weight:` values into one weight per option (see the docs)."""
    if qtype == "single":
        return _single_weights(f, rows)
    if any(row[4] is not None for row in rows):
        return _given_weights(f, rows)
    correct = [row[5] for row in rows]
    if correct and not any(correct):
        f.error("options", "needs at least one correct option (correct: true)")
    return shared_weights(correct)


def _single_weights(f: Fields, rows: list[tuple]) -> list[float]:
    """A weight as given, else 100 if correct and 0 if not; at least one must give full credit.

    Two full-credit options are allowed, as Moodle allows them (either one is right).
    """
    weights = [w if w is not None else (100.0 if correct else 0.0)
               for _, _, _, _, w, correct, _ in rows]
    if rows and not any(w == 100 for w in weights):
        f.error("options", "needs an option with full credit (correct: true), but none has")
    return weights


def _given_weights(f: Fields, rows: list[tuple]) -> list[float]:
    """Weights as given (0 where none is); the positive ones must add up to 100."""
    for _, sub, *_ in rows:
        if "correct" in sub.data and "weight" not in sub.data:
            sub.error("correct", "uses 'correct', but other options have weights; "
                                 "give every option a 'weight' instead")
    weights = [w or 0.0 for *_, w, _, _ in rows]
    positive = sum(w for w in weights if w > 0)
    if positive == 0:
        f.error("options", "needs at least one option with a positive weight")
    elif round(positive / 100, 2) != 1:
        # Moodle's rule (qtype_multichoice::save_question_options): the fractions, rounded to
        # two places, make 1; so 3 x 33.33 and 3 x 33.2 pass and scores divide by the real sum.
        f.error("options", f"has positive weights that add up to {_shown(positive)}; "
                           "they must add up to 100")
    return weights


def shared_weights(correct: list[bool]) -> list[float]:
    """Weights of a `multiple` question written with `correct:` flags only.

    Right answers share the marks; wrong picks share -100%, so ticking every box scores 0.
    With no right answer there is nothing to share: every weight is 0.
    """
    right = sum(1 for c in correct if c)
    if right == 0:
        return [0.0] * len(correct)
    wrong = len(correct) - right
    return [100 / right if c else -100 / wrong for c in correct]


def _truefalse(f: Fields, qtype: str) -> dict[str, Any]:
    node = f.data.get("answer")
    if node is None or node.value is None:
        f.error(None, "is missing required key 'answer' (true or false)")
        return {}
    if not isinstance(node.value, bool):
        f.error("answer", f"{_has('answer', node.value)}; answer must be true or false")
        return {}
    return {"answer": node.value, "feedback_true": f.text("feedback_true"),
            "feedback_false": f.text("feedback_false")}


def _matching(f: Fields, qtype: str) -> dict[str, Any]:
    entries = f.sequence("pairs")
    if entries is None:
        if "pairs" not in f.data:
            f.error(None, "is missing required key 'pairs'")
        return {}
    if len(entries) < 2:
        f.error("pairs", f"needs at least 2 pairs, but has {len(entries)}")
    rows = []
    for n, node in enumerate(entries, 1):
        if not isinstance(node.value, dict):
            _not_mapping(f, node, "pair", n, "'prompt' and 'answer'")
            continue
        sub = _entry(f, node, "pair", n, ("id", "prompt", "answer"), ("prompt", "answer"))
        rows.append((node, sub.text("id") or None, sub.text("prompt", required=True),
                     sub.text("answer", required=True)))
    ids = _assign_ids(f, "pair", [(r[0], r[1]) for r in rows],
                      [letter_id(i) for i in range(len(rows))])
    prompts: set[str] = set()
    for node, _, prompt, _ in rows:
        if prompt in prompts:
            f.ck.error(node.line, f"{f.where} has prompt '{prompt}' twice")
        prompts.add(prompt)
    answers = {r[3] for r in rows}
    distractors: list[str] = []
    for node in f.sequence("distractors") or []:
        text = as_text(node)
        if not text:
            f.ck.error(node.line, f"{f.where} has a distractor that is not text")
        elif text in answers:
            f.ck.error(node.line, f"{f.where} has distractor '{text}', "
                                  "which is also the answer to a prompt")
        elif text in distractors:
            f.ck.error(node.line, f"{f.where} has distractor '{text}' twice")
        else:
            distractors.append(text)
    pairs = tuple(MatchPair(id=i, prompt=r[2], answer=r[3]) for i, r in zip(ids, rows, strict=True))
    return {"pairs": pairs, "distractors": tuple(distractors)}


def _ordering(f: Fields, qtype: str) -> dict[str, Any]:
    entries = f.sequence("items")
    if entries is None:
        if "items" not in f.data:
            f.error(None, "is missing required key 'items'")
        return {}
    if len(entries) < 2:
        f.error("items", f"needs at least 2 items, but has {len(entries)}")
    rows = []
    for n, node in enumerate(entries, 1):
        if isinstance(node.value, dict):
            sub = _entry(f, node, "item", n, ("id", "text"), ("text",))
            rows.append((node, sub.text("id") or None, sub.text("text", required=True)))
        elif as_text(node):
            rows.append((node, None, as_text(node) or ""))
        else:
            f.ck.error(node.line, f"{f.where} has item {n} that is neither text nor a mapping")
    # Derived ids come from the text, not the position: letters in the correct order would
    # give the answer away to anyone reading the page source.
    ids = _assign_ids(f, "item", [(r[0], r[1]) for r in rows],
                      [slugify(r[2]) or f"item-{i + 1}" for i, r in enumerate(rows)])
    texts: set[str] = set()
    for node, _, text in rows:
        if text in texts:
            f.ck.error(node.line, f"{f.where} has item '{text}' twice")
        texts.add(text)
    return {"items": tuple(OrderItem(id=i, text=r[2]) for i, r in zip(ids, rows, strict=True))}


def _fraction(sub: Fields) -> float:
    return sub.number("fraction", 1.0, 0, 1, "fractions must be between 0 and 1") or 0.0


def _answers(f: Fields, qtype: str) -> dict[str, Any]:
    entries = f.sequence("answers")
    if entries is None:
        if "answers" not in f.data:
            f.error(None, "is missing required key 'answers'")
        return {}
    if not entries:
        f.error("answers", "needs at least one answer")
    build = _short_answer if qtype == "short" else _numeric_answer
    answers = [a for n, node in enumerate(entries, 1) if (a := build(f, node, n)) is not None]
    if answers and not any(a.fraction == 1 for a in answers):
        f.error("answers", "needs at least one answer with fraction 1 (full marks)")
    # The first matching answer counts, so nothing after a catch-all is ever used.
    catch_all = [n for n, a in enumerate(answers, 1)
                 if (a.any if isinstance(a, NumericAnswer) else a.text.strip("*") == "")]
    if catch_all and catch_all[0] < len(answers):
        f.ck.warn(f.line("answers"), f"{f.where} has answer {catch_all[0]}, which matches "
                                     "every answer, before others: the first matching answer "
                                     "counts, so put it last")
    if qtype == "short":
        seen: set[str] = set()
        for node, answer in zip(entries, answers, strict=False):
            assert isinstance(answer, TextAnswer)  # `build` is _short_answer here
            key = " ".join(answer.text.casefold().split())
            if key in seen:
                f.ck.error(node.line, f"{f.where} has answer '{answer.text}' twice")
            seen.add(key)
    if qtype == "short":
        return {"text_answers": tuple(answers), "lenient": f.boolean("lenient", True),
                "case_sensitive": f.boolean("case_sensitive", False)}
    return {"numeric_answers": tuple(answers)}


def _short_answer(f: Fields, node: Located, n: int) -> TextAnswer | None:
    if not isinstance(node.value, dict):
        text = as_text(node)
        if not text:
            f.ck.error(node.line, f"{f.where} has answer {n} that is neither text nor a mapping")
            return None
        return TextAnswer(text=text)
    sub = _entry(f, node, "answer", n, ("text", "fraction", "feedback"), ("text",))
    text = as_text(node.value["text"]) if "text" in node.value else None
    if text:
        sub.where = f"{f.where}: answer '{text}'"
    before = f.ck.error_count()
    answer = TextAnswer(text=sub.text("text", required=True), fraction=_fraction(sub),
                        feedback=sub.text("feedback"))
    return answer if f.ck.error_count() == before else None


def _numeric_answer(f: Fields, node: Located, n: int) -> NumericAnswer | None:
    if not isinstance(node.value, dict):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return NumericAnswer(value=float(node.value))
        f.ck.error(node.line, f"{f.where} has answer {n} that is neither a number nor a mapping")
        return None
    sub = _entry(f, node, "answer", n, ("value", "tolerance", "min", "max", "any", "fraction",
                                        "feedback"), ())
    before = f.ck.error_count()
    if sub.boolean("any", False):
        if {"value", "tolerance", "min", "max"} & set(sub.data):
            sub.error("any", "has 'any: true' with a value or range; 'any' matches every "
                             "number on its own")
        fraction, feedback = _fraction(sub), sub.text("feedback")
        if f.ck.error_count() > before:
            return None
        return NumericAnswer(any=True, fraction=fraction, feedback=feedback)
    value = sub.number("value", None)
    tolerance = sub.number("tolerance", 0.0, 0, None, "a tolerance cannot be negative") or 0.0
    low, high = sub.number("min", None), sub.number("max", None)
    has_range = "min" in sub.data or "max" in sub.data
    if "value" in sub.data and has_range:
        sub.error(None, "has both 'value' and 'min'/'max'; use one or the other")
    elif "value" not in sub.data and (low is None or high is None):
        sub.error(None, "needs either 'value' (and optionally 'tolerance') or both 'min' and 'max'")
    elif "tolerance" in sub.data and has_range:
        sub.error("tolerance", "has 'tolerance' with 'min' and 'max'; tolerance goes with 'value'")
    elif low is not None and high is not None and low > high:
        sub.error("min", f"has min {_shown(low)} greater than max {_shown(high)}")
    fraction, feedback = _fraction(sub), sub.text("feedback")
    if f.ck.error_count() > before:
        return None
    if value is not None:
        return NumericAnswer(value=value, tolerance=tolerance, fraction=fraction, feedback=feedback)
    return NumericAnswer(min=low, max=high, fraction=fraction, feedback=feedback)


_TYPE_BUILDERS = {
    "single": _options, "multiple": _options, "truefalse": _truefalse, "matching": _matching,
    "ordering": _ordering, "short": _answers, "numerical": _answers,
    "description": lambda f, qtype: {},
}


def build_question(node: Located, ck: Checker, index: int) -> Question | None:
    """Check one question (the `index`-th, from 1) and build it; None if it has any error."""
    if not isinstance(node.value, dict):
        ck.error(node.line, f"question #{index} is not a mapping; it needs keys id, type and text")
        return None
    before = ck.error_count()
    f = Fields(ck, node, f"question #{index}")
    qid = f.text("id")
    if not qid:
        if "id" not in f.data:
            f.error(None, "is missing required key 'id'")
    else:
        if not ID_RE.match(qid):
            f.error("id", f"has id '{qid}'; ids must use only a-z, 0-9 and single '-' "
                          f"between words (for example '{slugify(qid) or 'q1'}')")
        f.where = f"question '{qid}'"
    qtype = f.text("type")
    kinds = ", ".join(QUESTION_TYPE_NAMES)
    if qtype not in TYPE_FIELDS:
        if "type" not in f.data:
            f.error(None, f"is missing required key 'type' (one of: {kinds})")
        elif qtype:
            f.error("type", f"has unknown type '{qtype}'; use one of: {kinds}")
        return None
    others = {k for fields in TYPE_FIELDS.values() for k in fields} - set(TYPE_FIELDS[qtype])
    f.check_keys((*COMMON_FIELDS, *TYPE_FIELDS[qtype]), required=("text",),
                 elsewhere=" ".join(sorted(others)), qtype=qtype)
    text = f.text("text", required=True)
    category = f.text("category")
    if category and not ID_RE.match(category):
        f.error("category", f"has category '{category}'; categories must use only a-z, 0-9 "
                            f"and '-' (for example '{slugify(category) or 'roles'}')")
    if qtype == "description":
        marks, general_feedback = _description_extras(f)
    else:
        marks = f.number("marks", 1.0, 0.01, None, "marks must be more than 0") or 1.0
        general_feedback = f.text("general_feedback")
    text_format = f.text("text_format") or "markdown"
    if text_format not in TEXT_FORMATS:
        f.error("text_format", f"has text_format '{text_format}'; use one of: "
                               f"{', '.join(TEXT_FORMATS)} (markdown if left out)")
    teaches = _teaches(f)
    specific = _TYPE_BUILDERS[qtype](f, qtype)
    if ck.error_count() > before:
        return None
    return Question(id=qid, type=qtype, text=text, marks=marks, category=category,
                    name=f.text("name"), category_path=f.text("category_path"),
                    general_feedback=general_feedback, text_format=text_format,
                    teaches=teaches, **specific)


def _teaches(f: Fields) -> str:
    """`teaches:` as written, if its form is right (whether the section exists is the
    loader's check: it knows the modules)."""
    node = f.data.get("teaches")
    if node is None:
        return ""
    if node.value is None:
        # `teaches: #anchor` unquoted: YAML reads everything from '#' as a comment.
        f.error("teaches", "has an empty 'teaches'; write 'teaches: module-slug#section' (in "
                           "YAML a '#' after a space starts a comment, so quote a bare "
                           "section: teaches: \"#section\")")
        return ""
    value = f.text("teaches")
    if value and not TEACHES_RE.match(value):
        f.error("teaches", f"has teaches '{value}'; write 'module-slug#section', where "
                           "section is the anchor of a heading in the module (or "
                           "\"#section\" when the quiz has one module)")
        return ""
    return value


def _description_extras(f: Fields) -> tuple[float, str]:
    """A description has no marks (0, as Moodle's) and no general feedback: there is no
    answer for feedback to follow, and GIFT could not carry it. Snapshots write `marks: 0`."""
    if f.number("marks", 0.0) not in (0, None):
        f.error("marks", "has marks, but a description is not answered and has no marks; "
                         "remove 'marks'")
    if f.text("general_feedback"):
        f.error("general_feedback", "has general_feedback, but a description has no answer "
                                    "to give feedback on; put the text in 'text'")
    return 0.0, ""


def question_from_snapshot(data: dict[str, Any]) -> Question:
    """Rebuild a question from `Question.to_snapshot()`; raises ValueError if the data is bad."""
    ck = Checker("snapshot")
    question = build_question(locate(data), ck, 1)
    errors = [p.message for p in ck.problems if p.level == "error"]
    if question is None or errors:
        raise ValueError("; ".join(errors) or "not a question")
    return question
