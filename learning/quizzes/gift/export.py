"""Writing our questions as Moodle GIFT text that Moodle, and parse_gift, read back."""

from __future__ import annotations

import re
from collections.abc import Iterable

from learning.quizzes.questions import letter_id, slugify
from learning.quizzes.types import Question, Quiz, plain_number

_SPECIAL = "~=#{}:"
_FORMAT = re.compile(r"^\s*\[(markdown|html|plain|moodle)\]", re.IGNORECASE)


def quiz_to_gift(quiz: Quiz) -> str:
    """The quiz's questions as GIFT; the settings have no GIFT form and are left out."""
    header = [
        f"// {quiz.title}",
        f"// Exported from Joined Up quiz '{quiz.slug}', version {quiz.version[:12]}.",
        "// Lines starting // joinedup: keep our ids and marks; Moodle ignores them.",
    ]
    return questions_to_gift(quiz.questions, header)


def questions_to_gift(questions: Iterable[Question], header: Iterable[str] = ()) -> str:
    """Questions as GIFT, with a `$CATEGORY:` line wherever the category changes."""
    header = list(header)
    out = [*header, ""] if header else []
    category = ""
    for question in questions:
        # The full path the question came with, else our category's slug.
        path = question.category_path or question.category
        if path != category:
            # GIFT can't go back to "no category"; the course's top category is closest.
            out += [f"$CATEGORY: {path or '$course$/top'}", ""]
            category = path
        out += [*_question(question), ""]
    return "\n".join(out)


def escape(text: str, text_format: str = "markdown") -> str:
    """GIFT-escape text: backslash first, then the special characters, then line breaks.

    Text that itself starts like a format marker (`[html]...`) gets its own format's marker
    (the question's) in front, since GIFT can't escape `[`; readers drop the first marker only.
    """
    return (f"[{text_format}]" if _FORMAT.match(text) else "") + _escape_chars(text)


