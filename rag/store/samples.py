"""The queries an approximate index is tuned on, with their exact neighbours, kept with a version
and carried to the next one.

Searching the sample exactly over every vector was the largest part of a +1% build at 1M that
kept its quantizer (17.6 s, and 5.5 s more to read every vector out, of 75 s outside the
encoder; py-spy on bench/build_1m.py). A version saves its sample: the passage queries and the
question probes, their vectors, and each one's exact neighbours to a depth of 24 with a floor
(every vector scoring above it is in the list). The next build that keeps the quantizer drops
what it removed, searches only the vectors it added and merges: a query whose list still holds
its top 11 above the floor keeps an exact answer, any other is left out, and the sample is drawn
afresh once the index has moved by a tenth or lost a tenth of it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import faiss
import numpy as np

from rag.store.vectors import IdArray, Matrix

K = 10  # recall@10
_DEPTH = 24
_FILE = "tuning.npz"
_FORMAT = 1  # bump when the probes or the layout below change: older samples are drawn afresh
_RESAMPLE = 0.1

QuestionVectors = Callable[[IdArray], Matrix]
"""Vectors of short questions made from the passages with these ids (rag/probes.py)."""


class Sample(NamedTuple):
    """One kind of tuning query and its exact neighbours."""

    query_ids: IdArray  # the passage each query is (left out of its own results); -1 for probes
    queries: Matrix
    ids: IdArray  # exact neighbours, best first; -1 where none
    scores: Matrix  # their inner products; -inf where none
    floor: Matrix  # per query: every vector scoring above it is in `ids`


class Samples(NamedTuple):
    """Passage queries, then question probes where a build gave them."""

    kinds: list[Sample]
    requested: int  # RAG_ANN_SAMPLE when drawn
    drawn_at: int  # vectors in the index when drawn

    @property
    def queries(self) -> int:
        """Passage queries (recorded in the manifest; drawn with as many probes, but a carry
        may leave out a different few of each)."""
        return len(self.kinds[0].query_ids)


class Changes(NamedTuple):
    """What an incremental build did to its base version's vectors (a changed passage is
    removed and added again under the same id)."""

    removed: IdArray
    added_ids: IdArray
    added: Matrix


def draw(ids: IdArray, matrix: Matrix, sample: int, questions: QuestionVectors | None) -> Samples:
    """A seeded sample of the indexed vectors (`ids`, `matrix`: all of them) as queries, and
    the question probes made from the same passages, each searched exactly."""
    rows = np.sort(np.random.default_rng(7).choice(len(ids), min(sample, len(ids)), False))
    asked = [(ids[rows], np.ascontiguousarray(matrix[rows]))]
    if questions is not None:
        nobody = np.full(len(rows), -1, dtype=np.int64)  # not in the index: none left out
        asked.append((nobody, np.ascontiguousarray(questions(ids[rows]), dtype=np.float32)))
    depth = min(_DEPTH, len(ids))
    kinds = []
    for query_ids, queries in asked:
        scores, found = faiss.knn(queries, matrix, depth, metric=faiss.METRIC_INNER_PRODUCT)
        floor = scores[:, -1] if len(ids) > depth else np.full(len(queries), -np.inf, np.float32)
        kinds.append(Sample(query_ids, queries, ids[found], scores, floor.astype(np.float32)))
    return Samples(kinds, sample, len(ids))


def carry(previous: Samples, changes: Changes, sample: int, count: int) -> Samples | None:
    """The previous version's sample with exact neighbours in the index `changes` made, or
    None where it should be drawn afresh (another sample size, an index moved by a tenth, a
    tenth of the queries lost)."""
    if (
        previous.requested != sample
        or abs(count - previous.drawn_at) > _RESAMPLE * previous.drawn_at
    ):
        return None
    kinds = [_carry_kind(kind, changes) for kind in previous.kinds]
    least = (1 - _RESAMPLE) * min(sample, previous.drawn_at)
    if any(len(kind.query_ids) < least for kind in kinds):
        return None
    return Samples(kinds, previous.requested, previous.drawn_at)


def _carry_kind(kind: Sample, changes: Changes) -> Sample:
    keep = ~np.isin(kind.query_ids, changes.removed)  # a changed passage may have moved
    queries, floor = kind.queries[keep], kind.floor[keep].copy()
    gone = np.isin(kind.ids[keep], changes.removed) | (kind.ids[keep] < 0)
    ids = np.where(gone, -1, kind.ids[keep])
    scores = np.where(gone, -np.inf, kind.scores[keep]).astype(np.float32)
    if len(changes.added_ids):
        depth = min(_DEPTH, len(changes.added_ids))
        found_scores, found = faiss.knn(
            queries, changes.added, depth, metric=faiss.METRIC_INNER_PRODUCT
        )
        ids = np.concatenate([ids, changes.added_ids[found]], axis=1)
        scores = np.concatenate([scores, found_scores], axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :_DEPTH]
    ids, scores = np.take_along_axis(ids, order, 1), np.take_along_axis(scores, order, 1)
    floor = np.maximum(floor, scores[:, -1])  # anything cut off scores at most the last kept
    exact = ((ids >= 0) & (scores >= floor[:, None])).sum(axis=1) >= K + 1
    return Sample(
        kind.query_ids[keep][exact], queries[exact], ids[exact], scores[exact], floor[exact]
    )


def save(samples: Samples, folder: Path) -> None:
    """Keep a version's sample beside its vectors."""
    arrays: dict[str, Any] = {}
    for n, kind in enumerate(samples.kinds):
        arrays.update({f"{n}_{field}": value for field, value in kind._asdict().items()})
    meta = np.array([_FORMAT, len(samples.kinds), samples.requested, samples.drawn_at], np.int64)
    np.savez(folder / _FILE, meta=meta, **arrays)


def load(folder: Path) -> Samples | None:
    """A version's sample, or None where there is none to trust (a version from before this
    file or from another format, an unreadable file): the build then draws one."""
    try:
        with np.load(folder / _FILE, allow_pickle=False) as data:
            form, n_kinds, requested, drawn_at = (int(v) for v in data["meta"])
            if form != _FORMAT:
                return None
            kinds = [
                Sample(*(data[f"{n}_{field}"] for field in Sample._fields)) for n in range(n_kinds)
            ]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return Samples(kinds, requested, drawn_at)
