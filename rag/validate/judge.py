"""The judge: an LLM asked, through litellm, whether cited text supports a claim; its answer read
as a probability from the logprobs of its one-word reply where the provider gives them."""

from __future__ import annotations

import math
from typing import Any

from rag.config import Settings
from rag.llm.prompts import load_prompt
from rag.llm.providers import call

_TOP = 10


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


def _top_logprobs(response: Any) -> list[tuple[str, float]]:
    """(token, logprob) of the reply's first token alternatives, if the provider sent them."""
    try:
        content = response.choices[0].logprobs.content
        first = content[0]
    except (AttributeError, IndexError, TypeError):
        return []
    pairs = [(t.token, float(t.logprob)) for t in (first.top_logprobs or [])]
    return pairs or [(first.token, float(first.logprob))]


class LLMJudge:
    """Callable (claim, cited text) -> probability the text supports the claim."""

    def __init__(
        self,
        settings: Settings,
        model: str | None = None,
        litellm_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.model = model or settings.validator.judge_model or settings.llm.model
        self.prompt = load_prompt("judge")
        self.litellm_kwargs = litellm_kwargs or {}

    def __call__(self, claim: str, passage: str) -> float:
        messages = self.prompt.render(claim=claim, passage=passage)
        response = call(
            messages,
            self.settings,
            self.model,
            litellm_kwargs={
                "max_tokens": 1,
                "temperature": 0.0,
                "logprobs": True,
                "top_logprobs": _TOP,
                # Providers without logprobs: drop the parameter and read the word instead.
                "drop_params": True,
                **self.litellm_kwargs,
            },
        )
        probability = yes_probability(_top_logprobs(response))
        if probability is not None:
            return probability
        text = (response.choices[0].message.content or "").strip().lower()
        return 1.0 if text.startswith("yes") else 0.0
