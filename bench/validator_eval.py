"""Measure the validator on the labeled dev set: catch rate per fault kind, good answers wrongly
rejected, for the fast layer alone and with the judge; the fast layer's speed; the judge's share.

    python bench/validator_devset.py ../shared/data      # writes bench/results/validator-dev.jsonl
    python bench/validator_eval.py [--judge] [--strict] [--limit N] [--json]
    # the labeled drafts (bench/validator_labels.py), tuned on two sets, reported on the others:
    python bench/validator_eval.py --dev bench/results/validator-drafts.jsonl --judge --strict \
        --split hotpotqa,squad2 --out bench/results/validator-drafts-eval.json

The fast-layer threshold sweep printed first is the calibration behind RAG_SUPPORT_THRESHOLD,
RAG_SUPPORT_ACCEPT and RAG_SUPPORT_REJECT (docs/validator.md).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import time
from pathlib import Path
from typing import Any

from rag.config import load_settings
from rag.embed.encoder import load_embedder
from rag.evaluate.devset import DevItem
from rag.llm.providers import open_model
from rag.progress import RichReporter
from rag.text import cited_text
from rag.types import Verdict
from rag.validate.judge import Judge
from rag.validate.validator import CheckRun, Validator

RESULTS = Path(__file__).parent / "results"
_BATCH = 64


def passages_of(item: DevItem) -> dict[int, str]:
    """What each of an item's passages vouches for, by number."""
    return {p.n: cited_text(p.title, p.text) for p in item.passages}


def _run(
    validator: Validator, items: list[DevItem], label: str, run: CheckRun | None = None
) -> tuple[list[Verdict], float]:
    verdicts: list[Verdict] = []
    reporter = RichReporter()
    started = time.perf_counter()
    with reporter.task(label, total=len(items)) as advance:
        for i in range(0, len(items), _BATCH):
            batch = items[i : i + _BATCH]
            verdicts += validator.check_many([(it.answer, passages_of(it)) for it in batch], run)
            advance(len(batch))
    return verdicts, time.perf_counter() - started


def table(items: list[DevItem], rejected: list[bool]) -> dict[str, Any]:
    """Share rejected per kind, overall caught (bad) and wrongly rejected (good)."""
    by_kind: dict[str, list[bool]] = collections.defaultdict(list)
    for item, r in zip(items, rejected, strict=True):
        by_kind[item.kind].append(r)
    bad = [r for it, r in zip(items, rejected, strict=True) if it.label == "bad"]
    good = [r for it, r in zip(items, rejected, strict=True) if it.label == "good"]
    return {
        "kinds": {
            k: {"n": len(v), "rejected": round(sum(v) / len(v), 4)}
            for k, v in sorted(by_kind.items())
        },
        "bad_caught": round(sum(bad) / max(len(bad), 1), 4),
        "good_rejected": round(sum(good) / max(len(good), 1), 4),
        "n_bad": len(bad),
        "n_good": len(good),
    }


def sweep(items: list[DevItem], verdicts: list[Verdict]) -> list[dict[str, float]]:
    """Caught and wrongly rejected at each fast threshold (the structural checks fixed)."""
    rows = []
    for t in [x / 100 for x in range(30, 96, 5)]:
        rejected = [
            any(c.layer == "structure" or c.problem == "number" or c.score < t for c in v.sentences)
            for v in verdicts
        ]
        result = table(items, rejected)
        rows.append(
            {
                "threshold": t,
                "caught": result["bad_caught"],
                "good_rejected": result["good_rejected"],
            }
        )
    return rows


