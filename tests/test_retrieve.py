"""Retrieve: score and reciprocal-rank fusion worked by hand, linked passages kept below the hits
they came from, and the three modes over a real small index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.data import write_corpus
from helpers.fakes import HashEmbedder
from helpers.stores import STORES

from rag.config import load_settings
from rag.errors import ConfigError
from rag.index.build import build_index
from rag.retrieve.search import Ranking, Searcher, after_head, fuse_scores, rrf
from rag.store import IndexReader
from rag.store.milvus_conn import close_clients


def test_rrf_hand_worked() -> None:
    # k=60. doc 1: 1/61 + 1/63; doc 2: 1/62 + 1/61; doc 3: 1/63; doc 4: 1/62.
    ids, scores = rrf([[1, 2, 3], [2, 4, 1]], k=60)
    assert ids == [2, 1, 4, 3]
    assert scores == pytest.approx([1 / 62 + 1 / 61, 1 / 61 + 1 / 63, 1 / 62, 1 / 63])


@pytest.mark.parametrize(
    ("rankings", "expected"),
    [
        ([[], []], []),
        ([[5], []], [5]),
        ([[1, 2], [1, 2]], [1, 2]),
        ([[1, 2], [2, 1]], [1, 2]),  # a tie keeps first appearance
    ],
)
def test_rrf_edge_cases(rankings: list[list[int]], expected: list[int]) -> None:
    assert rrf(rankings, k=60)[0] == expected


def test_score_fusion_hand_worked() -> None:
    # Dense best 0.8, BM25 best 12. doc 1: .7*.8/.8 + .3*6/12 = .85; doc 2: .7*.4/.8 = .35;
    # doc 3: .3*12/12 = .3.
    ids, scores = fuse_scores([([1, 2], [0.8, 0.4]), ([3, 1], [12.0, 6.0])], [0.7, 0.3])
    assert ids == [1, 2, 3]
    assert scores == pytest.approx([0.85, 0.35, 0.3])


@pytest.mark.parametrize(
    ("rankings", "expected"),
    [
        ([([], []), ([], [])], []),
        ([([4, 5], [0.5, 0.2]), ([], [])], [4, 5]),  # BM25 found no query word
        ([([4, 5], [0.5, 0.2]), ([5], [0.0])], [4, 5]),  # a best score of 0 adds nothing
        ([([4, 5], [0.5, 0.5]), ([5, 4], [2.0, 2.0])], [4, 5]),  # a tie keeps first appearance
    ],
)
def test_score_fusion_edge_cases(rankings: list[Ranking], expected: list[int]) -> None:
    assert fuse_scores(rankings, [0.5, 0.5])[0] == expected


@pytest.mark.parametrize(
    ("ids", "head", "extra", "expected"),
    [
        ([1, 2, 3], 0, [9], [1, 9, 2, 3]),  # no head: plain RRF, ties keep the hits first
        ([1, 2, 3], 2, [9], [1, 2, 3, 9]),
        ([1, 2, 3], 2, [1, 3], [1, 2, 3]),  # a head passage is not moved; 3 is in both
        ([1, 2, 3, 4], 1, [4], [1, 4, 2, 3]),  # found in both: lifted, but not above the head
        ([1], 3, [7, 8], [1, 7, 8]),
    ],
)
def test_linked_passages_rank_below_the_head(
    ids: list[int], head: int, extra: list[int], expected: list[int]
) -> None:
    scores = [1.0 - i / 10 for i in range(len(ids))]
    ranked, values = after_head(ids, scores, head, extra, 60)
    assert ranked == expected
    kept = min(head, len(ids))
    assert values == sorted(values, reverse=True) and values[:kept] == scores[:kept]


CORPUS = [
    {
        "id": "police",
        "title": "Police policy",
        "text": "The police department does not enforce federal immigration law.",
    },
    {
        "id": "river",
        "title": "River cleanup",
        "text": "Volunteers removed trash from the river banks on Saturday.",
    },
    {
        "id": "budget",
        "title": "City budget",
        "text": "The council approved the budget with funds for library hours.",
    },
]


@pytest.fixture(params=STORES)
def searcher(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Searcher]:
    """A searcher over a small index, on each store in turn."""
    settings = load_settings(index_dir=tmp_path / "index", store=request.param)
    build_index(
        settings, add=[str(write_corpus(tmp_path / "c.jsonl", CORPUS))], embedder=HashEmbedder()
    )
    yield Searcher(IndexReader.open(settings.index.dir), settings.search, HashEmbedder())
    close_clients()


@pytest.mark.parametrize(
    ("mode", "query", "top", "retriever"),
    [
        ("dense", "police immigration law", "police", "dense"),
        ("bm25", "river trash volunteers", "river", "bm25"),
        ("hybrid", "library budget council", "budget", "fused"),
    ],
)
def test_each_mode_finds_the_matching_source(
    searcher: Searcher, mode: str, query: str, top: str, retriever: str
) -> None:
    hits = searcher.search(query, k=2, mode=mode)  # type: ignore[arg-type]
    assert hits[0].source_id == top and hits[0].retriever == retriever
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert hits[0].text in {c["text"] for c in CORPUS} and hits[0].title


def test_bm25_with_only_stopwords_finds_nothing(searcher: Searcher) -> None:
    assert searcher.search("the of and", mode="bm25") == []


def test_k_larger_than_the_index_returns_everything(searcher: Searcher) -> None:
    assert len(searcher.search("police", k=50, mode="dense")) == 3


def test_empty_question_is_an_error(searcher: Searcher) -> None:
    with pytest.raises(ConfigError, match="question is empty"):
        searcher.search("   ")
