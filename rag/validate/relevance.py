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


class Premise(YesNo):
    """Callable (question, evidence) -> probability the evidence (the passage sentence closest
    to the question, and the answer's summary) says what the question takes for granted and
    gives its answer (prompts/premise.md)."""

    prompt_name = "premise"

    def __call__(self, question: str, evidence: str) -> float:
        return self.ask(question=question, evidence=evidence)


class Contradiction(YesNo):
    """Callable (claim, passage) -> probability the passage says something the claim cannot be
    true with (a different name, number, date or outcome for the same thing)."""

    prompt_name = "contradict"

    def __call__(self, claim: str, passage: str) -> float:
        return self.ask(claim=claim, passage=passage)
