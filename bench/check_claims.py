"""`rag check` on a labeled claim set made from ../shared/data: how often it calls true claims
supported, changed ones contradicted (or at least not supported), and claims about things the
corpus does not cover not found.

    python bench/check_claims.py                 # makes bench/labels/claims.jsonl if missing
    python bench/check_claims.py --per-set 35 --remake --out docs/bench/check-claims.json
    python bench/check_claims.py --mode fast --out /tmp/fast.json   # the fast layer alone

The claim set (bench/labels/claims.jsonl), per shared set:
- true: the embedded model rewrites a gold question and its answer as one plain sentence, kept
  only if it holds the answer's words (yes/no questions are left out: their answer is not a
  phrase a sentence can hold); each is then read against its gold evidence, and one the
  evidence does not hold as written (roles swapped, a detail made up, "the oldest" of no one
  named) is marked `"read": "not held: why"` and reported apart as `not_held`: a checker should
  not call it supported. A remade set is unread until someone marks it;
- false: the same sentence with the answer changed: a number or year to another, a name or
  phrase to another gold answer of the same form (so the claim is about the same thing, with a
  wrong value);
- not covered: true sentences of the other set, checked against this set's index (the two
  corpora share no subject).
Checked with the embedded model as the judge (validation mode judge), one claim at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from common import SHARED, write_result

from rag.answer.answerer import open_validator
from rag.check.checker import TextChecker
from rag.config import load_settings
from rag.embed.encoder import load_embedder
from rag.evaluate.run import corpus_index
from rag.llm.providers import open_model
from rag.progress import Silent
from rag.retrieve.search import open_searcher

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "labels" / "claims.jsonl"
SETS = ("hotpotqa", "squad2")
STATEMENT = (
    "Rewrite the question and its answer as one plain sentence that states the answer. Use "
    "the answer's exact words. Write only the sentence.\n\nQuestion: {question}\nAnswer: "
    "{answer}\nSentence:"
)
_NUMBER = re.compile(r"\d[\d,.]*")


def _gold(name: str) -> list[dict[str, Any]]:
    path = SHARED / name / "gold.jsonl"
    if not path.is_file():
        sys.exit(f"{path} is missing; this benchmark reads ../shared/data")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [
        g
        for g in rows
        if g["answerable"] and g["answers"] and g["answers"][0].lower() not in ("yes", "no")
    ]


def _form(answer: str) -> tuple[bool, bool, int]:
    """What kind of value an answer is: has digits, starts with a capital, words (capped)."""
    return bool(_NUMBER.search(answer)), answer[:1].isupper(), min(len(answer.split()), 4)


def changed(answer: str, pool: list[str]) -> str | None:
    """Another value of the same form as `answer`: a number moved, else the next answer of
    the pool with the same form that neither holds nor is held by it."""
    number = _NUMBER.search(answer)
    if number is not None:
        digits = number.group().replace(",", "")
        try:
            value = float(digits)
        except ValueError:
            return None
        moved = value + 7 if 1000 <= value <= 2100 else value * 2 + 3
        text = str(int(moved)) if moved == int(moved) else f"{moved:g}"
        return answer[: number.start()] + text + answer[number.end() :]
    for other in pool:
        low, other_low = answer.lower(), other.lower()
        if _form(other) == _form(answer) and low not in other_low and other_low not in low:
            return other
    return None


def make(per_set: int) -> list[dict[str, Any]]:
    """The labeled claims, written with the embedded model."""
    settings = load_settings()
    model = open_model(settings.llm.model, settings)
    rows: list[dict[str, Any]] = []
    for name in SETS:
        gold = _gold(name)
        pool = [g["answers"][0] for g in gold]
        made = 0
        for i, g in enumerate(gold):
            if made == per_set:
                break
            answer = g["answers"][0]
            prompt = STATEMENT.format(question=g["question"].strip(), answer=answer)
            reply = model.complete([{"role": "user", "content": prompt}], max_tokens=60)
            sentence = " ".join(reply.strip().splitlines()[0].split()) if reply.strip() else ""
            at = sentence.lower().find(answer.lower())
            if at < 0 or not 4 <= len(sentence.split()) <= 45 or sentence.endswith("?"):
                continue
            wrong = changed(answer, pool[i + 1 :] + pool[:i])
            if wrong is None:
                continue
            made += 1
            base = {"set": name, "gold_id": g["id"], "answer": answer}
            rows.append(
                {
                    **base,
                    "id": f"{name}/{g['id']}/true",
                    "claim": sentence,
                    "label": "true",
                    "read": "unread",
                }
            )
            false = sentence[:at] + wrong + sentence[at + len(answer) :]
            rows.append(
                {
                    **base,
                    "id": f"{name}/{g['id']}/false",
                    "claim": false,
                    "label": "false",
                    "changed_to": wrong,
                }
            )
            print(f"{name} {made}/{per_set}: {sentence}  ->  {wrong}", flush=True)
    # Claims of each set, checked against the other set's index: not covered there.
    for name, other in zip(SETS, reversed(SETS), strict=True):
        true = [r for r in rows if r["set"] == other and r["label"] == "true"]
        for r in true[: per_set * 4 // 7]:
            rows.append(
                {
                    **r,
                    "id": r["id"].replace("/true", "/elsewhere"),
                    "set": name,
                    "label": "not_covered",
                }
            )
    return rows


GROUPS = ("true", "not_held", "false", "not_covered")


def group(row: dict[str, Any]) -> str:
    """The row's label, with true claims their evidence does not hold as written apart."""
    if row["label"] == "true" and str(row.get("read", "")).startswith("not held"):
        return "not_held"
    return str(row["label"])


