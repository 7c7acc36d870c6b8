"""BM25 over one index version's passages (bm25s, English stemming and stopwords)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rag.errors import IndexCorruptError
from rag.text import titled

BM25_DIR = "bm25"
_IDS_FILE = "vec_ids.npy"
_TOKENS_FILE = "tokens.npz"


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lowercased, stopword-free, stemmed tokens, identical for passages and queries."""
    import bm25s

    tokens = bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return [list(t) for t in tokens]


def _tokenizer_id() -> str:
    """What produced the tokens: a cache from another tokenizer is not reused."""
    import bm25s
    import Stemmer

    return f"bm25s {bm25s.__version__}; PyStemmer {Stemmer.version()}; english; stopwords en"


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class Tokens(NamedTuple):
    """Every row's token ids (into `vocab`), keyed by a hash of the text they came from.

    Kept beside the BM25 model so the next build tokenizes only texts it has not seen: at 10k
    passages tokenizing everything again was half the time a 1% rebuild spent outside the
    encoder (CHANGELOG.md)."""

    vocab: list[str]
    keys: list[bytes]
    offsets: np.ndarray[Any, np.dtype[np.int64]]
    ids: np.ndarray[Any, np.dtype[np.int32]]

    def save(self, path: Path) -> None:
        np.savez(
            path,
            tokenizer=np.array(_tokenizer_id()),
            # JSON bytes: a fixed-width string array would pad every word to the longest
            vocab=np.frombuffer(json.dumps(self.vocab).encode("utf-8"), dtype=np.uint8),
            # raw bytes: an "S16" array would drop a digest's trailing zero bytes
            keys=np.frombuffer(b"".join(self.keys), dtype=np.uint8).reshape(-1, 16),
            offsets=self.offsets,
            ids=self.ids,
        )

    @classmethod
    def load(cls, folder: Path) -> Tokens | None:
        """A version's tokens, or None where there are none to trust (an index from before
        the cache, another tokenizer, an unreadable file): the build then tokenizes all."""
        try:
            with np.load(folder / BM25_DIR / _TOKENS_FILE, allow_pickle=False) as data:
                if str(data["tokenizer"]) != _tokenizer_id():
                    return None
                keys = [row.tobytes() for row in data["keys"]]
                vocab = json.loads(data["vocab"].tobytes().decode("utf-8"))
                return cls(vocab, keys, data["offsets"], data["ids"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None


def token_ids(texts: list[str], known: Tokens | None) -> Tokens:
    """Tokens of `texts`, tokenizing only those `known` lacks; the vocabulary holds exactly the
    tokens in use, so words of deleted texts do not linger."""
    keys = [_text_key(t) for t in texts]
    row_of = {k: i for i, k in enumerate(known.keys)} if known else {}
    rows = np.fromiter((row_of.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
    return _gather(known, rows, keys, [texts[i] for i in np.flatnonzero(rows < 0).tolist()])


def _gather(
    known: Tokens | None,
    rows: np.ndarray[Any, np.dtype[np.int64]],
    keys: list[bytes],
    new: list[str],
) -> Tokens:
    """Tokens row by row: `known`'s row `rows[i]`, or where that is -1 the next of the `new`
    texts, tokenized. Known rows are gathered in array operations (per-text Python lists cost
    2.4 s at 100k)."""
    vocab: dict[str, int] = {t: i for i, t in enumerate(known.vocab)} if known else {}
    have, missing = np.flatnonzero(rows >= 0), np.flatnonzero(rows < 0)
    fresh = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokenize(new)] if new else []
    lengths = np.zeros(len(keys), dtype=np.int64)
    lengths[missing] = [len(d) for d in fresh]
    if known is not None:
        lengths[have] = np.diff(known.offsets)[rows[have]]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.empty(int(offsets[-1]), dtype=np.int32)
    if known is not None and len(have):
        counts = lengths[have]
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        source = np.repeat(known.offsets[rows[have]], counts) + within
        flat[np.repeat(offsets[have], counts) + within] = known.ids[source]
    for i, doc in zip(missing.tolist(), fresh, strict=True):
        flat[offsets[i] : offsets[i + 1]] = doc
    used = np.unique(flat)
    remap = np.zeros(len(vocab), dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    words = list(vocab)
    return Tokens([words[u] for u in used.tolist()], keys, offsets, remap[flat])


def bm25_matrix(tokens: Tokens, k1: float, b: float) -> dict[str, Any]:
    """bm25s's Lucene-variant score matrix (CSC, documents by vocabulary) from flat token ids,
    in array operations where bm25s counts each document in a Python loop (0.3 s of a 10k
    passage build, most of what a 1% rebuild spent on BM25 once tokens were reused)."""
    n_docs, n_vocab = len(tokens.keys), len(tokens.vocab)
    lengths = np.diff(tokens.offsets)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique(doc * n_vocab + tokens.ids, return_counts=True)  # by document, token
    rows, cols = pairs // n_vocab, pairs % n_vocab
    df = np.bincount(cols, minlength=n_vocab)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm = k1 * ((1 - b) + b * lengths[rows] / lengths.mean())
    data = (idf[cols] * (tf / (norm + tf))).astype(np.float32)
    order = np.argsort(cols, kind="stable")  # column-major, documents ascending within each
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    return {
        "data": data[order],
        "indices": rows[order].astype(np.int32),
        "indptr": indptr,
        "num_docs": n_docs,
    }


@cache
def _bm25_class() -> Any:
    """bm25s.BM25 (Lucene scoring, its defaults) with its documented override point,
    `build_index_from_ids`, taking `Tokens`."""
    import bm25s

    class FlatBM25(bm25s.BM25):  # type: ignore[misc]
        def build_index_from_ids(
            self, unique_token_ids: Any, corpus_token_ids: Tokens, **_: Any
        ) -> dict[str, Any]:
            self.nonoccurrence_array = None  # only BM25L and BM25+ use one
            return bm25_matrix(corpus_token_ids, self.k1, self.b)

    return FlatBM25


class LexicalIndex:
    """A bm25s model plus the FAISS id of each of its rows (and, after a build, their tokens)."""

    def __init__(
        self,
        model: Any,
        vec_ids: np.ndarray[Any, np.dtype[np.int64]],
        tokens: Tokens | None = None,
    ) -> None:
        self.model = model
        self.vec_ids = vec_ids
        self.tokens = tokens

    @classmethod
    def build(
        cls,
        rows: Iterable[tuple[int, str, str]],
        with_titles: bool,
        previous: Path | None = None,
    ) -> LexicalIndex:
        """Index (vec_id, title, text) rows, reusing the tokens saved in the `previous` version
        folder for texts it already had."""
        ids: list[int] = []
        texts: list[str] = []
        for vec_id, title, text in rows:
            ids.append(vec_id)
            texts.append(titled(title, text, with_titles))
        tokens = token_ids(texts, Tokens.load(previous) if previous is not None else None)
        return cls.of_tokens(np.asarray(ids, dtype=np.int64), tokens)

    @classmethod
    def extend(
        cls,
        previous: Path,
        removed: np.ndarray[Any, np.dtype[np.int64]],
        added: list[tuple[int, str]],
        ids: np.ndarray[Any, np.dtype[np.int64]],
    ) -> LexicalIndex | None:
        """The `previous` version folder's rows less `removed`, plus `added` (vec_id, text
        embedded) rows: only the added texts are read and tokenized, where `build` reads every
        passage from SQLite to find its saved tokens (9.7 s of a +1% build at 1M). `ids` are
        the new version's vec ids in order, from SQLite; None where the saved rows cannot be
        trusted to give them (no tokens, rows that disagree): then `build` from SQLite."""
        known = Tokens.load(previous)
        try:
            before = np.load(previous / BM25_DIR / _IDS_FILE)
        except (OSError, ValueError):
            return None
        if known is None or len(before) != len(known.keys):
            return None
        kept = np.flatnonzero(~np.isin(before, removed))
        merged = np.concatenate([before[kept], np.array([v for v, _ in added], dtype=np.int64)])
        order = np.argsort(merged, kind="stable")
        if not np.array_equal(merged[order], ids):
            return None
        rows = np.full(len(order), -1, dtype=np.int64)
        carried = order < len(kept)
        rows[carried] = kept[order[carried]]
        new = [added[i][1] for i in (order[~carried] - len(kept)).tolist()]
        fresh = iter([_text_key(t) for t in new])
        keys = [known.keys[r] if r >= 0 else next(fresh) for r in rows.tolist()]
        return cls.of_tokens(ids, _gather(known, rows, keys, new))

    @classmethod
    def of_tokens(cls, ids: np.ndarray[Any, np.dtype[np.int64]], tokens: Tokens) -> LexicalIndex:
        """A bm25s model over these rows' tokens."""
        from bm25s.tokenization import Tokenized

        model = _bm25_class()()
        if len(ids):
            vocab = {t: i for i, t in enumerate(tokens.vocab)}
            model.index(Tokenized(ids=tokens, vocab=vocab), show_progress=False)
        return cls(model, ids, tokens)

    def save(self, folder: Path) -> None:
        """Write into a version folder."""
        target = folder / BM25_DIR
        target.mkdir()
        np.save(target / _IDS_FILE, self.vec_ids)
        if self.tokens is not None:
            self.tokens.save(target / _TOKENS_FILE)
        if len(self.vec_ids):
            self.model.save(str(target), show_progress=False)
        else:
            (target / "empty.json").write_text(json.dumps({"empty": True}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read a version's BM25 index."""
        import bm25s

        target = folder / BM25_DIR
        try:
            vec_ids = np.load(target / _IDS_FILE)
            model = (
                bm25s.BM25.load(str(target), show_progress=False) if len(vec_ids) else bm25s.BM25()
            )
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"cannot read BM25 index in {target}: {exc}; mend it with `rag index verify --mend`"
            ) from exc
        return cls(model, vec_ids)

    def __len__(self) -> int:
        return len(self.vec_ids)

    def search(self, query: str, k: int) -> tuple[list[int], list[float]]:
        """Top-k FAISS ids and BM25 scores; a query of stopwords only finds nothing.

        Scores come straight from bm25s's sparse matrix and the top k from one argpartition:
        0.6 ms at 100k passages where `BM25.retrieve` takes 5.2 ms for the same ranking."""
        tokens = tokenize([query])[0]
        vocab = self.model.vocab_dict if len(self) else {}
        ids = [vocab[t] for t in tokens if t in vocab]
        if not ids or k <= 0:
            return [], []
        scores = self.model.get_scores_from_ids(ids)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # ties by row: the same order every run
        keep = top[scores[top] > 0]
        return [int(self.vec_ids[row]) for row in keep], [float(scores[row]) for row in keep]
