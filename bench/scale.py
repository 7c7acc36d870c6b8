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
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
_PER_FILE = 10_000


def sentences() -> list[str]:
    """Every sentence of the shared corpora (the raw material of synthetic passages)."""
    out: list[str] = []
    for name in ("hotpotqa", "squad2"):
        path = SHARED / name / "corpus.jsonl"
        if not path.is_file():
            sys.exit(f"{path} is missing; this benchmark draws its text from ../shared/data")
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            out += [s for s in re.split(r"(?<=[.!?])\s+", text) if 4 <= len(s.split()) <= 60]
    return out


def questions() -> list[str]:
    """The gold questions of both QA sets, as queries."""
    out = []
    for name in ("hotpotqa", "squad2"):
        for line in (SHARED / name / "gold.jsonl").read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["question"])
    return out


def write_corpus(path: Path, start: int, count: int, pool: list[str], seed: int) -> list[str]:
    """`count` one-passage sources in JSONL files of at most 10k lines (`path`, then `path`
    with -1, -2 ... before the suffix), well under RAG_MAX_FILE_MB; returns their texts."""
    rng = random.Random(seed)
    texts = []
    for part, first in enumerate(range(start, start + count, _PER_FILE)):
        name = path if part == 0 else path.with_name(f"{path.stem}-{part}{path.suffix}")
        with name.open("w", encoding="utf-8") as out:
            for i in range(first, min(start + count, first + _PER_FILE)):
                words: list[str] = []
                target = rng.randint(50, 90)
                while len(words) < target:
                    words += rng.choice(pool).split()
                text = " ".join(words[:90])
                texts.append(text)
                out.write(json.dumps({"id": f"syn-{i}", "title": f"Synthetic {i}", "text": text}))
                out.write("\n")
    return texts


def peak_mb() -> float:
    """Peak resident memory of this process (Linux reports kB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run one step in a fresh process, so its memory peak is its own."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


class TimedEmbedder:
    """The real encoder, counting the seconds spent inside it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.calls: list[tuple[int, float]] = []  # (characters, seconds) of each encode call

    @property
    def model_id(self) -> str:
        return str(self.inner.model_id)

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    def encode(self, texts: list[str]) -> Any:
        start = time.perf_counter()
        try:
            return self.inner.encode(texts)
        finally:
            spent = time.perf_counter() - start
            self.seconds += spent
            self.calls.append((sum(len(t) for t in texts), spent))

    def rate_by_tenth(self) -> list[float]:
        """Thousands of characters/s inside the encoder in each tenth of the build's encode
        calls: a slower encoder late in a long build shows here, machine drift and all.
        Characters, not passages: the build encodes its shortest passages first."""
        tenth = max(1, -(-len(self.calls) // 10))
        parts = [self.calls[i : i + tenth] for i in range(0, len(self.calls), tenth)]
        return [round(sum(n for n, _ in p) / sum(t for _, t in p) / 1000, 1) for p in parts]

    def plan(self, texts: list[str]) -> list[int]:
        start = time.perf_counter()  # the int8 copy and the token count order: encoder time
        try:
            return list(self.inner.plan(texts))
        finally:
            self.seconds += time.perf_counter() - start


def step_build(index_dir: str, add: str) -> dict[str, Any]:
    """A build (full or incremental) with the real encoder; the model loads before the clock."""
    from rag.config import load_settings
    from rag.embed.encoder import load_embedder
    from rag.index.build import build_index

    settings = load_settings(index_dir=Path(index_dir))
    embedder = TimedEmbedder(load_embedder(settings))
    start = time.perf_counter()
    report = build_index(settings, add=[add], embedder=embedder)
    seconds = time.perf_counter() - start
    from rag.store import IndexReader

    vectors = IndexReader.open(Path(index_dir)).manifest.vectors
    return {
        "seconds": round(seconds, 2),
        "embedded": report.passages.embedded,
        "total": report.passages.total,
        "passages_per_s": round(report.passages.total / seconds, 1),
        "embedded_per_s": round(report.passages.embedded / seconds, 1),
        "encoder_seconds": round(embedder.seconds, 2),
        "outside_encoder_seconds": round(seconds - embedder.seconds, 2),
        "encoder_kchars_per_s_by_tenth": embedder.rate_by_tenth(),
        "peak_rss_mb": peak_mb(),
        "vectors": vectors.model_dump(),
    }


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


def step_queries(index_dir: str, queries: list[str]) -> dict[str, Any]:
    """End-to-end search latency (embed + FAISS + BM25 + fusion + fetch), warm."""
    from rag.config import load_settings
    from rag.retrieve.search import open_searcher

    settings = load_settings(index_dir=Path(index_dir))
    searcher = open_searcher(settings)
    embedder = searcher.embedder
    assert embedder is not None
    for q in queries[:20]:
        searcher.search(q)
    parts: dict[str, list[float]] = {"search": [], "encode": [], "dense": [], "bm25": []}
    for q in queries:
        start = time.perf_counter()
        searcher.search(q)
        parts["search"].append(time.perf_counter() - start)
    for q in queries:
        start = time.perf_counter()
        vector = embedder.encode([q])[0]
        parts["encode"].append(time.perf_counter() - start)
        start = time.perf_counter()
        searcher.reader.vectors.search(vector, settings.search.fusion_candidates)
        parts["dense"].append(time.perf_counter() - start)
        start = time.perf_counter()
        searcher.bm25(q, settings.search.fusion_candidates)
        parts["bm25"].append(time.perf_counter() - start)
    return {"queries": len(queries), "peak_rss_mb": peak_mb(), **percentiles(parts)}


def percentiles(timed: dict[str, list[float]]) -> dict[str, float]:
    """`<name>_p50_ms` and `<name>_p95_ms` of each list of seconds."""
    out: dict[str, float] = {}
    for name, values in timed.items():
        out[f"{name}_p50_ms"] = round(1000 * statistics.median(values), 2)
        out[f"{name}_p95_ms"] = round(1000 * float(np.percentile(values, 95)), 2)
    return out


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
        flat, settings.store.ann_threshold, settings.store.ann_target_recall, settings.store.ann_sample
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
