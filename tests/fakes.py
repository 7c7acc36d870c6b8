"""Test doubles: a tiny deterministic embedder (feature hashing of words), optionally slow."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed import Vectors


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
        from rag.llm.providers import _litellm

        self.real = _litellm()
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
