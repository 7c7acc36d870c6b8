"""Prompts: loaded by name, placeholders checked at load, a version recorded."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from rag.llm.prompts import load_prompt, parse_prompt

GOOD = """---
version: 7
placeholders: question, passages
---
=== system ===
Answer from passages.
=== user ===
{passages}
Q: {question}
"""


def test_the_shipped_answer_prompt_loads() -> None:
    prompt = load_prompt("answer")
    assert prompt.placeholders == {"question", "passages", "today", "n_passages"}
    assert prompt.id.startswith("answer@") and prompt.prefill.startswith("## Summary")


def test_render_fills_and_keeps_passage_braces_verbatim() -> None:
    prompt = parse_prompt("t", GOOD)
    system, user = prompt.render(question="Why?", passages="[1] a {not a field}")
    assert system == {"role": "system", "content": "Answer from passages.\n"}
    assert user["content"] == "[1] a {not a field}\nQ: Why?\n"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"question": "q"}, "missing \\['passages'\\]"),
        ({"question": "q", "passages": "p", "extra": 1}, "unexpected \\['extra'\\]"),
    ],
)
def test_render_requires_exactly_the_placeholders(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_prompt("t", GOOD).render(**values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("=== system ===\nx\n=== user ===\ny\n", "missing front matter"),
        ("---\nplaceholders: q\n---\n=== system ===\n{q}\n=== user ===\ny\n", "no version"),
        (GOOD.replace("{question}", "{questoin}"), "declared placeholders"),
        (GOOD.replace("Q: {question}", "Q:"), "declared placeholders"),
        (GOOD.replace("=== user ===\n", ""), "needs one '=== system ==='"),
        (GOOD + "=== user ===\nagain\n", "needs one '=== system ==='"),
        (GOOD.replace("Q: {question}", "Q: {question} {"), "bad braces"),
    ],
)
def test_broken_prompt_files_are_refused_at_load(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_prompt("t", text)


def test_fixed_system_only_without_placeholders() -> None:
    assert parse_prompt("t", GOOD).fixed_system == "Answer from passages.\n"
    moving = GOOD.replace("Answer from passages.", "Answer {question}.")
    assert parse_prompt("t", moving).fixed_system is None


def test_editing_a_prompt_changes_its_id() -> None:
    assert parse_prompt("t", GOOD).id != parse_prompt("t", GOOD.replace("Answer", "Reply")).id


def test_unknown_prompt_name() -> None:
    with pytest.raises(ConfigError, match="no prompt named 'nope'"):
        load_prompt("nope")
