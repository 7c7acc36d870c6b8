"""Small pure metric functions: retrieval at source level, answer overlap (SQuAD), abstention,
ALCE-style citation recall and precision, percentiles. Each has a hand-worked test."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

# text, cited numbers -> whether those passages together support the text
Supports = Callable[[str, Sequence[int]], bool]


def unique_in_order(items: Sequence[str]) -> list[str]:
    """Items with repeats removed, first occurrence kept."""
    return list(dict.fromkeys(items))


def source_recall_at_k(ranked_source_ids: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Share of the evidence sources found among the first k hits (hits may repeat a source).

    With no evidence there is nothing to find, and the score is 1.0 by convention.
    """
    if not evidence:
        return 1.0
    found = set(ranked_source_ids[:k])
    return sum(1 for e in set(evidence) if e in found) / len(set(evidence))


def all_evidence_at_k(ranked_source_ids: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """1.0 if every evidence source is among the first k hits, else 0.0 (multi-hop questions
    need all of them)."""
    return 1.0 if source_recall_at_k(ranked_source_ids, evidence, k) == 1.0 else 0.0


def reciprocal_rank(ranked_source_ids: Sequence[str], evidence: Sequence[str]) -> float:
    """1 / rank of the first evidence source among the distinct sources hit, 0.0 if none; MRR is
    its mean over questions."""
    wanted = set(evidence)
    for rank, source in enumerate(unique_in_order(ranked_source_ids), start=1):
        if source in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_source_ids: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Binary-relevance nDCG over the first k hits: an evidence source gains 1/log2(rank + 1) at
    its first hit only (a second passage of it adds nothing); ideal = all evidence ranked first."""
    wanted = set(evidence)
    if not wanted:
        return 1.0
    seen: set[str] = set()
    dcg = 0.0
    for rank, source in enumerate(ranked_source_ids[:k], start=1):
        if source in wanted and source not in seen:
            seen.add(source)
            dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalization: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 if the normalized prediction equals a normalized gold answer (the best over answers)."""
    return max(
        (float(normalize_answer(prediction) == normalize_answer(a)) for a in answers), default=0.0
    )


def _f1(prediction: str, answer: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(answer).split()
    if not pred or not gold:
        return float(pred == gold)  # SQuAD 2.0: both empty agree, one empty is wrong
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD token F1 of the prediction against the closest gold answer."""
    return max((_f1(prediction, a) for a in answers), default=0.0)


def answer_contained(text: str, answers: Sequence[str]) -> float:
    """1.0 if a normalized gold answer appears, on word boundaries, in the normalized text."""
    plain = f" {normalize_answer(text)} "
    return max(
        (float(f" {normalize_answer(a)} " in plain) for a in answers if normalize_answer(a)),
        default=0.0,
    )


def claim_recall(gold_claims: Sequence[str], supported: Callable[[str], bool]) -> float:
    """Share of the gold answer's claims that the answer supports (for long gold answers, as in
    ALCE's claim recall); `supported` decides one claim."""
    if not gold_claims:
        return 1.0
    return sum(1 for claim in gold_claims if supported(claim)) / len(gold_claims)


def precision_recall_f1(
    predicted: Sequence[bool], actual: Sequence[bool]
) -> dict[str, float | None]:
    """Precision, recall and F1 of boolean predictions against the truth; None where a
    denominator is zero (nothing predicted, or nothing to find)."""
    both = sum(1 for p, a in zip(predicted, actual, strict=True) if p and a)
    said, real = sum(map(bool, predicted)), sum(map(bool, actual))
    precision = both / said if said else None
    recall = both / real if real else None
    f1: float | None = None
    if precision is not None and recall is not None:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def citation_scores(
    claims: Sequence[tuple[str, Sequence[int]]], supports: Supports
) -> tuple[float, float] | None:
    """ALCE citation (recall, precision) of one answer; None if it makes no claim.

    Recall: share of claims whose citations together support them (a claim citing nothing
    scores 0). Precision: share of all citations that are relevant: the claim is supported and
    the citation either supports it alone or is needed (the other citations without it do not).
    A single citation of a supported claim is relevant."""
    if not claims:
        return None
    supported = 0
    relevant = 0
    total = 0
    for text, cited in claims:
        numbers = list(dict.fromkeys(cited))
        total += len(numbers)
        if not numbers or not supports(text, numbers):
            continue
        supported += 1
        if len(numbers) == 1:
            relevant += 1
            continue
        for n in numbers:
            others = [m for m in numbers if m != n]
            if supports(text, [n]) or not supports(text, others):
                relevant += 1
    return supported / len(claims), (relevant / total if total else 0.0)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default);
    None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None; None if there are none."""
    given = [v for v in values if v is not None]
    return sum(given) / len(given) if given else None


def metric_text(value: Any) -> str:
    """A metric as written: n/a for none, a float with the digits it was rounded to.

    >>> metric_text(1.3), metric_text(0.8417), metric_text(1138.0), metric_text(None)
    ('1.3', '0.8417', '1138', 'n/a')
    """
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
