"""FAISS layout by size: exact below the threshold, IVF above it with measured recall."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder
from helpers.vectors import clustered, flat_store

from rag.config import Settings
from rag.index.build import build_index
from rag.index.info import index_info
from rag.index.probes import probe_questions
from rag.retrieve.search import Searcher
from rag.store import IndexReader
from rag.store import vectors as vectors_module
from rag.store.ann import fit, next_step, nlist_for, recall_at_k, tune
from rag.store.samples import draw
from rag.store.vectors import VectorStore


def test_hashtable_constant_matches_faiss() -> None:
    assert int(vars(faiss)["DirectMap"].Hashtable) == vectors_module._HASHTABLE  # absent from stubs


@pytest.mark.parametrize(
    ("count", "expected"),
    [(10, 16), (1_000, 126), (50_000, 894), (100_000, 1264), (1_000_000, 4000), (10**9, 65_536)],
)
def test_nlist_grows_with_the_square_root(count: int, expected: int) -> None:
    assert nlist_for(count) == expected


def test_below_the_threshold_the_index_stays_exact() -> None:
    store, info, _ = fit(flat_store(clustered(500)), threshold=1_000, target_recall=0.95, sample=50)
    assert not store.is_ivf
    assert (info.kind, info.count, info.nlist, info.recall_at_10) == (
        "IDMap2,Flat,IP",
        500,
        None,
        None,
    )
    assert "exact" in info.describe()


@pytest.mark.parametrize("target", [0.9, 0.99])
def test_above_the_threshold_ivf_reaches_the_target_recall(target: float) -> None:
    matrix = clustered(4_000)
    store, info, _ = fit(flat_store(matrix), threshold=1_000, target_recall=target, sample=200)
    assert store.is_ivf and store.nlist == nlist_for(4_000) == info.nlist
    assert info.kind == f"IVF{info.nlist},Flat,IP"
    assert info.recall_at_10 is not None and info.recall_at_10 >= target
    assert (info.count, info.trained_on, info.recall_queries) == (4_000, 4_000, 200)
    assert store.nprobe == info.nprobe
    assert info.nprobe is not None and info.nprobe < info.nlist  # approximate, not exhaustive
    assert "recall@10 vs exact" in info.describe()


def test_ivf_keeps_every_vector_and_edits_by_id(tmp_path: Path) -> None:
    matrix = clustered(3_000)
    store, _, _ = fit(flat_store(matrix), threshold=1_000, target_recall=0.95, sample=100)
    ids, back = store.arrays()
    order = np.argsort(ids)
    assert np.array_equal(ids[order], np.arange(1000, 4000))
    assert np.array_equal(back[order], matrix)
    assert np.array_equal(store.reconstruct([1005, 3999]), matrix[[5, 2999]])

    copy = store.copy()
    assert copy.remove([1000, 1001, 77]) == 2
    assert (len(copy), len(store)) == (2_998, 3_000)  # the copy is independent
    copy.add(matrix[:2], [9000, 9001])
    assert {9000, 9001} <= set(copy.ids()) and 1000 not in set(copy.ids())

    copy.save(tmp_path)
    loaded = VectorStore.load(tmp_path)
    assert loaded.is_ivf and loaded.nprobe == copy.nprobe
    assert loaded.search(matrix[7], 10) == copy.search(matrix[7], 10)


def test_shrinking_below_the_threshold_goes_back_to_exact() -> None:
    matrix = clustered(2_000)
    ivf, _, _ = fit(flat_store(matrix), threshold=1_000, target_recall=0.95, sample=100)
    ivf.remove(list(range(1000, 2500)))
    exact, info, _ = fit(ivf, threshold=1_000, target_recall=0.95, sample=100, trained_on=2_000)
    assert not exact.is_ivf and info.nlist is None
    assert sorted(exact.ids()) == list(range(2500, 3000))
    assert np.array_equal(exact.reconstruct([2500]), matrix[[1500]])


@pytest.mark.parametrize(("added", "retrained"), [(1_000, False), (7_000, True)])
def test_the_quantizer_is_reused_until_the_index_outgrows_it(added: int, retrained: bool) -> None:
    matrix = clustered(2_000 + added)
    ivf, first, _ = fit(flat_store(matrix[:2_000]), threshold=1_000, target_recall=0.95, sample=100)
    ivf.add(matrix[2_000:], np.arange(5_000, 5_000 + added))
    _, info, _ = fit(ivf, threshold=1_000, target_recall=0.95, sample=100, trained_on=2_000)
    assert (info.trained_on == 2_000 + added) is retrained
    assert (info.nlist == first.nlist) is not retrained
    assert info.recall_at_10 is not None and info.recall_at_10 >= 0.95


def test_recall_at_k_by_hand() -> None:
    """Query id 100 left out of its own lists; exact others: 1..10. The approximate search
    found 1..8, id 11 with id 10's score (a duplicate of it) and id 12 far away: 9 of 10."""
    scores = np.linspace(1.0, 0.5, 11).astype(np.float32)
    exact_ids = np.array([[100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])
    exact_scores = scores.reshape(1, -1)
    found = np.array([[100, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12]])
    found_scores = np.array([[*scores[:9], scores[10], 0.0]], dtype=np.float32)
    got = recall_at_k(np.array([100]), exact_ids, exact_scores, found, found_scores)
    assert got == pytest.approx(0.9)


def test_a_large_build_is_ivf_and_searches_like_exact(
    tmp_path: Path, settings: Settings, embedder: HashEmbedder
) -> None:
    corpus = write_corpus(
        tmp_path / "c.jsonl",
        [{"id": f"s{i}", "title": f"T{i}", "text": synthetic_text(i)} for i in range(300)],
    )
    exact_settings = settings.updated(index_dir=tmp_path / "exact")
    ivf_settings = settings.updated(ann_threshold=100, ann_target_recall=1.0, ann_sample=50)
    build_index(exact_settings, add=[str(corpus)], embedder=embedder)
    build_index(ivf_settings, add=[str(corpus)], embedder=embedder)
    status = index_info(ivf_settings)
    info = status.manifest.vectors
    assert info.nlist is not None and info.recall_at_10 == info.question_recall_at_10 == 1.0
    assert any(label == "vectors" and "approximate" in value for label, value in status.rows())
    reader = IndexReader.open(ivf_settings.index.dir)
    assert isinstance(reader.vectors, VectorStore) and reader.vectors.is_ivf
    assert len(reader.vectors) == info.count == reader.manifest.passages

    query = "Item42 sentence 3 mentions council police"
    got = Searcher(reader, ivf_settings.search, embedder).search(query, mode="dense")
    exact_reader = IndexReader.open(exact_settings.index.dir)
    want = Searcher(exact_reader, exact_settings.search, embedder).search(query, mode="dense")
    assert [h.passage_id for h in got] == [h.passage_id for h in want]

    # An incremental build edits the IVF copy and keeps its quantizer.
    more = write_corpus(
        tmp_path / "more.jsonl",
        [{"id": f"n{i}", "title": f"N{i}", "text": synthetic_text(1000 + i)} for i in range(3)],
    )
    before = embedder.texts_embedded
    build_index(ivf_settings, add=[str(more)], embedder=embedder)
    grown = IndexReader.open(ivf_settings.index.dir).manifest.vectors
    assert grown.trained_on == info.trained_on and grown.count > info.count
    # The new passages only: the recall is measured again on the first build's sample and
    # probes, kept with the version, their exact neighbours carried through the 3 added.
    assert embedder.texts_embedded - before == grown.count - info.count
    assert grown.recall_queries == 50 and grown.question_recall_at_10 is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 2), (2, 3), (3, 4), (4, 6), (6, 8), (8, 12), (12, 16), (16, 24), (128, 192), (192, 256)],
)
def test_search_parameters_grow_by_half_and_a_third_in_turn(value: int, expected: int) -> None:
    assert next_step(value) == expected


