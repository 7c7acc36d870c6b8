"""Test doubles: a tiny deterministic embedder (feature hashing of words), optionally slow; a
stand-in for litellm that scripts faults and replies through litellm's own mock replies; and a
queued chat model that needs no litellm at all."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.embed import Vectors
from rag.llm.model import ChatModel, Generation, Messages, ModelFactory, OnToken
from rag.llm.providers import LiteLLMModel, import_litellm


class HashEmbedder:
    """Bag-of-words hashed into `dimension` buckets, L2-normalized; same text, same vector."""

    def __init__(
        self,
        model_id: str = "test-hash",
        dimension: int = 64,
        delay: float = 0.0,
        started_marker: Path | None = None,
    ) -> None:
        self._id = model_id
        self._dim = dimension
        self.delay = delay
        self.started_marker = started_marker
        self.calls: list[int] = []
        self.planned: list[int] = []

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dimension(self) -> int:
        return self._dim

    def plan(self, texts: list[str]) -> list[int]:
        """Records the job's size; the longest texts first, so that a caller which ignored
        the order would put vectors on the wrong texts."""
        self.planned.append(len(texts))
        return sorted(range(len(texts)), key=lambda i: -len(texts[i]))

    def encode(self, texts: list[str]) -> Vectors:
        self.calls.append(len(texts))
        if self.started_marker is not None:
            self.started_marker.write_text(str(len(self.calls)))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self._dim
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        if self.delay:
            time.sleep(self.delay)
        return np.asarray(out / norms, dtype=np.float32)

    @property
    def texts_embedded(self) -> int:
        """How many texts went through the encoder so far."""
        return sum(self.calls)


# A queued fault: raised at the call; None (this call goes through); or (text, error): the
# stream yields `text` and then breaks with `error`.
Fault = BaseException | None | tuple[str, BaseException]


class ScriptedLiteLLM:
    """litellm itself, but each completion first takes the next queued fault (see Fault), then
    answers through litellm's own mock_response (so streaming and parsing stay real): `reply`,
    or each of a list of replies in turn, the last one repeated."""

    def __init__(self, failures: list[Fault], reply: str | list[str] = "ok [1]") -> None:
        self.real = import_litellm()
        self.exceptions = self.real.exceptions
        self.validate_environment = self.real.validate_environment
        self.token_counter = self.real.token_counter
        self.failures = failures
        self.replies = [reply] if isinstance(reply, str) else list(reply)
        self.calls = 0
        self.requests: list[dict[str, Any]] = []

    def completion(self, **kwargs: Any) -> Iterator[Any]:
        self.calls += 1
        self.requests.append(kwargs)
        fault = self.failures.pop(0) if self.failures else None
        if isinstance(fault, BaseException):
            raise fault
        if isinstance(fault, tuple):
            partial, error = fault
            return _breaking(self.real.completion(**kwargs, mock_response=partial), error)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if not reply:  # litellm would treat an empty mock_response as none and call out
            return iter([])
        return self.real.completion(**kwargs, mock_response=reply)  # type: ignore[no-any-return]


def _breaking(stream: Iterator[Any], error: BaseException) -> Iterator[Any]:
    yield from stream
    raise error


def scripted_models(
    client: ScriptedLiteLLM, sleep: Callable[[float], None] = lambda seconds: None
) -> ModelFactory:
    """Opens every model string as a provider model on `client` (no backoff waits unless
    `sleep` records them)."""

    def open_scripted(name: str, settings: Settings) -> ChatModel:
        return LiteLLMModel(name, settings.llm, client=client, sleep=sleep)

    return open_scripted


class FakeChatModel:
    """A chat model with queued replies (the last one repeated) and no litellm: what a unit test
    of a stage above the model needs. Records every request."""

    continues_reply = False
    calls_at_once = 1
    logprobs = False
    follows_grammar = False

    def __init__(
        self, replies: list[str], name: str = "fake/model", yes: float | list[float] = 1.0
    ) -> None:
        self.name = name
        self.replies = list(replies)
        self.yes = [yes] if isinstance(yes, float) else list(yes)
        self.requests: list[Messages] = []
        self.prepared: list[str | None] = []

    def _next(self, queue: list[Any]) -> Any:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def prepare(self, system: str | None = None) -> None:
        self.prepared.append(system)

    def stream(
        self,
        messages: Messages,
        on_token: OnToken | None = None,
        max_tokens: int | None = None,
        grammar: str | None = None,
    ) -> Generation:
        self.requests.append(messages)
        text = self._next(self.replies)
        for piece in re.split(r"(?<=\s)", text):
            if on_token is not None and piece:
                on_token(piece)
        return Generation(text=text, model=self.name, first_token_s=0.0, total_s=0.0)

    def complete(self, messages: Messages, max_tokens: int, temperature: float = 0.0) -> str:
        self.requests.append(messages)
        return str(self._next(self.replies))

    def yes_probability(self, messages: Messages) -> float:
        self.requests.append(messages)
        return float(self._next(self.yes))
