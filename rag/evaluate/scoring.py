"""Scoring: one gold question, its ranked sources and its answer -> the scores of an EvalRecord;
and the records of a run -> the metrics of metrics.json. Pure but for the support check, which is
the validator's (so citation quality is judged exactly as answers are checked)."""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Any

from rag.evaluate.metrics import (
    all_evidence_at_k,
    answer_contained,
    citation_scores,
    claim_recall,
    exact_match,
    mean,
    ndcg_at_k,
    percentile,
    precision_recall_f1,
    reciprocal_rank,
    source_recall_at_k,
    token_f1,
)
from rag.text import cited_text, markers, split_sentences, strip_markers
from rag.types import Answer, EvalRecord, GoldQuestion
from rag.validate.claims import says_no_answer
from rag.validate.validator import CheckRun, Validator

RECALL_KS = (1, 5, 10, 20)
STAGES = (
    "retrieve",
    "first_token",
    "first_section",
    "generate",
    "repair",
    "validate",
    "sections",
    "wrapup",
    "total",
)
# A gold answer this long is a statement, not a span: scored by claim recall too.
LONG_ANSWER_WORDS = 12


def retrieval_scores(ranked: Sequence[str], evidence: Sequence[str]) -> dict[str, float]:
    """Source-level retrieval scores of one question; empty when it has no evidence."""
    if not evidence:
        return {}
    scores = {f"recall@{k}": source_recall_at_k(ranked, evidence, k) for k in RECALL_KS}
    scores["rr"] = reciprocal_rank(ranked, evidence)
    scores["ndcg@10"] = ndcg_at_k(ranked, evidence, 10)
    scores["all_evidence@10"] = all_evidence_at_k(ranked, evidence, 10)
    return scores


class SupportCheck:
    """Whether given passages support a sentence, decided by the validator (fast layer, and the
    judge where it is unsure, as configured)."""

    def __init__(self, validator: Validator) -> None:
        self.validator = validator
        self.run = CheckRun()  # once the judge fails, what it should settle is refused

    def __call__(self, text: str, passages: Mapping[int, str]) -> bool:
        marks = markers(passages)
        verdict = self.validator.check(f"{strip_markers(text).strip()} {marks}", passages, self.run)
        return bool(verdict.sentences) and all(c.supported for c in verdict.sentences)


def abstained(answer: Answer) -> bool:
    """Whether the answer declines: the validator abstained, or the summary says the sources do
    not answer."""
    return answer.status == "abstained" or says_no_answer(answer.sections.summary)


DEPTH = ("sections", "sources", "words", "cut", "reattributed")


def depth(answer: Answer) -> dict[str, float]:
    """How much a shown answer says: numbered sections, distinct sources cited, words shown
    (markers and the checked-on line left out), sentences cut and re-attributed.

    >>> from rag.types import Answer, AnswerSections
    >>> text = "## Summary\\nOslo is big [1].\\n\\n_Checked on x._\\n"
    >>> shown = Answer(question="q", text=text, model="m", prompt_version="p", status="accepted",
    ...     sections=AnswerSections(summary="Oslo is big [1]."), index_version=1, checked_on="x")
    >>> depth(shown)["words"], depth(shown)["sections"]
    (5.0, 0.0)
    """
    shown = [line for line in answer.text.splitlines() if not line.startswith("_Checked on")]
    return {
        "sections": float(len(answer.sections.sections)),
        "sources": float(len({c.source_id for c in answer.citations})),
        "words": float(len(strip_markers("\n".join(shown)).split())),
        "cut": float(len(answer.dropped_sentences)),
        "reattributed": float(sum(c.reattributed for c in answer.checks)),
    }


def cited_passages(answer: Answer) -> dict[int, str]:
    """The passages behind the answer's shown [n]."""
    text_of = {h.passage_id: cited_text(h.title, h.text, h.date) for h in answer.hits}
    return {c.n: text_of[c.passage_id] for c in answer.citations if c.passage_id in text_of}


def _gold_claims(answers: Sequence[str]) -> list[str]:
    longest = max(answers, key=lambda a: len(a.split()), default="")
    if len(longest.split()) < LONG_ANSWER_WORDS:
        return []
    return [longest[a:b] for a, b in split_sentences(longest)]


def answer_scores(
    gold: GoldQuestion, answer: Answer, check: SupportCheck
) -> dict[str, float | None]:
    """Correctness, abstention and citation scores of one answer (None where not applicable).

    EM and F1 compare the summary (markers removed) with the gold answers; `contained` looks for
    a gold answer anywhere in the shown text. An abstention answers nothing: it scores 0 there.
    Citations are re-checked on the shown text with its cited passages, independently of ask."""
    declined = abstained(answer)
    scores: dict[str, float | None] = {"abstained": float(declined)}
    summary = strip_markers(answer.sections.summary or answer.text)
    if gold.answers:
        scores["exact_match"] = 0.0 if declined else exact_match(summary, gold.answers)
        scores["f1"] = 0.0 if declined else token_f1(summary, gold.answers)
        scores["contained"] = (
            0.0 if declined else answer_contained(strip_markers(answer.text), gold.answers)
        )
        claims = _gold_claims(gold.answers)
        plain = strip_markers(answer.text)
        scores["claim_recall"] = (
            (0.0 if declined else claim_recall(claims, lambda c: check(c, {1: plain})))
            if claims
            else None
        )
    passages = cited_passages(answer)
    verdict = check.validator.check(answer.text, passages)
    scores["revalidated"] = float(verdict.accepted)
    joint = {(c.text, tuple(c.citations)): c.supported for c in verdict.sentences}

    def supports(text: str, numbers: Sequence[int]) -> bool:
        key = (text, tuple(numbers))
        if key not in joint:
            joint[key] = check(text, {n: passages[n] for n in numbers if n in passages})
        return joint[key]

    cited = citation_scores([(c.text, c.citations) for c in verdict.sentences], supports)
    scores["citation_recall"], scores["citation_precision"] = cited or (None, None)
    draft = answer.draft_checks
    scores["draft_citation_recall"] = (
        sum(c.supported for c in draft) / len(draft) if draft else None
    )
    return scores


