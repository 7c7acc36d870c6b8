"""Source-level recall@k of `rag search` on a gold set, for each retrieval mode.

    python bench/retrieval_recall.py ../shared/data/hotpotqa [--ks 1 5 10] [--index DIR]

Builds (or reuses, with --index) an index of DATASET/corpus.jsonl with the configured model,
runs every answerable question of DATASET/gold.jsonl in dense, bm25 and hybrid mode, prints a
table and writes bench/results/recall-<dataset>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.config import load_settings
from rag.evaluate.metrics import source_recall_at_k
from rag.index.build import build_index
from rag.retrieve.search import open_searcher

MODES = ("dense", "bm25", "hybrid")


def run(dataset: Path, ks: list[int], index_dir: Path | None) -> dict[str, Any]:
    """Recall@k per mode over the answerable gold questions of `dataset`."""
    gold = [json.loads(line) for line in (dataset / "gold.jsonl").open(encoding="utf-8")]
    questions = [g for g in gold if g.get("answerable", True) and g.get("evidence")]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=index_dir or Path(tmp) / "index")
        started = time.perf_counter()
        report = build_index(settings, add=[str(dataset / "corpus.jsonl")])
        build_s = time.perf_counter() - started
        searcher = open_searcher(settings)
        result: dict[str, Any] = {
            "dataset": dataset.name,
            "questions": len(questions),
            "passages": report.passages.total,
            "build_seconds": round(build_s, 2),
            "settings": settings.model_dump(mode="json"),
            "recall": {},
        }
        for mode in MODES:
            started = time.perf_counter()
            per_k: dict[int, list[float]] = {k: [] for k in ks}
            for q in questions:
                hits = searcher.search(q["question"], k=max(ks), mode=mode)  # type: ignore[arg-type]
                ranked = [h.source_id for h in hits]
                for k in ks:
                    per_k[k].append(source_recall_at_k(ranked, q["evidence"], k))
            result["recall"][mode] = {
                f"@{k}": round(statistics.mean(v), 4) for k, v in per_k.items()
            }
            result["recall"][mode]["ms_per_query"] = round(
                1000 * (time.perf_counter() - started) / len(questions), 2
            )
        searcher.reader.close()
    return result


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="folder with corpus.jsonl and gold.jsonl")
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--index", type=Path, default=None, help="keep the index here")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    result = run(args.dataset, args.ks, args.index)
    print(
        f"{result['dataset']}: {result['questions']} questions, {result['passages']} passages, "
        f"index built in {result['build_seconds']} s"
    )
    print(
        f"{'mode':8}" + "".join(f"{'R' + k:>9}" for k in (f"@{k}" for k in args.ks)) + "  ms/query"
    )
    for mode, row in result["recall"].items():
        print(
            f"{mode:8}"
            + "".join(f"{row[f'@{k}']:>9.3f}" for k in args.ks)
            + f"  {row['ms_per_query']:>8}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"recall-{result['dataset']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
