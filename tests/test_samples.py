"""The tuning sample a version keeps: carried through a build's changes, its neighbour lists
stay those of exact search over the new index."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from helpers.vectors import clustered, flat_store

from rag.store import samples as tuning
from rag.store.ann import fit
from rag.store.samples import Changes, K, Samples, carry, draw

N = 2_000


def probes_of(matrix: np.ndarray) -> tuning.QuestionVectors:
    """Queries between two indexed vectors, as questions are."""

    def make(ids: np.ndarray) -> np.ndarray:
        mixed: np.ndarray = matrix[ids] + matrix[(ids * 7 + 3) % N]
        faiss.normalize_L2(mixed)
        return mixed

    return make


def drawn(sample: int = 100) -> tuple[np.ndarray, Samples]:
    """A sample drawn on the first N vectors of a larger set (the rest to add later)."""
    matrix = clustered(N + 400, seed=3)
    ids = np.arange(N, dtype=np.int64)
    return matrix, draw(ids, matrix[:N], sample, probes_of(matrix))


def changed(matrix: np.ndarray, remove: list[int], add: int, change: list[int]) -> Changes:
    """Changes removing ids, adding `add` new vectors and moving the `change` ids."""
    moved = clustered(len(change), seed=9)
    added_ids = np.array([*range(N, N + add), *change], dtype=np.int64)
    added = np.concatenate([matrix[N : N + add], moved]).astype(np.float32)
    return Changes(np.array([*remove, *change], dtype=np.int64), added_ids, added)


def index_after(matrix: np.ndarray, changes: Changes) -> tuple[np.ndarray, np.ndarray]:
    """Ids and vectors of the index the changes make."""
    ids = np.arange(N, dtype=np.int64)
    keep = ~np.isin(ids, changes.removed)
    return (
        np.concatenate([ids[keep], changes.added_ids]),
        np.concatenate([matrix[:N][keep], changes.added]),
    )


@pytest.mark.parametrize(
    ("remove", "add", "change"),
    [
        ([], 0, []),  # nothing changed
        ([], 150, []),  # added only
        (list(range(0, N, 25)), 0, []),  # 4% removed, some of them sampled queries
        (list(range(0, N, 40)), 120, []),  # removed and added
        ([], 0, list(range(5, N, 50))),  # changed passages: same ids, new vectors
    ],
)
def test_carried_neighbours_are_exact_over_the_new_index(
    remove: list[int], add: int, change: list[int]
) -> None:
    matrix, before = drawn()
    changes = changed(matrix, remove, add, change)
    after = carry(before, changes, 100, N - len(remove) + add)
    assert after is not None and after.drawn_at == N and len(after.kinds) == 2
    ids, vectors = index_after(matrix, changes)
    for old, new in zip(before.kinds, after.kinds, strict=True):
        assert not np.isin(new.query_ids, changes.removed).any()  # moved passages left out
        assert len(new.query_ids) >= 90
        scores, rows = faiss.knn(new.queries, vectors, K + 1, metric=faiss.METRIC_INNER_PRODUCT)
        assert (new.ids[:, : K + 1] == ids[rows]).all()
        np.testing.assert_allclose(new.scores[:, : K + 1], scores, rtol=0, atol=1e-5)
        if not remove and not change:
            assert len(new.query_ids) == len(old.query_ids)


def around(query: np.ndarray, cosine: float, n: int, seed: int) -> np.ndarray:
    """`n` unit vectors at this cosine to `query`."""
    other = np.random.default_rng(seed).standard_normal((n, query.size))
    other -= np.outer(other @ query, query)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    out: np.ndarray = (cosine * query + np.sqrt(1 - cosine**2) * other).astype(np.float32)
    return out


def test_a_list_cut_at_the_depth_does_not_pass_for_exact_later() -> None:
    """30 vectors added beside a sampled passage push everything else out of its list, and 7 of
    them past the depth kept; the next build removes the 15 nearest and adds 5 farther ones.
    Those 5 score below the 7 cut off, so the list must not pass for exact: the query is left
    out (or, were it kept, its neighbours would be wrong)."""
    matrix, before = drawn()
    asked = before.kinds[0].queries[0]
    crowd, crowd_ids = around(asked, 0.99, 30, 5), np.arange(N, N + 30, dtype=np.int64)
    first = carry(before, Changes(np.zeros(0, np.int64), crowd_ids, crowd), 100, N + 30)
    assert first is not None and np.isin(first.kinds[0].ids[0, 1:], crowd_ids).all()
    nearest = first.kinds[0].ids[0, 1:16]
    farther, farther_ids = around(asked, 0.95, 5, 6), np.arange(N + 30, N + 35, dtype=np.int64)
    second = carry(first, Changes(nearest, farther_ids, farther), 100, N + 20)
    assert second is not None
    assert before.kinds[0].query_ids[0] not in second.kinds[0].query_ids
    keep = ~np.isin(crowd_ids, nearest)
    ids = np.concatenate([np.arange(N, dtype=np.int64), crowd_ids[keep], farther_ids])
    vectors = np.concatenate([matrix[:N], crowd[keep], farther])
    for kind in second.kinds:
        _, rows = faiss.knn(kind.queries, vectors, K + 1, metric=faiss.METRIC_INNER_PRODUCT)
        assert (kind.ids[:, : K + 1] == ids[rows]).all()


@pytest.mark.parametrize(
    ("sample", "count", "remove", "why"),
    [
        (200, N, [], "another RAG_ANN_SAMPLE"),
        (100, N + 201, [], "grew by more than a tenth"),
        (100, N - 201, [], "shrank by more than a tenth"),
        (100, N - 15, "sampled", "lost more than a tenth of its queries"),
    ],
)
def test_a_sample_is_drawn_afresh_when(
    sample: int, count: int, remove: list[int] | str, why: str
) -> None:
    matrix, before = drawn()
    if remove == "sampled":
        remove = before.kinds[0].query_ids[:15].tolist()
    assert isinstance(remove, list)
    assert carry(before, changed(matrix, remove, 0, []), sample, count) is None, why


def test_a_sample_survives_save_and_load(tmp_path: Path) -> None:
    _, before = drawn()
    tuning.save(before, tmp_path)
    after = tuning.load(tmp_path)
    assert after is not None
    assert (after.requested, after.drawn_at, after.queries) == (100, N, 100)
    for old, new in zip(before.kinds, after.kinds, strict=True):
        for a, b in zip(old, new, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "damage",
    ["missing", "not a zip", "another format", "a kind missing"],
)
def test_an_unusable_sample_file_reads_as_none(tmp_path: Path, damage: str) -> None:
    _, before = drawn()
    path = tmp_path / "tuning.npz"
    if damage == "not a zip":
        path.write_bytes(b"garbage")
    elif damage != "missing":
        tuning.save(before, tmp_path)
        with np.load(path) as data:
            arrays = dict(data)
        if damage == "another format":
            arrays["meta"] = arrays["meta"].copy()
            arrays["meta"][0] += 1
        else:
            arrays = {k: v for k, v in arrays.items() if not k.startswith("1_")}
        np.savez(path, **arrays)
    assert tuning.load(tmp_path) is None


def test_a_kept_quantizer_is_tuned_on_the_carried_sample_without_the_probes() -> None:
    """No question is encoded and no vector read out: the carried sample is measured."""
    matrix = clustered(N + 100, seed=3)
    first = fit(flat_store(matrix[:N], first_id=0), 1_000, 0.95, 100, questions=probes_of(matrix))
    assert first.samples is not None and first.info.trained_on == N
    first.store.add(matrix[N:], np.arange(N, N + 100, dtype=np.int64))
    changes = Changes(np.zeros(0, np.int64), np.arange(N, N + 100, dtype=np.int64), matrix[N:])

    def never(_: np.ndarray) -> np.ndarray:
        raise AssertionError("the probes were carried, not made again")

    def no_read_out() -> tuple[np.ndarray, np.ndarray]:
        raise AssertionError("the carried sample needs no vector read out")

    first.store.arrays = no_read_out  # type: ignore[method-assign]
    second = fit(first.store, 1_000, 0.95, 100, N, never, (first.samples, changes))
    assert second.info.trained_on == N and second.info.count == N + 100
    assert second.samples is not None and second.samples.drawn_at == N
    assert second.info.recall_at_10 is not None and second.info.recall_at_10 >= 0.95
    assert second.info.question_recall_at_10 is not None
    assert second.info.question_recall_at_10 >= 0.95
