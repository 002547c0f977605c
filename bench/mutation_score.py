"""Mutation score per module from mutmut's results, with the known equivalent mutants set apart.

Reads `mutmut results --all true` on standard input (run from the project root after
`mutmut run`, as `make mutate` does) and prints, per mutated module and overall: mutants
killed (a timeout counts as killed: the tests did not pass), survived, with no test at all,
and the score over the mutants that a test could tell apart from the code. The equivalent
mutants listed in bench/mutation_equivalents.txt are not counted; each listing names the
line as the mutant has it, and a listing whose mutant no longer has that line (mutants are
numbered per function, so an edit to the function renumbers them) is reported as stale and
counted as a survivor until someone checks it again. Nothing is asserted.

    .venv/bin/mutmut results --all true | .venv/bin/python bench/mutation_score.py [--survivors]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.txt")
_LINE = re.compile(r"^\s*(\S+__mutmut_\d+): (.+)$")
_MODULE = re.compile(r"^(.+?)\.x[_ǁ]")


def read_results(lines) -> dict[str, str]:
    """mutant name -> status ("killed", "survived", "timeout", "no tests", ...)."""
    return {m.group(1): m.group(2).strip() for line in lines if (m := _LINE.match(line))}


def read_equivalents(path: Path = EQUIVALENTS) -> dict[str, tuple[list[str], str]]:
    """mutant name -> (the mutated lines as listed, the reason)."""
    out: dict[str, tuple[list[str], str]] = {}
    name = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            name = raw.strip()
            out[name] = ([], "")
        elif name is not None and raw.strip().startswith("+ "):
            out[name][0].append(raw.strip()[2:].strip())
        elif name is not None and raw.strip().startswith("why:"):
            out[name] = (out[name][0], raw.strip()[4:].strip())
    return out


def mutated_lines(name: str) -> list[str] | None:
    """The lines the mutant adds, from mutmut's own diff; None if mutmut cannot find it."""
    try:
        from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant

        diff = get_diff_for_mutant(name, path=find_mutant(name).path)
    except Exception:  # a missing or renamed mutant is reported as stale, not fatal
        return None
    return [line[1:].strip() for line in diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true",
                        help="list the surviving mutants that are not known equivalents")
    args = parser.parse_args()
    results = read_results(sys.stdin)
    if not results:
        print("No mutmut results on standard input: run `mutmut run` first.")
        return 1
    equivalents = read_equivalents() if EQUIVALENTS.exists() else {}
    stale = []
    confirmed = set()
    for name, (lines, _) in equivalents.items():
        if results.get(name) not in ("survived", "no tests"):
            continue  # not run this time, or killed now: nothing to set apart
        actual = mutated_lines(name)
        if actual is not None and all(line in actual for line in lines):
            confirmed.add(name)
        else:
            stale.append(name)

    by_module: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for name, status in results.items():
        module = _MODULE.match(name).group(1)
        counts = by_module[module]
        if status == "not checked":
            counts["not checked"] += 1
            continue
        counts["total"] += 1
        if status in ("killed", "timeout", "caught by type check"):
            counts["killed"] += 1
        elif name in confirmed:
            counts["equivalent"] += 1
        else:
            counts["survived" if status == "survived" else "no tests"] += 1
            survivors[module].append(f"{name} ({status})" if status != "survived" else name)

    header = f"{'module':48} {'total':>6} {'killed':>6} {'equiv':>6} {'surv':>6} {'no test':>7}" \
             f" {'score':>7}"
    print(header)
    print("-" * len(header))
    overall: Counter = Counter()
    for module in sorted(by_module):
        counts = by_module[module]
        if not counts["total"]:
            continue
        overall.update(counts)
        print(_row(module, counts))
    print("-" * len(header))
    print(_row("all", overall))
    print("score = killed / (total - equivalent); a timeout counts as killed")
    if stale:
        print(f"\n{len(stale)} listed equivalents no longer match their mutant (re-check them in "
              f"{EQUIVALENTS.name}):")
        for name in stale:
            print(f"  {name}")
    if args.survivors:
        for module in sorted(survivors):
            print(f"\n{module}: {len(survivors[module])} surviving")
            for name in survivors[module]:
                print(f"  {name}")
    return 0


def _row(label: str, c: Counter) -> str:
    judged = c["total"] - c["equivalent"]
    score = f"{100 * c['killed'] / judged:.1f}%" if judged else "-"
    return (f"{label:48} {c['total']:>6} {c['killed']:>6} {c['equivalent']:>6} "
            f"{c['survived']:>6} {c['no tests']:>7} {score:>7}")


if __name__ == "__main__":
    sys.exit(main())
