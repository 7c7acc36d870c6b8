"""Chunk: sentence spans, passage sizes, offsets and stable ids."""

from __future__ import annotations

import itertools
import re

import pytest

from rag.ingest.chunk import ChunkSpec, chunk_source, chunk_spans, passage_id, vector_id
from rag.text import split_sentences
from rag.types import Source


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two.", ["One.", "Two."]),
        ("Dr. Smith met Mr. Jones. They talked.", ["Dr. Smith met Mr. Jones.", "They talked."]),
        ("The U.S. Army arrived. Then it left.", ["The U.S. Army arrived.", "Then it left."]),
        ("J. R. Tolkien wrote it. Fine.", ["J. R. Tolkien wrote it.", "Fine."]),
        ("Is it? Yes! Sure.", ["Is it?", "Yes!", "Sure."]),
        ('He said "Stop." She left.', ['He said "Stop."', "She left."]),
        ("It rose 3.5 percent. In 2024 it fell.", ["It rose 3.5 percent.", "In 2024 it fell."]),
        ("lower case. does not split", ["lower case. does not split"]),
        ("Heading\nBody line one. Two.", ["Heading", "Body line one.", "Two."]),
        ("  padded.   Next.  ", ["padded.", "Next."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert [text[s:e] for s, e in split_sentences(text)] == sentences


def prose(n_sentences: int, words_each: int = 12) -> str:
    return " ".join("Word" + " word" * (words_each - 2) + f" s{i}." for i in range(n_sentences))


def n_words(text: str) -> int:
    return len(re.findall(r"\S+", text))


SPEC = ChunkSpec(target_words=60, max_words=80, min_words=20, overlap_words=15)


@pytest.mark.parametrize(
    ("text", "n_passages"),
    [
        ("Short source.", 1),
        (prose(5), 1),  # 60 words: exactly one target
        (prose(20), 5),  # 240 words with overlap
        ("Word " * 500 + "end.", 9),  # one giant sentence is cut at word boundaries
    ],
)
def test_chunk_sizes_and_offsets(text: str, n_passages: int) -> None:
    spans = chunk_spans(text, SPEC)
    assert len(spans) == n_passages
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert n_words(text[start:end]) <= SPEC.max_words
    covered: set[int] = set()
    for start, end in spans:
        covered.update(range(start, end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_consecutive_passages_overlap_by_whole_sentences() -> None:
    text = prose(20)
    spans = chunk_spans(text, SPEC)
    for (_s1, e1), (s2, _) in itertools.pairwise(spans):
        assert s2 < e1, "the next passage starts inside the previous one"
        assert text[s2:e1].endswith("."), "the overlap is made of whole sentences"
        assert n_words(text[s2:e1]) <= SPEC.overlap_words


def test_short_tail_joins_the_previous_passage() -> None:
    text = prose(6)  # 72 words: target reached after 5, 12 words left < min 20
    assert chunk_spans(text, SPEC) == [(0, len(text))]


def test_passages_hold_exact_source_text_and_stable_ids() -> None:
    source = Source.create(id="doc-1", title="T", text=prose(20))
    first = chunk_source(source, SPEC)
    again = chunk_source(source, SPEC)
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first)
    for n, p in enumerate(first):
        assert p.text == source.text[p.start : p.end]
        assert (p.ordinal, p.source_id, p.title) == (n, "doc-1", "T")


def test_changing_one_sentence_keeps_the_other_passages_ids() -> None:
    text = prose(20)
    edited = text.replace("s19.", "s19 edited.")
    before = chunk_source(Source.create(id="d", title="T", text=text), SPEC)
    after = chunk_source(Source.create(id="d", title="T", text=edited), SPEC)
    assert [p.id for p in before[:-1]] == [p.id for p in after[:-1]]
    assert before[-1].id != after[-1].id


@pytest.mark.parametrize(
    ("args", "differs_from_base"),
    [
        (("d", 0, "text"), False),
        (("e", 0, "text"), True),
        (("d", 1, "text"), True),
        (("d", 0, "text!"), True),
    ],
)
def test_passage_id_depends_on_source_position_and_text(
    args: tuple[str, int, str], differs_from_base: bool
) -> None:
    assert (passage_id(*args) != passage_id("d", 0, "text")) is differs_from_base


def test_vector_id_is_a_positive_int64() -> None:
    vid = vector_id(passage_id("d", 0, "text"))
    assert 0 < vid < 2**63
