"""Chat models through litellm: any provider by model string, retries, and clear errors."""

from __future__ import annotations

import pytest
from helpers.fakes import ScriptedLiteLLM

from rag.config import Settings
from rag.errors import LLMError, ProviderConfigError
from rag.llm.providers import LiteLLMModel, LocalModel, check_provider, import_litellm, open_model

MESSAGES = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")


def model(
    settings: Settings, client: ScriptedLiteLLM | None = None, **options: str
) -> LiteLLMModel:
    """gpt-4o-mini on `client` (default: litellm itself), backoff not slept."""
    return LiteLLMModel(
        "openai/gpt-4o-mini", settings.llm, client=client, options=options, sleep=lambda s: None
    )


def test_mock_provider_streams_tokens(settings: Settings, openai_key: None) -> None:
    tokens: list[str] = []
    out = model(settings, mock_response="The council voted [1].").stream(
        MESSAGES, on_token=tokens.append
    )
    assert out.text == "The council voted [1]." == "".join(tokens)
    assert out.model == "openai/gpt-4o-mini" and out.attempts == 1
    assert out.first_token_s is not None and out.first_token_s <= out.total_s


@pytest.mark.parametrize(
    ("model", "env", "message"),
    [
        ("openai/gpt-4o-mini", {}, "needs OPENAI_API_KEY"),
        ("anthropic/claude-3-5-haiku-latest", {}, "needs ANTHROPIC_API_KEY"),
        ("openai/gpt-4o-mini", {"OPENAI_API_KEY": "sk-x"}, None),
        ("openai/gpt-4o-mini", {"OPENAI_API_KEY": " "}, "needs OPENAI_API_KEY"),  # set, empty
        ("ollama/llama3.1", {}, None),  # a local server: no key, default address
        ("local/qwen2.5-coder-1.5b-instruct", {}, None),
    ],
)
def test_check_provider_names_the_missing_key(
    monkeypatch: pytest.MonkeyPatch, model: str, env: dict[str, str], message: str | None
) -> None:
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if message is None:
        check_provider(model)
    else:
        with pytest.raises(ProviderConfigError, match=message):
            check_provider(model)


@pytest.mark.parametrize(
    ("name", "kind", "continues_reply", "calls_at_once"),
    [
        ("openai/gpt-4o-mini", LiteLLMModel, False, 4),
        ("ollama/llama3.1", LiteLLMModel, False, 4),
        ("local/qwen2.5-coder-1.5b-instruct", LocalModel, True, 1),
    ],
)
def test_a_model_string_opens_a_model_with_its_capabilities(
    settings: Settings, name: str, kind: type, continues_reply: bool, calls_at_once: int
) -> None:
    opened = open_model(name, settings)
    assert type(opened) is kind and opened.name == name
    assert (opened.continues_reply, opened.calls_at_once) == (continues_reply, calls_at_once)


def exc(name: str) -> BaseException:
    cls = getattr(import_litellm().exceptions, name)
    return cls(message=f"simulated {name}", llm_provider="openai", model="gpt-4o-mini")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("failures", "retries", "attempts", "error"),
    [
        (["RateLimitError"], 3, 2, None),
        (["Timeout", "InternalServerError", "APIConnectionError"], 3, 4, None),
        (["RateLimitError"] * 4, 3, None, "failed after 4 attempt"),
        (["ServiceUnavailableError"], 0, None, "failed after 1 attempt"),
        (["AuthenticationError"], 3, None, "refused the credentials"),
        (["NotFoundError"], 3, None, "does not serve"),
    ],
)
def test_retries_transient_errors_and_names_fatal_ones(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    openai_key: None,
    failures: list[str],
    retries: int,
    attempts: int | None,
    error: str | None,
) -> None:
    fake = ScriptedLiteLLM([exc(name) for name in failures])
    settings = settings.updated(llm_retries=retries)
    if error is None:
        out = model(settings, fake).stream(MESSAGES)
        assert (out.text, out.attempts, fake.calls) == ("ok [1]", attempts, attempts)
    else:
        with pytest.raises(LLMError, match=error):
            model(settings, fake).stream(MESSAGES)


def test_empty_reply_is_an_error(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, openai_key: None
) -> None:
    fake = ScriptedLiteLLM([], reply="   ")
    with pytest.raises(LLMError, match="empty answer"):
        model(settings, fake).stream(MESSAGES)


def test_the_embedded_model_is_named_for_what_it_is() -> None:
    from rag.config import LOCAL_LLM
    from rag.llm.local import GGUF_NAME

    assert GGUF_NAME.startswith(LOCAL_LLM.removeprefix("local/") + "-")
