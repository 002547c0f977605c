"""A problem found in a content or quiz file, reported as `file:line: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in one file, at one line (1-based; 0 = whole file)."""

    path: str
    line: int
    message: str
    level: str = "error"  # "error" stops start-up checks; "warning" is printed but allowed

    def __str__(self) -> str:
        prefix = "" if self.level == "error" else "warning: "
        return f"{self.path}:{self.line}: {prefix}{self.message}"
