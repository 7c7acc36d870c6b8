"""Generate: chat messages -> text through litellm, any provider, streamed, with retries."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag.config import LOCAL_LLM, Settings
from rag.errors import LLMError, ProviderConfigError

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

OnToken = Callable[[str], None]
# A token is ~4 characters of English; a reply past 8 a token ignored max_tokens (some
# servers do) and is cut, so a runaway model cannot stall validation or fill memory.
CHARS_PER_TOKEN_CAP = 8


@dataclass
class Generation:
    """What the model wrote and how long it took."""

    text: str
    model: str
    first_token_s: float | None = None
    total_s: float = 0.0
    attempts: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: bool = False  # the reply ran past the cap and was cut at a sentence end


def _litellm() -> Any:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


def check_provider(model: str) -> None:
    """Fail before calling when the provider's key is missing, naming the variable to set."""
    if model.startswith("local/"):
        return
    litellm = _litellm()
    try:
        env = litellm.validate_environment(model)
    except Exception as exc:  # unknown provider prefixes raise from deep inside litellm
        raise ProviderConfigError(
            f"litellm does not know the model {model!r} ({exc}); use 'provider/model', e.g. "
            "'openai/gpt-4o-mini', or the embedded 'local/qwen2.5-1.5b'"
        ) from exc
    # Servers like Ollama have a default address (or RAG_LLM_API_BASE): only keys are required.
    missing = [k for k in env.get("missing_keys", []) if not k.endswith("_API_BASE")]
    if missing:
        raise ProviderConfigError(
            f"model {model!r} needs {', '.join(missing)} in the environment; set "
            f"{missing[0]}=... or use the embedded model with --model {LOCAL_LLM}"
        )


def prepare(model: str, settings: Settings, system: str | None = None) -> None:
    """Import litellm, check the provider and load the embedded model (and its evaluated
    `system` prompt): start-up work that should not count against answering."""
    check_provider(model)
    if model.startswith("local/"):
        from rag.llm.local import engine, register_local_provider

        register_local_provider(settings)
        if system is not None:
            engine(settings).warm(system, settings.local.cache_dir)
        else:
            engine(settings)


def _retryable() -> tuple[type[BaseException], ...]:
    ex = _litellm().exceptions
    return (
        ex.RateLimitError,
        ex.Timeout,
        ex.APIConnectionError,
        ex.InternalServerError,
        ex.ServiceUnavailableError,
        ex.BadGatewayError,
    )


def _fatal_message(exc: BaseException, model: str) -> str | None:
    ex = _litellm().exceptions
    if isinstance(exc, ex.AuthenticationError | ex.PermissionDeniedError):
        return f"the provider refused the credentials for {model!r}: check its API key"
    if isinstance(exc, ex.NotFoundError):
        return f"the provider does not serve {model!r}: check the model name"
    if isinstance(exc, ex.ContextWindowExceededError):
        return f"the prompt is too long for {model!r}: lower --k or RAG_PASSAGE_WORDS"
    if isinstance(exc, ex.BadRequestError):
        return f"the provider rejected the request for {model!r}: {exc}"
    return None


def _give_up_or_wait(
    exc: Exception,
    model: str,
    attempt: int,
    settings: Settings,
    retryable: tuple[type[BaseException], ...],
    shown: bool = False,
) -> None:
    """Sleep before the next attempt if `exc` is transient, else raise it as an LLMError."""
    if isinstance(exc, retryable):
        if attempt > settings.llm.retries or shown:
            raise LLMError(
                f"{model!r} failed after {attempt} attempt(s): {type(exc).__name__}: {exc}"
            ) from exc
        time.sleep(min(30.0, 2 ** (attempt - 1)) * (0.5 + random.random()))
        return
    message = _fatal_message(exc, model)
    if message is None:
        raise LLMError(f"{model!r} failed: {type(exc).__name__}: {exc}") from exc
    raise LLMError(message) from exc


