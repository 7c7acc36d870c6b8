"""IVF recall at 1M on real text: a million real English sentences, encoded by rag's encoder.

    python bench/ann_real.py --size 1000000 --work /tmp/ann-real

No million-passage real corpus is on this machine, but a million real sentences are: the
shared QA sets' sentences and the docstrings of the installed Python packages and standard
library (technical English, which clusters by topic as real collections do). Each is encoded
by rag's passage encoder as a build encodes (int8, the job ordered by token count, blocks of
128); the vectors go into a flat store and are fitted exactly as a build fits them
(`rag.store.ann.fit`: IVF, nprobe tuned until recall@10 reaches RAG_ANN_TARGET_RECALL both on
indexed texts used as queries and on short questions made from them, rag/probes.py). Then
recall@10 against exact search is measured on queries the index does not hold: the 600 gold
questions of the shared sets and 1,000 held-out sentences, besides 500 indexed texts and the
questions made from them (another sample than the build's), at the build's nprobe and at each
of --curve; and the search time of one question.
Vectors are saved under --work a part at a time, so a stopped run resumes where it was.
Prints figures and writes bench/results/ann_real.json.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import random
import re
import sys
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from common import RESULTS, encode_all, peak_mb, questions, sentences

_HELD_OUT = 1_000
_SPLIT = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][a-z]+")
_COMMENTS = re.compile(r"(?:^[ \t]*#[^\n]*\n)+", flags=re.M)
_DOCS = (".md", ".rst", ".txt")


def _sentences(paragraph: str) -> list[str]:
    """The paragraph's sentences of 5-50 words that are mostly words (not code or tables)."""
    out = []
    for sentence in _SPLIT.split(" ".join(paragraph.split())):
        words = sentence.split()
        if 5 <= len(words) <= 50 and len(_WORD.findall(sentence)) >= 0.6 * len(words):
            out.append(sentence)
    return out


