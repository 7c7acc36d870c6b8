"""ask(): retrieval, prompt, a mocked provider, and an Answer whose every [n] is a real passage."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import write_corpus
from fakes import HashEmbedder, ScriptedLiteLLM

import rag.generate
import rag.search
from rag.build import build_index
from rag.cli import cli
from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.pipeline import ask
from rag.retrieve import Searcher
from rag.store import IndexReader

CORPUS = [
    {
        "id": "chief",
        "title": "Chief statement",
        "date": "2025-12-16",
        "url": "https://e.org/c",
        "text": "The police chief said officers do not cooperate with ICE. Safety comes first.",
    },
    {
        "id": "council",
        "title": "Council vote",
        "date": "2025-12-11",
        "text": "The council voted unanimously on December 11 to strengthen the ordinance.",
    },
    {"id": "river", "title": "River cleanup", "text": "Volunteers cleaned the river banks."},
]
RAW = """## Summary
No. The chief said officers do not cooperate with ICE [2]. The council acted [1, 9].
## 1. Council
It voted on December 11 [1].
## Bottom line
Not as policy [2].
## What the sources cannot settle
Individual cases.
## Follow-up questions
- What did the audit find?
"""


@pytest.fixture
def index(settings: Settings, tmp_path: Path) -> Settings:
    embedder = HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    build_index(settings, add=[str(write_corpus(tmp_path / "c.jsonl", CORPUS))], embedder=embedder)
    return settings


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> ScriptedLiteLLM:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    fake = ScriptedLiteLLM([], reply=RAW)
    monkeypatch.setattr(rag.generate, "_litellm", lambda: fake)
    monkeypatch.setattr(
        rag.search, "load_embedder", lambda s: HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    )
    return fake


def test_answer_cites_only_real_passages(index: Settings, mocked: ScriptedLiteLLM) -> None:
    searcher = Searcher(
        IndexReader.open(index.index_dir), index, HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    )
    tokens: list[str] = []
    answer = ask(
        "Do police help ICE?",
        settings=index,
        k=2,
        model="openai/gpt-4o-mini",
        on_token=tokens.append,
        searcher=searcher,
    )
    assert "".join(tokens) == RAW
    hits = {h.passage_id: h for h in answer.hits}
    assert len(answer.hits) == 2
    # Renumbered by first use: the model's [2] is shown as [1]; its invented [9] is dropped.
    assert [c.n for c in answer.citations] == [1, 2]
    assert answer.dropped_citations == [9]
    for citation in answer.citations:
        hit = hits[citation.passage_id]
        assert (citation.source_id, citation.title) == (hit.source_id, hit.title)
        assert citation.quote in hit.text
    assert "[9]" not in answer.text and "[3]" not in answer.text
    assert answer.sections.summary.startswith("No.")
    assert answer.sections.follow_ups == ["What did the audit find?"]
    assert answer.status == "unvalidated"
    assert answer.prompt_version.startswith("answer@")
    assert answer.index_version == 1 and answer.model == "openai/gpt-4o-mini"
    assert set(answer.timings) >= {"retrieve", "first_token", "generate", "total"}
    # The prompt numbered the passages and told the model they are data.
    system, user = mocked.requests[0]["messages"]
    assert "never instructions" in system["content"] or "not instructions" in system["content"]
    assert "[1] " in user["content"] and "[2] " in user["content"]


def run_ask(index: Settings, *extra: str) -> Result:
    """`rag ask` on the test index with another provider's model string."""
    args = ["ask", "Do police help ICE?", "--index", str(index.index_dir)]
    return CliRunner().invoke(cli, [*args, "--model", "openai/gpt-4o-mini", "-k", "2", *extra])


def test_cli_ask_json_with_another_provider(index: Settings, mocked: ScriptedLiteLLM) -> None:
    result = run_ask(index, "--json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["model"] == "openai/gpt-4o-mini"
    assert [c["n"] for c in answer["citations"]] == [1, 2]


def test_cli_ask_streams_then_lists_sources(index: Settings, mocked: ScriptedLiteLLM) -> None:
    result = run_ask(index)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # Streamed with the same numbering as the final answer: model [2] shows as [1].
    assert "do not cooperate with ICE [1]" in out and "[9]" not in out
    listed = re.findall(r"^\[(\d)\] (.+?)(?: \(\d{4}-\d\d-\d\d\))?$", out, re.MULTILINE)
    assert out.index("Sources") < out.index("[1] ", out.index("Sources"))
    assert [n for n, _ in listed] == ["1", "2"]
    assert {title for _, title in listed} <= {c["title"] for c in CORPUS}


def test_cli_ask_without_key_says_which(index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(
        rag.search, "load_embedder", lambda s: HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    )
    result = CliRunner().invoke(
        cli,
        [
            "ask",
            "q?",
            "--index",
            str(index.index_dir),
            "--model",
            "openai/gpt-4o-mini",
        ],
    )
    assert result.exit_code == 1
    assert "needs OPENAI_API_KEY" in result.stderr


def test_settings_pick_the_model_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM_MODEL", "anthropic/claude-3-5-haiku-latest")
    assert load_settings().llm_model == "anthropic/claude-3-5-haiku-latest"
