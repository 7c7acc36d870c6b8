"""Prompt-lookup decoding in llama.cpp for the embedded model: tokens per second writing the
demo fact-checks' sections with and without it (a section copies its passages' words, which is
what prompt lookup drafts from), greedy, and whether the text comes out the same.

    python bench/prompt_lookup.py [--draft 10 --draft 4] [--limit N] [--out FILE.json]

Prints a table and writes JSON (default bench/results/prompt-lookup.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import write_result

from rag.answer.context import passage_block
from rag.answer.plan import kind_of, plan_aspects
from rag.config import load_settings
from rag.embed.encoder import load_embedder
from rag.index.build import build_index
from rag.llm.local import _chatml, model_file
from rag.llm.prompts import load_prompt
from rag.retrieve.search import open_searcher

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["Are Minneapolis police helping ICE?", "Did Minnesota police join ICE?"]


def section_prompts(index: Path) -> list[str]:
    """The section prompts of the seed questions' fact-checks, as the engine reads them."""
    settings = load_settings(index_dir=index)
    embedder = load_embedder(settings)
    searcher = open_searcher(settings, embedder)
    prompt = load_prompt("section")
    answer = settings.answer
    out = []
    for question in QUESTIONS:
        hits = searcher.search(question, k=answer.wide_k)
        vectors = embedder.encode([h.text for h in hits])
        for aspect in plan_aspects(
            hits,
            vectors,
            kind_of(question),
            answer.evidence,
            answer.per_source,
            answer.section_passages,
            answer.max_sections,
            answer.k,
        ):
            block = passage_block(aspect.hits, question, answer.section_words)
            messages = prompt.render(question=question, passages=block, n_passages=len(aspect.hits))
            out.append(_chatml(messages))
    searcher.reader.close()
    return out


def run(prompts: list[str], draft: int, path: Path, threads: int) -> list[dict[str, Any]]:
    """Each prompt written greedily with `draft` tokens of prompt lookup (0: off)."""
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    llama = Llama(
        model_path=str(path),
        n_ctx=4096,
        n_threads=threads,
        n_batch=512,
        seed=0,
        verbose=False,
        # The draft path evaluates several tokens and reads the logits of each; llama-cpp-python
        # sizes its scores buffer by this flag, not by the draft model (n_batch rows without it:
        # "could not broadcast" once a prompt passes 512 tokens). 2.5 GB at n_ctx 4096.
        logits_all=bool(draft),
        draft_model=LlamaPromptLookupDecoding(num_pred_tokens=draft) if draft else None,
    )
    rows = []
    for prompt in prompts:
        llama.reset()  # type: ignore[no-untyped-call]  # each prompt from an empty context
        started = time.perf_counter()
        first: float | None = None
        pieces = []
        for chunk in llama.create_completion(
            prompt, max_tokens=200, temperature=0.0, stream=True, stop=["<|im_end|>"]
        ):
            if first is None:
                first = time.perf_counter() - started
            pieces.append(chunk["choices"][0]["text"])  # type: ignore[index]
        total = time.perf_counter() - started
        text = "".join(pieces)
        tokens = len(llama.tokenize(text.encode(), add_bos=False))
        rows.append(
            {
                "draft": draft,
                "tokens": tokens,
                "first_token_s": round(first or 0.0, 3),
                "total_s": round(total, 3),
                "tokens_per_s": round(tokens / max(total - (first or 0.0), 1e-6), 2),
                "text": text,
            }
        )
    llama.close()
    return rows


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draft", type=int, action="append", default=None)
    parser.add_argument("--index", type=Path, default=None, help="a built demo index")
    parser.add_argument("--limit", type=int, default=None, help="the first N section prompts")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "prompt-lookup.json"
    )
    args = parser.parse_args()
    settings = load_settings()
    index = args.index or Path("/tmp") / "rag-prompt-lookup-index"
    if args.index is None and not index.exists():
        build_index(load_settings(index_dir=index), add=[str(ROOT / "examples" / "demo")])
    prompts = section_prompts(index)[: args.limit]
    path = model_file(settings.local.cache_dir)
    threads = settings.local.threads or os.cpu_count() or 2
    results: dict[str, Any] = {"prompts": len(prompts), "modes": {}}
    base: list[dict[str, Any]] = []
    for draft in [0, *(args.draft or [10, 4])]:
        rows = run(prompts, draft, path, threads)
        base = base or rows
        same = sum(a["text"] == b["text"] for a, b in zip(rows, base, strict=True))
        summary = {
            "tokens_per_s_p50": statistics.median(r["tokens_per_s"] for r in rows),
            "first_token_p50_s": statistics.median(r["first_token_s"] for r in rows),
            "total_s": round(sum(r["total_s"] for r in rows), 1),
            "tokens": sum(r["tokens"] for r in rows),
            "same_text_as_off": f"{same}/{len(rows)}",
        }
        results["modes"][str(draft)] = {"summary": summary, "rows": rows}
        print(f"prompt lookup {draft or 'off':>3}: {json.dumps(summary)}", flush=True)
    write_result(args.out, results)


if __name__ == "__main__":
    main()
