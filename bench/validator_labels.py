"""The validator's second labeled set: claims the embedded model really wrote, labeled by reading.

    # 1. drafts: `rag eval` runs with the embedded model (RAG_REPAIR_ROUNDS=0 keeps first drafts)
    # 2. one line per cited draft sentence, with where its passages are (no passage text):
    python bench/validator_labels.py extract RUN_DIR... --out claims.jsonl
    # 3. label each line by reading the cited passages: "label" supported|unsupported, "kind"
    #    and, for "unsupported", "reason" (bench/labels/validator-drafts.jsonl holds the set)
    # 4. the items with their passages, for bench/validator_eval.py --dev:
    python bench/validator_labels.py items bench/labels/validator-drafts.jsonl \\
        --musique /tmp/unseen/musique --out bench/results/validator-drafts.jsonl

A line names its question by id and its passages by source id and offsets; both are read back
from the data sets (../shared/data, examples/demo, and MuSiQue converted by
bench/convert_musique.py), each passage checked against the hash of what the model was shown:
the repository holds no copy.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from common import SHARED

from rag.evaluate.devset import DevItem
from rag.ingest.files import FoundFile, find_files, read_file
from rag.types import Source, ValidationPassage, sha256_hex

REPO = Path(__file__).resolve().parents[1]
_MAX_BYTES = 200_000_000


def extract(runs: list[Path]) -> list[dict[str, Any]]:
    """Every cited sentence of every first draft in the runs' results.jsonl."""
    rows = []
    for run in runs:
        dataset = run.name
        for line in (run / "results.jsonl").open(encoding="utf-8"):
            record = json.loads(line)
            answer = record.get("answer")
            if not answer:
                continue
            hits = answer["hits"]
            for i, check in enumerate(answer["draft_checks"]):
                cited = [n for n in check["citations"] if 1 <= n <= len(hits)]
                if not cited or len(cited) != len(check["citations"]):
                    continue  # uncited or out of range: structure decides, no reading needed
                rows.append(
                    {
                        "id": f"{dataset}/{record['id']}/{i}",
                        "dataset": dataset,
                        "claim": check["text"],
                        "cited": [
                            {
                                "n": n,
                                "source_id": hits[n - 1]["source_id"],
                                "start": hits[n - 1]["start"],
                                "end": hits[n - 1]["end"],
                                "title": hits[n - 1]["title"],
                                "sha256": sha256_hex(hits[n - 1]["text"]),
                            }
                            for n in cited
                        ],
                        "validator_then": check["supported"],
                    }
                )
    return rows


def corpus_of(dataset: str, musique: Path | None) -> tuple[Path, Path]:
    """Where a dataset's sources and gold questions are read from."""
    if dataset == "demo":
        return REPO / "examples" / "demo", REPO / "examples" / "demo-gold.jsonl"
    if dataset == "musique":
        if musique is None:
            sys.exit("MuSiQue lines need --musique DIR (bench/convert_musique.py writes it)")
        return musique / "corpus.jsonl", musique / "gold.jsonl"
    return SHARED / dataset / "corpus.jsonl", SHARED / dataset / "gold.jsonl"


def read_questions(gold: Path) -> dict[str, str]:
    """Every gold question by id."""
    rows = (json.loads(line) for line in gold.open(encoding="utf-8"))
    return {str(r["id"]): str(r["question"]) for r in rows}


def read_sources(location: Path) -> dict[str, Source]:
    """Every source at a corpus file or folder, by id, as rag ingests it."""
    out: dict[str, Source] = {}
    for found in find_files(str(location)):
        if not isinstance(found, FoundFile):
            continue  # a file rag refuses is no source here either
        for source in read_file(found, _MAX_BYTES).sources:
            out[source.id] = source
    return out


def items(labels: list[dict[str, Any]], musique: Path | None) -> list[DevItem]:
    """The labeled lines as dev items, their passages read back and checked."""
    sources: dict[str, dict[str, Source]] = {}
    questions: dict[str, dict[str, str]] = {}
    out = []
    for row in labels:
        dataset = row["dataset"]
        if dataset not in sources:
            # A line's "corpus" names the data set its passages are read from where its
            # "dataset" names a group of claims apart ("squad2-held-out").
            corpus, gold = corpus_of(row.get("corpus", dataset), musique)
            sources[dataset] = read_sources(corpus)
            questions[dataset] = read_questions(gold)
        passages = []
        for c in row["cited"]:
            text = sources[dataset][c["source_id"]].text[c["start"] : c["end"]]
            if sha256_hex(text) != c["sha256"]:
                sys.exit(f"{row['id']}: passage {c['n']} reads back differently; re-extract")
            passages.append(ValidationPassage(n=c["n"], text=text, title=c["title"]))
        out.append(
            DevItem(
                id=row["id"],
                question=questions[dataset][row["id"].split("/")[1]],
                answer=row["claim"],
                passages=passages,
                label="good" if row["label"] == "supported" else "bad",
                kind=row["kind"],
                dataset=dataset,
            )
        )
    return out


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="cited draft sentences of eval runs")
    ex.add_argument("runs", type=Path, nargs="+")
    ex.add_argument("--out", type=Path, required=True)
    it = sub.add_parser("items", help="labeled lines -> dev items with their passages")
    it.add_argument("labels", type=Path)
    it.add_argument("--musique", type=Path, default=None)
    it.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "extract":
        rows = extract(args.runs)
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        print(f"{len(rows)} claims -> {args.out}")
        return
    labels = [json.loads(line) for line in args.labels.open(encoding="utf-8")]
    made = items(labels, args.musique)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(i.model_dump_json() + "\n" for i in made), encoding="utf-8")
    print(f"{len(made)} items -> {args.out}")


if __name__ == "__main__":
    main()
