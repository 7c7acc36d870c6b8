"""The judge: a chat model asked whether cited text supports a claim; its one-word answer read
as a probability (from logprobs where the model gives them)."""

from __future__ import annotations

from typing import ClassVar

from rag.llm.model import ChatModel
from rag.llm.prompts import Prompt, load_prompt


class YesNo:
    """A packaged prompt put to a chat model, read as P(Yes)."""

    prompt_name: ClassVar[str]

    def __init__(self, model: ChatModel, prompt: Prompt | None = None) -> None:
        self.model = model
        self.prompt = prompt or load_prompt(self.prompt_name)

    def ask(self, **fields: str) -> float:
        """P(Yes) for the prompt filled with `fields`."""
        return self.model.yes_probability(self.prompt.render(**fields))


class Judge(YesNo):
    """Callable (claim, cited text) -> probability the text supports the claim."""

    prompt_name = "judge"

    def __call__(self, claim: str, passage: str) -> float:
        return self.ask(claim=claim, passage=passage)
