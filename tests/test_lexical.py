"""BM25: the array-built score matrix equals bm25s's own, and a build reuses saved tokens."""

from __future__ import annotations

import math
from pathlib import Path

import bm25s
import numpy as np
import pytest
from helpers.data import synthetic_text

import rag.store.lexical as lexical
from rag.store.lexical import LexicalIndex, Tokens, token_ids, tokenize


def rows(texts: list[str], first_id: int = 0) -> list[tuple[int, str, str]]:
    return [(first_id + i, "", t) for i, t in enumerate(texts)]


def dense(
    scores: dict[str, np.ndarray], vocab: dict[str, int], n_docs: int
) -> dict[str, list[float]]:
    """Each word's column of a CSC score matrix, keyed by the word (vocab ids differ)."""
    out = {}
    for word, col in vocab.items():
        if col + 1 >= len(scores["indptr"]):
            continue  # bm25s's empty token "" has no column
        column = np.zeros(n_docs, dtype=np.float32)
        start, stop = scores["indptr"][col], scores["indptr"][col + 1]
        column[scores["indices"][start:stop]] = scores["data"][start:stop]
        out[word] = column.tolist()
    return out


CORPORA = {
    "distinct words": ["apple banana", "cherry date", "elder fig grape"],
    "repeats and shared words": ["apple apple banana", "banana cherry", "apple cherry cherry"],
    "a stopword-only text": ["the of and", "harbor festival opened", "festival harbor harbor"],
    "synthetic passages": [synthetic_text(i, sentences=4) for i in range(30)],
}


@pytest.mark.parametrize("texts", CORPORA.values(), ids=CORPORA.keys())
def test_matrix_equals_bm25s_own(texts: list[str]) -> None:
    ours = LexicalIndex.build(rows(texts), with_titles=False).model
    theirs = bm25s.BM25()
    theirs.index(tokenize(texts), show_progress=False)
    assert dense(ours.scores, ours.vocab_dict, len(texts)) == dense(
        theirs.scores, theirs.vocab_dict, len(texts)
    )


def test_hand_worked_scores() -> None:
    # "apple apple banana" / "banana cherry": N=2, lengths 3 and 2, average 2.5.
    # idf(df=1) = ln(1 + 1.5/1.5) = ln 2; idf(df=2) = ln(1 + 0.5/2.5) = ln 1.2.
    # "appl" in doc 0: tf 2, norm 1.5 * (0.25 + 0.75 * 3/2.5) = 1.725, score ln2 * 2/3.725.
    # "banana" in doc 1: tf 1, norm 1.5 * (0.25 + 0.75 * 2/2.5) = 1.275, score ln1.2 * 1/2.275.
    index = LexicalIndex.build(rows(["apple apple banana", "banana cherry"]), with_titles=False)
    ids, scores = index.search("apple", 5)
    assert ids == [0] and scores == pytest.approx([math.log(2) * 2 / 3.725], rel=1e-6)
    ids, scores = index.search("banana", 5)
    doc0 = math.log(1.2) * 1 / (1.725 + 1)
    doc1 = math.log(1.2) * 1 / (1.275 + 1)
    assert ids == [1, 0] and scores == pytest.approx([doc1, doc0], rel=1e-6)


def test_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    index = LexicalIndex.build([], with_titles=False)
    assert index.tokens is not None and index.tokens.vocab == [] and index.tokens.keys == []
    assert index.search("anything", 5) == ([], [])
    back = LexicalIndex.load(saved(index, tmp_path / "v1"))
    assert len(back) == 0 and back.search("anything", 5) == ([], [])


def saved(index: LexicalIndex, folder: Path) -> Path:
    folder.mkdir()
    index.save(folder)
    return folder


def test_a_build_tokenizes_only_texts_the_previous_lacks(
    tmp_path: Path, count_tokenized: list[int]
) -> None:
    texts = [synthetic_text(i, sentences=3) for i in range(60)]
    first = saved(LexicalIndex.build(rows(texts[:50]), False), tmp_path / "v1")
    count_tokenized.clear()
    later = rows(texts[10:60], first_id=10)  # 10 gone, 10 new
    reused = LexicalIndex.build(later, False, previous=first)
    assert count_tokenized == [10]
    fresh = LexicalIndex.build(later, False)
    for query in ("Item3 sentence", "Item55 harbor", "election", "Item12"):
        assert reused.search(query, 20) == fresh.search(query, 20)
    assert reused.tokens is not None and fresh.tokens is not None
    assert sorted(reused.tokens.vocab) == sorted(fresh.tokens.vocab)  # gone words dropped


@pytest.mark.parametrize(
    ("spoil", "expect_reuse"),
    [
        (None, True),
        ("garbage", False),
        ("truncated", False),
        ("missing", False),
        ("other tokenizer", False),
    ],
)
def test_saved_tokens_are_used_only_when_they_can_be_trusted(
    tmp_path: Path,
    count_tokenized: list[int],
    monkeypatch: pytest.MonkeyPatch,
    spoil: str | None,
    expect_reuse: bool,
) -> None:
    texts = [synthetic_text(i, sentences=3) for i in range(20)]
    folder = saved(LexicalIndex.build(rows(texts), False), tmp_path / "v1")
    path = folder / lexical.BM25_DIR / "tokens.npz"
    if spoil == "garbage":
        path.write_bytes(b"not a zip file")
    elif spoil == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif spoil == "missing":
        path.unlink()
    elif spoil == "other tokenizer":
        monkeypatch.setattr(lexical, "_tokenizer_id", lambda: "another tokenizer")
    count_tokenized.clear()
    index = LexicalIndex.build(rows(texts), False, previous=folder)
    assert count_tokenized == ([] if expect_reuse else [20])
    assert index.search("Item7 sentence", 3)[0][0] == 7


