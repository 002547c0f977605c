"""Names people type for people, cohorts and centres: the one rule for the characters they may
hold, used by every form, the CSV import, the services behind them and the models.

A name is shown in lists, headings, emails and CSV files next to other people's text. Control
characters break those; a right-to-left override (U+202E) makes the letters after it
display backwards, so a name can pass for another person's; zero-width characters make two names
that look the same differ, so a search or a duplicate check misses. None of them is typed on
purpose, so a name holding one is refused with a message that says which and where.
"""

from __future__ import annotations

import unicodedata

from wtforms import ValidationError

#: Characters that change the direction of the text around them: U+202A-U+202E (embeddings and
#: overrides) and U+2066-U+2069 (isolates).
DIRECTION = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
#: Characters with no width: zero-width space, non-joiner, joiner, word joiner, and the byte
#: order mark (zero-width no-break space).
INVISIBLE = frozenset([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])


class NameRefused(ValueError):
    """A name holds a character names may not hold; the message says which, and where."""


def name_problem(text: str, field: str) -> str | None:
    """Why `text` cannot be a name, beginning with `field` (the field's name in words, e.g.
    "Full name"); None when it can."""
    for position, char in enumerate(text, 1):
        code = ord(char)
        if unicodedata.category(char) == "Cc":  # U+0000-U+001F and U+007F-U+009F
            kind = "a control character"
        elif code in DIRECTION:
            kind = "a character that changes the direction of the text"
        elif code in INVISIBLE:
            kind = "an invisible (zero-width) character"
        else:
            continue
        return (f"{field} cannot contain {kind} (U+{code:04X}, character {position}). "
                "Type it again without it.")
    return None


def check_name(text: str, field: str) -> str:
    """`text` if it can be a name; raises NameRefused saying why not."""
    problem = name_problem(text, field)
    if problem:
        raise NameRefused(problem)
    return text


class PlainName:
    """A WTForms validator: the field's label names it in the message."""

    def __call__(self, form, field) -> None:
        problem = name_problem(field.data or "", field.label.text)
        if problem:
            raise ValidationError(problem)
