"""Citations: markers parsed, renumbered by first use, invented numbers never passed on."""

from __future__ import annotations

import pytest

from rag.answer.citations import Renumberer, renumber, sentences_citing
from rag.text import cited_numbers, parse_marker


@pytest.mark.parametrize(
    ("inner", "numbers"),
    [
        ("1", [1]),
        ("1, 2", [1, 2]),
        ("1,2,2", [1, 2]),
        ("1-3", [1, 2, 3]),
        ("2\u20134", [2, 3, 4]),
        ("3-1", [3, 1]),  # reversed range: its ends only
        ("1-99", [1, 99]),  # absurd range: its ends only
        ("1, 3-4", [1, 3, 4]),
    ],
)
def test_parse_marker(inner: str, numbers: list[int]) -> None:
    assert parse_marker(inner) == numbers


@pytest.mark.parametrize(
    ("text", "valid", "expected", "order", "dropped"),
    [
        ("A [2]. B [1].", {1, 2}, "A [1]. B [2].", [2, 1], []),
        ("A [1, 2].", {1, 2}, "A [1] [2].", [1, 2], []),
        ("A [1][2].", {1, 2}, "A [1][2].", [1, 2], []),
        ("A [1-3].", {1, 2, 3}, "A [1] [2] [3].", [1, 2, 3], []),
        ("A [7].", {1, 2}, "A.", [], [7]),
        ("A [2, 7] and B [2].", {1, 2}, "A [1] and B [1].", [2], [7]),
        ("No citations here.", {1}, "No citations here.", [], []),
        # Four digits is a year, not a citation: left as written.
        ("In [2024] it rose.", {1}, "In [2024] it rose.", [], []),
    ],
)
def test_renumber(
    text: str, valid: set[int], expected: str, order: list[int], dropped: list[int]
) -> None:
    result = renumber(text, valid)
    assert (result.text, result.order, result.dropped) == (expected, order, dropped)


TEXT = "Police said no [3]. The council voted [1, 3] on [2-3]. Invented [9]. Again [1]."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 1000])
def test_streaming_renumbering_matches_whole_text(size: int) -> None:
    renumberer = Renumberer({1, 2, 3})
    pieces = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
    streamed = "".join(renumberer.feed(p) for p in pieces) + renumberer.flush()
    whole = renumber(TEXT, {1, 2, 3})
    assert cited_numbers(streamed) == cited_numbers(whole.text) == [1, 2, 3]
    assert renumberer.order == whole.order == [3, 1, 2]
    assert streamed.replace(" .", ".") == whole.text


def test_cited_numbers_in_order_of_first_use() -> None:
    assert cited_numbers("x [2] y [1, 2] z [3-4]") == [2, 1, 3, 4]


def test_sentences_citing() -> None:
    text = "A is so [1]. B too [1, 2].\n- C [3]"
    assert sentences_citing(text) == {
        1: ["A is so [1].", "B too [1, 2]."],
        2: ["B too [1, 2]."],
        3: ["- C [3]"],
    }
