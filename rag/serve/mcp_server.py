"""`rag mcp`: the service as a Model Context Protocol server over stdio (the official `mcp` SDK),
for assistants and chat clients that speak it.

Tools: `ask` (the checked answer: markdown with its sources, status and citations), `search`
(ranked passages), `check` (a text's claims, each supported, contradicted or not found) and
`get_source` (a source with its passages). Resources: `rag://index` (what is served) and
`rag://sources/{source_id}` (a source's text), each source of the served version listed. A
library error comes back as the tool's error, in the words the CLI would print.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources import FunctionResource
from pydantic import BaseModel, ConfigDict, Field

from rag.answer.question import clean_question
from rag.answer.shape import with_sources
from rag.errors import RagError
from rag.serve.schemas import SearchResponse, SourceDetail
from rag.serve.service import Service
from rag.types import AnswerStatus, Citation, TextCheck

T = TypeVar("T")
_LISTED = 1000  # sources listed as resources; any other is still read by its URI


class CheckedAnswer(BaseModel):
    """What the `ask` tool returns."""

    model_config = ConfigDict(extra="forbid")

    status: AnswerStatus = Field(
        description="accepted, repaired (sentences cut or re-attributed) or abstained."
    )
    text: str = Field(description="The checked answer as markdown, with its sources listed.")
    citations: list[Citation] = Field(description="Each [n] of the text and its passage.")
    index_version: int = Field(description="Index version the passages came from.")


async def _run(work: Callable[[], T]) -> T:
    """`work` in a worker thread (the models block), its library errors as tool errors."""
    try:
        return await anyio.to_thread.run_sync(work)
    except RagError as exc:
        raise ToolError(f"{exc.code}: {exc}") from exc


def source_text(detail: SourceDetail) -> str:
    """A source as one text: title, date and address, then its passages."""
    head = [detail.title, *(v for v in (detail.date, detail.url) if v)]
    return "\n".join([" · ".join(head), "", *(p.text for p in detail.passages)])


def build_server(service: Service) -> MCPServer:
    """The MCP server over a started `service`."""
    server = MCPServer(
        name="rag",
        instructions="Cited answers over the user's own sources. Every [n] in an answer points "
        "at a passage that was retrieved and checked to support the sentence; an answer that "
        "does not hold up is repaired, cut down or abstains. Use `ask` for questions, `check` "
        "to verify a claim or an article, `search` for raw passages.",
    )

    @server.tool()
    async def ask(question: str) -> CheckedAnswer:
        """Answer a question from the indexed sources; every cited sentence is checked
        against its passage."""
        most = service.settings.answer.max_question_chars
        answer = await _run(lambda: service.ask(clean_question(question, most)))
        return CheckedAnswer(
            status=answer.status,
            text=with_sources(answer),
            citations=answer.citations,
            index_version=answer.index_version,
        )

    @server.tool()
    async def search(query: str, k: int = 10) -> SearchResponse:
        """The k indexed passages that match the query best (1-100)."""
        if not 1 <= k <= 100:
            raise ToolError(f"k must be from 1 to 100, not {k}")
        most = service.settings.answer.max_question_chars
        return await _run(lambda: service.search(clean_question(query, most), k))

    @server.tool()
    async def check(text: str) -> TextCheck:
        """Check a claim, a paragraph or an article against the indexed sources: each claim
        supported, contradicted or not found, with the passages and quotes behind it."""
        return await _run(lambda: service.check(text))

    @server.tool()
    async def get_source(source_id: str) -> SourceDetail:
        """One indexed source with its passages (ids as in citations and search hits)."""
        return await _run(lambda: service.source(source_id))

    @server.resource("rag://index", name="index", mime_type="application/json")
    def index() -> str:
        """What is served: index version, sources, passages, models, validation mode."""
        return service.health().model_dump_json()

    @server.resource("rag://sources/{source_id}", mime_type="text/plain")
    def source(source_id: str) -> str:
        """A source's text: title, date, address, then its passages."""
        return source_text(service.source(source_id))

    def reader(source_id: str) -> Callable[[], str]:
        return lambda: source_text(service.source(source_id))

    if service.health().ready:
        for row in service.sources(0, _LISTED).sources:
            server.add_resource(
                FunctionResource(
                    uri=f"rag://sources/{row.id}",
                    name=row.id,
                    title=row.title,
                    mime_type="text/plain",
                    fn=reader(row.id),
                )
            )
    return server
