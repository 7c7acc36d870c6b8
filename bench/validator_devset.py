"""Build the validator's labeled dev set from the shared QA sets.

    python bench/validator_devset.py ../shared/data [--out bench/results/validator-dev.jsonl]

HotpotQA: the annotated evidence sentences, each cited to its paragraph, among the two evidence
paragraphs and two distractors. SQuAD 2.0 (answerable): the context sentence holding the answer,
cited to its paragraph, among it and two distractors. Every good form and every fault of
`rag.evaluate.devset` that applies is written, one `rag validate` input line each, with `label` and
`kind`. The set is derived at run time and never committed (the data stays in shared/).
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from rag.evaluate.devset import DevItem, build_items, number_passages
from rag.text import split_sentences
from rag.validate.claims import is_fragment


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def hotpot(folder: Path) -> list[DevItem]:
    """Items from HotpotQA's annotated evidence sentences."""
    corpus = {str(d["id"]): d for d in _jsonl(folder / "corpus.jsonl")}
    pool = [(str(d["title"]), str(d["text"])) for d in corpus.values()]
    items: list[DevItem] = []
    for q in _jsonl(folder / "gold.jsonl"):
        evidence = [str(e) for e in q["evidence"]]  # type: ignore[attr-defined]
        pairs = [(str(corpus[e]["title"]), str(corpus[e]["text"])) for e in evidence]
        passages, number_of, distractors = number_passages(pairs, pool, seed=str(q["id"]))
        claims = []
        for evidence_sentence in q["evidence_sentences"]:  # type: ignore[attr-defined]
            holder = next(t for t, x in pairs if evidence_sentence in x)
            # An annotated "sentence" may hold several; each cites its passage.
            text = str(evidence_sentence)
            claims += [(text[a:b], number_of[holder]) for a, b in split_sentences(text)]
        items += build_items(
            str(q["id"]), str(q["question"]), _joined(claims), passages, distractors, "hotpotqa"
        )
    return items


def _joined(claims: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Claims with HotpotQA's split-off pieces ("Love Forecast (; lit." / "Today's Love) is a
    film") joined to the next claim of the same passage: a fragment cited alone states
    nothing, and the validator rejects it as such. A piece with no such neighbour is left out.

    >>> _joined([("Pick Me Up!", 3), ("is a British weekly.", 3), ("It sells rye bread.", 4)])
    [('Pick Me Up! is a British weekly.', 3), ('It sells rye bread.', 4)]
    """
    out: list[tuple[str, int]] = []
    pending: tuple[str, int] | None = None
    for text, n in claims:
        if pending is not None and pending[1] == n:
            text = f"{pending[0]} {text}"
        pending = None
        if is_fragment(text):
            pending = (text, n)
        else:
            out.append((text, n))
    return out


def squad(folder: Path) -> list[DevItem]:
    """Items from SQuAD 2.0: the context sentence that holds the gold answer."""
    corpus = {str(d["id"]): d for d in _jsonl(folder / "corpus.jsonl")}
    pool = [(str(d["title"]) + f" ({d['id']})", str(d["text"])) for d in corpus.values()]
    items: list[DevItem] = []
    for q in _jsonl(folder / "gold.jsonl"):
        if not q["answerable"]:
            continue
        doc = corpus[str(q["evidence"][0])]  # type: ignore[index]
        title, text = str(doc["title"]) + f" ({doc['id']})", str(doc["text"])
        answer = str(q["answers"][0])  # type: ignore[index]
        sentence = next((text[a:b] for a, b in split_sentences(text) if answer in text[a:b]), None)
        if sentence is None:
            continue
        passages, number_of, distractors = number_passages([(title, text)], pool, str(q["id"]))
        items += build_items(
            str(q["id"]),
            str(q["question"]),
            [(sentence, number_of[title])],
            passages,
            distractors,
            "squad2",
        )
    return items


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder holding hotpotqa/ and squad2/")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "validator-dev.jsonl"
    )
    args = parser.parse_args()
    items = hotpot(args.data / "hotpotqa") + squad(args.data / "squad2")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(item.model_dump_json() + "\n")
    counts = collections.Counter((i.label, i.kind) for i in items)
    for (label, kind), n in sorted(counts.items()):
        print(f"{label:5} {kind:20} {n:5}")
    print(f"{len(items)} items -> {args.out}")


if __name__ == "__main__":
    main()
