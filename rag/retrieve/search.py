"""Retrieve: a question -> ranked passage hits, dense, BM25 or both fused (by score or rank)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from rag.config import SearchMode, SearchSettings, Settings
from rag.embed import Embedder, Vectors
from rag.embed.models import expected_model_id
from rag.errors import ConfigError
from rag.llm.model import ModelFactory
from rag.llm.providers import open_model
from rag.retrieve.decompose import Decomposer
from rag.retrieve.links import TitleLinks
from rag.store import IndexReader
from rag.types import Hit, Retriever

Ranking = tuple[list[int], list[float]]


def rrf(rankings: Sequence[list[int]], k: int) -> Ranking:
    """Reciprocal rank fusion: score(d) = sum over rankings of 1 / (k + rank of d), rank from 1.

    Ties keep the order of first appearance, so the fusion is deterministic.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    ordered = sorted(scores, key=lambda d: -scores[d])
    return ordered, [scores[d] for d in ordered]


def fuse_scores(rankings: Sequence[Ranking], weights: Sequence[float]) -> Ranking:
    """Convex combination: each ranking's scores divided by its best, weighted, summed; a
    document missing from a ranking gets 0 from it. A ranking whose best score is not
    positive (BM25 finding no query word) adds nothing.

    >>> fuse_scores([([1, 2], [0.8, 0.4]), ([2, 3], [6.0, 3.0])], [0.5, 0.5])
    ([2, 1, 3], [0.75, 0.5, 0.25])
    """
    scores: dict[int, float] = {}
    for (ids, values), weight in zip(rankings, weights, strict=True):
        best = max(values, default=0.0)
        for doc, value in zip(ids, values, strict=True):
            gain = weight * value / best if best > 0 else 0.0
            scores[doc] = scores.get(doc, 0.0) + gain
    ordered = sorted(scores, key=lambda d: -scores[d])
    return ordered, [scores[d] for d in ordered]


def after_head(ids: list[int], scores: list[float], head: int, extra: list[int], k: int) -> Ranking:
    """`extra` fused by reciprocal rank into `ids` below its first `head`, which keep their
    places and scores; the rest are scored 1/(k + rank) under the head's lowest score.

    >>> after_head([1, 2, 3], [0.9, 0.8, 0.7], 1, [4, 3], 60)[0]
    [1, 3, 2, 4]
    """
    top, rest = ids[:head], ids[head:]
    fused, values = rrf([rest, [d for d in extra if d not in top]], k)
    floor = min(scores[:head], default=1.0)
    scale = floor / max(values[0], 1e-12) * 0.999 if values else 0.0
    return top + fused, scores[:head] + [v * scale for v in values]


