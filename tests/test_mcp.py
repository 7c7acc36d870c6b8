"""`rag mcp` driven by the MCP SDK's own client over stdio: its tools (ask, search, check,
get_source), its resources (the index and each source), and errors as tool errors. The `rag`
process runs with the fake encoder and a scripted model; the embedded model: the slow test."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from rag.config import Settings

mcp = pytest.importorskip("mcp", reason="install the dev extra: pip install -e '.[dev]'")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

TESTS = Path(__file__).resolve().parent
QUESTION = "Do police help ICE?"
HELD = "The police chief said officers do not cooperate with ICE."

Session = Callable[[ClientSession], Awaitable[None]]


def _drive(command: list[str], env: dict[str, str], session_work: Session) -> None:
    params = StdioServerParameters(command=command[0], args=command[1:], env=env)

    async def main() -> None:
        with anyio.fail_after(240):
            async with (
                stdio_client(params) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                await session_work(session)

    anyio.run(main)


def _scripted(index: Settings) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "RAG_INDEX_DIR": str(index.index.dir),
        "RAG_LLM_MODEL": "openai/gpt-4o-mini",
        "RAG_VALIDATE_MODE": "fast",
        "RAG_COMPOSE": "single",
        "RAG_ANSWER_K": "2",
    }
    return [sys.executable, str(TESTS / "helpers" / "scripted_rag.py"), "mcp"], env


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


def test_the_tools_answer_search_check_and_read_sources(index: Settings) -> None:
    seen: dict[str, Any] = {}

    async def work(session: ClientSession) -> None:
        tools = await session.list_tools()
        seen["tools"] = sorted(t.name for t in tools.tools)
        seen["ask"] = _structured(await session.call_tool("ask", {"question": QUESTION}))
        seen["search"] = _structured(
            await session.call_tool("search", {"query": "police chief ICE", "k": 2})
        )
        seen["check"] = _structured(await session.call_tool("check", {"text": HELD}))
        seen["source"] = _structured(await session.call_tool("get_source", {"source_id": "chief"}))
        seen["missing"] = await session.call_tool("get_source", {"source_id": "nope"})
        seen["blank"] = await session.call_tool("ask", {"question": "   "})
        listed = await session.list_resources()
        seen["resources"] = sorted(str(r.uri) for r in listed.resources)
        chief = await session.read_resource("rag://sources/chief")
        seen["chief"] = chief.contents[0].text  # type: ignore[union-attr]
        state = await session.read_resource("rag://index")
        seen["index"] = json.loads(state.contents[0].text)  # type: ignore[union-attr]

    _drive(*_scripted(index), work)
    assert seen["tools"] == ["ask", "check", "get_source", "search"]
    answer = seen["ask"]
    assert answer["status"] == "accepted" and "## Sources" in answer["text"]
    assert all(f"[{c['n']}] {c['title']}" in answer["text"] for c in answer["citations"])
    assert seen["search"]["hits"][0]["source_id"] == "chief"
    assert seen["check"]["claims"][0]["verdict"] == "supported"
    assert seen["source"]["title"] == "Chief statement"
    for failed, words in ((seen["missing"], "no source 'nope'"), (seen["blank"], "empty")):
        assert failed.is_error and words in failed.content[0].text
    assert seen["resources"] == [
        "rag://index",
        "rag://sources/chief",
        "rag://sources/council",
        "rag://sources/river",
    ]
    assert seen["chief"].startswith("Chief statement · 2025-12-16") and HELD in seen["chief"]
    assert seen["index"]["sources"] == 3


@pytest.mark.slow
def test_ask_through_mcp_with_the_embedded_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="install the local extra: pip install -e '.[local]'")
    demo = TESTS.parent / "examples" / "demo"
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", "add", str(demo)],
        env=env,
        check=True,
        capture_output=True,
    )
    seen: dict[str, Any] = {}

    async def work(session: ClientSession) -> None:
        result = await session.call_tool(
            "ask", {"question": "When did the Minneapolis council vote?"}
        )
        seen["ask"] = _structured(result)

    _drive([sys.executable, "-m", "rag.cli", "mcp"], env, work)
    answer = seen["ask"]
    assert answer["status"] in ("accepted", "repaired", "abstained")
    assert all(f"[{c['n']}] {c['title']}" in answer["text"] for c in answer["citations"])
