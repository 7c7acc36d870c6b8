"""How often the closest sentence (rag/answer/closest.py) would stand in for a drafted summary: for
each question, the sentence of its first `--k` passages closest to it (as the policy finds
it), the asked check on it, and the relevance judge's reading of it against the question.
An answerable question given a sentence holding a gold answer is an abstention saved;
without one, a wrong answer shown; an unanswerable (SQuAD 2.0) question given one is an
abstention lost. No drafts are written: the figures say what it would do wherever the
draft's summary is read as off the question.

    python bench/closest_check.py [--k 4] [--per-group 100] [--also DIR ...] [--out FILE]
    python bench/closest_check.py --rows FILE [--out FILE]   # re-tabulate a run's readings

The policy gives only a sentence that may stand as the answer (rag.answer.closest.may_answer:
it names the question's names and holds half its words); the tables give the share given
with that condition ("given") and without it ("any sentence"), so a run reads both.

Chosen on the 60 SQuAD 2.0 questions of the `rag eval --limit 60 --unanswerable 30` runs,
reported apart on the others (the first `--per-group` of each group), every HotpotQA question
and the sets of `--also` (such as MuSiQue, bench/convert_musique.py), which no one read for it.
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
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from common import SHARED, write_result
from premise_check import SETS, _groups

from rag.answer.closest import closest_sentence, may_answer
from rag.config import load_settings
from rag.embed.encoder import load_embedder
from rag.evaluate.metrics import answer_contained
from rag.evaluate.run import corpus_index
from rag.llm.providers import open_model
from rag.progress import RichReporter, Silent
from rag.retrieve.search import open_searcher
from rag.validate.asked import asked_for, gives
from rag.validate.relevance import Relevance

THRESHOLDS = (0.5, 0.6, 0.65, 0.7, 0.8)


def _table(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per group and threshold: the share given, and of answerable questions the share
    given with a gold answer in the sentence."""
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_group[row["group"]].append(row)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for group, members in by_group.items():
        out[group] = {}
        for t in THRESHOLDS:
            read = [r for r in members if r["p"] is not None and r["p"] >= t]
            cell: dict[str, float] = {}
            for name, given in (("any sentence", read), ("given", _named(read))):
                cell[name] = round(len(given) / len(members), 4)
                if "unanswerable" not in group:
                    right = sum(1 for r in given if r["gold_in_sentence"])
                    cell[f"{name}, with gold"] = round(right / len(members), 4)
            out[group][str(t)] = cell
    return out


def _named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose sentence may stand as the answer, as the policy asks."""
    return [r for r in rows if may_answer(r["question"], r["sentence"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=None, help="passages read (RAG_ANSWER_K)")
    parser.add_argument("--per-group", type=int, default=100, help="questions of each group")
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="more set folders")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--rows", type=Path, default=None, help="a run's JSON to re-tabulate")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rows:
        saved = json.loads(args.rows.read_text())
        _report(saved["rows"], saved["k"], saved["judge_seconds_p50"], args)
        return
    settings = load_settings()
    k = args.k or settings.answer.k
    embedder = load_embedder(settings)
    relevance = Relevance(open_model(settings.llm.model, settings))
    rows: list[dict[str, Any]] = []
    seconds: list[float] = []
    reporter = RichReporter()
    for folder in [SHARED / name for name in SETS] + list(args.also):
        gold = [json.loads(line) for line in (folder / "gold.jsonl").open()]
        taken: dict[str, int] = defaultdict(int)
        chosen = []
        for row, group in zip(gold, _groups(folder.name, gold), strict=True):
            if taken[group] < args.per_group:
                taken[group] += 1
                chosen.append((row, group))
        indexed, _ = corpus_index(folder / "corpus.jsonl", settings, embedder, Silent())
        searcher = open_searcher(indexed, embedder)
        with reporter.task(folder.name, total=len(chosen)) as advance:
            for row, group in chosen:
                question = row["question"]
                hits = searcher.search(question, k=k)
                found = closest_sentence(
                    question, {i: h.text for i, h in enumerate(hits, 1)}, embedder
                )
                kind = asked_for(question)
                p = None
                if found and (not kind or gives(kind, found[1])):
                    started = time.perf_counter()
                    p = relevance(question, found[1])
                    seconds.append(time.perf_counter() - started)
                answers = row.get("answers") or []
                rows.append(
                    {
                        "group": group,
                        "question": question,
                        "sentence": found[1] if found else None,
                        "p": None if p is None else round(p, 4),
                        "gold_in_sentence": bool(
                            found and answers and answer_contained(found[1], answers)
                        ),
                    }
                )
                advance(1)
    p50 = round(sorted(seconds)[len(seconds) // 2], 3) if seconds else None
    _report(rows, k, p50, args)


def _report(rows: list[dict[str, Any]], k: int, p50: float | None, args: Any) -> None:
    """Print the tables of `rows` and write them with the rows to `args.out`."""
    table = _table(rows)
    sizes = {g: sum(1 for r in rows if r["group"] == g) for g in table}
    result = {
        "k": k,
        "questions": sizes,
        "thresholds": table,
        "judge_seconds_p50": p50,
        "rows": rows,
    }
    if args.json:
        print(json.dumps({key: v for key, v in result.items() if key != "rows"}, indent=2))
    else:
        for group, cells in table.items():
            print(f"{group} ({sizes[group]})")
            for t, cell in cells.items():
                print(f"  {t:>5}  " + "  ".join(f"{name} {v:.3f}" for name, v in cell.items()))
        print(f"judge: {result['judge_seconds_p50']} s a reading (p50)")
    if args.out:
        write_result(args.out, result)


if __name__ == "__main__":
    main()
