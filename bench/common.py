"""What the benchmarks share: the shared QA sets' sentences and questions as raw material,
synthetic corpora, steps run in a fresh process, timing summaries, and encoding a big job with
its vectors saved for the next run. Imported as `common` by the scripts beside it (a script's
folder is on sys.path when it runs)."""

from __future__ import annotations

import hashlib
import json
import random
import re
import resource
import statistics
import sys
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

_PART = 50_000


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


def percentiles(timed: dict[str, list[float]]) -> dict[str, float]:
    """`<name>_p50_ms` and `<name>_p95_ms` of each list of seconds."""
    out: dict[str, float] = {}
    for name, values in timed.items():
        out[f"{name}_p50_ms"] = round(1000 * statistics.median(values), 2)
        out[f"{name}_p95_ms"] = round(1000 * float(np.percentile(values, 95)), 2)
    return out


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


def encode_all(texts: list[str], work: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Vectors of `texts`, a part at a time, each part saved (and reused when there)."""
    from rag.config import load_settings
    from rag.embed import embed_in_blocks
    from rag.embed.encoder import load_embedder
    from rag.progress import Silent

    embedder = load_embedder(load_settings())
    parts, seconds, encoded = [], 0.0, 0
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:12]
    for first in range(0, len(texts), _PART):
        saved = work / f"vectors-{digest}-{first:08d}-{_PART}.npy"
        chunk = texts[first : first + _PART]
        if saved.is_file():
            parts.append(np.load(saved))
            continue
        start = time.perf_counter()
        vectors = embed_in_blocks(embedder, chunk, Silent())
        spent = time.perf_counter() - start
        seconds += spent
        encoded += len(chunk)
        np.save(saved, vectors)
        parts.append(vectors)
        print(
            f"encoded {first + len(chunk):,} / {len(texts):,} ({len(chunk) / spent:.0f}/s)",
            flush=True,
        )
    rate = round(encoded / seconds, 1) if seconds else None
    # What encoded this run's parts; parts read back were encoded by an earlier run.
    precision = getattr(embedder, "precision", None) if encoded else None
    return np.concatenate(parts), {
        "encoded_now": encoded,
        "texts_per_s": rate,
        "precision": precision,
    }


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


def save_json(folder: Path, name: str, result: Any) -> Path:
    """Write `result` as indented JSON to folder/name (the folder made if missing), print where
    and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path


def write_result(path: Path, result: Any) -> None:
    """`result` as JSON at `path` (its folder made), and a line saying so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")