def test_question_probes_can_ask_for_more_lists_than_passages() -> None:
    """Queries pointing between the clusters (as questions do, measured at 1M) need more lists
    than the indexed vectors; the build probes until both reach the target."""
    matrix = clustered(4_000)
    asked: list[np.ndarray] = []

    def between(ids: np.ndarray) -> np.ndarray:
        asked.append(ids)
        rows = ids - 1000
        mixed: np.ndarray = (
            matrix[rows] + matrix[(rows * 7 + 13) % 4000] + matrix[(rows * 3) % 4000]
        )
        faiss.normalize_L2(mixed)
        return mixed

    _, passages_only, _ = fit(flat_store(matrix), threshold=1_000, target_recall=0.95, sample=200)
    _, both, _ = fit(
        flat_store(matrix), threshold=1_000, target_recall=0.95, sample=200, questions=between
    )
    assert passages_only.question_recall_at_10 is None
    assert both.nprobe is not None and passages_only.nprobe is not None
    assert both.nprobe > passages_only.nprobe
    assert both.recall_at_10 is not None and both.recall_at_10 >= 0.95
    assert both.question_recall_at_10 is not None and both.question_recall_at_10 >= 0.95
    (ids,) = asked  # once per build, for the sampled passages
    assert len(ids) == 200 and set(ids.tolist()) <= set(range(1000, 5000))
    assert "short questions" in both.describe()


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([""], ["What?"]),
        (["Police"], ["What Police?"]),
        (["Minneapolis police deny it"], ["What police deny it?"]),  # seeded choice, in order
        (["x_1 2024 42 over"], ["What x_1 over?"]),  # a word starts with a letter
        (["a b c", "d e f", "g h i"], ["What a b c?", "Why d e f?", "How g h i?"]),
        (["Über café naïve"], ["What Über café naïve?"]),
    ],
)
def test_question_probes_are_a_question_word_and_three_words_in_order(
    texts: list[str], expected: list[str]
) -> None:
    assert probe_questions(texts) == expected


