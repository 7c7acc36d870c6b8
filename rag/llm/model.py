"""The chat model every stage codes against: what it can do (capability fields) and the three
ways it is asked (a whole reply, a streamed reply, a yes/no probability).

    >>> yes_probability([("Yes", -0.1), (" yes", -3.0), ("No", -2.5)])  # doctest: +ELLIPSIS
    0.92...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rag.config import Settings

Messages = list[dict[str, str]]
OnToken = Callable[[str], None]


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

    def count(self, usage: dict[str, int]) -> None:
        """Add this reply's prompt and completion tokens to `usage`."""
        usage["prompt_tokens"] = usage.get("prompt_tokens", 0) + self.prompt_tokens
        usage["completion_tokens"] = usage.get("completion_tokens", 0) + self.completion_tokens


class ChatModel(Protocol):
    """A chat model: any litellm provider or the embedded engine (rag.llm.providers), or a
    fake in tests. Behaviour that differs between models reads the capability fields, never
    the model's name."""

    name: str  # the model string it was opened by, e.g. 'openai/gpt-4o-mini'
    continues_reply: bool  # a trailing assistant message is continued, not answered anew
    calls_at_once: int  # requests it serves well in parallel (the embedded engine: one)
    logprobs: bool  # yes_probability reads the first token's logprobs, not only its word
    follows_grammar: bool  # stream(grammar=...) constrains the reply to a GBNF grammar

    def prepare(self, system: str | None = None) -> None:
        """Check the configuration (a missing key fails here, before any call) and load what
        must be loaded; an engine that keeps state evaluates a fixed `system` prompt now."""
        ...

    def stream(
        self,
        messages: Messages,
        on_token: OnToken | None = None,
        max_tokens: int | None = None,
        grammar: str | None = None,
    ) -> Generation:
        """One reply, streamed to `on_token` as it is written, retried on transient errors
        while nothing has been shown; held to the GBNF `grammar` where the model
        `follows_grammar` (others ignore it)."""
        ...

    def complete(self, messages: Messages, max_tokens: int, temperature: float = 0.0) -> str:
        """One short reply, whole (not streamed)."""
        ...

    def yes_probability(self, messages: Messages) -> float:
        """P(yes) of a one-word yes/no reply: from logprobs where the model gives them, else
        1.0 or 0.0 from the word it answers."""
        ...


def _word(token: str) -> str:
    # Qwen's vocabulary has both "Yes" and " Yes" (and "yes"): one answer, several tokens.
    return token.strip().lower()


def yes_probability(top_logprobs: list[tuple[str, float]]) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the first token's top logprobs; None if neither shows."""
    yes = sum(math.exp(lp) for token, lp in top_logprobs if _word(token) == "yes")
    no = sum(math.exp(lp) for token, lp in top_logprobs if _word(token) == "no")
    if yes + no == 0:
        return None
    return yes / (yes + no)


def yes_from_word(text: str) -> float:
    """1.0 for a reply that starts with 'yes', else 0.0."""
    return 1.0 if text.strip().lower().startswith("yes") else 0.0


# model string, settings -> the model (rag.llm.providers.open_model, or a fake in tests)
ModelFactory = Callable[[str, "Settings"], ChatModel]
