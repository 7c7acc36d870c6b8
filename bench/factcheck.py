"""Fact-checks of the seed questions over examples/demo with the embedded model: their shape
(sections, distinct sources, words, citation markers, verdict), whether every shown sentence
passes the validator on its own, what the drafts got wrong (uncited, out of range, cut,
re-attributed) and the time to the first checked section and to the whole answer; each
option given with --option is run too (an environment setting), in one table.

    python bench/factcheck.py [--option RAG_SECTION_GRAMMAR=false] [--out FILE.json]

Builds the demo index in a temporary folder (or uses --index). Prints a table and writes JSON
(default bench/results/factcheck.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from common import write_result

from rag.answer.answerer import open_answerer, open_validator
from rag.config import load_settings
from rag.embed.encoder import load_embedder
from rag.evaluate.scoring import cited_passages, depth
from rag.index.build import build_index
from rag.text import MARKER
from rag.types import Answer
from rag.validate.claims import split_claims
from rag.validate.validator import CheckRun

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["Are Minneapolis police helping ICE?", "Did Minnesota police join ICE?"]
VERDICTS = ("Yes.", "No.", "Mostly yes.", "Mostly no.", "Mixed.", "The sources do not")


def alone(answer: Answer, validator: Any) -> tuple[int, int]:
    """(shown sentences that cite, those that pass the validator each checked on its own)."""
    passages = cited_passages(answer)
    cited = [c for c in split_claims(answer.text) if c.citations]
    run = CheckRun()
    held = sum(
        validator.check(
            c.text, {n: passages[n] for n in c.citations if n in passages}, run
        ).accepted
        for c in cited
    )
    return len(cited), held


def measure(answer: Answer, validator: Any) -> dict[str, Any]:
    """One answer's figures."""
    cited, held = alone(answer, validator)
    drafted = answer.draft_checks
    bottom = answer.sections.bottom_line
    return {
        "question": answer.question,
        "status": answer.status,
        **{k: int(v) for k, v in depth(answer).items()},
        "markers": len(MARKER.findall(answer.text)),
        "verdict": next((v for v in VERDICTS if bottom.startswith(v)), ""),
        "sentences_cited": cited,
        "pass_alone": held,
        "drafted": len(drafted),
        "uncited": sum(c.problem == "uncited" for c in drafted),
        "out_of_range": sum(c.problem == "out_of_range" for c in drafted),
        "first_section_s": answer.timings.get("first_section"),
        "total_s": answer.timings.get("total"),
        "completion_tokens": answer.usage.get("completion_tokens", 0),
        "judge_calls": answer.usage.get("judge_calls", 0),
        "text": answer.text,
    }


def run_option(option: str, index: Path, questions: list[str]) -> list[dict[str, Any]]:
    """Every question with `option` (NAME=VALUE, or 'default') in the environment."""
    saved = dict(os.environ)
    if option != "default":
        name, _, value = option.partition("=")
        os.environ[name] = value
    try:
        settings = load_settings(index_dir=index)
        answerer = open_answerer(settings)
        validator = open_validator(settings, load_embedder(settings))
        rows = []
        for question in questions:
            started = time.perf_counter()
            answer = answerer.ask(question)
            row = measure(answer, validator) | {"option": option}
            row["wall_s"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            print(
                f"{option:28} {question[:36]:36} {row['status']:9} sections {row['sections']} "
                f"sources {row['sources']} words {row['words']} verdict {row['verdict'] or '-'} "
                f"alone {row['pass_alone']}/{row['sentences_cited']} first {row['first_section_s']}"
                f" s total {row['total_s']} s",
                flush=True,
            )
        answerer.searcher.reader.close() if answerer.searcher else None
        return rows
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--option", action="append", default=[], help="NAME=VALUE to compare")
    parser.add_argument("--index", type=Path, default=None, help="a built demo index")
    parser.add_argument("--question", action="append", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "factcheck.json")
    args = parser.parse_args()
    questions = args.question or QUESTIONS
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "index"
            build_index(load_settings(index_dir=index), add=[str(ROOT / "examples" / "demo")])
        rows = [r for o in ["default", *args.option] for r in run_option(o, index, questions)]
    summary = {}
    for option in ["default", *args.option]:
        mine = [r for r in rows if r["option"] == option]
        summary[option] = {
            "first_section_p50_s": statistics.median(r["first_section_s"] for r in mine),
            "total_p50_s": statistics.median(r["total_s"] for r in mine),
            "uncited": sum(r["uncited"] for r in mine),
            "out_of_range": sum(r["out_of_range"] for r in mine),
            "drafted": sum(r["drafted"] for r in mine),
            "cut": sum(r["cut"] for r in mine),
            "reattributed": sum(r["reattributed"] for r in mine),
            "pass_alone": f"{sum(r['pass_alone'] for r in mine)}/"
            f"{sum(r['sentences_cited'] for r in mine)}",
        }
        print(option, json.dumps(summary[option]))
    write_result(args.out, {"summary": summary, "answers": rows})


if __name__ == "__main__":
    main()
