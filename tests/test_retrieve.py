"""Retrieve: reciprocal rank fusion worked by hand, and the three modes over a real small index."""

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
from rag.retrieve.search import Searcher, rrf
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
