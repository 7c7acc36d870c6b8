"""Choose the FAISS layout by size and measure what the approximate one costs in recall.

Below the threshold an exact flat index is both fast enough and perfect. Above it an IVF index
(trained quantizer, full vectors kept) answers in a fraction of the time; the build then picks
the smallest nprobe whose recall@10 against exact search reaches the target both on passages of
the index used as queries and on short questions made from them (rag/probes.py: questions need
two to four times the lists passages do), and records all three in the manifest. IVF rather
than HNSW because an incremental build must delete vectors by id, which FAISS's HNSW cannot do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple, TypedDict

import rag.store.samples as tuning
from rag.store.manifest import VectorInfo
from rag.store.samples import Changes, QuestionVectors, Samples
from rag.store.samples import K as _K
from rag.store.vectors import IdArray, Matrix, VectorStore

_RETRAIN_GROWTH = 4  # a quantizer trained on n vectors serves up to 4n before it is retrained
_TRAIN_PER_LIST = 40


class Tuned(NamedTuple):
    """What tuning an approximate search parameter found."""

    value: int
    recall: float  # passages of the index as queries, each left out of its own results
    question_recall: float | None  # short questions made from the same passages
    queries: int


def nlist_for(count: int) -> int:
    """IVF lists for `count` vectors: ~4 sqrt(n), the usual FAISS guidance."""
    return max(16, min(65_536, int(4 * math.sqrt(count))))


class Fitted(NamedTuple):
    """A build's vectors in their layout, the manifest facts, and the tuning sample to keep."""

    store: VectorStore
    info: VectorInfo
    samples: Samples | None


def fit(
    store: VectorStore,
    threshold: int,
    target_recall: float,
    sample: int,
    trained_on: int | None = None,
    questions: QuestionVectors | None = None,
    carried: tuple[Samples, Changes] | None = None,
) -> Fitted:
    """The store in the layout its size calls for, and the facts for the manifest.

    `trained_on` is what the base version's quantizer was trained on, to keep reusing it
    while the index has not outgrown it; `questions` gives the question probes to tune on
    besides the passages; `carried` is the base version's tuning sample and what this build
    changed, to tune a kept quantizer without searching every vector again."""
    count = len(store)
    if count < threshold:
        if store.is_ivf:
            ids, matrix = store.arrays()
            store = VectorStore.empty(store.dimension)
            store.add(matrix, ids)
        return Fitted(store, VectorInfo(kind=store.kind, count=count), None)
    if not store.is_ivf or trained_on is None or count > _RETRAIN_GROWTH * trained_on:
        ids, matrix = store.arrays()
        nlist = nlist_for(count)
        store = VectorStore.ivf(matrix, ids, nlist, _TRAIN_PER_LIST * nlist)
        trained_on, first, drawn = count, None, None
    else:
        first = store.nprobe  # the base version's, a good first guess for the same quantizer
        drawn = None
        # A sample drawn with probes where this build has none, or the other way, is not used.
        if carried is not None and len(carried[0].kinds) == (1 if questions is None else 2):
            drawn = tuning.carry(*carried, sample, count)
        if drawn is None:
            ids, matrix = store.arrays()
    if drawn is None:
        drawn = tuning.draw(ids, matrix, sample, questions)

    def probe(nprobe: int) -> None:
        store.nprobe = nprobe

    tuned = tune(store.search_many, probe, 1, store.nlist or 1, drawn, target_recall, first)
    info = VectorInfo(
        kind=store.kind,
        count=count,
        nlist=store.nlist,
        nprobe=tuned.value,
        trained_on=trained_on,
        **recall_facts(tuned),
    )
    return Fitted(store, info, drawn)


class RecallFacts(TypedDict):
    """The VectorInfo fields a tuning fills."""

    recall_at_10: float
    question_recall_at_10: float | None
    recall_queries: int


def recall_facts(tuned: Tuned) -> RecallFacts:
    """The manifest fields (VectorInfo) of a tuning's measurements."""
    question = tuned.question_recall
    return {
        "recall_at_10": round(tuned.recall, 4),
        "question_recall_at_10": None if question is None else round(question, 4),
        "recall_queries": tuned.queries,
    }


def next_step(value: int) -> int:
    """Search parameters tried in turn: 1, 2, 3, 4, 6, 8, 12, 16, 24, ... (each power of two
    and 1.5 times it), so the one kept is at most 1.5x the least that would do."""
    grown = value * 3 // 2 if value & (value - 1) == 0 else value * 4 // 3
    return max(value + 1, grown)


def tune(
    search_many: Callable[[Matrix, int], tuple[IdArray, Matrix]],
    apply: Callable[[int], None],
    start: int,
    limit: int,
    samples: Samples,
    target: float,
    first: int | None = None,
) -> Tuned:
    """The smallest search parameter (from `start` by `next_step` up to `limit`; set with
    `apply`) whose recall@10 against exact search reaches `target` on every kind of query in
    `samples` (passages of the index, question probes made from them).

    Recall grows with the parameter (more lists or candidates searched), so the search may
    begin at the step nearest a good guess (`first`: the last version's value) and walk
    down while the target holds, or up until it does."""

    def measure(value: int) -> Tuned:
        apply(value)
        recalls = []
        for kind in samples.kinds:
            found, found_scores = search_many(kind.queries, _K + 1)
            exact_ids, exact_scores = kind.ids[:, : _K + 1], kind.scores[:, : _K + 1]
            recalls.append(
                recall_at_k(kind.query_ids, exact_ids, exact_scores, found, found_scores)
            )
        question = recalls[1] if len(recalls) > 1 else None
        return Tuned(value, recalls[0], question, samples.queries)

    def reaches(tuned: Tuned) -> bool:
        question = 1.0 if tuned.question_recall is None else tuned.question_recall
        return min(tuned.recall, question) >= target

    steps = [start]
    while steps[-1] < limit:
        steps.append(min(limit, next_step(steps[-1])))
    at = next((i for i, v in enumerate(steps) if v >= (first or start)), len(steps) - 1)
    best = measure(steps[at])
    if reaches(best):
        while at > 0 and reaches(lower := measure(steps[at - 1])):
            best, at = lower, at - 1
    else:
        while at < len(steps) - 1 and not reaches(best):
            at += 1
            best = measure(steps[at])
    apply(best.value)  # the walk down may have left a lower value set
    return best


def recall_at_k(
    query_ids: IdArray,
    exact_ids: IdArray,
    exact_scores: Matrix,
    found: IdArray,
    found_scores: Matrix,
) -> float:
    """Mean share of each query's exact top k (itself left out) that the approximate search
    returned; a returned passage tied with the exact k-th score counts too, as duplicates
    of a text have equal vectors and either is a right answer. IVFFlat scores are exact inner
    products of the stored vectors, so the approximate search's own scores decide ties."""
    total = 0.0
    for q, qid in enumerate(query_ids):
        others = [(int(i), float(s)) for i, s in zip(exact_ids[q], exact_scores[q], strict=True)]
        others = [(i, s) for i, s in others if i != qid][:_K]
        truth = {i for i, _ in others}
        kth = others[-1][1] if others else 1.0
        got = [
            (int(i), float(s))
            for i, s in zip(found[q], found_scores[q], strict=True)
            if i >= 0 and i != qid
        ][:_K]
        hits = sum(1 for i, s in got if i in truth or s >= kth - 1e-6)
        total += min(hits, len(truth)) / max(1, len(truth))
    return total / max(1, len(query_ids))
