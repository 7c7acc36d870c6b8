"""FAISS and Milvus (Lite) side by side at one size: indexing, +1% and -1%, query latency.

    python bench/scale.py --sizes 100000 --ann-size 0 --work /tmp/scalework   # once: corpus
    python bench/stores.py --work /tmp/scalework/100000                          # this

The two stores are fed the same vectors: the embeddings of the reference index that
bench/scale.py built in WORK/index with the packaged MiniLM, looked up by text, so each build
times what the store and the rest of the pipeline cost (chunking, SQLite, BM25, the vectors,
the ANN layout and its recall measurement) and not the encoder, which is the same for both and
measured by bench/scale.py. Without WORK/index the reference is built first, with the real
encoder (~25 min per 100k passages here). Each step runs in its own process (its peak RSS is
its own; it includes the reference vectors the lookup holds, the same for both stores).
Prints a table and writes bench/results/stores.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    in_child,
    peak_mb,
    percentiles,
    questions,
    sentences,
    step_build,
    write_corpus,
)

RESULTS = Path(__file__).resolve().parent / "results"


class CachedEmbedder:
    """The reference index's vectors for texts it embedded; the real encoder for any other."""

    def __init__(self, reference: Path) -> None:
        from rag.store import IndexReader

        self.reader = IndexReader.open(reference)
        self.model_id = self.reader.manifest.embedding.model_id
        self.dimension = self.reader.vectors.dimension
        self.misses = 0
        self._encoder: Any = None

    def plan(self, texts: list[str]) -> list[int]:
        """Nothing to prepare: most texts are looked up, not encoded."""
        return list(range(len(texts)))

    def encode(self, texts: list[str]) -> np.ndarray:
        from rag.types import sha256_hex

        digests = {sha256_hex(t): t for t in texts}
        found = self.reader.meta.vec_ids_by_embed_hash(digests)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        hashes = [sha256_hex(t) for t in texts]
        hit_rows = [i for i, h in enumerate(hashes) if h in found]
        if hit_rows:
            out[hit_rows] = self.reader.vectors.reconstruct([found[hashes[i]] for i in hit_rows])
        miss_rows = [i for i, h in enumerate(hashes) if h not in found]
        if miss_rows:
            if self._encoder is None:
                from rag.config import load_settings
                from rag.embed.encoder import load_embedder

                self._encoder = load_embedder(load_settings())
            out[miss_rows] = self._encoder.encode([texts[i] for i in miss_rows])
            self.misses += len(miss_rows)
        return out


def _settings(index_dir: str, store: str) -> Any:
    from rag.config import load_settings

    return load_settings(index_dir=Path(index_dir), store=store)


def step_store_build(
    index_dir: str, store: str, reference: str, add: str, remove: str
) -> dict[str, Any]:
    """A full build, or +1% (add) or -1% (remove) on it, with cached embeddings."""
    from rag.index.build import build_index
    from rag.store import IndexReader

    settings = _settings(index_dir, store)
    embedder = CachedEmbedder(Path(reference))
    start = time.perf_counter()
    report = build_index(
        settings,
        add=[add] if add else [],
        remove=[remove] if remove else [],
        embedder=embedder,
    )
    seconds = time.perf_counter() - start
    info = IndexReader.open(Path(index_dir)).manifest.vectors
    changed = report.passages.embedded + report.passages.reused + report.passages.deleted
    return {
        "seconds": round(seconds, 2),
        "total": report.passages.total,
        "changed": changed,
        "passages_per_s": round((changed or report.passages.total) / seconds, 1),
        "encoder_misses": embedder.misses,
        "peak_rss_mb": peak_mb(),
        "vectors": info.model_dump(exclude_none=True),
    }


