"""rag against LlamaIndex on the same corpus, same model, same run: indexing time, query latency.

    pip install llama-index-core llama-index-vector-stores-faiss llama-index-embeddings-huggingface
    python bench/peer_llamaindex.py --size 5000

The corpus is bench/scale.py's synthetic one (real sentences from ../shared/data, one passage per
source). LlamaIndex gets the same packaged all-MiniLM-L6-v2 folder through its HuggingFace
embedding, a FAISS IndexFlatIP vector store, and its SentenceSplitter (each source stays one node,
as in rag); it runs once with its defaults (embed_batch_size 10) and once with rag's batch size
(8). rag runs with its default int8 passage encoder and with RAG_EMBED_PRECISION=fp32; the
four runs are interleaved. rag builds its whole index (FAISS + BM25 + SQLite) and answers hybrid
searches (dense + BM25 + fusion + fetch); its dense-only search is timed too. Each side indexes
in its own process, the model loaded before the clock starts (rag's int8 copy is made inside it:
~0.25 s from the calibration saved by an earlier build, as on every build but a machine's first;
with --first-build the calibration is made inside the clock too, ~1.5 s). Queries: the gold
questions of both QA sets, top 10. Prints ratios and writes bench/results/peer_llamaindex.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, in_child, peak_mb, questions, sentences, write_corpus


def latency(search: Any, queries: list[str]) -> dict[str, float]:
    """p50/p95 in ms of `search(q)` over the queries, after 20 warm-up calls."""
    for q in queries[:20]:
        search(q)
    values = []
    for q in queries:
        start = time.perf_counter()
        search(q)
        values.append(time.perf_counter() - start)
    return {
        "p50_ms": round(1000 * statistics.median(values), 2),
        "p95_ms": round(1000 * float(np.percentile(values, 95)), 2),
    }


def run_rag(
    corpus: str, index_dir: str, queries: list[str], precision: str, cache: str | None
) -> dict[str, Any]:
    """rag: full build, then hybrid and dense search latency. The int8 encoder is made
    inside the clock: it is part of indexing. `cache`: another RAG_LOCAL_CACHE_DIR."""
    from rag.config import load_settings
    from rag.embed.encoder import load_embedder
    from rag.embed.int8 import calibration_file
    from rag.embed.models import resolve_model_path
    from rag.index.build import build_index
    from rag.retrieve.search import open_searcher

    settings = load_settings(index_dir=Path(index_dir), embed_precision=precision)
    if cache is not None:
        settings = settings.updated(local_cache_dir=Path(cache))
    embedder = load_embedder(settings)
    model_dir = resolve_model_path(settings.embed.model)
    # None for fp32: no int8 copy is made, saved calibration or not
    saved = (
        calibration_file(settings.local.cache_dir, model_dir).is_file()
        if precision == "int8"
        else None
    )
    start = time.perf_counter()
    report = build_index(settings, add=[corpus])
    seconds = time.perf_counter() - start
    searcher = open_searcher(settings)
    return {
        "index_seconds": round(seconds, 2),
        "precision": getattr(embedder, "precision", precision),
        "int8_calibration_saved_before": saved,
        "passages": report.passages.total,
        "hybrid_search": latency(lambda q: searcher.search(q, k=10), queries),
        "dense_search": latency(lambda q: searcher.search(q, k=10, mode="dense"), queries),
        "peak_rss_mb": peak_mb(),
    }


def run_llamaindex(corpus: str, batch: int | None, queries: list[str]) -> dict[str, Any]:
    """LlamaIndex: documents -> SentenceSplitter -> HuggingFaceEmbedding -> FaissVectorStore."""
    from rag.embed.models import resolve_model_path, set_offline

    set_offline()
    import faiss
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.faiss import FaissVectorStore

    path = str(resolve_model_path("all-MiniLM-L6-v2"))
    model = (
        HuggingFaceEmbedding(model_name=path, device="cpu")
        if batch is None
        else HuggingFaceEmbedding(model_name=path, device="cpu", embed_batch_size=batch)
    )
    model.get_text_embedding("warm up")
    records = [json.loads(line) for line in Path(corpus).read_text().splitlines()]
    documents = [
        Document(text=r["text"], doc_id=r["id"], metadata={"title": r["title"]}) for r in records
    ]
    start = time.perf_counter()
    index = VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(
            vector_store=FaissVectorStore(faiss_index=faiss.IndexFlatIP(384))
        ),
        embed_model=model,
        transformations=[SentenceSplitter()],
    )
    seconds = time.perf_counter() - start
    retriever = index.as_retriever(similarity_top_k=10)
    nodes = len(index.docstore.docs)
    return {
        "embed_batch_size": model.embed_batch_size,
        "index_seconds": round(seconds, 2),
        "nodes": nodes,
        "dense_search": latency(retriever.retrieve, queries),
        "peak_rss_mb": peak_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=5_000, help="passages in the corpus")
    parser.add_argument("--out", type=Path, default=RESULTS / "peer_llamaindex.json")
    parser.add_argument(
        "--first-build",
        action="store_true",
        help="make rag's int8 calibration inside its clock, as a machine's first build does",
    )
    args = parser.parse_args()
    queries = questions()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        write_corpus(corpus, 0, args.size, sentences(), seed=args.size)
        cache = str(Path(tmp) / "cache") if args.first_build else None
        # Interleaved, so a slow minute on a shared machine does not land on one side only.
        ours = in_child(run_rag, str(corpus), str(Path(tmp) / "int8"), queries, "int8", cache)
        print(f"rag {json.dumps(ours)}", flush=True)
        peers = {"defaults": in_child(run_llamaindex, str(corpus), None, queries)}
        print(f"llamaindex defaults {json.dumps(peers['defaults'])}", flush=True)
        fp32 = in_child(run_rag, str(corpus), str(Path(tmp) / "fp32"), queries, "fp32", cache)
        print(f"rag fp32 {json.dumps(fp32)}", flush=True)
        peers["batch_8"] = in_child(run_llamaindex, str(corpus), 8, queries)
        print(f"llamaindex batch_8 {json.dumps(peers['batch_8'])}", flush=True)
    ratios = {}
    for name, p in peers.items():
        for label, run in (("", ours), ("fp32_", fp32)):
            ratios[f"{label}indexing_speedup_vs_{name}"] = round(
                p["index_seconds"] / run["index_seconds"], 2
            )
    for name, p in peers.items():
        ratios[f"dense_query_p50_speedup_vs_{name}"] = round(
            p["dense_search"]["p50_ms"] / ours["dense_search"]["p50_ms"], 2
        )
        ratios[f"hybrid_query_p50_speedup_vs_{name}"] = round(
            p["dense_search"]["p50_ms"] / ours["hybrid_search"]["p50_ms"], 2
        )
    result = {
        "passages": args.size,
        "queries": len(queries),
        "rag": ours,
        "rag_fp32": fp32,
        "llamaindex": peers,
    }
    result["ratios"] = ratios
    print(json.dumps(ratios, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
