"""The OpenAI-compatible chat endpoints of `rag serve`: `POST /v1/chat/completions` (whole or
streamed) and `GET /v1/models`, so a client of that API can use `rag` as a model.

The last user message is the question; earlier messages are not read (each answer stands on
the sources alone). The reply's content is the checked answer in markdown with its sources;
`rag` in the reply (and in a streamed reply's last chunk) carries the status and citations.
A streamed reply sends nothing unchecked: the role at once, each section of a fact-check in a
chunk's `rag` field once checked (content empty, so plain clients show nothing of it), then the
whole checked answer as content. Other request fields of the OpenAI API are accepted and
ignored. Errors come in the OpenAI shape, `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from rag.answer.question import clean_question
from rag.answer.shape import with_sources
from rag.config import Settings
from rag.errors import ConfigError, QuestionError
from rag.serve.limits import ASGIApp, Message, Receive, Scope, Send
from rag.serve.service import Service
from rag.serve.streaming import ApiError, Put, events_of
from rag.types import Answer, AnswerStatus, CheckedSection, Citation

DEFAULT_MODEL = "rag"  # what a client may ask for to get the server's default model
_CHUNK_CHARS = 400  # content of one streamed chunk


class _Open(BaseModel):
    # The OpenAI API has many optional fields; a client sends what it sends.
    model_config = ConfigDict(extra="ignore")


class ChatMessage(_Open):
    """One message of the conversation."""

    role: str = Field(description="system, user, assistant, tool or developer.")
    content: str | list[dict[str, Any]] | None = Field(
        None, description="Text, or a list of content parts (the text parts are read)."
    )


class ChatRequest(_Open):
    """`POST /v1/chat/completions`: the last user message is the question."""

    model: str = Field(
        DEFAULT_MODEL,
        description="'rag' (the server's default model) or one of GET /v1/models.",
    )
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation.")
    stream: bool = Field(False, description="Reply as server-sent chunks.")


class OpenAIError(BaseModel):
    """The `error` object of the OpenAI API."""

    message: str = Field(description="What went wrong and how to fix it.")
    type: str = Field(description="invalid_request_error, authentication_error, ...")
    param: str | None = Field(None, description="Always null here.")
    code: str = Field(description="The error's code, as rag's own API gives it.")


class OpenAIErrorBody(BaseModel):
    """An error of the OpenAI-compatible routes."""

    error: OpenAIError


class RagExtra(BaseModel):
    """What the `rag` field of a reply carries besides the markdown."""

    model_config = ConfigDict(extra="forbid")

    status: AnswerStatus = Field(
        description="accepted, repaired (sentences cut or re-attributed) or abstained."
    )
    citations: list[Citation] = Field(description="Each [n] of the content and its passage.")
    index_version: int = Field(description="Index version the passages came from.")
    notes: list[str] = Field(description="What the reader should know about this answer.")


def question_of(messages: list[ChatMessage], most: int) -> str:
    """The last user message's text, checked as any question is."""
    for message in reversed(messages):
        if message.role != "user":
            continue
        content = message.content
        if isinstance(content, list):
            content = " ".join(
                str(p.get("text", "")) for p in content if p.get("type") in ("text", "input_text")
            )
        try:
            return clean_question(content or "", most)
        except QuestionError as exc:
            raise ConfigError(f"the last user message: {exc}") from exc
    raise ConfigError(
        "no user message in 'messages'; the last message with role 'user' is the question"
    )


def _extra(answer: Answer) -> RagExtra:
    return RagExtra(
        status=answer.status,
        citations=answer.citations,
        index_version=answer.index_version,
        notes=answer.notes,
    )


def completion(answer: Answer, reply_id: str, created: int) -> dict[str, Any]:
    """A `chat.completion` object for an answer."""
    usage = answer.usage
    prompt, written = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
    return {
        "id": reply_id,
        "object": "chat.completion",
        "created": created,
        "model": answer.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": with_sources(answer)},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": written,
            "total_tokens": prompt + written,
        },
        "rag": _extra(answer).model_dump(mode="json"),
    }