def test_tokens_round_trip_keeps_keys_ending_in_zero(tmp_path: Path) -> None:
    tokens = Tokens(
        vocab=["harbor", "festiv", "wörd"],
        keys=[b"\x01" * 15 + b"\x00", b"\x00" * 16],
        offsets=np.array([0, 2, 3], dtype=np.int64),
        ids=np.array([0, 1, 2], dtype=np.int32),
    )
    folder = tmp_path / "v"
    (folder / lexical.BM25_DIR).mkdir(parents=True)
    tokens.save(folder / lexical.BM25_DIR / "tokens.npz")
    back = Tokens.load(folder)
    assert back is not None
    assert back.vocab == tokens.vocab and back.keys == tokens.keys
    assert back.offsets.tolist() == [0, 2, 3] and back.ids.tolist() == [0, 1, 2]


def words_per_text(tokens: Tokens) -> list[list[str]]:
    ends = tokens.offsets.tolist()
    return [
        [tokens.vocab[i] for i in tokens.ids[ends[n] : ends[n + 1]].tolist()]
        for n in range(len(tokens.keys))
    ]


@pytest.mark.parametrize(
    ("before", "now"),
    [
        (["harbor festival", "police council"], ["harbor festival", "police council"]),  # all known
        ([], ["harbor festival", "police council"]),  # none known
        (["harbor festival", "old words gone"], ["police council", "harbor festival"]),  # some
        (["harbor festival"], ["harbor festival", "harbor festival", "new text"]),  # repeated
        (["the of and", ""], ["", "the of and", "harbor"]),  # texts without tokens
        (["a b", "a b"], ["a b", "c"]),  # a duplicate among the saved ones
    ],
)
def test_reused_tokens_equal_tokenizing_afresh(before: list[str], now: list[str]) -> None:
    known = token_ids(before, None) if before else None
    reused, fresh = token_ids(now, known), token_ids(now, None)
    assert words_per_text(reused) == words_per_text(fresh) == [tokenize([t])[0] for t in now]
    assert reused.keys == fresh.keys and np.array_equal(reused.offsets, fresh.offsets)
    assert sorted(reused.vocab) == sorted(fresh.vocab)  # words only gone texts used are dropped


TEXTS = [synthetic_text(i, sentences=3) for i in range(40)]


@pytest.mark.parametrize(
    ("removed", "added", "tokenized"),
    [
        ([], [], 0),  # nothing changed
        ([], [(100, TEXTS[30]), (5_000, TEXTS[31])], 2),  # added after and among the rows
        ([3, 7, 19], [], 0),  # removed only
        ([4, 9], [(4, "police council harbor"), (9, TEXTS[9])], 2),  # changed: same ids
        (list(range(20)), [(1, TEXTS[32])], 1),  # every row replaced
    ],
)
def test_extending_equals_building_from_sqlite(
    tmp_path: Path,
    count_tokenized: list[int],
    removed: list[int],
    added: list[tuple[int, str]],
    tokenized: int,
) -> None:
    before = {i: TEXTS[i] for i in range(20)}
    folder = saved(LexicalIndex.build(rows(list(before.values())), False), tmp_path / "v1")
    now = {i: t for i, t in before.items() if i not in removed} | dict(added)
    ids = np.array(sorted(now), dtype=np.int64)
    count_tokenized.clear()
    extended = LexicalIndex.extend(folder, np.array(removed, dtype=np.int64), added, ids)
    assert extended is not None and sum(count_tokenized) == tokenized
    built = LexicalIndex.build([(i, "", now[i]) for i in ids.tolist()], False)
    assert extended.vec_ids.tolist() == built.vec_ids.tolist() == ids.tolist()
    assert extended.tokens is not None and built.tokens is not None
    assert words_per_text(extended.tokens) == words_per_text(built.tokens)
    assert extended.tokens.keys == built.tokens.keys
    for query in ("Item3 sentence", "Item31 harbor", "police council", "election"):
        assert extended.search(query, 10) == built.search(query, 10)


@pytest.mark.parametrize(
    "spoil",
    ["no tokens saved", "no row ids saved", "rows and tokens disagree", "SQLite has another id"],
)
def test_extending_declines_rows_it_cannot_trust(tmp_path: Path, spoil: str) -> None:
    folder = saved(LexicalIndex.build(rows(TEXTS[:20]), False), tmp_path / "v1")
    bm25 = folder / lexical.BM25_DIR
    ids = np.arange(21, dtype=np.int64)
    if spoil == "no tokens saved":
        (bm25 / "tokens.npz").unlink()
    elif spoil == "no row ids saved":
        (bm25 / "vec_ids.npy").unlink()
    elif spoil == "rows and tokens disagree":
        np.save(bm25 / "vec_ids.npy", np.arange(19, dtype=np.int64))
    else:
        ids[5] = 500
    added = [(20, TEXTS[20])]
    assert LexicalIndex.extend(folder, np.zeros(0, dtype=np.int64), added, ids) is None
