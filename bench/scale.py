"""Indexing and query speed at 10k / 100k passages, and the IVF index's recall at 1M vectors.

    python bench/scale.py --sizes 10000 100000 --ann-size 1000000

For each size: a synthetic corpus of that many one-passage sources (real sentences from
../shared/data drawn at random, 50-90 words each, seeded), then, each step in its own process so
its memory peak is its own:
- full build with the packaged MiniLM (seconds, passages/s, time inside the encoder, peak RSS);
- the bare encoder on a sample of the same texts, same batch sizes (passages/s), before and
  after the build (the build is compared with their mean);
- query latency over the gold questions: embed + dense + BM25 + fusion + SQLite fetch (p50/p95);
- incremental build after adding 1% new sources, as a share of the full build;
- the FAISS layout the build chose, with its measured recall@10 against exact search.
Then the ANN check at --ann-size: encoding a million passages takes ~2.5 h here, so its vectors
are made from the largest size's real embeddings (each the normalized sum of two random ones: a
passage about two things), IVF-fitted exactly as a build would, and measured against exact
search. Prints a table and writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    RESULTS,
    in_child,
    peak_mb,
    questions,
    sentences,
    step_build,
    step_queries,
    write_corpus,
)


def step_bare_encoder(texts: list[str]) -> dict[str, Any]:
    """The encoder alone on the same texts, as a build drives it: the job's planned order
    (timed: ordering by token count is the encoder's work), in the builder's block size."""
    from rag.config import load_settings
    from rag.embed import embed_in_blocks
    from rag.embed.encoder import _INT8_MIN_JOB, load_embedder
    from rag.progress import Silent

    embedder = load_embedder(load_settings())
    embedder.plan(texts[:_INT8_MIN_JOB])  # the int8 copy (if any) before the clock
    embedder.encode(texts[:32])  # warm-up
    start = time.perf_counter()
    embed_in_blocks(embedder, texts, Silent())
    seconds = time.perf_counter() - start
    return {
        "texts": len(texts),
        "seconds": round(seconds, 2),
        "passages_per_s": round(len(texts) / seconds, 1),
        "peak_rss_mb": peak_mb(),
    }


def step_ann(index_dir: str, size: int) -> dict[str, Any]:
    """IVF at `size` vectors made from a real index's embeddings, fitted as a build would."""
    import faiss

    from rag.config import load_settings
    from rag.store import IndexReader
    from rag.store.ann import fit
    from rag.store.vectors import VectorStore

    settings = load_settings()
    _, real = IndexReader.open(Path(index_dir)).vectors.arrays()
    rng = np.random.default_rng(11)
    matrix = np.empty((size, real.shape[1]), dtype=np.float32)
    for first in range(0, size, 100_000):
        stop = min(size, first + 100_000)
        pairs = rng.integers(0, len(real), (stop - first, 2))
        matrix[first:stop] = real[pairs[:, 0]] + real[pairs[:, 1]]
    faiss.normalize_L2(matrix)
    flat = VectorStore.empty(matrix.shape[1])
    flat.add(matrix, np.arange(size, dtype=np.int64))
    start = time.perf_counter()
    # No texts behind these vectors, so no question probes: tuned on the vectors alone (the
    # recall of questions at 1M is bench/ann_real.py's).
    store, info, _ = fit(
        flat,
        settings.store.ann_threshold,
        settings.store.ann_target_recall,
        settings.store.ann_sample,
    )
    fit_seconds = time.perf_counter() - start
    queries = matrix[rng.integers(0, size, 200)]
    timings = {}
    for name, index in (("ivf", store), ("flat", flat)):
        values = []
        for q in queries:
            t0 = time.perf_counter()
            index.search(q, settings.search.fusion_candidates)
            values.append(time.perf_counter() - t0)
        timings[f"{name}_search_p50_ms"] = round(1000 * statistics.median(values), 2)
    return {
        "vectors": size,
        "made_from": len(real),
        "fit_seconds": round(fit_seconds, 1),
        "info": info.model_dump(),
        **timings,
        "peak_rss_mb": peak_mb(),
    }


def run_size(size: int, work: Path, pool: list[str], queries: list[str]) -> dict[str, Any]:
    """Every step at one corpus size."""
    folder = work / str(size)
    (folder / "corpus").mkdir(parents=True)
    (folder / "new").mkdir()
    texts = write_corpus(folder / "corpus" / "part.jsonl", 0, size, pool, seed=size)
    write_corpus(folder / "new" / "added.jsonl", size, max(1, size // 100), pool, seed=size + 1)
    index_dir = str(folder / "index")
    # The bare encoder runs before and after the build, and the build is compared with their
    # mean: this machine's speed drifts by 10-20% over minutes, and a build of 100k takes 20.
    sample = random.Random(3).sample(texts, min(size, 10_000))
    before = in_child(step_bare_encoder, sample)
    print(f"[{size}] bare encoder before {json.dumps(before)}", flush=True)
    print(f"[{size}] full build ...", flush=True)
    full = in_child(step_build, index_dir, str(folder / "corpus"))
    if full["total"] != size:
        sys.exit(f"the full build indexed {full['total']} of {size} passages: {full}")
    print(f"[{size}] {json.dumps(full)}", flush=True)
    bare = in_child(step_bare_encoder, sample)
    print(f"[{size}] bare encoder after {json.dumps(bare)}", flush=True)
    bare_rate = (before["passages_per_s"] + bare["passages_per_s"]) / 2
    query = in_child(step_queries, index_dir, queries)
    print(f"[{size}] queries {json.dumps(query)}", flush=True)
    incremental = in_child(step_build, index_dir, str(folder / "new"))
    print(f"[{size}] +1% {json.dumps(incremental)}", flush=True)
    return {
        "passages": size,
        "full_build": full,
        "bare_encoder_before": before,
        "bare_encoder": bare,
        "indexing_vs_bare_encoder": round(full["passages_per_s"] / bare_rate, 3),
        "queries": query,
        "incremental_1pct": incremental,
        "incremental_share_of_full": round(incremental["seconds"] / full["seconds"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--ann-size", type=int, default=1_000_000, help="0 skips the ANN check")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument(
        "--work", type=Path, help="keep corpora and indexes in this (new) folder, not a temp one"
    )
    args = parser.parse_args()
    pool, queries = sentences(), questions()
    result: dict[str, Any] = {"sizes": {}, "cpu_threads": __import__("os").cpu_count()}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.work or Path(scratch)
        for size in args.sizes:
            result["sizes"][str(size)] = run_size(size, Path(tmp), pool, queries)
        if args.ann_size:
            largest = str(max(args.sizes))
            print(f"[ann] {args.ann_size} vectors ...", flush=True)
            result["ann"] = in_child(step_ann, str(Path(tmp) / largest / "index"), args.ann_size)
            print(f"[ann] {json.dumps(result['ann'])}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
