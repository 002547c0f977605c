"""The course is in our own words: no passage of it matches the essays learners copy."""

import os
import re
from pathlib import Path

import pytest
import yaml

from learning.assessment.originality.fingerprints import matched_spans

ROOT = Path(__file__).resolve().parents[1]
# Beside the repository; REFERENCE_ESSAYS names them when the tests run from a copy (make mutate).
ESSAYS = Path(os.environ.get("REFERENCE_ESSAYS") or ROOT.parent / "shared" / "reference" / "essays")


def _course_texts() -> dict[str, str]:
    texts = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
             for p in sorted((ROOT / "content").glob("*.md"))}
    for path in [*(ROOT / "content" / "tasks").glob("*.yaml"), ROOT / "content" /
                 "glossary.yaml", *(ROOT / "quizzes").glob("*.yaml")]:
        if path.exists():
            texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    return texts


@pytest.mark.skipif(not ESSAYS.is_dir(), reason="shared/reference/essays not beside the repo")
def test_no_course_passage_matches_an_essay():
    essays = {p.name: p.read_text(encoding="utf-8-sig") for p in ESSAYS.glob("*.txt")}
    assert essays
    # The awarding bodies' criterion wording and organisations' full names are quoted by
    # essays and course alike: that is quoting, not copying.
    units = yaml.safe_load((ROOT / "content" / "units.yaml").read_text(encoding="utf-8"))
    official = " ".join(c["text"] for u in units["units"] for c in u["criteria"])
    official += " the NSPCC National Society for the Prevention of Cruelty to Children"
    official += " at least four"
    vocabulary = set(re.findall(r"[a-z]+", official.lower()))
    found = []
    for name, text in _course_texts().items():
        for essay_name, essay in essays.items():
            for p in matched_spans(text, essay):
                passage = text[p[0]:p[1]]
                if not set(re.findall(r"[a-z]+", passage.lower())) <= vocabulary:
                    found.append(f"{name} ~ {essay_name}: {passage!r}")
    assert not found, "\n".join(found)