def _chunk(
    reply_id: str,
    created: int,
    model: str,
    delta: dict[str, str],
    finish: str | None = None,
    rag: dict[str, Any] | None = None,
) -> str:
    body: dict[str, Any] = {
        "id": reply_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if rag is not None:
        body["rag"] = rag
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


_bearer = HTTPBearer(auto_error=False, description="RAG_API_TOKEN (or RAG_ADMIN_TOKEN)")


def _api_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Open without RAG_API_TOKEN; with it, that token or the admin token."""
    serve = request.app.state.service.settings.serve
    if serve.api_token is None:
        return
    given = credentials.credentials.encode() if credentials else b""
    tokens = [t for t in (serve.api_token, serve.admin_token) if t is not None]
    if not any(hmac.compare_digest(given, t.get_secret_value().encode()) for t in tokens):
        raise ApiError(
            401,
            "unauthorized",
            "missing or wrong API token; send Authorization: Bearer <RAG_API_TOKEN> (as the "
            "OpenAI client's api_key)",
            {"WWW-Authenticate": "Bearer"},
        )


def chat_routes(service: Service, settings: Settings) -> APIRouter:
    """The `/v1` routes."""
    router = APIRouter(
        prefix="/v1",
        tags=["openai"],
        dependencies=[Depends(_api_token)],
        responses={
            code: {"model": OpenAIErrorBody, "description": text}
            for code, text in (
                (400, "Bad request"),
                (401, "Missing or wrong API token"),
                (413, "Request body over its limit"),
                (422, "Request not in the documented shape"),
                (429, "Too many requests"),
                (500, "Internal error (no details)"),
                (502, "The model failed"),
                (503, "No index or model available"),
            )
        },
    )

    def chosen(model: str) -> str | None:
        if model == DEFAULT_MODEL:
            return None
        if model not in service.models:
            raise ConfigError(
                f"model {model!r} is not offered by this server; use 'rag' or one of "
                f"{service.models} (GET /v1/models)"
            )
        return model

    @router.get("/models")
    def models() -> dict[str, Any]:
        """The models a client may name: 'rag' (the default) and each offered model."""
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "rag"}
                for name in [DEFAULT_MODEL, *service.models]
            ],
        }

    @router.post("/chat/completions")
    async def chat(body: ChatRequest) -> Any:
        """The checked answer to the last user message, as a chat completion."""
        question = question_of(body.messages, settings.answer.max_question_chars)
        model = chosen(body.model)
        reply_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if body.stream:
            return StreamingResponse(
                _stream(service, question, model, reply_id, created),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        answer = await anyio.to_thread.run_sync(lambda: service.ask(question, model=model))
        return completion(answer, reply_id, created)

    return router


async def _stream(
    service: Service, question: str, model: str | None, reply_id: str, created: int
) -> AsyncIterator[str]:
    name = model or service.settings.llm.model
    yield _chunk(reply_id, created, name, {"role": "assistant", "content": ""})

    def work(put: Put) -> None:
        def section(checked: CheckedSection) -> None:
            put("section", checked.model_dump(mode="json"))

        put("answer", service.ask(question, model=model, on_section=section).model_dump())

    async for item in events_of(work, f"answering {question!r} (OpenAI API)"):
        if item is None:
            yield ": still checking\n\n"
            continue
        event, data = item
        if event == "section":
            yield _chunk(reply_id, created, name, {}, rag={"section": data})
        elif event == "error":
            status = data.pop("http_status")
            yield f"data: {json.dumps({'error': openai_error(status, **data)})}\n\n"
        else:
            answer = Answer.model_validate(data)
            text = with_sources(answer)
            for start in range(0, len(text), _CHUNK_CHARS):
                piece = text[start : start + _CHUNK_CHARS]
                yield _chunk(reply_id, created, name, {"content": piece})
            extra = _extra(answer).model_dump(mode="json")
            yield _chunk(reply_id, created, name, {}, "stop", rag=extra)
    yield "data: [DONE]\n\n"


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error(status: int, code: str, message: str) -> dict[str, Any]:
    """The `error` object of the OpenAI API for one of ours."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"message": message, "type": kind, "param": None, "code": code}


class OpenAIErrors:
    """ASGI middleware: on /v1 paths, an error body {code, message} (from any route, handler
    or limit) is sent in the OpenAI shape instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        held: list[bytes] = []

        async def translate(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                start = message  # held until the body is whole
                return
            if start is None:
                await send(message)
                return
            held.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status = int(start["status"])
            try:
                ours = json.loads(b"".join(held))
                body = {"error": openai_error(status, ours["code"], ours["message"])}
            except (ValueError, KeyError, TypeError):
                body = {"error": openai_error(status, "http_error", b"".join(held).decode())}
            data = json.dumps(body).encode()
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            await send(
                {**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]}
            )
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, translate)
