"""Chat models through litellm: any provider by model string, streamed, with retries; and the
embedded engine, registered with litellm as the provider `local/`.

`open_model("openai/gpt-4o-mini", settings)` gives a `LiteLLMModel`; `local/...` gives a
`LocalModel`, whose capabilities differ (it continues a prefilled reply and serves one request
at a time). The litellm module is passed in (`client`), so tests can hand it a scripted stand-in.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any

from rag.config import LOCAL_LLM, LLMSettings, LocalSettings, Settings
from rag.errors import Cancelled, LLMError, ProviderConfigError
from rag.llm.model import ChatModel, Generation, Messages, OnToken, yes_from_word, yes_probability

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported

# A token is ~4 characters of English; a reply past 8 a token ignored max_tokens (some
# servers do) and is cut, so a runaway model cannot stall validation or fill memory.
CHARS_PER_TOKEN_CAP = 8
_JUDGE_TOP = 10  # alternatives of the judge's one token read for yes and no
LOCAL_PROVIDER = "local"


def import_litellm() -> Any:
    """The litellm module, quiet and offline (no cost-map download, no telemetry)."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


def check_provider(name: str, client: Any | None = None) -> None:
    """Fail before calling when the provider's key is missing, naming the variable to set."""
    litellm = client or import_litellm()
    try:
        env = litellm.validate_environment(name)
    except Exception as exc:  # unknown provider prefixes raise from deep inside litellm
        raise ProviderConfigError(
            f"litellm does not know the model {name!r} ({exc}); use 'provider/model', e.g. "
            f"'openai/gpt-4o-mini', or the embedded {LOCAL_LLM!r}"
        ) from exc
    # Servers like Ollama have a default address (or RAG_LLM_API_BASE): only keys are required.
    missing = [k for k in env.get("missing_keys", []) if not k.endswith("_API_BASE")]
    # litellm counts a key that is set but empty as given; the provider then refuses every call.
    provider = name.split("/", 1)[0].upper().replace("-", "_")
    missing += [
        key
        for key, value in os.environ.items()
        if key.startswith(provider + "_") and key.endswith("_KEY") and not value.strip()
    ]
    if missing:
        raise ProviderConfigError(
            f"model {name!r} needs {', '.join(missing)} in the environment; set "
            f"{missing[0]}=... or use the embedded model with --model {LOCAL_LLM}"
        )


def _top_logprobs(response: Any) -> list[tuple[str, float]]:
    """(token, logprob) of the reply's first token alternatives, if the provider sent them."""
    try:
        content = response.choices[0].logprobs.content
        first = content[0]
    except (AttributeError, IndexError, TypeError):
        return []
    pairs = [(t.token, float(t.logprob)) for t in (first.top_logprobs or [])]
    return pairs or [(first.token, float(first.logprob))]


