"""Ask: question -> retrieve -> prompt -> model -> parsed, cited Answer."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from rag.citations import renumber, sentences_citing
from rag.config import Settings, load_settings
from rag.context import best_quote, passage_block
from rag.generate import OnToken, complete, prepare
from rag.prompts import load_prompt
from rag.retrieve import Searcher
from rag.search import open_searcher
from rag.shape import parse_answer, render_answer
from rag.types import Answer, AnswerSections, Citation, Hit


def build_answer(
    question: str,
    raw: str,
    hits: list[Hit],
    model: str,
    prompt_version: str,
    index_version: int,
    timings: dict[str, float],
) -> Answer:
    """Parse what the model wrote into an Answer whose every [n] maps to a given passage."""
    renumbered = renumber(raw, valid=set(range(1, len(hits) + 1)))
    sections: AnswerSections = parse_answer(renumbered.text)
    claims = sentences_citing(renumbered.text)
    citations = []
    for shown, original in enumerate(renumbered.order, start=1):
        hit = hits[original - 1]
        citations.append(
            Citation(
                n=shown,
                passage_id=hit.passage_id,
                source_id=hit.source_id,
                title=hit.title,
                url=hit.url,
                date=hit.date,
                path=hit.path,
                quote=best_quote(hit.text, claims.get(shown, [])),
            )
        )
    today = date.today().isoformat()
    return Answer(
        question=question,
        text=render_answer(sections, checked_on=today),
        sections=sections,
        citations=citations,
        status="unvalidated",
        hits=hits,
        dropped_citations=renumbered.dropped,
        model=model,
        prompt_version=prompt_version,
        index_version=index_version,
        checked_on=today,
        timings=timings,
    )


def ask(
    question: str,
    settings: Settings | None = None,
    k: int | None = None,
    model: str | None = None,
    on_token: OnToken | None = None,
    searcher: Searcher | None = None,
    litellm_kwargs: dict[str, Any] | None = None,
) -> Answer:
    """Answer `question` from the index with numbered citations (the Python API)."""
    settings = settings or load_settings()
    model = model or settings.llm_model
    prompt = load_prompt("answer")
    loading = time.perf_counter()
    searcher = searcher or open_searcher(settings)
    prepare(model, settings, system=prompt.fixed_system)
    started = time.perf_counter()
    hits = searcher.search(question, k=k or settings.answer_k)
    retrieved = time.perf_counter()
    messages = prompt.render(
        question=question.strip(),
        passages=passage_block(hits, question, settings.passage_words) or "(no passages found)",
        today=date.today().isoformat(),
        n_passages=len(hits),
    )
    prefill = prompt.prefill if model.startswith("local/") else ""
    shown: list[bool] = []

    def relay(token: str) -> None:
        # The reply's prefilled start is shown with the model's first real token.
        if on_token is not None:
            if prefill and not shown:
                shown.append(True)
                on_token(prefill)
            on_token(token)

    generation = complete(
        prompt.with_prefill(messages) if prefill else messages,
        settings,
        model=model,
        on_token=relay,
        litellm_kwargs=litellm_kwargs,
    )
    timings = {
        "load": round(started - loading, 3),
        "retrieve": round(retrieved - started, 4),
        "first_token": round(generation.first_token_s or 0.0, 3),
        "generate": round(generation.total_s, 3),
        "total": round(time.perf_counter() - started, 3),
    }
    return build_answer(
        question,
        prefill + generation.text,
        hits,
        model,
        prompt.id,
        searcher.reader.version,
        timings,
    )
