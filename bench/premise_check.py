"""How often the premise check (rag/validate/premise.py) would make an answer abstain: on
answerable questions (each a wrong abstention) and on SQuAD 2.0's unanswerable ones (each a
right one), from retrieval alone, no model. Also, for the asked check (rag/validate/asked.py),
how many answerable questions ask for a kind of thing, and how many of those have no gold
answer of that kind (an answer holding the gold answer would abstain). The passages read are
the first `--k` hits of the default search, under their titles, as an answer is given them
(RAG_ANSWER_K, 4).

    python bench/premise_check.py [--k 4] [--also DIR ...] [--out docs/bench/premise-check.json]

`--also DIR` adds a set in the same format (DIR/corpus.jsonl, DIR/gold.jsonl), such as
MuSiQue converted by bench/convert_musique.py.

Chosen on the SQuAD 2.0 questions whose answers were read while writing the checks (of each
kind, in gold-file order, the first 195 and the last 15: 420 questions), reported apart on the
other 170 and on every HotpotQA and MuSiQue question, which no one here read for it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import SHARED, write_result

from rag.config import load_settings
from rag.embed.encoder import load_embedder
from rag.evaluate.run import corpus_index
from rag.progress import RichReporter, Silent
from rag.retrieve.search import open_searcher
from rag.text import cited_text
from rag.validate.asked import asked_for, gives
from rag.validate.premise import READS, false_premises

SETS = ("squad2", "hotpotqa")
# What the check reads, and the share of the question its closest sentence must hold.
OPTIONS = {
    "numbers": (frozenset({"numbers"}), 0.6),
    "numbers, words": (frozenset({"numbers", "words"}), 0.6),
    "numbers, words, swapped names": (frozenset({"numbers", "words", "swapped names"}), 0.6),
    "all reads, closest 0.5": (READS, 0.5),
    "all reads: numbers, words, swapped names, loose negation (default)": (READS, 0.6),
    "all reads and names": (READS | {"names"}, 0.6),
    "all reads and taken words": (READS | {"taken"}, 0.6),
}
DEFAULT = "all reads: numbers, words, swapped names, loose negation (default)"
# Of each kind, in gold-file order, the SQuAD questions whose answers were read while the
# checks were written: the first 30 (the `rag eval --limit 60 --unanswerable 30` runs), then
# 31-195 and the last 15 (the runs that tried them on questions not read before).
_READ_FIRST = 195
_READ_LAST = 15


def _groups(name: str, gold: list[dict[str, Any]]) -> list[str]:
    """Each question's group: the set, read or not, answerable or not."""
    kinds = [bool(row.get("answerable", True)) for row in gold]
    totals = {k: kinds.count(k) for k in (True, False)}
    seen: dict[bool, int] = defaultdict(int)
    out = []
    for answerable in kinds:
        seen[answerable] += 1
        at = seen[answerable]
        read = name == "squad2" and (at <= _READ_FIRST or at > totals[answerable] - _READ_LAST)
        part = "read" if read else "not read"
        out.append(f"{name}, {part}, {'answerable' if answerable else 'unanswerable'}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=None, help="passages read (RAG_ANSWER_K)")
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="more set folders")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    k = args.k or settings.answer.k
    embedder = load_embedder(settings)
    flagged: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    examples: dict[str, list[dict[str, str]]] = defaultdict(list)
    seconds = []
    kinds: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"asked": [], "not given": []})
    reporter = RichReporter()
    folders = [SHARED / name for name in SETS] + list(args.also)
    for folder in folders:
        name = folder.name
        gold = [json.loads(line) for line in (folder / "gold.jsonl").open()]
        indexed, _ = corpus_index(folder / "corpus.jsonl", settings, embedder, Silent())
        searcher = open_searcher(indexed, embedder)
        with reporter.task(name, total=len(gold)) as advance:
            for row, group in zip(gold, _groups(name, gold), strict=True):
                kind = asked_for(row["question"])
                if kind and row.get("answers"):
                    kinds[name]["asked"].append(row["question"])
                    if not any(gives(kind, answer) for answer in row["answers"]):
                        kinds[name]["not given"].append(row["question"])
                hits = searcher.search(row["question"], k=k)
                passages = [cited_text(h.title, h.text) for h in hits]
                for option, (reads, covered) in OPTIONS.items():
                    started = time.perf_counter()
                    found = false_premises(row["question"], passages, reads, covered)
                    if option == DEFAULT:
                        seconds.append(time.perf_counter() - started)
                        if found:
                            examples[group].append({"question": row["question"], "why": found[0]})
                    flagged[option][group].append(bool(found))
                advance(1)
    table = {
        option: {group: round(sum(v) / len(v), 4) for group, v in groups.items()}
        for option, groups in flagged.items()
    }
    sizes = {group: len(v) for group, v in flagged[DEFAULT].items()}
    result = {
        "k": k,
        "questions": sizes,
        "abstains": table,
        "ms_per_question_p50": round(1000 * sorted(seconds)[len(seconds) // 2], 2),
        "asked_kinds": kinds,
        "examples": examples,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print("share abstaining; " + "; ".join(f"{g}: {n}" for g, n in sizes.items()))
        for option, row in table.items():
            print(f"{option:68}" + " ".join(f"{row[g]:.3f}" for g in sizes))
        print(f"premise check: {result['ms_per_question_p50']} ms a question (p50)")
        for name, seen in kinds.items():
            print(
                f"asked check, {name}: {len(seen['asked'])} answerable questions ask for a kind,"
                f" {len(seen['not given'])} of them have no gold answer of it"
            )
    if args.out:
        write_result(args.out, result)


if __name__ == "__main__":
    main()