class LiteLLMModel:
    """A provider's model through litellm (OpenAI, Anthropic, Ollama, an OpenAI-compatible
    server at RAG_LLM_API_BASE, ...)."""

    continues_reply = False
    calls_at_once = 4
    logprobs = True  # asked for; providers without them drop the parameter and the word is read
    follows_grammar = False

    def __init__(
        self,
        name: str,
        settings: LLMSettings,
        client: Any | None = None,
        options: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`client`: the litellm module or a stand-in with its `completion`, `exceptions`,
        `validate_environment` and `token_counter`; `options`: further litellm arguments for
        every call; `sleep`: how backoff waits."""
        self.name = name
        self.settings = settings
        self._client = client
        self.options = options or {}
        self.sleep = sleep
        self._checked = False

    @property
    def client(self) -> Any:
        """litellm, imported on first use (it takes seconds)."""
        if self._client is None:
            self._client = import_litellm()
        return self._client

    def prepare(self, system: str | None = None) -> None:
        if not self._checked:
            check_provider(self.name, self.client)
            self._checked = True

    # -- calls -------------------------------------------------------------------------------
    def _arguments(self, messages: Messages, extra: dict[str, Any]) -> dict[str, Any]:
        self.prepare()
        base = self.settings.api_base
        return {
            "model": self.name,
            "messages": messages,
            "timeout": self.settings.timeout,
            **({"api_base": base} if base else {}),
            **extra,
            **self.options,
        }

    def _retryable(self) -> tuple[type[BaseException], ...]:
        ex = self.client.exceptions
        return (
            ex.RateLimitError,
            ex.Timeout,
            ex.APIConnectionError,
            ex.InternalServerError,
            ex.ServiceUnavailableError,
            ex.BadGatewayError,
        )

    def _fatal_message(self, exc: BaseException) -> str | None:
        ex, name = self.client.exceptions, self.name
        if isinstance(exc, ex.AuthenticationError | ex.PermissionDeniedError):
            return f"the provider refused the credentials for {name!r}: check its API key"
        if isinstance(exc, ex.NotFoundError):
            return f"the provider does not serve {name!r}: check the model name"
        if isinstance(exc, ex.ContextWindowExceededError):
            return f"the prompt is too long for {name!r}: lower --k or RAG_PASSAGE_WORDS"
        if isinstance(exc, ex.BadRequestError):
            return f"the provider rejected the request for {name!r}: {exc}"
        return None

    def _give_up_or_wait(self, exc: Exception, attempt: int, shown: bool = False) -> None:
        """Sleep before the next attempt if `exc` is transient, else raise it as an LLMError."""
        if isinstance(exc, self._retryable()):
            if attempt > self.settings.retries or shown:
                raise LLMError(
                    f"{self.name!r} failed after {attempt} attempt(s): {type(exc).__name__}: {exc}"
                ) from exc
            self.sleep(min(30.0, 2 ** (attempt - 1)) * (0.5 + random.random()))
            return
        message = self._fatal_message(exc)
        if message is None:
            raise LLMError(f"{self.name!r} failed: {type(exc).__name__}: {exc}") from exc
        raise LLMError(message) from exc

    def _call(self, messages: Messages, extra: dict[str, Any]) -> Any:
        """One completion, not streamed (the whole litellm response), retried."""
        kwargs = self._arguments(messages, extra)
        for attempt in range(1, self.settings.retries + 2):
            try:
                return self.client.completion(**kwargs)
            except Exception as exc:
                self._give_up_or_wait(exc, attempt)
        raise LLMError(f"{self.name!r} gave no answer")  # unreachable: returns or raises

    def complete(self, messages: Messages, max_tokens: int, temperature: float = 0.0) -> str:
        response = self._call(messages, {"max_tokens": max_tokens, "temperature": temperature})
        return str(response.choices[0].message.content or "")

    def yes_probability(self, messages: Messages) -> float:
        extra: dict[str, Any] = {"max_tokens": 1, "temperature": 0.0}
        if self.logprobs:
            # Providers without logprobs: drop the parameter and read the word instead.
            extra |= {"logprobs": True, "top_logprobs": _JUDGE_TOP, "drop_params": True}
        response = self._call(messages, extra)
        probability = yes_probability(_top_logprobs(response))
        if probability is not None:
            return probability
        return yes_from_word(response.choices[0].message.content or "")

    def stream(
        self,
        messages: Messages,
        on_token: OnToken | None = None,
        max_tokens: int | None = None,
        grammar: str | None = None,
    ) -> Generation:
        extra: dict[str, Any] = {
            "max_tokens": max_tokens or self.settings.max_tokens,
            "temperature": self.settings.temperature,
            "stream": True,
        }
        if grammar and self.follows_grammar:
            extra["grammar"] = grammar  # the embedded provider hands it to llama.cpp's sampler
        kwargs = self._arguments(messages, extra)
        cap = kwargs["max_tokens"] * CHARS_PER_TOKEN_CAP
        started = time.perf_counter()
        for attempt in range(1, self.settings.retries + 2):
            pieces: list[str] = []
            chunks: list[Any] = []
            first: float | None = None
            length = 0
            stream: Any = None
            try:
                stream = self.client.completion(**kwargs)
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
            except Cancelled:
                # Nobody reads the reply any more: the engine stops and is free again.
                getattr(stream, "close", lambda: None)()
                raise
            except Exception as exc:
                # Tokens already shown cannot be taken back; give up rather than repeat them.
                shown = bool(pieces) and on_token is not None
                self._give_up_or_wait(exc, attempt, shown=shown)
                continue
            text = "".join(pieces)
            if not text.strip():
                raise LLMError(f"{self.name!r} returned an empty answer")
            truncated = length >= cap
            if truncated:
                text = _at_sentence_end(text)
            prompt_tokens, completion_tokens = self._usage(chunks, messages, text)
            return Generation(
                text=text,
                model=self.name,
                first_token_s=first,
                total_s=time.perf_counter() - started,
                attempts=attempt,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                truncated=truncated,
            )
        raise LLMError(f"{self.name!r} gave no answer")  # unreachable: returns or raises

    def _usage(self, chunks: list[Any], messages: Messages, text: str) -> tuple[int, int]:
        """(prompt, completion) tokens of a streamed reply: as the provider reported them on the
        last chunk (the embedded engine reports its own counts), else litellm's count."""
        usage = getattr(chunks[-1], "usage", None) if chunks else None
        if usage is not None and usage.completion_tokens:
            return int(usage.prompt_tokens or 0), int(usage.completion_tokens)
        try:
            return (
                int(self.client.token_counter(model=self.name, messages=messages)),
                int(self.client.token_counter(model=self.name, text=text)),
            )
        except Exception:  # counting is a report, never a reason to fail an answer
            return 0, 0


class LocalModel(LiteLLMModel):
    """The embedded Qwen2.5-Coder-1.5B (rag.llm.local), served to litellm as `local/...`: no
    key, no network; it continues a prefilled reply and serves one request at a time."""

    continues_reply = True
    calls_at_once = 1
    follows_grammar = True

    def __init__(
        self, name: str, settings: LLMSettings, local: LocalSettings, **given: Any
    ) -> None:
        """`local`: the engine's settings; the rest as for LiteLLMModel."""
        super().__init__(name, settings, **given)
        self.local = local

    def prepare(self, system: str | None = None) -> None:
        from rag.llm.local import engine, register_local_provider

        register_local_provider(self.local, self.client)
        loaded = engine(self.local)
        if system is not None:
            loaded.warm(system, self.local.cache_dir)


def open_model(name: str, settings: Settings) -> ChatModel:
    """The chat model a model string names: the embedded engine for `local/...`, else the
    provider's model through litellm."""
    if name.split("/", 1)[0] == LOCAL_PROVIDER:
        return LocalModel(name, settings.llm, settings.local)
    return LiteLLMModel(name, settings.llm)


def _at_sentence_end(text: str) -> str:
    """`text` up to its last line break or sentence end, so no half sentence is checked."""
    end = max(text.rfind("\n"), *(text.rfind(stop) for stop in (". ", "! ", "? ")))
    return text[: end + 1] if end > 0 else text