def paragraphs(path: Path) -> list[list[str]]:
    """The sentences of each paragraph of prose in one file: docstrings and comment blocks
    of Python source, paragraphs of text documentation."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []  # unreadable here (a dangling link, no permission): nothing to give
    found: list[str] = []
    if path.suffix == ".py":
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            tree = None  # a file this Python cannot parse keeps its comments
        documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        for node in ast.walk(tree) if tree is not None else ():
            doc = ast.get_docstring(node) if isinstance(node, documented) else None
            found += re.split(r"\n\s*\n", doc) if doc else []
        for block in _COMMENTS.findall(text):
            found.append(" ".join(line.strip().lstrip("#") for line in block.splitlines()))
    else:
        found = re.split(r"\n\s*\n", text)
    return [kept for paragraph in found if (kept := _sentences(paragraph))]


def _files(roots: list[Path]) -> list[Path]:
    return [
        path
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file() and (path.suffix in (".py", *_DOCS) or path.name == "METADATA")
    ]


def collect(size: int) -> tuple[list[str], list[str], dict[str, int]]:
    """`size` distinct real texts to index and `_HELD_OUT` others to ask with: sentences of
    the shared sets and of the machine's Python docstrings, comments and documentation, then,
    where those are too few, spans of two consecutive sentences of one paragraph."""
    paths = sysconfig.get_paths()
    roots = sorted({Path(paths[key]) for key in ("stdlib", "purelib", "platlib")})
    roots.append(Path("/usr/share/doc"))
    with ProcessPoolExecutor() as pool:
        found = list(pool.map(paragraphs, _files([r for r in roots if r.is_dir()]), chunksize=64))
    singles = list(dict.fromkeys([*sentences(), *(s for f in found for p in f for s in p)]))
    seen = set(singles)
    pairs = [
        pair
        for f in found
        for p in f
        for a, b in itertools.pairwise(p)
        if (pair := f"{a} {b}") not in seen
    ]
    pairs = list(dict.fromkeys(pairs))
    rng = random.Random(19)
    rng.shuffle(singles)
    rng.shuffle(pairs)
    texts = (singles + pairs[: max(0, size + _HELD_OUT - len(singles))])[: size + _HELD_OUT]
    if len(texts) < size + _HELD_OUT:
        most = len(texts) - _HELD_OUT
        sys.exit(f"only {len(texts)} distinct texts found; ask for --size {most} at most")
    rng.shuffle(texts)
    counts = {
        "files": len(found),
        "distinct_sentences": len(singles),
        "two_sentence_spans_used": len(texts) - min(len(singles), len(texts)),
    }
    return texts[:size], texts[size:], counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="sentences in the index")
    parser.add_argument("--work", type=Path, required=True, help="folder for the saved vectors")
    parser.add_argument("--out", type=Path, default=RESULTS / "ann_real.json")
    parser.add_argument(
        "--curve",
        type=int,
        nargs="*",
        default=[64, 128, 256, 384, 512, 768],
        help="nprobe values to measure recall at besides the build's",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    import faiss

    from rag.config import load_settings
    from rag.embed.encoder import load_embedder
    from rag.index.probes import probe_questions
    from rag.store.ann import fit, recall_at_k
    from rag.store.vectors import VectorStore

    start = time.perf_counter()
    saved = args.work / f"texts-{args.size}.json"
    if saved.is_file():  # the same machine gives the same texts; collecting takes minutes
        texts, held_out, counts = json.loads(saved.read_text(encoding="utf-8"))
    else:
        texts, held_out, counts = collect(args.size)
        saved.write_text(json.dumps([texts, held_out, counts]), encoding="utf-8")
    print(f"collected {counts} in {time.perf_counter() - start:.0f} s", flush=True)
    words = [len(t.split()) for t in texts]
    matrix, encoding = encode_all(texts, args.work)
    settings = load_settings()
    flat = VectorStore.empty(matrix.shape[1])
    flat.add(matrix, np.arange(len(matrix), dtype=np.int64))
    start = time.perf_counter()
    embedder = load_embedder(settings)

    def probes(ids: np.ndarray) -> np.ndarray:
        return embedder.encode(probe_questions([texts[int(i)] for i in ids]))

    store, info, _ = fit(
        flat,
        settings.store.ann_threshold,
        settings.store.ann_target_recall,
        settings.store.ann_sample,
        questions=probes,
    )
    fit_seconds = time.perf_counter() - start
    print(f"fitted {info.model_dump()} in {fit_seconds:.0f} s", flush=True)
    sample = np.sort(np.random.default_rng(11).choice(len(texts), 500, False))
    nobody = np.full(len(sample), -1, dtype=np.int64)  # not in the index: none left out
    kinds = {
        name: (np.full(len(queries), -1, dtype=np.int64), embedder.encode(queries))
        for name, queries in (("gold_questions", questions()), ("held_out_sentences", held_out))
    }
    # Another sample than the build tuned on: each left out of its own results.
    kinds["indexed_texts"] = (sample.astype(np.int64), matrix[sample])
    kinds["question_probes"] = (nobody, probes(sample))
    exact = {
        name: faiss.knn(vectors, matrix, 11, metric=faiss.METRIC_INNER_PRODUCT)
        for name, (_, vectors) in kinds.items()
    }

    def recalls(nprobe: int) -> dict[str, float]:
        store.nprobe = nprobe
        out = {}
        for name, (ids, vectors) in kinds.items():
            found, found_scores = store.search_many(vectors, 11)
            exact_scores, exact_ids = exact[name]
            out[name] = round(recall_at_k(ids, exact_ids, exact_scores, found, found_scores), 4)
        return out

    chosen = info.nprobe or 1  # an IVF fit always sets it
    by_nprobe = {n: recalls(n) for n in sorted({*args.curve, chosen})}
    for n, got in by_nprobe.items():
        print(f"nprobe {n}: {got}", flush=True)
    store.nprobe = chosen
    one_at_a_time = []
    for vector in kinds["gold_questions"][1][:200]:
        began = time.perf_counter()
        store.search(vector, settings.search.fusion_candidates)
        one_at_a_time.append(time.perf_counter() - began)
    held = {
        "queries": {name: len(ids) for name, (ids, _) in kinds.items()},
        "recall_at_10": by_nprobe[chosen],
        "question_search_p50_ms": round(1000 * float(np.median(one_at_a_time)), 2),
    }
    print(held, flush=True)
    result = {
        "texts": len(texts),
        "words_per_text": {"mean": round(float(np.mean(words)), 1), "max": max(words)},
        "sources": counts,
        "encoding": encoding,
        "fit_seconds": round(fit_seconds, 1),
        "index": info.model_dump(),
        "at_the_build_nprobe": held,
        "recall_at_10_by_nprobe": by_nprobe,
        "peak_rss_mb": peak_mb(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