def _start(
    messages: list[dict[str, str]], settings: Settings, model: str, extra: dict[str, Any]
) -> tuple[Any, tuple[type[BaseException], ...], dict[str, Any]]:
    """litellm, its transient errors, and the completion arguments (`extra` on top)."""
    prepare(model, settings)
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "timeout": settings.llm.timeout,
        **({"api_base": settings.llm.api_base} if settings.llm.api_base else {}),
        **extra,
    }
    return _litellm(), _retryable(), kwargs


def call(
    messages: list[dict[str, str]],
    settings: Settings,
    model: str,
    litellm_kwargs: dict[str, Any] | None = None,
) -> Any:
    """One chat completion, not streamed (the whole litellm response), retried like complete."""
    litellm, retryable, kwargs = _start(messages, settings, model, litellm_kwargs or {})
    for attempt in range(1, settings.llm.retries + 2):
        try:
            return litellm.completion(**kwargs)
        except Exception as exc:
            _give_up_or_wait(exc, model, attempt, settings, retryable)
    raise LLMError(f"{model!r} gave no answer")  # unreachable: the loop returns or raises


def _usage(
    litellm: Any, chunks: list[Any], model: str, messages: list[dict[str, str]], text: str
) -> tuple[int, int]:
    """(prompt, completion) tokens of a streamed reply: as the provider reported them on the last
    chunk (the embedded engine reports its own counts), else litellm's count of the text."""
    usage = getattr(chunks[-1], "usage", None) if chunks else None
    if usage is not None and usage.completion_tokens:
        return int(usage.prompt_tokens or 0), int(usage.completion_tokens)
    try:
        return (
            int(litellm.token_counter(model=model, messages=messages)),
            int(litellm.token_counter(model=model, text=text)),
        )
    except Exception:  # counting is a report, never a reason to fail an answer
        return 0, 0


def complete(
    messages: list[dict[str, str]],
    settings: Settings,
    model: str | None = None,
    on_token: OnToken | None = None,
    max_tokens: int | None = None,
    litellm_kwargs: dict[str, Any] | None = None,
) -> Generation:
    """One chat completion, streamed to `on_token`, retried with backoff on transient errors."""
    model = model or settings.llm.model
    litellm, retryable, kwargs = _start(
        messages,
        settings,
        model,
        {
            "max_tokens": max_tokens or settings.llm.max_tokens,
            "temperature": settings.llm.temperature,
            "stream": True,
            **(litellm_kwargs or {}),
        },
    )
    cap = kwargs["max_tokens"] * CHARS_PER_TOKEN_CAP
    started = time.perf_counter()
    for attempt in range(1, settings.llm.retries + 2):
        pieces: list[str] = []
        chunks: list[Any] = []
        first: float | None = None
        length = 0
        try:
            stream = litellm.completion(**kwargs)
            for chunk in stream:
                chunks.append(chunk)
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    if first is None:
                        first = time.perf_counter() - started
                    delta = delta[: cap - length]
                    pieces.append(delta)
                    length += len(delta)
                    if on_token is not None:
                        on_token(delta)
                    if length >= cap:
                        getattr(stream, "close", lambda: None)()  # stop the generation too
                        break
        except Exception as exc:
            # Tokens already shown cannot be taken back; give up rather than repeat them.
            shown = bool(pieces) and on_token is not None
            _give_up_or_wait(exc, model, attempt, settings, retryable, shown=shown)
            continue
        text = "".join(pieces)
        if not text.strip():
            raise LLMError(f"{model!r} returned an empty answer")
        truncated = length >= cap
        if truncated:
            text = _at_sentence_end(text)
        prompt_tokens, completion_tokens = _usage(litellm, chunks, model, messages, text)
        return Generation(
            text=text,
            model=model,
            first_token_s=first,
            total_s=time.perf_counter() - started,
            attempts=attempt,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            truncated=truncated,
        )
    raise LLMError(f"{model!r} gave no answer")  # unreachable: the loop returns or raises


def _at_sentence_end(text: str) -> str:
    """`text` up to its last line break or sentence end, so no half sentence is checked."""
    end = max(text.rfind("\n"), *(text.rfind(stop) for stop in (". ", "! ", "? ")))
    return text[: end + 1] if end > 0 else text