@pytest.mark.parametrize(
    ("needed", "first", "chosen", "tried"),
    [
        (6, None, 6, [1, 2, 3, 4, 6]),  # a new index walks up from 1
        (6, 8, 6, [8, 6, 4]),  # the last version's value holds: walk down until it fails
        (6, 4, 6, [4, 6]),  # it no longer holds: walk up
        (6, 5, 6, [6, 4]),  # a guess between steps starts at the next step
        (1, 2, 1, [2, 1]),  # down to the first step
        (100, None, 64, [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]),  # the limit, short of it
    ],
)
def test_tuning_finds_the_least_step_that_reaches_the_target(
    needed: int, first: int | None, chosen: int, tried: list[int]
) -> None:
    """A fake search that returns the exact neighbours only from `needed` on."""
    matrix = clustered(300)
    ids = np.arange(300, dtype=np.int64)
    applied: list[int] = []

    def search_many(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, rows = faiss.knn(queries, matrix, k, metric=faiss.METRIC_INNER_PRODUCT)
        if applied[-1] >= needed:
            return ids[rows], scores
        return (ids[rows] + 150) % 300, np.zeros_like(scores)  # wrong neighbours

    got = tune(search_many, applied.append, 1, 64, draw(ids, matrix, 50, None), 0.95, first)
    assert got.value == chosen and applied[:-1] == tried and applied[-1] == chosen
    assert (got.recall >= 0.95) is (needed <= 64) and got.question_recall is None


def test_questions_never_found_keep_the_tuning_walking_to_the_limit() -> None:
    """A question recall of 0 is a miss, not a missing measurement."""
    matrix = clustered(300)
    ids = np.arange(300, dtype=np.int64)
    asked = -matrix[:50]
    applied: list[int] = []

    def search_many(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, rows = faiss.knn(queries, matrix, k, metric=faiss.METRIC_INNER_PRODUCT)
        if np.array_equal(queries, asked):
            return np.full_like(rows, -1), np.full_like(scores, -1.0)  # nothing found
        return ids[rows], scores

    drawn = draw(ids, matrix, 50, lambda _: asked)
    got = tune(search_many, applied.append, 1, 8, drawn, 0.95)
    assert got.value == 8 and applied[:-1] == [1, 2, 3, 4, 6, 8]
    assert got.recall == 1.0 and got.question_recall == 0.0


def test_one_query_searched_alone_finds_what_it_finds_in_a_batch() -> None:
    """A lone query is searched with its lists split over the threads, a batch by query."""
    matrix = clustered(3_000)
    store, _, _ = fit(flat_store(matrix), threshold=1_000, target_recall=0.95, sample=100)
    assert store.is_ivf
    queries = clustered(20, seed=4)
    batch_ids, batch_scores = store.search_many(queries, 10)
    for row, query in enumerate(queries):
        ids, scores = store.search(query, 10)
        assert ids == batch_ids[row].tolist()
        np.testing.assert_allclose(scores, batch_scores[row], rtol=0, atol=1e-6)
