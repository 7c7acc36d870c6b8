"""Small pure metric functions (the evaluation issue grows this module)."""

from __future__ import annotations

from collections.abc import Sequence


def unique_in_order(items: Sequence[str]) -> list[str]:
    """Items with repeats removed, first occurrence kept."""
    return list(dict.fromkeys(items))


def source_recall_at_k(ranked_source_ids: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Share of the evidence sources found among the first k hits (hits may repeat a source).

    With no evidence there is nothing to find, and the score is 1.0 by convention.
    """
    if not evidence:
        return 1.0
    found = set(ranked_source_ids[:k])
    return sum(1 for e in set(evidence) if e in found) / len(set(evidence))
