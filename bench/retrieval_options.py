"""Every retrieval option on every QA set, in one table: recall@1/5/10, MRR and the worst
stray source (a source in the top 4 of questions it is not evidence for).

    python bench/retrieval_options.py [DATASET ...] [--out bench/results]

DATASET folders hold corpus.jsonl and gold.jsonl; the default is every set in ../shared/data.
Two indexes are built per set (titles embedded or not, the only index-time option here); every
other option is a way of ranking from them, so each option sees the same passages and vectors.
Writes bench/results/retrieval-options.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, SHARED, save_json

from rag.config import load_settings
from rag.evaluate.metrics import reciprocal_rank, source_recall_at_k
from rag.index.build import build_index
from rag.retrieve.links import TitleLinks, mention_form
from rag.retrieve.search import Ranking, Searcher, after_head, fuse_scores, open_searcher, rrf
from rag.store.lexical import LexicalIndex

N = 100  # candidates per ranking, as RAG_FUSION_CANDIDATES
KS = (1, 4, 5, 10)
TOP = 4  # the passages the model is shown first


class Question:
    """One gold question's rankings, computed once and combined by the options."""

    def __init__(self, gold: dict[str, Any], index: Index) -> None:
        self.gold = gold
        q = gold["question"]
        self.vector = index.plain.encode(q)
        self.dense: Ranking = index.plain.reader.vectors.search(self.vector, N)
        self.dense_t: Ranking = index.titled.reader.vectors.search(self.vector, N)
        self.bm25: Ranking = index.bare_bm25.search(q, N)
        self.bm25_t: Ranking = index.plain.bm25(q, N)


class Index:
    """The two indexes of a set, and BM25 without titles built beside them in memory."""

    def __init__(self, plain: Searcher, titled: Searcher) -> None:
        self.plain, self.titled = plain, titled
        self.bare_bm25 = LexicalIndex.build(plain.reader.meta.iter_lexical(), with_titles=False)


def hop(index: Index, q: Question, ranking: Ranking, as_words: bool, hops: int = 3) -> list[int]:
    """The title-link hop over a fused ranking, scanning the first `hops` hits: as `rag search`
    does it, or (`as_words`) as it did before names were told from words, with the links fused
    in by reciprocal rank."""
    s = index.plain
    ids = ranking[0]
    rows = s.reader.meta.passages_by_vec_ids(ids[:hops])
    top = [(v, rows[v].passage.title, rows[v].passage.text) for v in ids[:hops]]
    linked = words_linked(s.links, top) if as_words else s.links.linked(top)
    if not linked:
        return ids
    by_cosine = s.reader.vectors.reconstruct(linked) @ q.vector
    ranked = [linked[i] for i in np.argsort(-by_cosine, kind="stable")]
    if as_words:
        return rrf([ids, ranked], s.settings.rrf_k)[0]
    return after_head(ids, ranking[1], hops, ranked, s.settings.rrf_k)[0]


def words_linked(links: TitleLinks, hits: list[tuple[int, str, str]]) -> list[int]:
    """TitleLinks.linked matching titles as lowercased words anywhere (the earlier rule)."""
    own = {links._source_of.get(v) for v, _, _ in hits}
    skip = {v for _, t, _ in hits for v in links._vec_ids.get(mention_form(t), [])}
    out: dict[int, None] = {}
    for _, _, text in hits:
        joined = " " + " ".join(re.findall(r"\w+", text.lower())) + " "
        for form, vec_ids in links._vec_ids.items():
            if f" {form} " in joined:
                for v in vec_ids:
                    if v not in skip and links._source_of.get(v) not in own:
                        out[v] = None
    return list(out)


def score_fused(a: Ranking, b: Ranking, dense_weight: float = 0.5) -> Ranking:
    return fuse_scores([a, b], [dense_weight, 1 - dense_weight])


Option = Callable[[Index, Question], list[int]]

