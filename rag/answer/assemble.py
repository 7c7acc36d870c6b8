"""Assemble: what the model wrote, the passages it was given and the validator's outcome -> an
Answer whose every [n] maps to a given passage, numbered in order of first use."""

from __future__ import annotations

from datetime import date

from rag.answer.citations import Renumberer, sentences_citing
from rag.answer.context import best_quote
from rag.answer.policy import Outcome
from rag.answer.shape import parse_answer, render_answer
from rag.types import Answer, AnswerSections, Citation, Hit, SentenceCheck


def cite_shown(text: str, renumberer: Renumberer, hits: list[Hit]) -> list[Citation]:
    """A Citation for each number `renumberer` has given, in order; its quote is the passage
    sentence closest to the sentences of `text` that cite it."""
    claims = sentences_citing(text)
    return [
        citation(shown, hits[original - 1], claims.get(shown, []))
        for shown, original in enumerate(renumberer.order, start=1)
    ]


def citation(n: int, hit: Hit, claims: list[str]) -> Citation:
    """[n] of `hit`, quoting the passage sentence closest to the `claims` that cite it."""
    return Citation(
        n=n,
        passage_id=hit.passage_id,
        source_id=hit.source_id,
        title=hit.title,
        url=hit.url,
        date=hit.date,
        path=hit.path,
        quote=best_quote(hit.text, claims),
    )


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
    renumberer: Renumberer | None = None,
) -> Answer:
    """Parse what the model wrote into an Answer whose every [n] maps to a given passage;
    `outcome` (the validator's) gives the status and the checks, renumbered like the text.
    `renumberer` carries numbers already shown (sections streamed before the summary);
    other passages are numbered by first use in the text."""
    renumberer = renumberer or Renumberer(valid=set(range(1, len(hits) + 1)))
    text = renumberer.sub(raw)
    sections: AnswerSections = parse_answer(text)
    citations = cite_shown(text, renumberer, hits)

    def as_shown(check: SentenceCheck) -> SentenceCheck:
        text = renumberer.sub(check.text)  # passages only a cut sentence cites get numbers too
        numbers = [renumberer.mapping[n] for n in check.citations if n in renumberer.mapping]
        reason = renumberer.sub_known(check.reason)  # the numbers the reader sees
        return check.model_copy(update={"text": text, "citations": numbers, "reason": reason})

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
        relevance=outcome.relevance if outcome else None,
    )
