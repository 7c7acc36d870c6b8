"""What a linked-names check (a candidate, not in rag) and the named-measure kind would do to
the answers of `rag eval` runs, read offline (no model): each shown answer whose summary
reaches none of its question's names (`unlinked`: not named, and no passage of its first
RAG_ANSWER_K hits holds one with a name of the summary) is counted as abstained, and, apart,
each whose question asks for a named measure ("What is the population of ...?",
rag.validate.asked) and whose summary gives no number. Each run's figures before and after,
and each stopped answer.

    python bench/linked_check.py RUN_DIR [RUN_DIR ...] [--out FILE]

An answer stopped where its question has a gold answer it held is a loss; one stopped where
it held none, or where the question is unanswerable, is a wrong answer no longer shown.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from common import write_result
from relevance_check import _said, _scores

from rag.config import load_settings
from rag.text import MARKER, cited_numbers
from rag.validate.asked import asked_for, gives
from rag.validate.crossed import _holds, _names
from rag.validate.premise import _plain
from rag.validate.wording import NOT_NAMES, name_words

# Capitalised only because they open the question: "Which", "Did", "In".
_OPENER_WORDS = (
    "what which who whom whose where when why how is are was were do does did can could will "
    "would in on at for of by from to there during after before the a an"
)
_OPENERS = frozenset(_OPENER_WORDS.split())
_POSSESSIVE = re.compile(r"['\u2019]s?$")


def question_names(question: str) -> list[tuple[str, frozenset[str]]]:
    """The names `question` asks about, each with its stemmed parts; the word opening the
    question is not one ("Which", "Did").

    >>> [n for n, _ in question_names("Who is the opposition leader where Buyende is?")]
    ['Buyende']
    >>> [n for n, _ in question_names("Did Barry Wesson play in the World Series?")]
    ['Barry Wesson', 'World Series']
    """
    out = []
    for text, key, start, _ in _names(_plain(question).strip()):
        words = text.split()
        if start == 0 and words[0].lower() in _OPENERS:
            rest = _names(" ".join(words[1:]))
            if not rest:
                continue
            text, key = rest[0][0], rest[0][1]
        if text not in NOT_NAMES:
            out.append((_POSSESSIVE.sub("", text), key))
    return out


def unlinked(question: str, summary: str, titles: list[str], passages: list[str]) -> list[str]:
    """The question's names the answer's `summary` does not reach: it names none of their parts
    (with the `titles` of the passages it cites), and no one of `passages` (each title and
    text) holds the name together with a name of the summary. Empty where every name is
    reached, or where the question or the summary names nothing (nothing to tell by).

    >>> passages = ["Buyende District. A district in Eastern Uganda.",
    ...             "Leader of the Opposition (Jamaica). The leader is Peter Phillips.",
    ...             "Leader of the Opposition (Uganda). The leader is Winnie Kiiza."]
    >>> q = "Who is the current opposition leader in the country where Buyende is located?"
    >>> unlinked(q, "The leader is Peter Phillips [2].", [passages[1].split(".")[0]], passages)
    ['Buyende']
    >>> unlinked(q, "The leader is Winnie Kiiza [3].", [passages[2].split(".")[0]], passages)
    []
    >>> unlinked(q, "The leader is the one who leads [2].", [], passages)
    []
    """
    asked = question_names(question)
    said = name_words(_plain(MARKER.sub(" ", summary)), anywhere=True).union(
        *(name_words(_plain(t), anywhere=True) for t in titles)
    )
    if not asked or not said:
        return []
    held = [name_words(_plain(p), anywhere=True) for p in passages]
    return [
        text
        for text, key in asked
        if not _holds(key, said) and not any(_holds(key, h) and h & said for h in held)
    ]


def _missed(record: dict[str, Any], said: str, hits: list[dict[str, Any]]) -> list[str]:
    """The question's names the summary does not reach, by the titles of the hits it cites and
    the title and text of every hit."""
    cited = set(cited_numbers(said))
    titles = [h["title"] or "" for i, h in enumerate(hits, 1) if i in cited]
    texts = [f"{h['title'] or ''}. {h['text']}" for h in hits]
    return unlinked(record["question"], said, titles, texts)


def _unlinked_any(record: dict[str, Any], said: str, hits: list[dict[str, Any]]) -> str:
    """Stops where the summary reaches none of the question's names."""
    missed = _missed(record, said, hits)
    asked = question_names(record["question"])
    return ", ".join(missed) if missed and len(missed) == len(asked) else ""


def _unlinked_all(record: dict[str, Any], said: str, hits: list[dict[str, Any]]) -> str:
    """Stops where the summary misses any one of the question's names."""
    return ", ".join(_missed(record, said, hits))


def _measure(record: dict[str, Any], said: str, hits: list[dict[str, Any]]) -> str:
    """Stops where a question asking for a number by its measure gets none."""
    kind = asked_for(record["question"])
    return "no number" if kind == "a number" and not gives(kind, said) else ""


# Each read: a record, its supported summary, its first K hits -> why it stops, or "".
READS = {
    "linked (any name)": _unlinked_any,
    "linked (every name)": _unlinked_all,
    "named measure": _measure,
}


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=None, help="write JSON here")
    args = parser.parse_args()
    k = load_settings().answer.k
    tables: dict[str, dict[str, Any]] = {}
    cases: list[dict[str, Any]] = []
    for run in args.runs:
        records = [json.loads(line) for line in (run / "results.jsonl").open(encoding="utf-8")]
        table = {"before": _scores([(r, None) for r in records], 0.0)}
        for name, read in READS.items():
            after = []
            for record in records:
                answer = record.get("answer") or {}
                if not answer or answer["status"] == "abstained":
                    after.append(record)
                    continue
                said = _said(answer)
                why = read(record, said, answer["hits"][:k])
                if not why:
                    after.append(record)
                    continue
                cases.append(
                    {
                        "run": run.name,
                        "read": name,
                        "question": record["question"],
                        "answerable": record["answerable"],
                        "held_gold": bool(record["scores"].get("contained")),
                        "why": why,
                        "summary": said,
                    }
                )
                stopped = {"abstained": 1.0, "contained": 0.0}
                after.append({**record, "scores": {**record["scores"], **stopped}})
            table[name] = _scores([(r, None) for r in after], 0.0)
        tables[run.name] = table
        print(run.name)
        for name, cell in table.items():
            print(f"  {name}: {cell}")
    for case in cases:
        print(case)
    if args.out is not None:
        write_result(args.out, {"runs": tables, "stopped": cases})


if __name__ == "__main__":
    main()