class Searcher:
    """Searches one opened index version with the encoder that built it."""

    def __init__(
        self,
        reader: IndexReader,
        settings: SearchSettings,
        embedder: Embedder | None,
        decomposer: Callable[[str], list[str]] | None = None,
    ) -> None:
        """`decomposer`: question -> further search queries, fused in by hybrid search
        (decompose.py)."""
        self.reader = reader
        self.settings = settings
        self.embedder = embedder
        self.decomposer = decomposer
        self._links: TitleLinks | None = None
        self._links_lock = threading.Lock()
        if embedder is not None:
            reader.check_model(embedder.model_id, embedder.dimension)

    @property
    def links(self) -> TitleLinks:
        """The version's title links, read from SQLite on first use (~1 s per 100k passages)."""
        with self._links_lock:
            if self._links is None:
                self._links = TitleLinks(self.reader.meta.iter_titles())
            return self._links

    def encode(self, query: str) -> Vectors:
        """The query's unit vector."""
        if self.embedder is None:
            raise ConfigError("dense and hybrid search need the embedding model; use --mode bm25")
        vector: Vectors = self.embedder.encode([query])[0]
        return vector

    def dense(self, query: str, n: int) -> Ranking:
        """Top-n by cosine similarity."""
        return self.reader.vectors.search(self.encode(query), n)

    def hybrid(self, query: str, n: int) -> Ranking:
        """Dense and BM25 fused (RAG_FUSION), then the passages of the sources the best few
        hits name (links.py), ranked by cosine and fused in below those hits."""
        vector = self.encode(query)
        dense, lexical = self.reader.vectors.search(vector, n), self.bm25(query, n)
        if self.settings.fusion == "rrf":
            ids, scores = rrf([dense[0], lexical[0]], self.settings.rrf_k)
        else:
            weight = self.settings.dense_weight
            ids, scores = fuse_scores([dense, lexical], [weight, 1.0 - weight])
        hops = self.settings.link_hits
        if not hops or not ids:
            return ids, scores
        rows = self.reader.meta.passages_by_vec_ids(ids[:hops])
        top = [(v, rows[v].passage.title, rows[v].passage.text) for v in ids[:hops]]
        linked = self.links.linked(top)
        if not linked:
            return ids, scores
        by_cosine = self.reader.vectors.reconstruct(linked) @ vector
        ranked = [linked[i] for i in np.argsort(-by_cosine, kind="stable")]
        # Below the hits they were found from: fused with them, a linked passage tied the
        # best hit and cost recall@1 on every set measured (docs/retrieval.md).
        return after_head(ids, scores, hops, ranked, self.settings.rrf_k)

    def bm25(self, query: str, n: int) -> Ranking:
        """Top-n by BM25."""
        return self.reader.lexical.search(query, n)

    def search(self, query: str, k: int | None = None, mode: SearchMode | None = None) -> list[Hit]:
        """The k best passages for `query`."""
        query = query.strip()
        if not query:
            raise ConfigError("the question is empty; type what you want to find")
        k = k or self.settings.k
        mode = mode or self.settings.mode
        retriever: Retriever
        if mode == "dense":
            ids, scores = self.dense(query, k)
            retriever = "dense"
        elif mode == "bm25":
            ids, scores = self.bm25(query, k)
            retriever = "bm25"
        else:
            n = max(k, self.settings.fusion_candidates)
            ids, scores = self.hybrid(query, n)
            if self.decomposer is not None:
                extra = [self.hybrid(q, n)[0] for q in self.decomposer(query)]
                if extra:
                    ids, scores = rrf([ids, *extra], self.settings.rrf_k)
            retriever = "fused"
        ids, scores = ids[:k], scores[:k]
        rows = self.reader.meta.passages_by_vec_ids(ids)
        hits: list[Hit] = []
        for vec_id, score in zip(ids, scores, strict=True):
            row = rows[vec_id]
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    score=round(score, 6),
                    retriever=retriever,
                    source_id=row.passage.source_id,
                    passage_id=row.passage.id,
                    title=row.passage.title,
                    text=row.passage.text,
                    start=row.passage.start,
                    end=row.passage.end,
                    url=row.url,
                    date=row.date,
                    path=row.path,
                )
            )
        return hits


def open_searcher(
    settings: Settings,
    embedder: Embedder | None = None,
    need_embedder: bool = True,
    models: ModelFactory = open_model,
) -> Searcher:
    """A searcher over the current version with `embedder` (default: the configured encoder,
    loaded after the manifest is checked against it, so a mismatch costs no model load) and,
    where RAG_DECOMPOSE asks for it, a decomposer on `models`' RAG_LLM_MODEL."""
    reader = IndexReader.open(settings.index.dir, settings.store.token)
    if need_embedder and embedder is None:
        reader.check_model(expected_model_id(settings.embed), reader.manifest.embedding.dimension)
        from rag.embed.encoder import load_embedder  # torch: imported only to encode

        embedder = load_embedder(settings)
    decomposer = None
    if settings.search.decompose:
        decomposer = Decomposer(models(settings.llm.model, settings))
    return Searcher(reader, settings.search, embedder if need_embedder else None, decomposer)
