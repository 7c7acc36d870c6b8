"""Query decomposition: a multi-part question -> up to three search queries, by a chat model.

Optional (RAG_DECOMPOSE): it costs one LLM call per search. Each query is searched like the
question and the rankings are fused; docs/retrieval.md has what it gave on HotpotQA.
"""

from __future__ import annotations

import re

from rag.llm.model import ChatModel
from rag.llm.prompts import Prompt, load_prompt

MAX_QUERIES = 3
MAX_CHARS = 200
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)]|query\s*\d*\s*:)\s*", re.IGNORECASE)


def parse_queries(text: str, question: str) -> list[str]:
    """The model's lines as queries: bullets, numbers and quotes stripped, blanks, repeats of
    the question and duplicates dropped, at most three of at most 200 characters."""
    seen = {question.strip().lower()}
    out: list[str] = []
    for line in text.splitlines():
        query = _BULLET.sub("", line).strip().strip("\"'").strip()[:MAX_CHARS]
        if query and query.lower() not in seen:
            seen.add(query.lower())
            out.append(query)
    return out[:MAX_QUERIES]


class Decomposer:
    """Callable question -> extra search queries (possibly none)."""

    def __init__(self, model: ChatModel, prompt: Prompt | None = None) -> None:
        self.model = model
        self.prompt = prompt or load_prompt("decompose")
        model.prepare()

    def __call__(self, question: str) -> list[str]:
        reply = self.model.complete(self.prompt.render(question=question), max_tokens=80)
        return parse_queries(reply, question)
