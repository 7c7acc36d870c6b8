"""A rag index of 1M real passages: the build, +1% and queries, everything but the encoder.

    python bench/ann_real.py --size 1000000 --work DIR     # once: texts and their vectors
    python bench/build_1m.py --work DIR

Encoding a million texts takes hours here (bench/ann_real.py measured 231 texts/s), so this
build is fed the vectors bench/ann_real.py saved for the same texts (looked up by text; any
text not found goes through the real encoder and is counted), and times what the rest of rag
costs at 1M: reading the JSONL files, chunking, SQLite, BM25, the IVF training and its tuning
on passages and question probes, publishing. 990,000 texts are built first, then 10,000 more
are added as an incremental build (+1%); then the 600 gold questions of the shared sets are
searched (hybrid, the real query encoder) on the 1M index. Each step in its own process.
Prints figures and writes bench/results/build_1m.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, encode_all, in_child, peak_mb, questions, step_queries

_PER_FILE = 100_000
_ADDED = 10_000


class SavedEmbedder:
    """Saved vectors for known texts; the real encoder for any other."""

    def __init__(self, texts: list[str], matrix: np.ndarray) -> None:
        from rag.config import load_settings
        from rag.embed.encoder import load_embedder

        self.row = {t: i for i, t in enumerate(texts)}
        self.matrix = matrix
        self.real = load_embedder(load_settings())
        self.model_id = self.real.model_id
        self.dimension = self.real.dimension
        self.encoded = 0
        self.encoder_seconds = 0.0

    def plan(self, texts: list[str]) -> list[int]:
        """Nothing to prepare: the texts are looked up."""
        return list(range(len(texts)))

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = [self.row.get(t, -1) for t in texts]
        out = self.matrix[np.maximum(rows, 0)]
        missing = [i for i, r in enumerate(rows) if r < 0]
        if missing:
            start = time.perf_counter()
            out[missing] = self.real.encode([texts[i] for i in missing])
            self.encoder_seconds += time.perf_counter() - start
            self.encoded += len(missing)
        return out


def write_sources(folder: Path, texts: list[str], first: int) -> None:
    """One-passage sources in JSONL files of 100k lines."""
    folder.mkdir(parents=True)
    for part in range(0, len(texts), _PER_FILE):
        with (folder / f"part-{part // _PER_FILE:03d}.jsonl").open("w", encoding="utf-8") as out:
            for i, text in enumerate(texts[part : part + _PER_FILE], start=first + part):
                source = {"id": f"real-{i}", "title": f"Real {i}", "text": text}
                out.write(json.dumps(source) + "\n")


def step_build(index_dir: str, folder: str, work: str, size: int) -> dict[str, Any]:
    """A build (full or incremental) of `folder` with the saved vectors."""
    from rag.config import load_settings
    from rag.index.build import build_index
    from rag.store import IndexReader

    texts, _, _ = json.loads((Path(work) / f"texts-{size}.json").read_text(encoding="utf-8"))
    matrix, _ = encode_all(texts, Path(work))
    embedder = SavedEmbedder(texts, matrix)
    del texts
    start = time.perf_counter()
    report = build_index(load_settings(index_dir=Path(index_dir)), add=[folder], embedder=embedder)
    seconds = time.perf_counter() - start
    vectors = IndexReader.open(Path(index_dir)).manifest.vectors
    return {
        "seconds": round(seconds, 1),
        "passages_added": report.passages.embedded + report.passages.reused,
        "total": report.passages.total,
        "encoded_by_the_real_encoder": embedder.encoded,
        "real_encoder_seconds": round(embedder.encoder_seconds, 2),
        "peak_rss_mb": peak_mb(),
        "vectors": vectors.model_dump(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="bench/ann_real.py's --work")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "build_1m.json")
    args = parser.parse_args()
    saved = args.work / f"texts-{args.size}.json"
    if not saved.is_file():
        sys.exit(f"{saved} is missing: run bench/ann_real.py --size {args.size} --work {args.work}")
    texts, _, _ = json.loads(saved.read_text(encoding="utf-8"))
    first, added = texts[: args.size - _ADDED], texts[args.size - _ADDED :]
    scratch = args.work / "build"
    if scratch.exists():
        sys.exit(f"{scratch} exists: remove it to build again")
    write_sources(scratch / "corpus", first, 0)
    write_sources(scratch / "added", added, len(first))
    del texts, first, added
    index_dir = str(scratch / "index")
    steps: dict[str, Any] = {}
    for name, folder in (("full_build", "corpus"), ("plus_1pct", "added")):
        print(f"[{name}] ...", flush=True)
        steps[name] = in_child(
            step_build, index_dir, str(scratch / folder), str(args.work), args.size
        )
        print(f"[{name}] {json.dumps(steps[name])}", flush=True)
    steps["queries"] = in_child(step_queries, index_dir, questions())
    print(f"[queries] {json.dumps(steps['queries'])}", flush=True)
    steps["plus_1pct_share_of_full"] = round(
        steps["plus_1pct"]["seconds"] / steps["full_build"]["seconds"], 4
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(steps, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
