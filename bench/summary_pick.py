"""Which checked sentences the wrap-up puts in the summary: re-chosen from the sections of the
shown answers of `rag eval` runs, by the cosine of their vectors alone or by the wrap-up's
nearness (rag.answer.closest.nearest_first: the cosine plus the share of the question's word
stems), each section's best, three sections at most; counted: answers whose summary, and whose
first summary sentence, holds a gold answer.

    python bench/summary_pick.py RUN_DIR [RUN_DIR ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from common import write_result

from rag.answer.closest import nearest_first
from rag.config import load_settings
from rag.embed.base import Embedder
from rag.embed.encoder import load_embedder
from rag.evaluate.metrics import answer_contained
from rag.text import strip_markers
from rag.validate.claims import split_claims

_SECTIONS = 3  # the wrap-up's summary: the best of each section, three at most


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    embedder = load_embedder(load_settings())
    table: dict[str, dict[str, Any]] = {}
    for run in args.runs:
        counts = {"answers": 0}
        for line in (run / "results.jsonl").open(encoding="utf-8"):
            record = json.loads(line)
            answer = record.get("answer") or {}
            if not answer or answer["status"] == "abstained" or not record["gold_answers"]:
                continue
            findings = [
                (j, strip_markers(c.text))
                for j, section in enumerate(answer["sections"]["sections"])
                for c in split_claims(section["text"])
            ]
            if len(findings) < 2:
                continue  # one sentence: both ways choose it
            counts["answers"] += 1
            for way in ("cosine", "nearness"):
                chosen = _summary(record["question"], findings, embedder, way)
                gold = record["gold_answers"]
                held = answer_contained(" ".join(chosen), gold) > 0
                counts[f"{way}: summary"] = counts.get(f"{way}: summary", 0) + held
                first = answer_contained(chosen[0], gold) > 0
                counts[f"{way}: first"] = counts.get(f"{way}: first", 0) + first
        table[run.name] = counts
        print(run.name, counts)
    if args.out:
        write_result(args.out, table)


def _summary(
    question: str, findings: list[tuple[int, str]], embedder: Embedder, way: str
) -> list[str]:
    """The summary's sentences, in section order, chosen `way`."""
    texts = [t for _, t in findings]
    if way == "nearness":
        order = nearest_first(question, texts, embedder)
    else:
        vectors = embedder.encode([question, *texts])
        cosines = vectors[1:] @ vectors[0]
        order = sorted(range(len(texts)), key=lambda i: (-float(cosines[i]), i))
    best: dict[int, int] = {}
    for i in order:
        best.setdefault(findings[i][0], i)
    return [texts[i] for i in sorted(list(best.values())[:_SECTIONS])]


if __name__ == "__main__":
    main()
