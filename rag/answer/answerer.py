"""Ask: question -> retrieve -> prompt -> model -> parsed, cited Answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from rag.answer.citations import Renumberer, sentences_citing
from rag.answer.context import best_quote, passage_block
from rag.answer.leaks import LeakFilter, cut_leaks, secret_grams
from rag.answer.policy import Outcome, settle
from rag.answer.question import clean_question
from rag.answer.shape import parse_answer, render_answer
from rag.config import Settings, load_settings
from rag.embed.encoder import load_embedder
from rag.llm.prompts import Prompt, load_prompt
from rag.llm.providers import OnToken, complete, prepare
from rag.retrieve.search import Searcher, open_searcher
from rag.types import Answer, AnswerSections, Citation, Hit, SentenceCheck
from rag.validate.judge import LLMJudge
from rag.validate.validator import Validator


def build_answer(
    question: str,
    raw: str,
    hits: list[Hit],
    model: str,
    prompt_version: str,
    index_version: int,
    timings: dict[str, float],
    outcome: Outcome | None = None,
    usage: dict[str, int] | None = None,
    notes: list[str] | None = None,
) -> Answer:
    """Parse what the model wrote into an Answer whose every [n] maps to a given passage;
    `outcome` (the validator's) gives the status and the checks, renumbered like the text."""
    renumberer = Renumberer(valid=set(range(1, len(hits) + 1)))
    text = renumberer.sub(raw)
    sections: AnswerSections = parse_answer(text)
    claims = sentences_citing(text)
    citations = []
    for shown, original in enumerate(renumberer.order, start=1):
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

    def as_shown(check: SentenceCheck) -> SentenceCheck:
        numbers = [renumberer.mapping[n] for n in check.citations if n in renumberer.mapping]
        return check.model_copy(update={"text": renumberer.sub(check.text), "citations": numbers})

    today = date.today().isoformat()
    return Answer(
        question=question,
        text=render_answer(sections, checked_on=today),
        sections=sections,
        citations=citations,
        status=outcome.status if outcome else "unvalidated",
        checks=[as_shown(c) for c in outcome.verdict.sentences] if outcome else [],
        dropped_sentences=[as_shown(c) for c in outcome.dropped] if outcome else [],
        # The draft's numbers are the model's own, not the renumbered ones shown.
        draft_checks=outcome.first.sentences if outcome and outcome.first else [],
        repair_rounds=outcome.rounds if outcome else 0,
        hits=hits,
        dropped_citations=renumberer.dropped,
        model=model,
        prompt_version=prompt_version,
        index_version=index_version,
        checked_on=today,
        timings=timings,
        usage=usage or {},
        notes=(outcome.notes if outcome else []) + (notes or []),
    )


def _continued(
    prompt: Prompt, messages: list[dict[str, str]], model: str
) -> tuple[list[dict[str, str]], str]:
    """The messages to send and the start of the reply they give: only the embedded engine
    continues a reply, so only its messages carry the prompt's prefill."""
    if model.startswith("local/") and prompt.prefill:
        return prompt.with_prefill(messages), prompt.prefill
    return messages, ""


def ask(
    question: str,
    settings: Settings | None = None,
    k: int | None = None,
    model: str | None = None,
    on_token: OnToken | None = None,
    searcher: Searcher | None = None,
    litellm_kwargs: dict[str, Any] | None = None,
    judge_kwargs: dict[str, Any] | None = None,
    on_status: Callable[[str], None] | None = None,
) -> Answer:
    """Answer `question` from the index with numbered citations, validated: accepted, repaired
    or abstained (the Python API). `on_token` sees the first draft as it is written, its [n]
    already numbered in order of first citation and markers to no retrieved passage left out
    (the validated Answer may number differently: sentences can be cut or repaired)."""
    settings = settings or load_settings()
    question = clean_question(question, settings.answer.max_question_chars)
    model = model or settings.llm.model
    prompt = load_prompt("answer")
    loading = time.perf_counter()
    searcher = searcher or open_searcher(settings)
    prepare(model, settings, system=prompt.fixed_system)
    started = time.perf_counter()
    hits = searcher.search(question, k=k or settings.answer.k)
    retrieved = time.perf_counter()
    block = passage_block(hits, question, settings.answer.passage_words) or "(no passages found)"
    messages, prefill = _continued(
        prompt,
        prompt.render(
            question=question.strip(),
            passages=block,
            today=date.today().isoformat(),
            n_passages=len(hits),
        ),
        model,
    )
    shown: list[bool] = []
    draft_numbers = Renumberer(valid=set(range(1, len(hits) + 1)))
    repair = load_prompt("repair")
    # What a source may tell the model to print: its instructions. Never shown, streamed or not.
    grams = secret_grams([prompt.system, repair.system], [question, *(h.text for h in hits)])
    unleaked = LeakFilter(grams)

    def relay(token: str) -> None:
        # The reply's prefilled start is shown with the model's first real token.
        if on_token is not None:
            if prefill and not shown:
                shown.append(True)
                on_token(unleaked.feed(draft_numbers.feed(prefill)))
            on_token(unleaked.feed(draft_numbers.feed(token)))

    generation = complete(
        messages,
        settings,
        model=model,
        # Without a listener nothing is shown, so a stream that breaks can still be retried.
        on_token=relay if on_token is not None else None,
        litellm_kwargs=litellm_kwargs,
    )
    if on_token is not None:
        on_token(unleaked.feed(draft_numbers.flush()) + unleaked.flush())
    generated = time.perf_counter()
    passages = {n: hit.text for n, hit in enumerate(hits, start=1)}
    usage = {
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
    }
    repairing = [0.0]

    def revise(draft: str, problems: list[str]) -> str:
        if on_status is not None:
            on_status(f"{len(problems)} sentence(s) did not hold up; asking the model to repair")
        repair_messages, start = _continued(
            repair,
            repair.render(
                question=question.strip(),
                passages=block,
                draft=draft.strip(),
                problems="\n".join(f"- {p}" for p in problems),
                n_passages=len(hits),
            ),
            model,
        )
        fixed = complete(
            repair_messages,
            settings,
            model=model,
            litellm_kwargs=litellm_kwargs,
        )
        repairing[0] += fixed.total_s
        usage["prompt_tokens"] += fixed.prompt_tokens
        usage["completion_tokens"] += fixed.completion_tokens
        return start + fixed.text

    validator = Validator(
        settings,
        searcher.embedder or load_embedder(settings),
        judge=None
        if settings.validator.mode == "fast"
        else LLMJudge(settings, litellm_kwargs=judge_kwargs),
    )
    outcome = settle(prefill + generation.text, passages, validator, revise, settings.answer.repair_rounds)
    done = time.perf_counter()
    timings = {
        "load": round(started - loading, 3),
        "retrieve": round(retrieved - started, 4),
        "first_token": round(generation.first_token_s or 0.0, 3),
        "generate": round(generation.total_s, 3),
        "repair": round(repairing[0], 3),
        "validate": round(done - generated - repairing[0], 3),
        "total": round(done - started, 3),
    }
    usage["judge_calls"] = validator.judge_calls
    final_text, leaked_lines = cut_leaks(outcome.text, grams)
    notes = []
    if leaked_lines or unleaked.leaked:
        notes.append(
            "the model repeated its instructions (a source may have asked it to); "
            f"{leaked_lines} line(s) of the answer and the repeated words of the draft were removed"
        )
    if generation.truncated:
        notes.append(
            "the draft ran far past the token limit (the provider ignored max_tokens) and was "
            "cut at its last sentence end before checking"
        )
    if validator.judge_failure is not None:
        notes.append(
            "claims the judge had to settle were refused unchecked: " + validator.judge_failure
        )
    return build_answer(
        question,
        final_text,
        hits,
        model,
        f"{prompt.id}" + (f",{repair.id}" if outcome.rounds else ""),
        searcher.reader.version,
        timings,
        outcome,
        usage,
        notes,
    )
