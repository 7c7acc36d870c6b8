"""What the relevance check does to the answers of `rag eval` runs: each shown (not abstained)
answer's supported summary is read against its question again, as the answer policy reads it,
and the answers below the threshold are counted with how many of them held a gold answer.

    python bench/relevance_check.py RUN_DIR [RUN_DIR ...] [--threshold 0.5]
    python bench/relevance_check.py --closest RUN_DIR [RUN_DIR ...]

Runs of answerable questions show what the check costs; the gold answers an abstention would
lose are those counted as "contained". With `--closest`, each answer the check stopped (its
stored reading below the threshold) is given the policy's second chance instead: the closest
passage sentence of its first RAG_ANSWER_K hits, given where it may stand as the answer
(`may_answer`) and the judge reads it at RAG_CLOSEST_THRESHOLD; those given are counted by
answerable (with a gold answer or without) and unanswerable question.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.answer.closest import closest_reading
from rag.answer.policy import answered_part
from rag.config import Settings, load_settings
from rag.embed.encoder import load_embedder
from rag.evaluate.metrics import answer_contained
from rag.llm.providers import open_model
from rag.types import SentenceCheck, Verdict
from rag.validate.relevance import Relevance


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--closest", action="store_true", help="the stopped: closest sentence")
    args = parser.parse_args()
    settings = load_settings()
    threshold = args.threshold or settings.validator.relevance_threshold
    relevance = Relevance(open_model(settings.llm.model, settings))
    if args.closest:
        for run in args.runs:
            _closest(run, settings, threshold, relevance)
        return
    for run in args.runs:
        shown = below = 0
        contained = below_contained = 0.0
        for line in (run / "results.jsonl").open(encoding="utf-8"):
            record = json.loads(line)
            answer = record.get("answer")
            if not answer or answer["status"] == "abstained":
                continue
            checks = [SentenceCheck.model_validate(c) for c in answer["checks"]]
            said = answered_part(answer["text"], Verdict(accepted=True, sentences=checks))
            held = float(record["scores"].get("contained", 0))
            shown += 1
            contained += held
            if relevance(record["question"], said) < threshold:
                below += 1
                below_contained += held
        print(
            f"{run}: {shown} answers shown ({contained:.0f} with a gold answer); "
            f"{below} below {threshold} ({below_contained:.0f} with a gold answer)"
        )


def _closest(run: Path, settings: Settings, threshold: float, relevance: Relevance) -> None:
    """What the closest sentence does to the answers of `run` the relevance check stopped."""
    embedder = load_embedder(settings)
    counts = {"answerable, with gold": 0, "answerable, without": 0, "unanswerable": 0}
    stopped = {"answerable": 0, "unanswerable": 0}
    for line in (run / "results.jsonl").open(encoding="utf-8"):
        record = json.loads(line)
        answer, question = record.get("answer") or {}, record["question"]
        if answer.get("relevance") is None or answer["relevance"] >= threshold:
            continue
        kind = "answerable" if record["answerable"] else "unanswerable"
        stopped[kind] += 1
        hits = answer["hits"][: settings.answer.k]
        texts = {i: h["text"] for i, h in enumerate(hits, 1)}
        found = closest_reading(question, texts, embedder, relevance)
        if not found:
            continue
        _, sentence, read = found
        held = bool(answer_contained(sentence, record["gold_answers"] or []))
        print(f"  {kind}: {read:.2f} {'(gold) ' if held else ''}{question} -> {sentence[:80]}")
        if read < settings.validator.closest_threshold:
            continue
        if kind == "unanswerable":
            counts[kind] += 1
        else:
            counts["answerable, with gold" if held else "answerable, without"] += 1
    print(f"{run}: stopped {stopped}; given {counts}")


if __name__ == "__main__":
    main()
