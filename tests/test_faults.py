"""LLM faults injected through litellm: every one ends in a checked answer, an abstention or a
clear LLMError, never a crash and never an unchecked answer shown as checked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers.data import GOOD, RAW
from helpers.fakes import Fault, HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.answer.answerer import open_answerer
from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.errors import LLMError
from rag.llm.providers import CHARS_PER_TOKEN_CAP, import_litellm
from rag.retrieve.search import Searcher
from rag.store import IndexReader
from rag.types import Answer

# These tests hold the one-draft path: its draft, repair round and streamed tokens.
COMPOSE = "single"

NO_CITATIONS = (
    "## Summary\nThe police chief said officers do not cooperate with ICE.\n"
    "## Bottom line\nThey do not.\n"
)
OUT_OF_RANGE = "## Summary\nThe chief spoke [7]. Officers do not cooperate with ICE [12].\n"
GARBAGE = "\x00\x07%%$#@!! \ufffd\ufffd <script>alert(1)</script> ]]][[[ {{json: true}}\n"
LONG = GOOD + ("Volunteers cleaned the river banks [2]. " * 20_000)


def error(name: str) -> BaseException:
    cls = getattr(import_litellm().exceptions, name)
    return cls(message=f"simulated {name}", llm_provider="openai", model="gpt-4o-mini")  # type: ignore[no-any-return]


@pytest.fixture
def index(index: Settings) -> Settings:
    return index.updated(llm_retries=2)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff sleeps asked for (not slept)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    return []


def run(
    settings: Settings,
    fake: ScriptedLiteLLM,
    waits: list[float],
    stream: bool = False,
    judge: bool = False,
) -> tuple[Answer, str]:
    """One question through an answerer on `fake`, its backoff waits recorded in `waits`."""
    if judge:
        settings = settings.updated(validate_mode="strict")
    embedder = HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    searcher = Searcher(IndexReader.open(settings.index.dir), settings.search, embedder)
    shown: list[str] = []
    answerer = open_answerer(
        settings,
        "openai/gpt-4o-mini",
        searcher=searcher,
        models=scripted_models(fake, sleep=waits.append),
    )
    answer = answerer.ask("Do police help ICE?", k=2, on_token=shown.append if stream else None)
    return answer, "".join(shown)


def assert_holds_up(answer: Answer) -> None:
    """What every answer shown must satisfy, whatever went wrong on the way."""
    assert answer.status in ("accepted", "repaired", "abstained")
    if answer.status != "abstained":
        assert answer.checks and all(c.supported for c in answer.checks)
    hits = {h.passage_id: h for h in answer.hits}
    numbers = {c.n for c in answer.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} <= numbers
    for citation in answer.citations:
        assert citation.quote in hits[citation.passage_id].text


# (name, faults before/among the calls, replies, stream, judge,
#  expected status or LLMError message, calls made, backoff sleeps, words in a note)
CASES: list[tuple[str, list[Fault], Any, bool, bool, str, int, int, str]] = [
    ("rate limit, then fine", [error("RateLimitError")], GOOD, False, False, "accepted", 2, 1, ""),
    ("timeout twice", [error("Timeout")] * 2, GOOD, False, False, "accepted", 3, 2, ""),
    ("5xx: internal", [error("InternalServerError")], GOOD, False, False, "accepted", 2, 1, ""),
    (
        "5xx: unavailable",
        [error("ServiceUnavailableError")],
        GOOD,
        True,
        False,
        "accepted",
        2,
        1,
        "",
    ),
    ("5xx: bad gateway", [error("BadGatewayError")], GOOD, False, False, "accepted", 2, 1, ""),
    ("connection refused", [error("APIConnectionError")], GOOD, False, False, "accepted", 2, 1, ""),
    (
        "5xx on every attempt",
        [error("InternalServerError")] * 3,
        GOOD,
        False,
        False,
        "failed after 3 attempt(s)",
        3,
        2,
        "",
    ),
    (
        "rate limited on every attempt",
        [error("RateLimitError")] * 3,
        GOOD,
        False,
        False,
        "failed after 3 attempt(s): RateLimitError",
        3,
        2,
        "",
    ),
    (
        "bad key",
        [error("AuthenticationError")],
        GOOD,
        False,
        False,
        "refused the credentials",
        1,
        0,
        "",
    ),
    (
        "prompt too long",
        [error("ContextWindowExceededError")],
        GOOD,
        False,
        False,
        "prompt is too long",
        1,
        0,
        "",
    ),
    ("empty reply", [], "", False, False, "returned an empty answer", 1, 0, ""),
    ("blank reply", [], " \n\t\n ", False, False, "returned an empty answer", 1, 0, ""),
    ("garbage", [], GARBAGE, False, False, "abstained", 2, 0, ""),
    ("no citations", [], NO_CITATIONS, False, False, "abstained", 2, 0, ""),
    ("cites numbers never given", [], OUT_OF_RANGE, False, False, "abstained", 2, 0, ""),
    ("very long reply", [], LONG, True, False, "accepted", 1, 0, "past the token limit"),
    (
        "stream breaks after tokens were shown",
        [("## Summary\nThe police", error("APIConnectionError"))],
        GOOD,
        True,
        False,
        "failed after 1 attempt(s)",
        1,
        0,
        "",
    ),
    (
        "stream breaks, nobody saw it",
        [("## Summary\nThe police", error("APIConnectionError"))],
        GOOD,
        False,
        False,
        "accepted",
        2,
        1,
        "",
    ),
    (
        "repair request fails",
        [None, error("AuthenticationError")],
        RAW,
        False,
        False,
        "repaired",
        2,
        0,
        "repair request failed",
    ),
    (
        "repair rate limited throughout",
        [None, *[error("RateLimitError")] * 3],
        RAW,
        False,
        False,
        "repaired",
        4,
        2,
        "repair request failed",
    ),
    (
        "judge down",
        [None, *[error("ServiceUnavailableError")] * 3],
        GOOD,
        False,
        True,
        "abstained",
        4,
        2,
        "judge had to settle were refused unchecked",
    ),
]


@pytest.mark.parametrize(
    ("faults", "reply", "stream", "judge", "expected", "calls", "sleeps", "note"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_llm_fault(
    index: Settings,
    waits: list[float],
    faults: list[Fault],
    reply: str,
    stream: bool,
    judge: bool,
    expected: str,
    calls: int,
    sleeps: int,
    note: str,
) -> None:
    fake = ScriptedLiteLLM(list(faults), reply=reply)
    if expected in ("accepted", "repaired", "abstained"):
        answer, _ = run(index, fake, waits, stream, judge)
        assert answer.status == expected, (answer.status, answer.checks)
        assert_holds_up(answer)
        assert any(note in n for n in answer.notes) if note else answer.notes == []
    else:
        with pytest.raises(LLMError, match=re.escape(expected)):
            run(index, fake, waits, stream, judge)
    assert fake.calls == calls
    assert len(waits) == sleeps
    # Exponential backoff with jitter: attempt n waits 2**(n-1) s times 0.5-1.5.
    for n, wait in enumerate(waits[:2], start=1):
        assert 0.5 * 2 ** (n - 1) <= wait <= 1.5 * 2 ** (n - 1)


def test_a_very_long_reply_is_cut_at_a_sentence_end(index: Settings, waits: list[float]) -> None:
    answer, shown = run(index, ScriptedLiteLLM([], reply=LONG), waits, stream=True)
    cap = index.llm.max_tokens * CHARS_PER_TOKEN_CAP
    assert len(shown) == cap  # the stream stopped at the cap, not at the reply's 840,000
    # No half sentence reached the validator: the cut came at a sentence end.
    assert answer.checks and all(c.text.endswith(".") for c in answer.checks)
