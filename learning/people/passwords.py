"""Password rules: at least 12 characters and hard to guess, judged by zxcvbn; no symbol rules.

zxcvbn estimates how many guesses a password would take, knowing the common passwords,
English words, names and surnames, keyboard rows, repeats, dates and l33t spellings, and the
person's own name and email address. Score 3 means about 10^8 guesses or more. Composition
rules ("a digit and a symbol") are not asked for: they make passwords harder to remember,
not to guess. The advice is to use a few unrelated words.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 12
#: zxcvbn's score from 0 to 4; 3 is "safely unguessable: moderate protection from offline
#: slow-hash scenario", more than enough against online guessing, which the login throttle
#: already slows to a few tries an hour.
MIN_SCORE = 3
#: zxcvbn refuses longer input (its work grows with length); the first 72 characters decide.
_CHECKED = 72
#: zxcvbn takes "qwerty qwerty" or "summer holiday" for strong: a space or a hyphen hides the
#: words from it. The password is scored again with these removed, and the lower score counts.
_SEPARATORS = re.compile(r"[\s\-_.,+/]+")
#: zxcvbn keeps the person's own words in a module-level dictionary while it scores, so two
#: threads scoring at once could swap them.
_LOCK = threading.Lock()

#: Under every field where a new password is chosen.
HELP = (f"At least {MIN_LENGTH} characters and hard to guess: three or four unrelated words "
        "are easy to remember.")
ADVICE = ("Try three or four words that have nothing to do with each other or with you. "
          "Ordinary words are fine: length makes a password hard to guess, not symbols.")


def _score(password: str, personal: list[str]) -> tuple[int, str]:
    with _LOCK:
        result = zxcvbn(password[:_CHECKED], user_inputs=personal)
    return result["score"], result["feedback"]["warning"] or ""


def personal_words(email: str = "", name: str = "") -> list[str]:
    """Pure: the person's own words, easy guesses for anyone who knows them."""
    local, _, domain = email.lower().partition("@")
    words = [email.lower(), local, *re.split(r"[^a-z0-9]+", local), *domain.split(".")[:-1],
             *re.split(r"\s+", name.lower())]
    return [word for word in dict.fromkeys(words) if len(word) >= 3]


def problem(password: str, personal: Iterable[str] = ()) -> str | None:
    """Pure: what is wrong with a new password, saying what to do instead; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Your password must be at least {MIN_LENGTH} characters long. {ADVICE}"
    mine = list(personal)
    scores = [_score(password, mine)]
    joined = _SEPARATORS.sub("", password)
    if joined != password:
        scores.append(_score(joined, mine))
    score, warning = min(scores, key=lambda s: (s[0], not s[1]))  # the lower, with a reason
    if score >= MIN_SCORE:
        return None
    why = f" ({warning.rstrip('.')})" if warning else ""
    return f"This password would be easy to guess{why}. {ADVICE}"
