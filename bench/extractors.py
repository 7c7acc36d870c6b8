"""Article text from real web pages: `rag`'s HTML reader against trafilatura, on trafilatura's own
annotated pages (nobody here tuned the reader on them).

    git -C MIRROR archive HEAD tests/evaldata.json tests/eval tests/cache | tar -x -C /tmp/tf
    python bench/extractors.py /tmp/tf/tests --out docs/bench/extractors.json

`rag` reads a page with trafilatura (a dependency), falling back to its tag reader where
trafilatura finds less than 250 characters; each is also measured alone. MIRROR is a clone of
github.com/adbar/trafilatura (its tests folder holds ~990 saved pages, news,
blogs and shop pages in several languages, each annotated with up to six snippets of its main
text that an extractor must keep and up to six of boilerplate it must leave out). The scoring is
theirs: a kept snippet found is a true positive, one missing a false negative; a boilerplate
snippet found is a false positive, one left out a true negative (whitespace normalized).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import write_result

from rag.errors import IngestError
from rag.ingest.html import decode_html, read_html, tag_text

Extractor = Callable[[bytes, str], str]


def ours(data: bytes, name: str) -> str:
    """`rag`'s reader, as `rag index add` and web sources use it."""
    try:
        return read_html(data, name).text
    except IngestError:
        return ""


def tags(data: bytes, name: str) -> str:
    """`rag`'s tag reader alone (article/main/body less scripts and navigation), as it read
    every page before trafilatura."""
    from selectolax.lexbor import LexborHTMLParser

    return tag_text(LexborHTMLParser(decode_html(data)))


def trafilatura_text(data: bytes, name: str, favor_precision: bool = False) -> str:
    """trafilatura with the settings of its own benchmark (no comments, tables kept)."""
    import trafilatura

    text = trafilatura.extract(
        data,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        favor_precision=favor_precision,
    )
    return text or ""


def precise(data: bytes, name: str) -> str:
    """trafilatura, favoring precision."""
    return trafilatura_text(data, name, favor_precision=True)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def score(text: str, item: dict[str, Any]) -> dict[str, int]:
    """True/false positives and negatives of one page's snippets.

    >>> score("Kept text here. Menu", {"with": ["Kept text"], "without": ["Menu", "Imprint"]})
    {'tp': 1, 'fn': 0, 'fp': 1, 'tn': 1}
    """
    plain = norm(text)
    kept = sum(norm(s) in plain for s in item["with"])
    leaked = sum(norm(s) in plain for s in item["without"])
    return {
        "tp": kept,
        "fn": len(item["with"]) - kept,
        "fp": leaked,
        "tn": len(item["without"]) - leaked,
    }


def summary(counts: dict[str, int]) -> dict[str, float]:
    """Precision, recall, F1 and accuracy from summed counts."""
    tp, fn, fp, tn = counts["tp"], counts["fn"], counts["fp"], counts["tn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "accuracy": round((tp + tn) / (tp + fn + fp + tn), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", type=Path, help="trafilatura's tests folder")
    parser.add_argument("--limit", type=int, default=0, help="pages read (0: all)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/extractors.json"))
    args = parser.parse_args()
    annotations = args.tests / "evaldata.json"
    if not annotations.is_file():
        sys.exit(f"{annotations} is missing: give the tests folder of a trafilatura checkout")
    items = json.loads(annotations.read_text(encoding="utf-8"))
    extractors: dict[str, Extractor] = {
        "rag": ours,
        "tags only": tags,
        "trafilatura": trafilatura_text,
        "trafilatura, favor precision": precise,
    }
    totals = {name: {"tp": 0, "fn": 0, "fp": 0, "tn": 0} for name in extractors}
    seconds: dict[str, list[float]] = {name: [] for name in extractors}
    pages = 0
    for item in items.values():
        path = next(
            (
                args.tests / sub / item["file"]
                for sub in ("cache", "eval")
                if (args.tests / sub / item["file"]).is_file()
            ),
            None,
        )
        if path is None:
            continue
        data = path.read_bytes()
        for name, extract in extractors.items():
            started = time.perf_counter()
            text = extract(data, path.name)
            seconds[name].append(time.perf_counter() - started)
            for key, value in score(text, item).items():
                totals[name][key] += value
        pages += 1
        if pages % 100 == 0:
            print(f"{pages} pages", flush=True)
        if args.limit and pages == args.limit:
            break
    result: dict[str, Any] = {"pages": pages, "extractors": {}}
    print(f"{pages} pages")
    print(
        f"{'extractor':30} {'precision':>9} {'recall':>7} {'F1':>6} {'accuracy':>8} {'ms p50':>7}"
    )
    for name in extractors:
        figures = summary(totals[name])
        p50 = statistics.median(seconds[name]) * 1000 if seconds[name] else 0.0
        result["extractors"][name] = {**figures, **totals[name], "ms_p50": round(p50, 1)}
        print(
            f"{name:30} {figures['precision']:>9} {figures['recall']:>7} {figures['f1']:>6} "
            f"{figures['accuracy']:>8} {p50:>7.1f}"
        )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
