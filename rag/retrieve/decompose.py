"""Query decomposition: a multi-part question -> up to three search queries, through litellm.

Optional (RAG_DECOMPOSE): it costs one LLM call per search. Each query is searched like the
question and the rankings are fused; docs/retrieval.md has what it gave on HotpotQA.
"""

from __future__ import annotations

import re
from typing import Any

from rag.config import Settings
from rag.llm.prompts import load_prompt
from rag.llm.providers import call, prepare

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

    def __init__(self, settings: Settings, litellm_kwargs: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.model = settings.llm.model
        self.prompt = load_prompt("decompose")
        self.litellm_kwargs = litellm_kwargs or {}
        prepare(self.model, settings)

    def __call__(self, question: str) -> list[str]:
        response = call(
            self.prompt.render(question=question),
            self.settings,
            self.model,
            litellm_kwargs={"max_tokens": 80, "temperature": 0.0, **self.litellm_kwargs},
        )
        return parse_queries(response.choices[0].message.content or "", question)
