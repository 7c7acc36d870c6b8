"""Query decomposition: the model's lines become extra queries, searched and fused."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.data import write_corpus
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.config import Settings
from rag.index.build import build_index
from rag.retrieve.decompose import Decomposer, parse_queries
from rag.retrieve.search import Searcher
from rag.store import IndexReader

QUESTION = "Which magazine was started first, Arthur's Magazine or First for Women?"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Arthur's Magazine\nFirst for Women", ["Arthur's Magazine", "First for Women"]),
        (
            "1. Arthur's Magazine founded\n2) First for Women founded",
            ["Arthur's Magazine founded", "First for Women founded"],
        ),
        ("- a\n* b\n• c\n- d", ["a", "b", "c"]),  # at most three
        (
            'Query 1: "Arthur\'s Magazine"\n\n\nquery 2: First for Women',
            ["Arthur's Magazine", "First for Women"],
        ),
        (QUESTION, []),  # the question itself adds nothing
        ("same\nSame\nSAME", ["same"]),
        ("", []),
        ("x" * 500, ["x" * 200]),
    ],
)
def test_parse_queries(reply: str, expected: list[str]) -> None:
    assert parse_queries(reply, QUESTION) == expected


def test_decomposed_queries_are_searched_and_fused(
    tmp_path: Path, settings: Settings, embedder: HashEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(
        tmp_path / "c.jsonl",
        [
            {"id": "arthur", "title": "A", "text": "Arthur's Magazine was an American periodical."},
            {"id": "women", "title": "B", "text": "The glossy title launched in 1978 by Bauer."},
            *[
                {
                    "id": f"f{i}",
                    "title": f"F{i}",
                    "text": f"Harbor festival {i} and magazine stands.",
                }
                for i in range(20)
            ],
        ],
    )
    build_index(settings, add=[str(corpus)], embedder=embedder)
    reader = IndexReader.open(settings.index.dir)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    fake = ScriptedLiteLLM([], reply="Arthur's Magazine\nglossy title launched Bauer")

    def ranks(searcher: Searcher) -> list[str]:
        return [h.source_id for h in searcher.search(QUESTION, k=22)]

    plain = ranks(Searcher(reader, settings.search, embedder))
    on = settings.updated(decompose=True, llm_model="openai/gpt-4o-mini")
    decomposer = Decomposer(scripted_models(fake)(on.llm.model, on))
    decomposed = ranks(Searcher(reader, on.search, embedder, decomposer))
    assert plain[0] == "arthur"
    # "women" shares no word with the question; the second query finds it.
    assert decomposed.index("women") < plain.index("women")
    assert fake.calls == 1
    assert "Question: " + QUESTION in fake.requests[0]["messages"][1]["content"]