def step_store_queries(index_dir: str, store: str, queries: list[str]) -> dict[str, Any]:
    """Search latency, warm: hybrid end to end (embed + vectors + BM25 + fusion + fetch), and
    the vector search alone for the same question vectors."""
    from rag.retrieve.search import open_searcher

    settings = _settings(index_dir, store)
    searcher = open_searcher(settings)
    embedder = searcher.embedder
    assert embedder is not None
    for q in queries[:20]:
        searcher.search(q)
    timed: dict[str, list[float]] = {"search": [], "vectors": []}
    for q in queries:
        start = time.perf_counter()
        searcher.search(q)
        timed["search"].append(time.perf_counter() - start)
    vectors = [embedder.encode([q])[0] for q in queries]
    for vector in vectors:
        start = time.perf_counter()
        searcher.reader.vectors.search(vector, settings.search.fusion_candidates)
        timed["vectors"].append(time.perf_counter() - start)
    return {"queries": len(queries), "peak_rss_mb": peak_mb(), **percentiles(timed)}


def ensure_reference(work: Path, size: int) -> None:
    """The corpus, +1% sources and the reference index, as bench/scale.py makes them."""
    if (work / "index" / "CURRENT").is_file():
        return
    print(f"no reference index in {work}: building one with the real encoder ...", flush=True)
    (work / "corpus").mkdir(parents=True, exist_ok=True)
    (work / "new").mkdir(exist_ok=True)
    pool = sentences()
    write_corpus(work / "corpus" / "part.jsonl", 0, size, pool, seed=size)
    write_corpus(work / "new" / "added.jsonl", size, max(1, size // 100), pool, seed=size + 1)
    in_child(step_build, str(work / "index"), str(work / "corpus"))
    in_child(step_build, str(work / "index"), str(work / "new"))


def run_store(store: str, work: Path, queries: list[str]) -> dict[str, Any]:
    index_dir = work / "stores" / store
    shutil.rmtree(index_dir, ignore_errors=True)
    ref, corpus, new = str(work / "index"), str(work / "corpus"), str(work / "new")
    steps = {
        "full_build": (corpus, ""),
        "add_1pct": (new, ""),
        "remove_1pct": ("", new),
    }
    out: dict[str, Any] = {}
    for name, (add, remove) in steps.items():
        print(f"[{store}] {name} ...", flush=True)
        out[name] = in_child(step_store_build, str(index_dir), store, ref, add, remove)
        print(f"[{store}] {name} {json.dumps(out[name])}", flush=True)
    print(f"[{store}] queries ...", flush=True)
    out["queries"] = in_child(step_store_queries, str(index_dir), store, queries)
    print(f"[{store}] queries {json.dumps(out['queries'])}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="folder of bench/scale.py's run")
    parser.add_argument("--size", type=int, default=100_000, help="passages, if no reference")
    parser.add_argument("--stores", nargs="+", default=["faiss", "milvus"])
    parser.add_argument("--out", type=Path, default=RESULTS / "stores.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ensure_reference(args.work, args.size)
    queries = questions()
    result: dict[str, Any] = {"work": str(args.work), "cpu_threads": os.cpu_count(), "stores": {}}
    for store in args.stores:
        result["stores"][store] = run_store(store, args.work, queries)
    print()
    print(f"{'':24}" + "".join(f"{s:>14}" for s in args.stores))
    rows = [
        ("full build s", "full_build", "seconds"),
        ("full build passages/s", "full_build", "passages_per_s"),
        ("full build peak MB", "full_build", "peak_rss_mb"),
        ("+1% build s", "add_1pct", "seconds"),
        ("-1% build s", "remove_1pct", "seconds"),
        ("search p50 ms", "queries", "search_p50_ms"),
        ("search p95 ms", "queries", "search_p95_ms"),
        ("vectors p50 ms", "queries", "vectors_p50_ms"),
        ("vectors p95 ms", "queries", "vectors_p95_ms"),
        ("query peak MB", "queries", "peak_rss_mb"),
    ]
    for label, step, key in rows:
        cells = "".join(f"{result['stores'][s][step][key]:>14}" for s in args.stores)
        print(f"{label:24}{cells}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
