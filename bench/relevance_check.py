"""What the relevance check does to the answers of `rag eval` runs: each shown (not abstained)
answer's supported summary is read against its question again, as the answer policy reads it,
and the answers below the threshold are counted with how many of them held a gold answer.

    python bench/relevance_check.py RUN_DIR [RUN_DIR ...] [--threshold 0.5]
    python bench/relevance_check.py --closest RUN_DIR [RUN_DIR ...]
    python bench/relevance_check.py --premise RUN_DIR [RUN_DIR ...] [--out FILE]
    python bench/relevance_check.py --pointing RUN_DIR [RUN_DIR ...] [--out FILE]

Runs of answerable questions show what the check costs; the gold answers an abstention would
lose are those counted as "contained". With `--closest`, each answer the check stopped (its
stored reading below the threshold) is given the policy's second chance instead: the closest
passage sentence of its first RAG_ANSWER_K hits, given where it may stand as the answer
(`may_answer`) and the judge reads it at RAG_CLOSEST_THRESHOLD; those given are counted by
answerable (with a gold answer or without) and unanswerable question.

With `--premise`, each shown answer is read as the policy's premise read does
(rag.answer.closest.judged_premise: the passage sentence of its first RAG_ANSWER_K hits closest
to the question, with its supported summary), and each run's abstention precision, recall and
F1, abstained on answerable and gold answers kept are given at several thresholds, as if the
answers read below them had abstained (threshold 0: no read; an answer the run's own premise
read stopped counts as shown before it, read as its note says); then with a higher
threshold for the questions whose closest sentence restates them (holds a share of their word
stems, RAG_PREMISE_RESTATED_SHARE), RAG_PREMISE_THRESHOLD for the rest, at several of both.

With `--pointing`, each shown answer whose summary opens with a word pointing outside it ("It
was founded by ...", rag.validate.asked.pointing_opening) is given what the policy now gives it:
the closest passage sentence where the judge reads it at RAG_CLOSEST_THRESHOLD and it opens
with no such word, else an abstention; each run's figures before and after, and each such
answer, are given.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from common import write_result

from rag.answer.closest import PremiseRead, closest_reading, held_share, judged_premise
from rag.answer.policy import answered_part
from rag.config import Settings, load_settings
from rag.embed.encoder import load_embedder
from rag.evaluate.metrics import answer_contained, precision_recall_f1
from rag.llm.providers import open_model
from rag.types import SentenceCheck, Verdict
from rag.validate.asked import pointing_opening
from rag.validate.relevance import Premise, Relevance
from rag.validate.wording import stems

THRESHOLDS = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
RESTATED_THRESHOLDS = (0.6, 0.65, 0.7, 0.75)
RESTATED_SHARES = (0.6, 0.7, 0.8, 0.9, 1.0)


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--closest", action="store_true", help="the stopped: closest sentence")
    parser.add_argument("--premise", action="store_true", help="shown answers: premise read")
    parser.add_argument("--pointing", action="store_true", help="shown answers: pointing opening")
    parser.add_argument("--out", type=Path, default=None, help="write JSON here")
    args = parser.parse_args()
    settings = load_settings()
    threshold = args.threshold or settings.validator.relevance_threshold
    model = open_model(settings.llm.model, settings)
    if args.premise:
        _premise(args.runs, settings, Premise(model), args.out)
        return
    relevance = Relevance(model)
    if args.pointing:
        _pointing(args.runs, settings, relevance, args.out)
        return
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
            said = _said(answer)
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


def _said(answer: dict[str, Any]) -> str:
    """A stored answer's supported summary, as the policy reads it (answered_part)."""
    checks = [SentenceCheck.model_validate(c) for c in answer["checks"]]
    return answered_part(answer["text"], Verdict(accepted=True, sentences=checks))


def _texts(answer: dict[str, Any], settings: Settings) -> dict[int, str]:
    """The text of a stored answer's first RAG_ANSWER_K hits, numbered as it was given them."""
    return {i: h["text"] for i, h in enumerate(answer["hits"][: settings.answer.k], 1)}


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
        found = closest_reading(question, _texts(answer, settings), embedder, relevance)
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


def _pointing(runs: list[Path], settings: Settings, relevance: Relevance, out: Path | None) -> None:
    """Each run's figures before and after its shown answers whose summary opens with a
    pointing word are given the closest passage sentence or abstain."""
    embedder = load_embedder(settings)
    tables: dict[str, dict[str, Any]] = {}
    cases: list[dict[str, Any]] = []
    for run in runs:
        before: list[dict[str, Any]] = []
        after: list[dict[str, Any]] = []
        for line in (run / "results.jsonl").open(encoding="utf-8"):
            record = json.loads(line)
            answer = record.get("answer") or {}
            if any(_POINTING_NOTE in n for n in answer.get("notes", [])):
                # Stopped by the run's own check: shown before it, its summary the first
                # sentence of what the abstention shows (now read again, as any other).
                record = {**record, "scores": _shown_scores(record, answer)}
                said = answer["text"].split("\n## 1. ")[1].split("\n", 2)[1]
                answer = {**answer, "status": "shown", "notes": [], "summary_said": said}
            before.append(record)
            shown = bool(answer) and answer["status"] != "abstained"
            # A summary that is already the closest sentence stood after the relevance check
            # stopped the drafted one; the pointing check reads drafted summaries only.
            drafted = not any(_CLOSEST_NOTE in n for n in answer.get("notes", []))
            said = answer.get("summary_said") or (_said(answer) if shown else "")
            word = pointing_opening(said) if shown and drafted else ""
            if not word:
                after.append(record)
                continue
            found = closest_reading(
                record["question"], _texts(answer, settings), embedder, relevance
            )
            gold = record["gold_answers"] or []
            given = (
                found is not None
                and found[2] >= settings.validator.closest_threshold
                and not pointing_opening(found[1])
            )
            held = given and found is not None and answer_contained(found[1], gold)
            scores = {"abstained": 0.0 if given else 1.0, "contained": float(bool(held))}
            after.append({**record, "scores": {**record["scores"], **scores}})
            cases.append(
                {
                    "run": run.name,
                    "question": record["question"],
                    "answerable": record["answerable"],
                    "summary": said,
                    "held_gold": bool(record["scores"].get("contained")),
                    "closest": None if found is None else found[1],
                    "read": None if found is None else round(found[2], 4),
                    "given": given,
                }
            )
        tables[run.name] = {
            "before": _scores([(r, None) for r in before], 0.0),
            "after": _scores([(r, None) for r in after], 0.0),
        }
        print(f"{run.name}: {tables[run.name]['before']} -> {tables[run.name]['after']}")
    for case in cases:
        print(case)
    if out:
        write_result(out, {"runs": tables, "answers": cases})


