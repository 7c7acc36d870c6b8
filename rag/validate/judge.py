"""The judge: a chat model asked whether cited text supports a claim; its one-word answer read
as a probability (from logprobs where the model gives them)."""

from __future__ import annotations

from rag.llm.model import ChatModel
from rag.llm.prompts import Prompt, load_prompt


class Judge:
    """Callable (claim, cited text) -> probability the text supports the claim."""

    def __init__(self, model: ChatModel, prompt: Prompt | None = None) -> None:
        self.model = model
        self.prompt = prompt or load_prompt("judge")

    def __call__(self, claim: str, passage: str) -> float:
        return self.model.yes_probability(self.prompt.render(claim=claim, passage=passage))
