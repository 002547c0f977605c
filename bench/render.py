"""Rendering hostile answers: prints the time to render adversarial text at the maximum size.

Each input is as long as an answer may be (submissions.MAX_TEXT, 60,000 characters). "now"
is core.rendering.render_answer, which renders every answer, comment and piece of feedback;
"before" is the Python-Markdown path those texts took until December 2026 (render_text),
run in a child process that is stopped after --limit seconds. Figures are printed; nothing is
asserted. Goal: under 50 ms for every input.

    .venv/bin/python bench/render.py [--runs 5] [--limit 20] [--skip-before]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from learning.assessment.submissions import MAX_TEXT  # noqa: E402
from learning.core import rendering  # noqa: E402


def inputs(size: int = MAX_TEXT) -> dict[str, str]:
    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    prose = ("Partnership working means the **health visitor**, the nursery and *social care* "
             "share what they know.\n\n- one\n- two\n\n")
    return {
        "ordinary prose": fill(prose),
        "[ x 60,000": fill("["),
        "[a]( repeated": fill("[a]("),
        "![ repeated": fill("!["),
        "*a repeated": fill("*a"),
        "** repeated": fill("**"),
        "_a repeated": fill("_a"),
        "> x 60,000": fill(">"),
        "< x 60,000": fill("<"),
        "&# repeated": fill("&#"),
        "- nested": fill("- "),
        "one-word lines": fill("a\n"),
        "list of 15,000": fill("- a\n"),
        "*[_`<#& mixed": fill("*[_`<#&"),
    }


def _time(render, text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _before_worker(text: str, out) -> None:
    out.send(_time(rendering._render_text_cached.__wrapped__, text, 1))


def before(text: str, limit: float) -> str:
    """Python-Markdown in a child process, stopped after `limit` seconds."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.Process(target=_before_worker, args=(text, send), daemon=True)
    child.start()
    child.join(limit)
    if child.is_alive():
        child.terminate()
        child.join()
        return f"> {limit:.0f} s"
    return f"{receive.recv():,.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per input (median shown)")
    parser.add_argument("--limit", type=float, default=20.0,
                        help="seconds before the old renderer is stopped")
    parser.add_argument("--skip-before", action="store_true", help="time only the new path")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; each input {MAX_TEXT:,} characters; "
          f"median of {args.runs} runs")
    print(f"{'input':22} {'now (render_answer)':>20} {'before (Python-Markdown)':>26}")
    worst = 0.0
    for name, text in inputs().items():
        now = _time(rendering.render_answer, text, args.runs)
        worst = max(worst, now)
        old = "-" if args.skip_before else before(text, args.limit)
        print(f"{name:22} {now:>17,.1f} ms {old:>26}")
    print(f"slowest now: {worst:,.1f} ms (goal: under 50 ms)")


if __name__ == "__main__":
    main()