def run(rows: list[dict[str, Any]], mode: str = "judge") -> dict[str, Any]:
    """Every claim checked against its set's index; verdict counts per label. `mode` "fast"
    checks without the judge (minutes, not twenty; no claim can be called contradicted), to
    see what a change of the fast layer does to each verdict."""
    settings = load_settings(validate_mode=mode)
    embedder = load_embedder(settings)
    validator = open_validator(settings, embedder)
    results = []
    for name in SETS:
        indexed, _ = corpus_index(SHARED / name / "corpus.jsonl", settings, embedder, Silent())
        searcher = open_searcher(indexed, embedder)
        checker = TextChecker(indexed.check, searcher, validator)
        for row in (r for r in rows if r["set"] == name):
            started = time.perf_counter()
            [claim] = checker.check(row["claim"]).claims
            results.append(
                {
                    **row,
                    "verdict": claim.verdict,
                    "score": claim.score,
                    "reason": claim.reason,
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
            print(
                f"{row['id']:44} {row['label']:11} -> {claim.verdict:12} {claim.reason[:60]}",
                flush=True,
            )
    table: dict[str, Any] = {}
    for name in (*SETS, "all"):
        mine = [r for r in results if name in ("all", r["set"])]
        for label in GROUPS:
            of = [r for r in mine if group(r) == label]
            counts = Counter(r["verdict"] for r in of)
            table[f"{name}/{label}"] = {
                "claims": len(of),
                **{
                    v: round(counts[v] / len(of), 3) if of else None
                    for v in ("supported", "contradicted", "not_found")
                },
            }
    seconds = sorted(r["seconds"] for r in results)
    return {
        "thresholds": threshold_table(results),
        "claims": len(results),
        "judge": settings.validator.judge_model or settings.llm.model,
        "table": table,
        "seconds_p50": seconds[len(seconds) // 2] if seconds else None,
        "results": results,
    }


THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def threshold_table(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per set and RAG_CONTRADICT_THRESHOLD: the share of each label called contradicted. A
    claim no passage holds is scored with the strongest P(contradicts) the judge gave, so its
    verdict at any threshold follows from the one run."""
    out: dict[str, Any] = {}
    for name in (*SETS, "all"):
        for t in THRESHOLDS:
            row = {}
            for label in GROUPS:
                of = [r for r in results if name in ("all", r["set"]) and group(r) == label]
                hit = [r for r in of if r["verdict"] != "supported" and r["score"] >= t]
                row[label] = round(len(hit) / len(of), 3) if of else None
            out[f"{name}@{t}"] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-set", type=int, default=35, help="true claims made per set")
    parser.add_argument("--remake", action="store_true", help="write the claim set again")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--mode", choices=("judge", "fast"), default="judge")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "check-claims.json"
    )
    args = parser.parse_args()
    if args.remake or not args.labels.is_file():
        rows = make(args.per_set)
        args.labels.parent.mkdir(parents=True, exist_ok=True)
        args.labels.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        print(f"wrote {len(rows)} claims to {args.labels}")
    rows = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines()]
    result = run(rows, args.mode)
    print(
        f"{'set/label':24} {'claims':>6} {'supported':>10} {'contradicted':>13} {'not found':>10}"
    )
    for key, row in result["table"].items():
        print(
            f"{key:24} {row['claims']:>6} {row['supported']!s:>10} {row['contradicted']!s:>13} "
            f"{row['not_found']!s:>10}"
        )
    unread = sum(1 for r in rows if r.get("read") == "unread")
    if unread:
        print(f"{unread} true claims are not read against their evidence yet ('read' field)")
    print("contradicted at each threshold (" + " / ".join(GROUPS) + "):")
    for key, row in result["thresholds"].items():
        print(f"  {key:16} " + " / ".join(str(row[g]) for g in GROUPS))
    write_result(args.out, result)


if __name__ == "__main__":
    main()
