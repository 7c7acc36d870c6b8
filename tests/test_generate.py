"""Generation through litellm: any provider by model string, retries, and clear errors."""

from __future__ import annotations

import pytest
from fakes import ScriptedLiteLLM

import rag.llm.providers
from rag.config import Settings
from rag.errors import LLMError, ProviderConfigError
from rag.llm.providers import _litellm, check_provider, complete

MESSAGES = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setattr("rag.llm.providers.time.sleep", lambda s: None)


def test_mock_provider_streams_tokens(settings: Settings, openai_key: None) -> None:
    tokens: list[str] = []
    out = complete(
        MESSAGES,
        settings,
        model="openai/gpt-4o-mini",
        on_token=tokens.append,
        litellm_kwargs={"mock_response": "The council voted [1]."},
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
        ("ollama/llama3.1", {}, None),  # a local server: no key, default address
        ("local/qwen2.5-1.5b", {}, None),
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


def exc(name: str) -> BaseException:
    cls = getattr(_litellm().exceptions, name)
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
    monkeypatch.setattr(rag.llm.providers, "_litellm", lambda: fake)
    settings = settings.updated(llm_retries=retries)
    if error is None:
        out = complete(MESSAGES, settings, model="openai/gpt-4o-mini")
        assert (out.text, out.attempts, fake.calls) == ("ok [1]", attempts, attempts)
    else:
        with pytest.raises(LLMError, match=error):
            complete(MESSAGES, settings, model="openai/gpt-4o-mini")


def test_empty_reply_is_an_error(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, openai_key: None
) -> None:
    fake = ScriptedLiteLLM([], reply="   ")
    monkeypatch.setattr(rag.llm.providers, "_litellm", lambda: fake)
    with pytest.raises(LLMError, match="empty answer"):
        complete(MESSAGES, settings, model="openai/gpt-4o-mini")
