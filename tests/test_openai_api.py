"""The OpenAI-compatible endpoints of `rag serve`, driven by the official `openai` client over a
real socket: whole and streamed replies, models, tokens, and errors in the OpenAI shape.
Scripted model (litellm's mock replies); the embedded model: tests/test_real.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from helpers.data import CORPUS, GOOD, write_corpus
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models
from helpers.server import rag_serve, serving

from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.index.build import build_index
from rag.serve.app import create_app
from rag.serve.chat_api import ChatMessage, question_of
from rag.serve.service import Service

# One draft: the scripted reply is a whole answer (sections: tests/test_compose.py).
COMPOSE = "single"
MODEL = "openai/gpt-4o-mini"
QUESTION = "Do police help ICE?"


def _embedder() -> HashEmbedder:
    return HashEmbedder(model_id=DEFAULT_EMBED_MODEL)


def _serve(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **changes: Any
) -> Iterator[str]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    build_index(
        settings, add=[str(write_corpus(tmp_path / "c.jsonl", CORPUS))], embedder=_embedder()
    )
    served = load_settings(
        index_dir=settings.index.dir,
        validate_mode="fast",
        llm_model=MODEL,
        rate_limit_per_minute=0,
        answer_k=2,
        **changes,
    )
    fake = ScriptedLiteLLM([], reply=GOOD)
    service = Service(served, embedder=_embedder(), models=scripted_models(fake))
    with serving(create_app(service=service)) as url:
        yield url


@pytest.fixture
def url(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from _serve(settings, tmp_path, monkeypatch)


def _client(url: str, key: str = "not-checked") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


def test_a_whole_reply_is_the_checked_answer_with_its_sources(url: str) -> None:
    reply = _client(url).chat.completions.create(
        model="rag",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi."},
            {"role": "user", "content": QUESTION},
        ],
        temperature=0.2,  # accepted and ignored
    )
    content = reply.choices[0].message.content or ""
    assert reply.object == "chat.completion" and reply.model == MODEL
    assert content.startswith("## Summary") and "## Sources" in content
    assert "_Every cited sentence was checked against its passage and holds._" in content
    extra: dict[str, Any] = reply.model_extra["rag"]  # type: ignore[index]
    assert extra["status"] == "accepted" and extra["index_version"] == 1
    for citation in extra["citations"]:
        assert f"[{citation['n']}] {citation['title']}" in content
    assert reply.usage is not None and reply.usage.total_tokens >= 0


def test_a_streamed_reply_sends_only_the_checked_answer(url: str) -> None:
    chunks = list(
        _client(url).chat.completions.create(
            model="rag", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    whole = _client(url).chat.completions.create(
        model="rag", messages=[{"role": "user", "content": QUESTION}]
    )
    assert text == whole.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["rag"]["status"] == "accepted"  # type: ignore[index]


def test_models_lists_rag_and_the_offered_models(url: str) -> None:
    assert [m.id for m in _client(url).models.list()] == ["rag", MODEL]


@pytest.mark.parametrize(
    ("messages", "model", "error", "status", "says"),
    [
        ([{"role": "system", "content": "Hi"}], "rag", openai.BadRequestError, 400, "no user"),
        ([{"role": "user", "content": "  "}], "rag", openai.BadRequestError, 400, "empty"),
        ([{"role": "user", "content": QUESTION}], "gpt-9", openai.BadRequestError, 400, "gpt-9"),
        ([], "rag", openai.UnprocessableEntityError, 422, "messages"),
    ],
)
def test_errors_come_in_the_openai_shape(
    url: str,
    messages: list[dict[str, str]],
    model: str,
    error: type[openai.APIStatusError],
    status: int,
    says: str,
) -> None:
    with pytest.raises(error) as raised:
        _client(url).chat.completions.create(model=model, messages=messages)  # type: ignore[arg-type]
    assert raised.value.status_code == status
    body = httpx.post(
        f"{url}/v1/chat/completions", json={"model": model, "messages": messages}
    ).json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert says in body["error"]["message"] and "Traceback" not in body["error"]["message"]


def test_an_api_token_is_required_when_set(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in _serve(settings, tmp_path, monkeypatch, api_token="api-secret", admin_token="adm"):
        with pytest.raises(openai.AuthenticationError) as raised:
            _client(url, key="wrong").models.list()
        assert raised.value.body["type"] == "authentication_error"  # type: ignore[index]
        assert next(m.id for m in _client(url, key="api-secret").models.list()) == "rag"
        assert _client(url, key="adm").models.list()  # the admin token is accepted too
        # The service's own routes keep their rules.
        assert httpx.get(f"{url}/search", params={"q": "police"}).status_code == 200


@pytest.mark.parametrize(
    ("content", "question"),
    [
        ("Who voted?", "Who voted?"),
        (
            [
                {"type": "text", "text": "Who"},
                {"type": "image_url"},
                {"type": "text", "text": "voted?"},
            ],
            "Who voted?",
        ),
    ],
)
def test_the_question_is_the_last_user_messages_text(content: Any, question: str) -> None:
    messages = [
        ChatMessage(role="user", content="earlier"),
        ChatMessage(role="user", content=content),
    ]
    assert question_of(messages, 500) == question


@pytest.mark.slow
def test_the_openai_client_gets_a_checked_answer_from_the_embedded_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="install the local extra: pip install -e '.[local]'")
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo"
    with rag_serve(tmp_path, demo, RAG_API_TOKEN="api-secret") as url:
        reply = _client(url, key="api-secret").chat.completions.create(
            model="rag",
            messages=[{"role": "user", "content": "When did the Minneapolis council vote?"}],
            timeout=300,
        )
    content = reply.choices[0].message.content or ""
    extra: dict[str, Any] = reply.model_extra["rag"]  # type: ignore[index]
    assert reply.model == "local/qwen2.5-coder-1.5b-instruct"
    assert extra["status"] in ("accepted", "repaired", "abstained") and "## Sources" in content
    for citation in extra["citations"]:
        assert f"[{citation['n']}] {citation['title']}" in content
        assert citation["quote"]