def _print_table(title: str, part: dict[str, Any], items: list[DevItem]) -> None:
    """Share rejected per kind (bad kinds first) under each mode, then the two totals."""
    modes = [m for m in ("fast", "judge", "strict") if m in part]
    label_of = {it.kind: it.label for it in items}
    kinds = sorted(part["fast"]["kinds"], key=lambda k: (label_of[k] != "bad", k))
    print(f"\n{title} {part.get('datasets', '')}".rstrip())
    print(f"{'kind':28}" + "".join(f"{m:>10}" for m in modes))
    for kind in kinds:
        n = part["fast"]["kinds"][kind]["n"]
        cells = "".join(f"{part[m]['kinds'][kind]['rejected']:>10.3f}" for m in modes)
        print(f"{f'{kind} ({label_of[kind]}, {n})':28}{cells}")
    for key in ("bad_caught", "good_rejected"):
        print(f"{key:28}" + "".join(f"{part[m][key]:>10.3f}" for m in modes))


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=RESULTS / "validator-dev.jsonl")
    parser.add_argument("--judge", action="store_true", help="also run with the LLM judge")
    parser.add_argument(
        "--strict", action="store_true", help="also run strict mode (the judge confirms all)"
    )
    parser.add_argument(
        "--split",
        default="",
        help="comma-separated data sets tuned on: tables for them and for the rest apart",
    )
    parser.add_argument("--limit", type=int, default=None, help="random sample of N items")
    parser.add_argument("--out", type=Path, default=RESULTS / "validator-eval.json")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    if not args.dev.is_file():
        raise SystemExit(f"{args.dev} is missing: run python bench/validator_devset.py first")
    items = [DevItem.model_validate_json(line) for line in args.dev.open(encoding="utf-8")]
    if args.limit:
        items = random.Random(0).sample(items, k=min(args.limit, len(items)))
    result: dict[str, Any] = {"items": len(items)}

    # Calibration: every claim scored, no cut, to sweep the threshold.
    scoring = load_settings(validate_mode="fast", support_reject=0.0, support_threshold=0.0)
    embedder = load_embedder(scoring)
    scored, _ = _run(Validator(scoring.validator, embedder), items, "scoring")
    result["sweep"] = sweep(items, scored)

    settings = load_settings(validate_mode="fast")
    fast = Validator(settings.validator, embedder)
    verdicts, seconds = _run(fast, items, "fast layer")
    claims = sum(len(v.sentences) for v in verdicts)
    rejected = {"fast": [not v.accepted for v in verdicts]}
    result["fast"] = table(items, rejected["fast"])
    result["fast"]["threshold"] = settings.validator.support_threshold
    result["fast"]["claims"] = claims
    result["fast"]["claims_per_s"] = round(claims / seconds, 1)

    judge = None  # one model for both modes
    for mode in [m for m in ("judge", "strict") if getattr(args, m)]:
        settings = load_settings(validate_mode=mode)
        judge = judge or Judge(open_model(settings.llm.model, settings))
        judged = Validator(settings.validator, embedder, judge=judge)
        run = CheckRun()
        verdicts, seconds = _run(judged, items, f"{mode} mode", run)
        layers = collections.Counter(c.layer for v in verdicts for c in v.sentences)
        rejected[mode] = [not v.accepted for v in verdicts]
        result[mode] = table(items, rejected[mode])
        result[mode]["band"] = [
            settings.validator.support_reject,
            settings.validator.support_accept,
        ]
        result[mode]["judge_calls"] = run.judge_calls
        result[mode]["judge_share"] = round(run.judge_calls / max(claims, 1), 4)
        result[mode]["layers"] = dict(layers)
        result[mode]["seconds"] = round(seconds, 1)

    tuned = {d for d in args.split.split(",") if d}
    if tuned:
        for part, keep in (("tuned on", True), ("not tuned on", False)):
            chosen = [i for i, it in enumerate(items) if (it.dataset in tuned) is keep]
            result[part] = {
                "datasets": sorted({items[i].dataset for i in chosen}),
                "sweep": sweep([items[i] for i in chosen], [scored[i] for i in chosen]),
                **{
                    m: table([items[i] for i in chosen], [r[i] for i in chosen])
                    for m, r in rejected.items()
                },
            }

    RESULTS.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    sweeps = [("all", result["sweep"])]
    sweeps += [(p, result[p]["sweep"]) for p in ("tuned on", "not tuned on") if p in result]
    print("fast threshold sweep (caught / good rejected): " + ", ".join(n for n, _ in sweeps))
    for i, row in enumerate(result["sweep"]):
        cells = "".join(f"  {w[i]['caught']:.3f} {w[i]['good_rejected']:.3f}" for _, w in sweeps)
        print(f"  {row['threshold']:.2f}{cells}")
    parts = [(p, result[p]) for p in ("tuned on", "not tuned on") if p in result]
    for title, part in [("all", result), *parts]:
        _print_table(title, part, items)
    print(f"\nfast layer: {result['fast']['claims_per_s']} claims/s ({claims} claims)")
    for mode in ("judge", "strict"):
        if mode in result:
            j = result[mode]
            print(
                f"{mode} mode: {j['judge_calls']} judge calls, {j['judge_share']:.1%} of claims, "
                f"{j['seconds']} s"
            )
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