def _escape_chars(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for ch in _SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def _num(x: float) -> str:
    """Shortest exact form: 14, 3.14, 0.0005, 1e-07."""
    return repr(plain_number(x))


def _answer(marker: str, weight: float, default: float, text: str, fmt: str) -> str:
    """`=text`, `~text`, or `~%50%text` with the weight to 5 places (Moodle's 33.33333).

    The weight is also written when the text itself starts with `%`, which GIFT can't
    escape, so that `%` isn't read as a weight.
    """
    if weight == default and not text.startswith("%"):
        return marker + escape(text, fmt)
    return f"{marker}%{_num(round(weight, 5))}%{escape(text, fmt)}"


def _feedback(text: str, fmt: str) -> str:
    return f"#{escape(text, fmt)}" if text else ""


def _question(q: Question) -> list[str]:
    lines = _our_comments(q)
    if q.is_description:  # as Moodle writes one: a title and the text, no answer block
        return [*lines, f"::{_escape_chars(q.name or q.id)}::[{q.text_format}]"
                        f"{_escape_chars(q.text)}"]
    gap = q.gap()
    # A blank at the very end can't be a GIFT missing word (nothing follows the braces),
    # so the marker stays in the text as written.
    before, after = gap if gap and gap[1].strip() else (q.text + " ", "")
    answers = _answers(q)
    fmt = q.text_format
    general = f"####{escape(q.general_feedback, fmt)}" if q.general_feedback else ""
    if len(answers) == 1:  # short forms: {T}, {#14}
        block = "{" + answers[0] + general + "}"
    else:
        block = "{\n" + "\n".join(answers + ([general] if general else [])) + "\n}"
    # The question text already starts with its format's marker, which the rest inherit.
    head = f"::{_escape_chars(q.name or q.id)}::[{fmt}]{_escape_chars(before)}"
    lines += (head + block + _escape_chars(after)).split("\n")
    return lines


def _our_comments(q: Question) -> list[str]:
    """`// joinedup:` lines for what GIFT can't say: ids we chose, ordering, marks, and how
    short answers are compared."""
    lines = []
    if q.name and slugify(q.name, 60) != q.id:  # the title alone would give another id
        lines.append(f"// joinedup:id {q.id}")
    if q.type in ("single", "multiple"):
        ids = [o.id for o in q.options]
    elif q.type == "matching":
        ids = [p.id for p in q.pairs]
    else:
        ids = [i.id for i in q.items]
    derived = [letter_id(n) for n in range(len(ids))]
    if q.type == "ordering":
        derived = _derived_item_ids(q)
        lines.append("// joinedup:ordering")
    if ids and ids != derived:
        lines.append("// joinedup:ids " + " ".join(ids))
    if q.marks != 1 and not q.is_description:
        lines.append(f"// joinedup:marks {_num(q.marks)}")
    # GIFT short answers are compared as Moodle does; ours may be lenient or case-sensitive.
    if q.type == "short" and q.lenient:
        lines.append("// joinedup:lenient")
    if q.type == "short" and q.case_sensitive:
        lines.append("// joinedup:case-sensitive")
    return lines


def _derived_item_ids(q: Question) -> list[str]:
    """The ids the loader would give these items if none were written (from their text)."""
    taken: list[str] = []
    for n, item in enumerate(q.items):
        wanted = slugify(item.text) or f"item-{n + 1}"
        candidate, k = wanted, 2
        while candidate in taken:
            candidate, k = f"{wanted}-{k}", k + 1
        taken.append(candidate)
    return taken


def _answers(q: Question) -> list[str]:
    fmt = q.text_format
    if q.type == "single":
        return [
            (_answer("=", o.weight, 100, o.text, fmt) if o.weight == 100
             else _answer("~", o.weight, 0, o.text, fmt)) + _feedback(o.feedback, fmt)
            for o in q.options
        ]
    if q.type == "multiple":
        return [_answer("~", o.weight, 0, o.text, fmt) + _feedback(o.feedback, fmt)
                for o in q.options]
    if q.type == "truefalse":
        # GIFT puts the feedback for a wrong answer first: {T#said false#said true}.
        right, wrong = ((q.feedback_true, q.feedback_false) if q.answer
                        else (q.feedback_false, q.feedback_true))
        tail = (f"#{escape(wrong, fmt)}#{escape(right, fmt)}" if right
                else f"#{escape(wrong, fmt)}" if wrong else "")
        return [("T" if q.answer else "F") + tail]
    if q.type == "matching":
        return ([f"={escape(p.prompt, fmt)} -> {escape(p.answer, fmt)}" for p in q.pairs]
                + [f"= -> {escape(d, fmt)}" for d in q.distractors])
    if q.type == "ordering":  # as matching: positions 1, 2, 3... to the items
        return [f"={n} -> {escape(i.text, fmt)}" for n, i in enumerate(q.items, 1)]
    if q.type == "short":
        return [_answer("=", a.fraction * 100, 100, a.text, fmt) + _feedback(a.feedback, fmt)
                for a in q.text_answers]
    return _numerical(q)


def _numerical(q: Question) -> list[str]:
    fmt = q.text_format
    specs = []
    # Moodle writes its `*` answer as `~#feedback` (at 0%); one with credit as `=%w%*`.
    others = [a for a in q.numeric_answers if a.any and a.fraction == 0]
    for a in q.numeric_answers:
        if a.any and a.fraction == 0:
            continue
        if a.any:
            spec = "*"
        elif a.value is None:
            spec = f"{_num(a.min or 0)}..{_num(a.max or 0)}"
        else:
            spec = _num(a.value) + (f":{_num(a.tolerance)}" if a.tolerance else "")
        specs.append((a, spec))
    other = [f"~#{escape(a.feedback, fmt)}" for a in others[:1]]  # GIFT has room for one
    if len(specs) == 1 and specs[0][0].fraction == 1 and not other:
        answer, spec = specs[0]
        return [f"#{spec}{_feedback(answer.feedback, fmt)}"]
    # Not _answer(): the spec's ":" is syntax here, so it must not be escaped.
    return ["#"] + [("=" if a.fraction == 1 else f"=%{_num(round(a.fraction * 100, 5))}%")
                    + spec + _feedback(a.feedback, fmt) for a, spec in specs] + other
