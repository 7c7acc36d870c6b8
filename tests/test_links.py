"""Title links: the sources a hit mentions by title join the ranking (the second hop)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.data import write_corpus
from helpers.fakes import HashEmbedder

from rag.config import Settings
from rag.index.build import build_index
from rag.retrieve.links import TitleLinks, mention_form
from rag.retrieve.search import Searcher
from rag.store import IndexReader


@pytest.mark.parametrize(
    ("title", "form"),
    [
        ("Maximum Overdrive", "maximum overdrive"),
        ("Welcome to the Show (TV series)", "welcome to the show"),
        ("f(x) (band)", "f x"),
        ("  Leland, North Carolina ", "leland north carolina"),
        ("Sergio Agüero", "sergio agüero"),
        ("(1986)", ""),
    ],
)
def test_mention_form(title: str, form: str) -> None:
    assert mention_form(title) == form


ROWS = [
    (1, "leland", "Leland, North Carolina"),
    (2, "overdrive", "Maximum Overdrive"),
    (3, "overdrive", "Maximum Overdrive"),  # a second passage of the same source
    (4, "max", "Maximum"),
    (5, "nc", "North Carolina"),
    (6, "it", "It"),  # too short to be linked
    (7, "show", "Welcome to the Show (TV series)"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The film Maximum Overdrive was shot there.", [2, 3]),  # longest match wins over Maximum
        ("maximum effort", []),  # a title is named as a name: capitalised
        ("Maximum effort was needed.", [4]),
        ("Maximum Effort Productions made it.", []),  # part of a longer name
        ("Maximum\nEffort", []),  # a line break is still within the name
        ("1986 (film) and Maximum, then", [4]),
        ("It rained in North Carolina and on Welcome to the Show.", [5, 7]),
        ("Leland, North Carolina is a town.", [1]),  # the span is consumed by the longer title
        ("Nothing here.", []),
        ("", []),
    ],
)
def test_mentioned_finds_titles_in_running_text(text: str, expected: list[int]) -> None:
    assert TitleLinks(ROWS).mentioned(text) == expected


def test_linked_skips_the_hits_own_sources_and_titles() -> None:
    links = TitleLinks(ROWS)
    hits = [
        (1, "Leland, North Carolina", "Leland, North Carolina saw Maximum Overdrive filmed."),
        (2, "Maximum Overdrive", "Maximum Overdrive is set in North Carolina."),
    ]
    # 1 and 2/3 are the hits' own sources; North Carolina (5) is a real link.
    assert links.linked(hits) == [5]
    assert len(links) == 5  # distinct mention forms; "It" is too short


def test_the_second_hop_brings_the_mentioned_source_into_the_results(
    tmp_path: Path, settings: Settings, embedder: HashEmbedder
) -> None:
    filler = [
        {"id": f"f{i}", "title": f"Filler {i}", "text": f"Harbor festival number {i} drew crowds."}
        for i in range(30)
    ]
    corpus = write_corpus(
        tmp_path / "c.jsonl",
        [
            {
                "id": "leland",
                "title": "Leland, North Carolina",
                "text": "Leland is a town in Brunswick County where Maximum Overdrive was shot in "
                "1986.",
            },
            {
                "id": "film",
                "title": "Maximum Overdrive",
                "text": "A horror picture written and directed by Stephen King.",
            },
            *filler,
        ],
    )
    build_index(settings, add=[str(corpus)], embedder=embedder)
    reader = IndexReader.open(settings.index.dir)
    question = "Who was behind the movie made in the Brunswick County town Leland in 1986?"

    def sources(link_hits: int, k: int = 3) -> list[str]:
        tuned = settings.updated(link_hits=link_hits, fusion_candidates=3)
        return [h.source_id for h in Searcher(reader, tuned.search, embedder).search(question, k=k)]

    assert sources(0)[0] == "leland" and "film" not in sources(0)
    assert sources(1)[0] == "leland" and "film" in sources(1)
    # Linked passages rank below the hits they were found from, never above them.
    assert "film" not in sources(3) and "film" in sources(3, k=5)[3:]
    # Only hybrid search takes the second hop.
    dense = Searcher(reader, settings.search, embedder).search(question, k=3, mode="dense")
    assert "film" not in [h.source_id for h in dense]
