"""Convert MuSiQue questions (as published in HippoRAG's data/ folder) to the corpus/gold format.

    python bench/convert_musique.py RAW_DIR OUT_DIR

RAW_DIR holds `musique_train.json` (questions, each with its 20 paragraphs and which of them
support it) and `musique_train_corpus.json` (every paragraph: title, text), e.g. written with
`git show <commit>:data/musique_train.json` from a snapshot of github.com/OSU-NLP-Group/HippoRAG.
OUT_DIR gets `corpus.jsonl` and `gold.jsonl`. The data stays outside the repository: this set
is the one nobody here tunes on (docs/retrieval.md, "Retrieval options").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def convert(raw: Path, out: Path) -> tuple[int, int]:
    """Write OUT/corpus.jsonl and OUT/gold.jsonl; returns (sources, questions)."""
    corpus: list[dict[str, Any]] = json.loads((raw / "musique_train_corpus.json").read_text())
    questions: list[dict[str, Any]] = json.loads((raw / "musique_train.json").read_text())
    ids: dict[tuple[str, str], str] = {}
    out.mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for row in corpus:
            key = (row["title"], row["text"].strip())
            if key in ids:
                continue
            ids[key] = f"musique-{len(ids):04d}"
            f.write(json.dumps({"id": ids[key], "title": key[0], "text": key[1]}) + "\n")
    missing = 0
    with (out / "gold.jsonl").open("w", encoding="utf-8") as f:
        for q in questions:
            evidence = []
            for p in q["paragraphs"]:
                if p["is_supporting"]:
                    found = ids.get((p["title"], p["paragraph_text"].strip()))
                    if found is None:
                        missing += 1
                    else:
                        evidence.append(found)
            gold = {
                "id": q["id"],
                "question": q["question"],
                "answers": [q["answer"], *q.get("answer_aliases", [])],
                "evidence": evidence,
                "answerable": bool(q.get("answerable", True)),
                "hops": len(q.get("question_decomposition", [])),
            }
            f.write(json.dumps(gold) + "\n")
    if missing:
        sys.exit(f"{missing} supporting paragraphs are not in the corpus file; check RAW_DIR")
    return len(ids), len(questions)


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="folder with musique_train*.json")
    parser.add_argument("out", type=Path, help="folder to write corpus.jsonl and gold.jsonl")
    args = parser.parse_args()
    sources, questions = convert(args.raw, args.out)
    print(f"{args.out}: {sources} sources, {questions} questions")


if __name__ == "__main__":
    main()
