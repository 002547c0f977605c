"""Precision and recall of the "similar meaning" check on the labelled set in tests/data/paraphrase.

    PYTHONPATH=. python bench/paraphrase_eval.py            # the thresholds in semantic.py
    PYTHONPATH=. python bench/paraphrase_eval.py --sweep    # how other thresholds would do
    PYTHONPATH=. python bench/paraphrase_eval.py --model tokenlearn   # the other candidate

Every original paragraph of the set and the fixture reference essay are the sources. Each
copy, paraphrase and the reworded essay should be flagged against its own source (a flag
against another source counts as a false positive); each same-topic answer and the two
independent answers must be flagged against nothing (also not against each other).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import yaml

from learning.assessment.originality import semantic

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "paraphrase"
Embed = Callable[[Sequence[str]], np.ndarray]


def load_set() -> tuple[dict[str, str], list[tuple[str, str, str | None]]]:
    """(sources by name, [(case name, text, the source it copies or None)])."""
    groups = yaml.safe_load((DATA / "labelled.yaml").read_text(encoding="utf-8"))["groups"]
    sources = {g["topic"]: g["original"] for g in groups}
    sources["agencies-essay"] = (DATA / "reference" / "agencies-essay.txt").read_text("utf-8")
    cases: list[tuple[str, str, str | None]] = []
    for g in groups:
        cases.append((f"{g['topic']}: copy", g["copy"], g["topic"]))
        cases.append((f"{g['topic']}: paraphrase", g["paraphrase"], g["topic"]))
        cases += [(f"{g['topic']}: same topic {n}", text, None)
                  for n, text in enumerate(g["same_topic"], 1)]
    cases.append(("reworded essay", (DATA / "reworded.txt").read_text("utf-8"), "agencies-essay"))
    for name in ("independent_a", "independent_b"):
        cases.append((name, (DATA / f"{name}.txt").read_text("utf-8"), None))
    # The two independent answers are also each other's possible source.
    sources["independent_a"] = (DATA / "independent_a.txt").read_text("utf-8")
    return sources, cases


def evaluate(embed: Embed, **thresholds: float) -> tuple[int, int, int, list[str]]:
    """(true positives, false positives, false negatives, lines describing each mistake)."""
    sources, cases = load_set()
    vectors = {name: embed([s.text for s in semantic.sentences(text)])
               for name, text in sources.items()}
    tp = fp = fn = 0
    mistakes = []
    for case, text, copied in cases:
        answer = embed([s.text for s in semantic.sentences(text)])
        hits = {name for name, src in vectors.items()
                if name != case and semantic.flagged(answer @ src.T, **thresholds)}  # type: ignore[arg-type]
        if copied is not None:
            if copied in hits:
                tp += 1
            else:
                fn += 1
                mistakes.append(f"missed: {case}")
        wrong = hits - {copied}
        fp += len(wrong)
        mistakes += [f"false flag: {case} against {w}" for w in sorted(wrong)]
    return tp, fp, fn, mistakes


def wordllama() -> Embed:
    return semantic.Model().embed


def tokenlearn() -> Embed:
    from static_model import get_embeddings  # type: ignore[import-not-found]

    def embed(texts: Sequence[str]) -> np.ndarray:
        a = np.asarray(get_embeddings(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
    return embed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["wordllama", "tokenlearn"], default="wordllama")
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    embed = wordllama() if args.model == "wordllama" else tokenlearn()
    print(f"model {args.model}: loaded in {time.perf_counter() - started:.2f} s")
    if args.sweep:
        rows = []
        for pair_min, mean_min, run_min in itertools.product(
                (0.35, 0.40, 0.45, 0.50, 0.60, 0.70, 0.80), (0.45, 0.50, 0.55, 0.65, 0.75, 0.85),
                (2, 3)):
            if mean_min < pair_min:
                continue
            tp, fp, fn, _ = evaluate(embed, pair_min=pair_min, run_mean_min=mean_min,
                                     run_min=run_min)
            rows.append((fp + fn, pair_min, mean_min, run_min, tp, fp, fn))
        for _, pair_min, mean_min, run_min, tp, fp, fn in sorted(rows)[:12]:
            print(f"pair_min {pair_min:.2f} run_mean_min {mean_min:.2f} run_min {run_min}: "
                  f"tp {tp} fp {fp} fn {fn}")
        return 0
    tp, fp, fn, mistakes = evaluate(embed)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"thresholds: pair {semantic.PAIR_MIN}, run of {semantic.RUN_MIN} with mean "
          f"{semantic.RUN_MEAN_MIN}, alone {semantic.PAIR_ALONE}")
    print(f"true positives {tp}, false positives {fp}, false negatives {fn}")
    print(f"precision {precision:.2f}, recall {recall:.2f}")
    for line in mistakes:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
