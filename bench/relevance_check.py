"""What the relevance check does to the answers of `rag eval` runs: each shown (not abstained)
answer's supported summary is read against its question again, as the answer policy reads it,
and the answers below the threshold are counted with how many of them held a gold answer.

    python bench/relevance_check.py RUN_DIR [RUN_DIR ...] [--threshold 0.5]

Runs of answerable questions show what the check costs; the gold answers an abstention would
lose are those counted as "contained".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.answer.policy import answered_part
from rag.config import load_settings
from rag.llm.providers import open_model
from rag.types import SentenceCheck, Verdict
from rag.validate.relevance import Relevance


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args()
    settings = load_settings()
    threshold = args.threshold or settings.validator.relevance_threshold
    relevance = Relevance(open_model(settings.llm.model, settings))
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


if __name__ == "__main__":
    main()
