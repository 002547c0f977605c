"""Terms that are out of date in England in 2026; allowed only inside a `!!! history` block."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class OutdatedTerm:
    pattern: re.Pattern[str]
    advice: str
    level: str = "error"


def _t(regex: str, advice: str, level: str = "error") -> OutdatedTerm:
    return OutdatedTerm(re.compile(regex, re.IGNORECASE), advice, level)


# From the outdated-claims table of the course fact sheet (shared/content-facts.md, section 7).
OUTDATED_TERMS: tuple[OutdatedTerm, ...] = (
    _t(r"\bclinical commissioning groups?\b|\bCCGs?\b",
       "integrated care boards (ICBs) replaced CCGs on 1 July 2022"),
    _t(r"\blocal safeguarding children boards?\b|\bLSCBs?\b",
       "LSCBs were replaced by multi-agency safeguarding arrangements (WT2018)"),
    _t(r"\bserious case reviews?\b|\bSCRs?\b",
       "now rapid reviews, local child safeguarding practice reviews and national reviews"),
    _t(r"\bcommon assessment framework\b|\bCAF\b",
       "most areas now use an Early Help Assessment"),
    _t(r"\bchild protection register\b",
       "England uses child protection plans"),
    _t(r"\bprimary care trusts?\b|\bstrategic health authorit(y|ies)\b",
       "these bodies no longer exist; the health partner is the ICB"),
    _t(r"\bData Protection Act 1998\b",
       "superseded by the Data Protection Act 2018 and UK GDPR"),
    _t(r"\bWhat to do if you(?:'|’)re worried a child is being abused\b",
       "now titled 'Child abuse concerns: guide for practitioners' (non-statutory advice)"),
    _t(r"\bchild death overview panels?\b|\bCDOPs?\b",
       "child death review partners (local authority and ICB) make the arrangements",
       "warning"),
    _t(r"\byouth offending teams?\b|\bYOTs?\b",
       "many areas now say 'youth justice service'", "warning"),
    _t(r"\bEvery Child Matters\b",
       "2003 policy; current language comes from the Children's Social Care National Framework",
       "warning"),
)


def find_outdated(line: str) -> list[tuple[OutdatedTerm, str]]:
    """Every outdated term in one line of text, with the words that matched."""
    hits = []
    for term in OUTDATED_TERMS:
        m = term.pattern.search(line)
        if m:
            hits.append((term, m.group(0)))
    return hits
