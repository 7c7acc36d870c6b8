"""Answer quality and speed of `rag ask` on a gold set, with the configured model.

    python bench/answers.py examples/demo-gold.jsonl --sources examples/demo
    python bench/answers.py ../shared/data/squad2/gold.jsonl \\
        --sources ../shared/data/squad2/corpus.jsonl --answerable 10 --unanswerable 10

For each question: whether the answer contains a gold answer (case-insensitive, citations
removed), whether it abstains (says the sources do not answer), and the validator's status
(accepted, repaired, abstained). Every answer as shown is then written as a `rag validate` line
and checked again by `rag validate` run on its own: every accepted or repaired answer must pass.
Prints a table and writes bench/results/answers-<name>.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rag.build import build_index
from rag.citations import MARKER
from rag.config import load_settings
from rag.pipeline import ask
from rag.search import open_searcher
from rag.types import Answer

ABSTAIN = re.compile(
    r"do(?:es)? not (?:answer|say|mention|address|provide|contain|specify|state)|"
    r"cannot (?:be )?(?:answer|determine|settle)|no passage|not (?:mentioned|stated|specified)|"
    r"no information|don.t know|unknown",
    re.I,
)


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether any gold answer appears in the text, ignoring case and citation markers."""
    plain = MARKER.sub("", text).lower()
    return any(a.lower() in plain for a in answers)


def abstained(answer: Answer) -> bool:
    """Whether the validator abstained or the summary says the sources do not answer."""
    return answer.status == "abstained" or bool(
        ABSTAIN.search(answer.sections.summary or answer.text)
    )


def validate_line(answer: Answer) -> dict[str, Any]:
    """The answer as shown, with its cited passages: a `rag validate` input line."""
    text_of = {h.passage_id: h for h in answer.hits}
    passages = [
        {"n": c.n, "text": text_of[c.passage_id].text, "title": c.title} for c in answer.citations
    ]
    return {"question": answer.question, "answer": answer.text, "passages": passages}


def revalidate(path: Path) -> list[bool]:
    """`rag validate --json` run on its own over the shown answers: accepted per line."""
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "validate", str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line)["accepted"] for line in done.stdout.splitlines()]


def pick(
    gold: list[dict[str, Any]], answerable: int | None, unanswerable: int | None
) -> list[dict[str, Any]]:
    """The first N answerable and first M unanswerable questions (all where not given)."""
    yes = [g for g in gold if g["answerable"]]
    no = [g for g in gold if not g["answerable"]]
    return (
        yes[: answerable if answerable is not None else len(yes)]
        + no[: unanswerable if unanswerable is not None else len(no)]
    )


def share(rows: list[dict[str, Any]], key: str) -> str:
    """'hits/total' of rows whose `key` is true."""
    return f"{sum(bool(r[key]) for r in rows)}/{len(rows)}"


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("--sources", type=Path, required=True, help="corpus file or folder")
    parser.add_argument("--answerable", type=int, default=None)
    parser.add_argument("--unanswerable", type=int, default=None)
    parser.add_argument("--name", default=None, help="name of the results file")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    gold = pick([json.loads(x) for x in args.gold.open()], args.answerable, args.unanswerable)
    rows: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=Path(tmp) / "index")
        build_index(settings, add=[str(args.sources)])
        searcher = open_searcher(settings)
        for g in gold:
            answer = ask(g["question"], settings=settings, searcher=searcher)
            lines.append(validate_line(answer))
            row = {
                "id": g["id"],
                "question": g["question"],
                "answerable": g["answerable"],
                "contains_answer": contains_answer(answer.text, g["answers"])
                if g["answers"]
                else None,
                "abstained": abstained(answer),
                "status": answer.status,
                "repair_rounds": answer.repair_rounds,
                "sentences_cut": len(answer.dropped_sentences),
                "judge_calls": sum(c.layer == "judge" for c in answer.checks),
                "first_token_s": answer.timings.get("first_token"),
                "total_s": answer.timings.get("total"),
                "answer": answer.text,
            }
            rows.append(row)
            print(
                f"{g['id']:>28} ans={g['answerable']!s:5} contains={row['contains_answer']!s:5} "
                f"abstained={row['abstained']!s:5} status={answer.status:9} "
                f"ttft={row['first_token_s']:5.1f}s total={row['total_s']:5.1f}s",
                flush=True,
            )
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    summary = {
        "questions": len(rows),
        "model": settings.llm_model,
        "contains_answer": share(answerable, "contains_answer"),
        "abstained_on_unanswerable": share(unanswerable, "abstained"),
        "abstained_on_answerable": share(answerable, "abstained"),
        "status": dict(collections.Counter(r["status"] for r in rows)),
        "sentences_cut": sum(r["sentences_cut"] for r in rows),
        "first_token_p50_s": round(statistics.median(r["first_token_s"] for r in rows), 2),
        "total_p50_s": round(statistics.median(r["total_s"] for r in rows), 2),
        "total_max_s": round(max(r["total_s"] for r in rows), 2),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or args.gold.parent.name
    shown = args.out / f"answers-{name}-shown.jsonl"
    shown.write_text("".join(json.dumps(line) + "\n" for line in lines))
    passed = revalidate(shown)
    kept = [r["status"] in ("accepted", "repaired") for r in rows]
    summary["shown_and_revalidated"] = (
        f"{sum(p for p, k in zip(passed, kept, strict=True) if k)}/{sum(kept)}"
    )
    print(json.dumps(summary, indent=2))
    path = args.out / f"answers-{name}.json"
    path.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
