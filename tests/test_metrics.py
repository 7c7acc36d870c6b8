"""Metrics: one hand-worked case each."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from rag.evaluate.metrics import (
    all_evidence_at_k,
    answer_contained,
    citation_scores,
    claim_recall,
    exact_match,
    mean,
    ndcg_at_k,
    normalize_answer,
    percentile,
    precision_recall_f1,
    reciprocal_rank,
    source_recall_at_k,
    token_f1,
    unique_in_order,
)


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


@pytest.mark.parametrize(
    ("ranked", "evidence", "k", "expected"),
    [
        (["a", "b"], ["a", "b"], 10, 1.0),
        (["a", "x"], ["a", "b"], 10, 0.0),  # multi-hop: one of two is not enough
        (["x", "a", "b"], ["a", "b"], 2, 0.0),
    ],
)
def test_all_evidence_at_k(ranked: list[str], evidence: list[str], k: int, expected: float) -> None:
    assert all_evidence_at_k(ranked, evidence, k) == expected


@pytest.mark.parametrize(
    ("ranked", "evidence", "expected"),
    [
        (["a", "b"], ["a"], 1.0),
        (["x", "x", "a"], ["a"], 0.5),  # ranks count distinct sources: x, then a at 2
        (["x", "y", "z", "b"], ["a", "b"], 0.25),
        (["x"], ["a"], 0.0),
    ],
)
def test_reciprocal_rank(ranked: list[str], evidence: list[str], expected: float) -> None:
    assert reciprocal_rank(ranked, evidence) == expected


def test_ndcg_hand_worked() -> None:
    # Gains at ranks 2 (a) and 4 (b); the second "a" at rank 3 adds nothing.
    # DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606
    # IDCG (a, b at ranks 1, 2) = 1 + 1/log2(3) = 1.630930; nDCG = 0.650921
    assert ndcg_at_k(["x", "a", "a", "b"], ["a", "b"], 10) == pytest.approx(0.650921, abs=1e-6)
    assert ndcg_at_k(["a", "b"], ["a", "b"], 10) == 1.0
    assert ndcg_at_k(["x", "a"], ["a"], 1) == 0.0  # beyond the cut-off


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  A  cat, an owl and THE dog. ", "cat owl and dog"),
        ("", ""),
    ],
)
def test_normalize_answer_as_squad(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    ("prediction", "answers", "em", "f1"),
    [
        ("The Eiffel Tower", ["eiffel tower", "tower"], 1.0, 1.0),
        # pred {big, red, dog}, gold {red, dog, barked}: 2 shared, P = R = 2/3, F1 = 2/3
        ("the big red dog", ["red dog barked"], 0.0, 2 / 3),
        ("the big red dog", ["red dog barked", "big red dog"], 1.0, 1.0),  # best answer counts
        ("cat", ["dog"], 0.0, 0.0),
        ("", ["dog"], 0.0, 0.0),
        ("anything", [], 0.0, 0.0),
    ],
)
def test_exact_match_and_token_f1(
    prediction: str, answers: list[str], em: float, f1: float
) -> None:
    assert exact_match(prediction, answers) == em
    assert token_f1(prediction, answers) == pytest.approx(f1)


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("It was Paris, France [1].", ["paris"], 1.0),
        ("It was Paris, France.", ["par"], 0.0),  # whole words only
        ("Built by the Romans.", ["Romans", "Greeks"], 1.0),
        ("Nothing here.", ["x"], 0.0),
    ],
)
def test_answer_contained(text: str, answers: list[str], expected: float) -> None:
    assert answer_contained(text, answers) == expected


def test_claim_recall_hand_worked() -> None:
    assert claim_recall(["a", "b", "c"], lambda c: c in {"a", "c"}) == pytest.approx(2 / 3)
    assert claim_recall([], lambda c: False) == 1.0


@pytest.mark.parametrize(
    ("predicted", "actual", "expected"),
    [
        # one right abstention, one wrong, one missed: P = 1/2, R = 1/2, F1 = 1/2
        ([True, True, False, False], [True, False, True, False], (0.5, 0.5, 0.5)),
        ([True, True], [True, True], (1.0, 1.0, 1.0)),
        ([False, False], [True, False], (None, 0.0, None)),  # never abstained
        ([True, False], [False, False], (0.0, None, None)),  # nothing to abstain on
    ],
)
def test_abstention_precision_recall_f1(
    predicted: list[bool], actual: list[bool], expected: tuple[float | None, ...]
) -> None:
    found = precision_recall_f1(predicted, actual)
    assert (found["precision"], found["recall"], found["f1"]) == expected


# Which passage sets support which sentence (the validator's role in the real run).
_SUPPORTED = {
    ("s1", (1,)),
    ("s2", (1, 2)),
    ("s2", (1,)),  # [2] adds nothing to s2: an irrelevant citation
    ("s5", (1, 2)),  # s5 needs both: neither alone supports it
}


def _supports(text: str, numbers: Sequence[int]) -> bool:
    return (text, tuple(numbers)) in _SUPPORTED


def test_citation_scores_hand_worked() -> None:
    claims = [("s1", [1]), ("s2", [1, 2]), ("s3", []), ("s4", [3])]
    # Recall: s1 and s2 supported, s3 cites nothing, s4 is not supported: 2/4.
    # Precision: 4 citations; relevant are s1's [1] and s2's [1] (s2's [2] is not needed, s4's
    # [3] supports nothing): 2/4.
    assert citation_scores(claims, _supports) == (0.5, 0.5)
    # Both citations of s5 are needed: each is relevant.
    assert citation_scores([("s5", [1, 2])], _supports) == (1.0, 1.0)
    assert citation_scores([("s3", [])], _supports) == (0.0, 0.0)
    assert citation_scores([], _supports) is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 95, 3.85),  # position 0.95 * 3 = 2.85: 3 + 0.85 * (4 - 3)
        ([7.0], 95, 7.0),
        ([], 50, None),
    ],
)
def test_percentile_interpolates_like_numpy(
    values: list[float], q: float, expected: float | None
) -> None:
    assert percentile(values, q) == (pytest.approx(expected) if expected is not None else None)


def test_mean_skips_missing() -> None:
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None