def draft_contained(record: EvalRecord) -> float | None:
    """Whether the model's first draft (its sentences as checked) held a gold answer."""
    if record.answer is None or not record.answer.draft_checks:
        return None
    draft = " ".join(c.text for c in record.answer.draft_checks)
    return answer_contained(strip_markers(draft), record.gold_answers)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _means(rows: list[dict[str, Any]], keys: Sequence[str]) -> dict[str, float | None]:
    return {k: _round(mean([r.get(k) for r in rows])) for k in keys}


def summarize(records: Sequence[EvalRecord]) -> dict[str, Any]:
    """The metrics of a run: means over the questions each applies to, counts, percentiles."""
    done = [r for r in records if not r.error]
    with_evidence = [r for r in done if r.retrieval]
    retrieval = _means([r.retrieval for r in with_evidence], [*(f"recall@{k}" for k in RECALL_KS)])
    retrieval |= {
        "mrr": _round(mean([r.retrieval["rr"] for r in with_evidence])),
        "ndcg@10": _round(mean([r.retrieval["ndcg@10"] for r in with_evidence])),
        "all_evidence@10": _round(mean([r.retrieval["all_evidence@10"] for r in with_evidence])),
        "questions": len(with_evidence),
    }
    metrics: dict[str, Any] = {
        "questions": len(records),
        "failed": len(records) - len(done),
        "retrieval": retrieval,
    }
    answered = [r for r in done if r.answer is not None]
    if not answered:
        return metrics
    with_gold = [r for r in answered if r.answerable and r.gold_answers]
    metrics["answers"] = _means(
        [r.scores for r in with_gold], ["exact_match", "f1", "contained", "claim_recall"]
    ) | {
        # The model's first draft, before any check: what validation cost (or saved) in answers.
        "draft_contained": _round(mean([draft_contained(r) for r in with_gold])),
        "questions": len(with_gold),
    }
    abstention = precision_recall_f1(
        [bool(r.scores.get("abstained")) for r in answered], [not r.answerable for r in answered]
    )
    answerable = [r for r in answered if r.answerable]
    metrics["abstention"] = {k: _round(v) for k, v in abstention.items()} | {
        "unanswerable": sum(not r.answerable for r in answered),
        "abstained": sum(bool(r.scores.get("abstained")) for r in answered),
        "abstained_on_answerable": _round(mean([r.scores.get("abstained") for r in answerable])),
    }
    shown = [r.answer for r in answered if r.answer is not None]
    metrics["citations"] = _means(
        [r.scores for r in answered],
        ["citation_recall", "citation_precision", "draft_citation_recall", "revalidated"],
    ) | {
        "status": dict(collections.Counter(a.status for a in shown)),
        "sentences_cut": sum(len(a.dropped_sentences) for a in shown),
        "repair_rounds": sum(a.repair_rounds for a in shown),
    }
    shown_answers = [a for a in shown if a.status != "abstained"]
    rows = [depth(a) for a in shown_answers]
    metrics["depth"] = {k: _round(mean([r[k] for r in rows])) for k in DEPTH} | {
        "answers": len(rows)
    }
    cost: dict[str, Any] = {}
    for stage in STAGES:
        values = [a.timings[stage] for a in shown if stage in a.timings]
        cost[f"{stage}_p50_s"] = _round(percentile(values, 50), 3)
        cost[f"{stage}_p95_s"] = _round(percentile(values, 95), 3)
    for key in ("prompt_tokens", "completion_tokens", "judge_calls"):
        total = sum(a.usage.get(key, 0) for a in shown)
        cost[f"{key}_total"] = total
        cost[f"{key}_mean"] = _round(total / len(shown), 1)
    metrics["cost"] = cost
    return metrics


def correct(record: EvalRecord) -> bool | None:
    """Whether the question was handled right, for comparing runs: an answerable question's
    answer contains a gold answer (retrieval only: all evidence in the top 10), an unanswerable
    one is declined. None if it failed or cannot be judged."""
    if record.error:
        return None
    if record.answer is None:
        if not record.retrieval:
            return None
        return record.retrieval["all_evidence@10"] == 1.0
    if not record.answerable:
        return bool(record.scores.get("abstained"))
    contained = record.scores.get("contained")
    return None if contained is None else contained == 1.0