OPTIONS: dict[str, Option] = {
    "dense": lambda i, q: q.dense[0],
    "dense, titles": lambda i, q: q.dense_t[0],
    "bm25": lambda i, q: q.bm25[0],
    "bm25, titles": lambda i, q: q.bm25_t[0],
    "rrf": lambda i, q: rrf([q.dense[0], q.bm25[0]], 60)[0],
    "rrf, bm25 titles": lambda i, q: rrf([q.dense[0], q.bm25_t[0]], 60)[0],
    "rrf, titles": lambda i, q: rrf([q.dense_t[0], q.bm25_t[0]], 60)[0],
    "rrf + hop as words (old)": lambda i, q: hop(i, q, rrf([q.dense[0], q.bm25[0]], 60), True),
    "score": lambda i, q: score_fused(q.dense, q.bm25)[0],
    "score, bm25 titles": lambda i, q: score_fused(q.dense, q.bm25_t)[0],
    "score, titles": lambda i, q: score_fused(q.dense_t, q.bm25_t)[0],
    "score, bm25 titles, w.4": lambda i, q: score_fused(q.dense, q.bm25_t, 0.4)[0],
    "score, bm25 titles, w.6": lambda i, q: score_fused(q.dense, q.bm25_t, 0.6)[0],
    "score, bm25 titles + hop as words": lambda i, q: hop(
        i, q, score_fused(q.dense, q.bm25_t), True
    ),
    "score, bm25 titles + hop": lambda i, q: hop(i, q, score_fused(q.dense, q.bm25_t), False),
    "score, bm25 titles + hop, 2 hits": lambda i, q: hop(
        i, q, score_fused(q.dense, q.bm25_t), False, 2
    ),
    "score, bm25 titles + hop, 4 hits": lambda i, q: hop(
        i, q, score_fused(q.dense, q.bm25_t), False, 4
    ),
}


def score(rankings: list[list[str]], golds: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall@k, MRR and the worst stray source's share of questions."""
    row: dict[str, Any] = {}
    for k in KS:
        row[f"R@{k}"] = statistics.mean(
            source_recall_at_k(r, g["evidence"], k) for r, g in zip(rankings, golds, strict=True)
        )
    row["MRR"] = statistics.mean(
        reciprocal_rank(r, g["evidence"]) for r, g in zip(rankings, golds, strict=True)
    )
    strays: Counter[str] = Counter()
    for r, g in zip(rankings, golds, strict=True):
        strays.update({s for s in r[:TOP] if s not in g["evidence"]})
    source, count = strays.most_common(1)[0] if strays else ("", 0)
    row["stray"] = count / len(golds)
    row["stray_source"] = source
    return row


def run(dataset: Path, work: Path) -> dict[str, Any]:
    """Every option's scores on one set."""
    golds = [json.loads(line) for line in (dataset / "gold.jsonl").open(encoding="utf-8")]
    golds = [g for g in golds if g.get("answerable", True) and g.get("evidence")]
    searchers: list[Searcher] = []
    built = {}
    for titles in (False, True):
        settings = load_settings(index_dir=work / f"{dataset.name}-{titles}", embed_titles=titles)
        started = time.perf_counter()
        build_index(settings, add=[str(dataset / "corpus.jsonl")])
        built[f"titles={titles}"] = round(time.perf_counter() - started, 1)
        searchers.append(open_searcher(settings))
    index = Index(*searchers)
    questions = [Question(g, index) for g in golds]
    source_of = {v: sid for v, sid, _ in index.plain.reader.meta.iter_titles()}

    def sources(ids: list[int]) -> list[str]:
        return [source_of[v] for v in ids]

    result: dict[str, Any] = {
        "dataset": dataset.name,
        "questions": len(golds),
        "build_seconds": built,
        "options": {},
    }
    for name, option in OPTIONS.items():
        rankings = [sources(option(index, q)[:N]) for q in questions]
        result["options"][name] = score(rankings, golds)
    default = [sources_of_hits(index.plain, g["question"]) for g in golds]
    result["options"]["default (rag search)"] = score(default, golds)
    for s in searchers:
        s.reader.close()
    return result


def sources_of_hits(searcher: Searcher, question: str) -> list[str]:
    """What `rag search` ranks with the default settings, as source ids."""
    return [h.source_id for h in searcher.search(question, k=10)]


def table(results: list[dict[str, Any]]) -> str:
    """One row per option, a column group per set."""
    cols = ("R@1", "R@5", "R@10", "MRR", "stray")
    width = 6 * len(cols)
    lines = [f"{'':34}" + "".join(f"| {r['dataset']:{width}}" for r in results)]
    lines.append(f"{'option':34}" + ("| " + " ".join(f"{c:>5}" for c in cols) + " ") * len(results))
    for name in results[0]["options"]:
        line = f"{name:34}"
        for r in results:
            row = r["options"][name]
            line += "| " + " ".join(f"{row[c]:5.3f}" for c in cols) + " "
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="*")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    datasets = args.datasets or sorted(p for p in SHARED.iterdir() if (p / "gold.jsonl").is_file())
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(d, Path(tmp)) for d in datasets]
    print(table(results))
    save_json(args.out, "retrieval-options.json", results)


if __name__ == "__main__":
    main()
