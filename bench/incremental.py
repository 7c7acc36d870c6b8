"""Incremental rebuild on a ~1000-source index: add one source, change it, delete it.

    python bench/incremental.py ../shared/data/hotpotqa/corpus.jsonl

Prints, and writes to bench/results/incremental.json, the passages embedded and the seconds of
each step next to the full build, with the packaged MiniLM.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from common import save_json

from rag.config import load_settings
from rag.embed.encoder import load_embedder
from rag.index.build import build_index
from rag.retrieve.search import open_searcher

NOTE = " ".join(
    f"In {1900 + i} the Brandholm lighthouse keeper logged {i + 3} storms and a boat."
    for i in range(40)
)


def run(corpus: Path) -> dict[str, Any]:
    """Full build, then add / change / delete one source; report each step."""
    steps: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index")
        load_embedder(settings)  # loaded once up front so no step pays for it
        extra = Path(tmp) / "extra"
        extra.mkdir()
        note = extra / "lighthouse.md"

        def step(name: str, **kwargs: Any) -> None:
            report = build_index(settings, **kwargs)
            steps[name] = {
                "seconds": report.seconds,
                "embedded": report.passages.embedded,
                "reused": report.passages.reused,
                "deleted": report.passages.deleted,
                "total": report.passages.total,
                "sources": report.sources.model_dump(exclude={"failed"}),
            }

        step("full build", add=[str(corpus)])
        note.write_text("---\ntitle: Keeper of the Brandholm lighthouse\n---\n" + NOTE)
        step("add one source", add=[str(extra)])
        hits = open_searcher(settings).search("Who kept the Brandholm lighthouse?", k=1)
        steps["add one source"]["found_at_rank_1"] = hits[0].source_id == "lighthouse.md"
        note.write_text(note.read_text().replace("In 1939", "In the year 1939, during a war,"))
        step("change one source")
        note.unlink()
        step("delete one source")
        step("nothing changed")
    return {"corpus": str(corpus), "steps": steps}


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    result = run(args.corpus)
    print(f"{'step':20}{'seconds':>9}{'embedded':>10}{'reused':>8}{'deleted':>9}{'total':>8}")
    for name, s in result["steps"].items():
        print(
            f"{name:20}{s['seconds']:>9.2f}{s['embedded']:>10}{s['reused']:>8}"
            f"{s['deleted']:>9}{s['total']:>8}"
        )
    save_json(args.out, "incremental.json", result)


if __name__ == "__main__":
    main()
