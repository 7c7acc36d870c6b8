"""Metrics: one hand-worked case each."""

from __future__ import annotations

import pytest

from rag.metrics import source_recall_at_k, unique_in_order


@pytest.mark.parametrize(
    ("ranked", "evidence", "k", "expected"),
    [
        (["a", "b", "c"], ["a", "c"], 3, 1.0),
        (["a", "b", "c"], ["a", "c"], 2, 0.5),
        (["a", "a", "b"], ["b"], 2, 0.0),  # repeated passages of one source use up ranks
        (["x"], ["a", "b"], 10, 0.0),
        ([], [], 5, 1.0),
        (["a"], ["a", "a"], 1, 1.0),  # evidence listed twice counts once
    ],
)
def test_source_recall_at_k(
    ranked: list[str], evidence: list[str], k: int, expected: float
) -> None:
    assert source_recall_at_k(ranked, evidence, k) == expected


def test_unique_in_order() -> None:
    assert unique_in_order(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
