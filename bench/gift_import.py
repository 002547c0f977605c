"""GIFT import at the size limit: prints how long a bank just under 2 MB takes to read, to
write as quiz YAML, and to load back (every quiz file is loaded when the app starts).

The bank is generated: a mix of single choice, multiple response, true/false, short answer,
numerical and matching questions, with HTML, feedback and categories. Nothing is asserted.

    .venv/bin/python bench/gift_import.py [--megabytes 1.9]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from learning.quizzes.gift.convert import MAX_GIFT_BYTES, gift_to_quiz_yaml  # noqa: E402
from learning.quizzes.loader import parse_quiz_text  # noqa: E402

SHAPES = [
    "::Partners {n}::Which are partners ({n})?{{~%50%The local authority#Yes ~%50%The police "
    "~%-100%Ofsted#No ####Working Together names them.}}",
    "::Lead {n}::[html]<p>Who leads a <b>section 47</b> enquiry ({n})?</p>{{=Children's social "
    "care#Yes ~The GP#No ~%-50%The cook}}",
    "::Fact {n}::The NSPCC can remove a child ({n}).{{FALSE #Only the police or a court can.}}",
    "::Name {n}::What is the meeting called ({n})?{{=strategy discussion =%50%*meeting*#Which?}}",
    "::Year {n}::When was the NSPCC founded ({n})?{{#1884:2 ~#Completely wrong}}",
    "::Match {n}::Match them ({n}).{{=Police -> Crime =GP -> Health = -> Passports}}",
]


def bank(megabytes: float) -> str:
    parts, size, n = [], 0, 0
    while size < megabytes * 1_000_000:
        if n % 50 == 0:
            parts.append(f"$CATEGORY: $course$/top/Topic {n // 50}\n")
        text = SHAPES[n % len(SHAPES)].format(n=n) + "\n"
        parts.append(text)
        size += len(text.encode()) + 1
        n += 1
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=MAX_GIFT_BYTES / 1_000_000 * 0.95)
    args = parser.parse_args()
    text = bank(args.megabytes)
    started = time.perf_counter()
    quiz_yaml, problems = gift_to_quiz_yaml(text, "bench", "Bench", "bench.gift")
    converted = time.perf_counter()
    quiz, load_problems = parse_quiz_text(quiz_yaml, "quizzes/bench.yaml")
    loaded = time.perf_counter()
    errors = [p for p in problems + load_problems if p.level == "error"]
    print(f"GIFT bank: {len(text.encode()) / 1_000_000:.2f} MB, "
          f"{len(quiz.questions) if quiz else 0} questions, {len(errors)} errors")
    print(f"  read and write as YAML: {converted - started:.1f} s "
          f"({len(quiz_yaml.encode()) / 1_000_000:.2f} MB of YAML)")
    print(f"  load the YAML back (as at app start): {loaded - converted:.1f} s")


if __name__ == "__main__":
    main()
