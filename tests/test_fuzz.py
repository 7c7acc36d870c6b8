"""Fuzzing with hypothesis (derandomized, so every run tries the same inputs): the citation
parser, the sentence splitter, the answer parser, the leak filter and the ingest readers take
any input without an exception other than the one they document."""

from __future__ import annotations

import contextlib
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.answer.citations import Renumberer, sentences_citing
from rag.answer.leaks import LeakFilter, cut_leaks, secret_grams
from rag.answer.question import clean_question
from rag.answer.shape import parse_answer
from rag.errors import IngestError, QuestionError
from rag.ingest.html import read_html
from rag.ingest.readers import read_jsonl, read_pdf, read_text
from rag.text import MARKER, cited_numbers, split_sentences
from rag.validate.claims import split_claims

fuzz = settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text that looks like model output: words, markers (well and badly formed), headings, breaks.
pieces = st.sampled_from(
    [
        "The council voted",
        " [1]",
        "[2, 3]",
        "[1-3]",
        "[12]",
        "[",
        "]",
        "[0]",
        "[2\u20134]",
        ". ",
        "\n",
        "## Summary\n",
        "## 1. Part\n",
        "- item\n",
        "Dr. Smith said",
        " U.S. ",
        '"quoted words here"',
        "\u201cq\u201d",
        "?",
        "\x00",
        "\u202e",
        "\U0001f693",
        "1,200",
        "  ",
    ]
)
answer_text = st.one_of(st.lists(pieces, max_size=40).map("".join), st.text(max_size=300))


@fuzz
@given(answer_text, st.sets(st.integers(1, 6)), st.lists(st.integers(1, 40), max_size=12))
def test_renumbering_streamed_in_any_pieces_equals_renumbering_whole(
    text: str, valid: set[int], cuts: list[int]
) -> None:
    whole = Renumberer(valid)
    expected = whole.sub(text)
    stream = Renumberer(valid)
    bounds = sorted({c % (len(text) + 1) for c in cuts})
    parts = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    streamed = "".join(stream.feed(p) for p in parts) + stream.flush()
    # Cut points only move where whitespace is collapsed, never what is cited.
    assert cited_numbers(streamed) == cited_numbers(expected)
    assert set(cited_numbers(expected)) <= set(range(1, len(valid) + 1))
    assert whole.order == stream.order and set(whole.order) <= valid
    assert not set(whole.dropped) & valid


@fuzz
@given(answer_text)
def test_parsers_of_answers_take_anything(text: str) -> None:
    numbers = cited_numbers(text)
    assert all(n >= 0 for n in numbers)  # [0] is parsed, and refused as out of range
    for n, cited in sentences_citing(text).items():
        assert n in numbers and all(s in text for s in cited)
    for claim in split_claims(text):
        assert all(n in numbers for n in claim.citations)
    parse_answer(text)
    assert all(m.group(0) in text for m in MARKER.finditer(text))


@fuzz
@given(answer_text)
def test_sentence_spans_are_ordered_and_inside_the_text(text: str) -> None:
    end = 0
    for start, stop in split_sentences(text):
        assert end <= start < stop <= len(text)
        assert text[start:stop] == text[start:stop].strip() and "\n" not in text[start:stop]
        end = stop


@fuzz
@given(answer_text, st.lists(st.integers(1, 30), max_size=10))
def test_leak_filter_passes_any_stream_through_when_nothing_is_secret(
    text: str, cuts: list[int]
) -> None:
    stream = LeakFilter(frozenset())
    bounds = sorted({c % (len(text) + 1) for c in cuts})
    parts = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    assert "".join(stream.feed(p) for p in parts) + stream.flush() == text


SECRET = "You are a careful fact-checker who answers only from the numbered passages given."


@fuzz
@given(answer_text, st.booleans())
def test_leak_filter_never_lets_the_secret_through(text: str, leak: bool) -> None:
    grams = secret_grams([SECRET], [])
    sent = text + (" " + SECRET + " " if leak else "") + text
    stream = LeakFilter(grams)
    out = "".join(stream.feed(sent[i : i + 7]) for i in range(0, len(sent), 7)) + stream.flush()
    assert not cut_leaks(out, grams)[1]


@fuzz
@given(st.text(max_size=300))
def test_clean_question_is_idempotent_and_control_free(question: str) -> None:
    try:
        cleaned = clean_question(question, 2000)
    except QuestionError:
        return
    assert cleaned == clean_question(cleaned, 2000)
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", cleaned)


raw_bytes = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(["<div>", "</div>", "<p>", "text ", "<script>", "&amp;", "\n"]))
    .map("".join)
    .map(str.encode),
)


@fuzz
@given(raw_bytes)
def test_text_html_and_jsonl_readers_raise_only_ingest_errors(data: bytes) -> None:
    for reader in (read_text, read_html):
        try:
            doc = reader(data, "f")
        except IngestError:
            continue
        assert isinstance(doc.text, str) and "\x00" not in doc.text
    for item in read_jsonl(data, "f.jsonl") if _decodes(data) else []:
        assert isinstance(item, IngestError) or item.text


def _decodes(data: bytes) -> bool:
    try:
        read_text(data, "f")
    except IngestError:
        return False
    return True


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.binary(max_size=600))
def test_pdf_reader_raises_only_ingest_errors(data: bytes) -> None:
    for blob in (data, b"%PDF-1.4\n" + data, b"%PDF-1.7\n1 0 obj << /Type /Catalog " + data):
        with contextlib.suppress(IngestError):
            read_pdf(blob, "f.pdf")
