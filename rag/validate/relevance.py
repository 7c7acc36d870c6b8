"""Relevance: whether an answer's supported sentences answer the question at all. A validator
checks each sentence against its passage; true sentences about the wrong thing pass it, so the
shown answer is also read against the question (prompts/relevance.md)."""

from __future__ import annotations

from rag.validate.judge import YesNo


class Relevance(YesNo):
    """Callable (question, answer) -> probability the answer gives what the question asks."""

    prompt_name = "relevance"

    def __call__(self, question: str, answer: str) -> float:
        return self.ask(question=question, answer=answer)
