"""Rendering quiz text in Moodle's formats: prints the time for html, moodle and plain text.

Each hostile input is rendered at 15,000, 30,000 and 60,000 characters, so that linear growth
(the time doubling with the size) shows; GIFT files are at most 2 MB, and a question's text
far less. Figures are printed; nothing is asserted. "plain" is escaped in one pass; "html"
and "moodle" go through bleach (html5lib), as Markdown's output always has: thousands of
unclosed tags (`<b>` repeated) grow faster than linearly there, on the Markdown path too.

    .venv/bin/python bench/text_formats.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from learning.core import rendering  # noqa: E402

UNITS = {
    "ordinary HTML": "<p>The <b>health visitor</b> and <i>social care</i> share.</p>\n",
    "< x n": "<",
    "<a href= repeated": '<a href="',
    "unclosed <b> repeated": "<b>",
    "<script> repeated": "<script>alert(1)</script>",
    "onerror img repeated": "<img src=x onerror=alert(1)>",
    "&# repeated": "&#",
    "line breaks": "a\n",
}
SIZES = (15_000, 30_000, 60_000)


def _time(fmt: str, text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        rendering.render_text(text, fmt)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per input (median shown)")
    args = parser.parse_args()
    print(f"{'input':24} {'format':7} " + " ".join(f"{n:>10,}" for n in SIZES) + "  (ms)")
    for name, unit in UNITS.items():
        for fmt in ("html", "moodle", "plain"):
            cells = []
            for size in SIZES:
                text = (unit * (size // len(unit) + 1))[:size]
                cells.append(f"{_time(fmt, text, args.runs):10.1f}")
            print(f"{name:24} {fmt:7} " + " ".join(cells))


if __name__ == "__main__":
    main()
