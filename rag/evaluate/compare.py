"""Compare two evaluation runs: metric deltas side by side and the questions that flipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rag.errors import ConfigError
from rag.evaluate.run import METRICS, RESULTS
from rag.evaluate.scoring import correct
from rag.types import EvalRecord


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric metrics as "group.name" -> value (the run's settings and text left out)."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if key == "run":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def load_run(folder: Path) -> tuple[dict[str, Any], list[EvalRecord]]:
    """metrics.json and the records of a run folder."""
    metrics_path, results_path = folder / METRICS, folder / RESULTS
    if not metrics_path.is_file() or not results_path.is_file():
        raise ConfigError(
            f"{folder} is not a finished run (no {METRICS} or {RESULTS}); give the --out folder "
            "of a `rag eval` run"
        )
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    records = []
    for line in results_path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(EvalRecord.model_validate_json(line))
        except ValidationError:
            continue  # a line cut short by a stopped run; metrics.json never counted it
    return metrics, records


def compare_runs(a: Path, b: Path) -> dict[str, Any]:
    """Deltas (b - a) of every metric both runs have, and the questions both answered whose
    outcome (right or wrong, as `rag.scoring.correct` says) changed."""
    metrics_a, records_a = load_run(a)
    metrics_b, records_b = load_run(b)
    flat_a, flat_b = flatten(metrics_a), flatten(metrics_b)
    rows = [
        {
            "metric": key,
            "a": flat_a.get(key),
            "b": flat_b.get(key),
            "delta": round(flat_b[key] - flat_a[key], 4)
            if key in flat_a and key in flat_b
            else None,
        }
        for key in dict.fromkeys([*flat_a, *flat_b])
    ]
    by_id_a = {r.id: r for r in records_a}
    by_id_b = {r.id: r for r in records_b}
    now_right: list[dict[str, Any]] = []
    now_wrong: list[dict[str, Any]] = []
    for qid, rb in by_id_b.items():
        ra = by_id_a.get(qid)
        if ra is None:
            continue
        before, after = correct(ra), correct(rb)
        if before is None or after is None or before == after:
            continue
        entry = {
            "id": qid,
            "question": rb.question,
            "a_status": ra.answer.status if ra.answer else None,
            "b_status": rb.answer.status if rb.answer else None,
        }
        (now_right if after else now_wrong).append(entry)
    return {
        "a": str(a),
        "b": str(b),
        "metrics": rows,
        "now_right": now_right,
        "now_wrong": now_wrong,
        "common_questions": len(set(by_id_a) & set(by_id_b)),
        "only_in_a": len(set(by_id_a) - set(by_id_b)),
        "only_in_b": len(set(by_id_b) - set(by_id_a)),
    }