def _premise(runs: list[Path], settings: Settings, premise: Premise, out: Path | None) -> None:
    """What the premise read at each of THRESHOLDS would do to the shown answers of `runs`, and
    at RESTATED_THRESHOLDS for the questions their closest sentence restates."""
    embedder = load_embedder(settings)
    tables: dict[str, list[dict[str, Any]]] = {}
    readings: list[dict[str, Any]] = []
    general = settings.validator.premise_threshold
    for run in runs:
        rows: list[tuple[dict[str, Any], PremiseRead | None]] = []
        for line in (run / "results.jsonl").open(encoding="utf-8"):
            record = json.loads(line)
            answer = record.get("answer") or {}
            found = _stopped(record["question"], answer) if answer else None
            if found is not None:
                # Stopped by the run's own premise read: shown before it, read as it was.
                record = {**record, "scores": _shown_scores(record, answer)}
            elif answer and answer["status"] != "abstained":
                texts = _texts(answer, settings)
                found = judged_premise(record["question"], _said(answer), texts, embedder, premise)
            if found is not None or (answer and answer["status"] != "abstained"):
                readings.append(
                    {
                        "run": run.name,
                        "question": record["question"],
                        "read": None if found is None else round(found.read, 4),
                        "held": None if found is None else round(found.held, 3),
                    }
                )
            rows.append((record, found))
        cells = [_scores(rows, t) for t in THRESHOLDS]
        cells += [
            _scores(rows, general, high, share)
            for share in RESTATED_SHARES
            for high in RESTATED_THRESHOLDS
        ]
        tables[run.name] = cells
        for cell in cells:
            print(f"{run.name} {cell}")
    if out:
        write_result(
            out,
            {
                "thresholds": THRESHOLDS,
                "restated": {"thresholds": RESTATED_THRESHOLDS, "shares": RESTATED_SHARES},
                "runs": tables,
                "readings": readings,
            },
        )


_CLOSEST_NOTE = "so it stands as the summary, word for word"
_POINTING_NOTE = "which points to something it does not name"
_STOPPED = re.compile(
    r"as not saying it, ([0-9.]+) against the threshold [0-9.]+: (.*)\), so the answer abstains"
)


def _stopped(question: str, answer: dict[str, Any]) -> PremiseRead | None:
    """The premise read that stopped a stored answer, from its note (a run made with the read
    on): the sentence and reading the note gives."""
    for note in answer.get("notes", []):
        found = _STOPPED.search(note)
        if found:
            sentence = found.group(2)
            return PremiseRead(
                sentence, float(found.group(1)), held_share(stems(question), sentence)
            )
    return None


def _shown_scores(record: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """A stopped answer's scores as if shown: not abstained, holding a gold answer where what
    its abstention shows of the sources does."""
    held = answer_contained(answer["text"], record["gold_answers"] or [])
    return {**record["scores"], "abstained": 0.0, "contained": float(bool(held))}


def _scores(
    rows: list[tuple[dict[str, Any], PremiseRead | None]],
    threshold: float,
    restated: float | None = None,
    share: float = 1.0,
) -> dict[str, Any]:
    """A run's abstention figures, the answers read below `threshold` counted as abstained, or
    below `restated` where the closest sentence holds `share` of the question's stems."""

    def below(found: PremiseRead) -> bool:
        return found.read < (
            restated if restated is not None and found.held >= share else threshold
        )

    abstained = [
        bool(r["scores"].get("abstained")) or (found is not None and below(found))
        for r, found in rows
    ]
    answerable = [r["answerable"] for r, _ in rows]
    cell: dict[str, Any] = {"threshold": threshold}
    if restated is not None:
        cell |= {"restated": restated, "share": share}
    if not all(answerable):
        scored = precision_recall_f1(abstained, [not a for a in answerable])
        cell |= {k: None if v is None else round(v, 3) for k, v in scored.items()}
    asked = sum(answerable)
    wrong = sum(1 for a, ab in zip(answerable, abstained, strict=True) if a and ab)
    kept = sum(
        float(r["scores"].get("contained") or 0)
        for (r, _), ab in zip(rows, abstained, strict=True)
        if r["answerable"] and not ab
    )
    cell |= {
        "abstained_on_answerable": round(wrong / asked, 3),
        "contained": round(kept / asked, 3),
    }
    return cell


if __name__ == "__main__":
    main()
