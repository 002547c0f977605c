"""The originality report as assessors read it: one group per source, each passage once."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceGroup:
    """One source (a reference essay, or one other learner's work across its submissions)."""

    kind: str
    labels: list[str]
    share: float
    passages: list[dict] = field(default_factory=list)


def _key(match: dict) -> tuple:
    # Another learner's submissions are one source: their resubmission repeats their first.
    if match.get("kind") == "submission" and match.get("owner_user_id") is not None:
        return ("submission", match["owner_user_id"])
    return (match.get("kind"), match.get("ref") or match.get("label"), match.get("source_id"))


def group_matches(report: dict | None) -> list[SourceGroup]:
    """The stored report's matches grouped by source, strongest first; a passage of the answer
    already shown (inside an earlier passage's span) is not shown again, so a source may
    have no passages of its own left."""
    groups: dict[tuple, SourceGroup] = {}
    shown: list[tuple[int, int]] = []
    for match in (report or {}).get("matches", []):
        group = groups.get(_key(match))
        if group is None:
            group = groups[_key(match)] = SourceGroup(match.get("kind", ""), [], 0.0)
        if match.get("label") not in group.labels:
            group.labels.append(match.get("label", ""))
        group.share = max(group.share, match.get("share", 0.0))
        for passage in match.get("passages", []):
            span = (passage["answer_start"], passage["answer_end"])
            if any(start <= span[0] and span[1] <= end for start, end in shown):
                continue
            shown.append(span)
            group.passages.append(passage)
    return list(groups.values())
