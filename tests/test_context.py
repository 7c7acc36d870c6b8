"""Context: passages cut to the sentences nearest the question, and the quote a citation shows."""

from __future__ import annotations

import pytest

from rag.answer.context import best_quote, compact

TEXT = (
    "Alpha words fill this first sentence here. "
    "The bridge opened in spring with a parade. "
    "Gamma words fill this third sentence here. "
    "The bridge cost four million dollars overall."
)


@pytest.mark.parametrize(
    ("question", "max_words", "expected"),
    [
        (
            "When did the bridge open and what did the bridge cost?",
            16,
            "\u2026 The bridge opened in spring with a parade. \u2026 "
            "The bridge cost four million dollars overall.",
        ),
        (
            "When did the bridge open with a parade?",
            8,
            "\u2026 The bridge opened in spring with a parade. \u2026",
        ),
        ("Alpha first?", 7, "Alpha words fill this first sentence here. \u2026"),
        ("anything", 100, TEXT),
    ],
)
def test_compact(question: str, max_words: int, expected: str) -> None:
    assert compact(TEXT, question, max_words) == expected


@pytest.mark.parametrize(
    ("claims", "quote"),
    [
        (["It cost four million dollars [1]."], "The bridge cost four million dollars overall."),
        (["There was a parade [1]."], "The bridge opened in spring with a parade."),
        ([], "Alpha words fill this first sentence here."),  # no claim: the first sentence
    ],
)
def test_best_quote(claims: list[str], quote: str) -> None:
    assert best_quote(TEXT, claims) == quote
