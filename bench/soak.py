"""Soak test of `rag serve` on loopback: mixed traffic for a long time (searches, streamed answers
from a mocked model, source listings, uploads each followed by a background build, and full
rebuilds), sampling the server's memory, open files and threads as it goes.

    python bench/soak.py                    # 30 minutes, HotpotQA corpus (else the demo)
    python bench/soak.py --minutes 5 --json

The server is bench/load.py's: its own process, the packaged MiniLM, the real index, FAISS and
BM25, litellm's mock_response as the model, no rate limit. Prints a table per window and writes
bench/results/soak.json: errors (each with its reason), latency p50/p95 per kind and window, RSS
after warm-up and at the end, open files and threads over time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from load import (
    SHARED,
    TOKEN,
    Failed,
    _questions,
    ask_once,
    index_corpus,
    percentiles,
    scrape,
    search_once,
    start_server,
)

ROOT = Path(__file__).resolve().parents[1]
WINDOW_S = 60.0
# Memory is compared from here: the first full rebuild (the fifth write, at 300 s) loads the
# full encoder builds use, about +500 MB once; measured from 120 s a run showed +50%, from
# here +6% and from 720 s +0.3%.
WARM_UP_S = 420.0


def process_sample(pid: int) -> dict[str, float]:
    """RSS (MB), open file descriptors and threads of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_kb = float(fields["VmRSS"].split()[0])
    return {
        "rss_mb": round(rss_kb / 1024, 1),
        "fds": float(len(os.listdir(f"/proc/{pid}/fd"))),
        "threads": float(fields["Threads"].strip()),
    }


async def sources_once(client: httpx.AsyncClient, _: str) -> int:
    """One page of the source list, then one source."""
    page = await client.get("/sources", params={"limit": 20})
    if page.status_code != 200:
        raise Failed(f"{page.status_code}: {page.text[:200]}")
    body = page.json()
    if body["sources"]:
        one = await client.get(f"/sources/{body['sources'][0]['id']}")
        if one.status_code != 200:
            raise Failed(f"{one.status_code}: {one.text[:200]}")
    return int(body["index_version"])


async def upload_once(client: httpx.AsyncClient, n: int) -> int:
    """An upload of a new small source (a build follows in the background)."""
    text = (
        f"Soak note {n}. The harbor ferry made trip number {n} on schedule, the agency said. "
        f"Crews logged {n * 3} passengers and no delays."
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    files = [("files", (f"soak-{n}.txt", text.encode()))]
    response = await client.post("/sources", headers=headers, files=files)
    if response.status_code != 202:
        raise Failed(f"{response.status_code}: {response.text[:200]}")
    return int(response.json()["job"]["id"])


async def rebuild_once(client: httpx.AsyncClient, full: bool) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = await client.post("/index/rebuild", params={"full": full}, headers=headers)
    if response.status_code != 202:
        raise Failed(f"{response.status_code}: {response.text[:200]}")
    return int(response.json()["id"])


class Log:
    """Every request: (finished at, kind, seconds), and the errors."""

    def __init__(self) -> None:
        self.done: list[tuple[float, str, float]] = []
        self.errors: list[str] = []


async def reader(
    kind: str,
    call: Any,
    client: httpx.AsyncClient,
    questions: list[str],
    log: Log,
    start: float,
    until: float,
    pause: float,
) -> None:
    rng = random.Random(hash(kind) ^ len(log.done))
    while time.monotonic() < until:
        began = time.monotonic()
        try:
            await call(client, rng.choice(questions))
            log.done.append((time.monotonic() - start, kind, time.monotonic() - began))
        except (Failed, httpx.HTTPError, ValueError, KeyError) as exc:
            log.errors.append(
                f"{kind} at {time.monotonic() - start:.0f} s: {type(exc).__name__}: {exc}"
            )
        await asyncio.sleep(pause)


async def writer(
    client: httpx.AsyncClient, log: Log, start: float, until: float, every: float
) -> None:
    """An upload every `every` seconds; a full rebuild every fifth time."""
    n = 0
    while time.monotonic() + every < until:
        await asyncio.sleep(every)
        n += 1
        began = time.monotonic()
        kind = "rebuild" if n % 5 == 0 else "upload"
        try:
            if kind == "rebuild":
                await rebuild_once(client, full=True)
            else:
                await upload_once(client, n)
            log.done.append((time.monotonic() - start, kind, time.monotonic() - began))
        except (Failed, httpx.HTTPError, ValueError, KeyError) as exc:
            log.errors.append(
                f"{kind} at {time.monotonic() - start:.0f} s: {type(exc).__name__}: {exc}"
            )


async def sampler(pid: int, samples: list[dict[str, float]], start: float, until: float) -> None:
    while time.monotonic() < until:
        samples.append({"at_s": round(time.monotonic() - start, 1), **process_sample(pid)})
        await asyncio.sleep(10)


async def soak(url: str, pid: int, seconds: float, questions: list[str]) -> dict[str, Any]:
    log = Log()
    samples: list[dict[str, float]] = []
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        start = time.monotonic()
        until = start + seconds
        await asyncio.gather(
            *(
                reader("search", search_once, client, questions, log, start, until, 0.05)
                for _ in range(4)
            ),
            *(reader("ask", ask_once, client, questions, log, start, until, 0.5) for _ in range(2)),
            reader("sources", sources_once, client, questions, log, start, until, 0.5),
            writer(client, log, start, until, every=60.0),
            sampler(pid, samples, start, until),
        )
        # Let the last build finish, then read what the server counted.
        deadline = time.monotonic() + 300
        while (await client.get("/index")).json()["building"] and time.monotonic() < deadline:
            await asyncio.sleep(1)
    return {"log": log, "samples": samples, "seconds": time.monotonic() - start}


def summarize(result: dict[str, Any], url: str) -> dict[str, Any]:
    log: Log = result["log"]
    samples: list[dict[str, float]] = result["samples"]
    windows = []
    end = max((t for t, _, _ in log.done), default=0.0)
    w = 0.0
    while w < end:
        rows = [(k, s) for t, k, s in log.done if w <= t < w + WINDOW_S]
        by = {
            kind: {"requests": len(v), **percentiles(v)}
            for kind in ("search", "ask", "sources", "upload", "rebuild")
            if (v := [s for k, s in rows if k == kind])
        }
        windows.append({"from_s": w, **by})
        w += WINDOW_S
    warm = [s for s in samples if s["at_s"] >= WARM_UP_S] or samples
    first, last = warm[0], samples[-1]
    counted = scrape(url)
    return {
        "seconds": round(result["seconds"], 1),
        "requests": len(log.done),
        "errors": len(log.errors),
        "error_examples": log.errors[:10],
        "by_kind": {
            kind: {"requests": len(v), **percentiles(v)}
            for kind in ("search", "ask", "sources", "upload", "rebuild")
            if (v := [s for _, k, s in log.done if k == kind])
        },
        "windows": windows,
        "memory": {
            "rss_after_warm_up_mb": first["rss_mb"],
            "rss_end_mb": last["rss_mb"],
            "rss_growth_after_warm_up": round(last["rss_mb"] / first["rss_mb"] - 1, 4),
            "rss_max_mb": max(s["rss_mb"] for s in samples),
        },
        "fds": {
            "after_warm_up": first["fds"],
            "end": last["fds"],
            "max": max(s["fds"] for s in samples),
        },
        "threads": {
            "after_warm_up": first["threads"],
            "end": last["threads"],
            "max": max(s["threads"] for s in samples),
        },
        "samples": samples,
        "server_counted": {
            k: v
            for k, v in counted.items()
            if k.startswith(
                ("rag_http_requests_total", "rag_build_jobs_total", "rag_answers_total")
            )
        },
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Path(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        index_corpus(corpus, index)
        server, url = start_server(index)
        try:
            result = asyncio.run(soak(url, server.pid, args.minutes * 60, _questions(corpus)))
            summary = summarize(result, url)
        finally:
            server.terminate()
            server.wait(timeout=60)
    return {"corpus": str(corpus), "machine": f"{os.cpu_count()} cores", **summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = SHARED / "corpus.jsonl"
    parser.add_argument(
        "--corpus", default=str(default if default.is_file() else ROOT / "examples" / "demo")
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    parser.add_argument("--json", action="store_true", help="Print the results as JSON only.")
    args = parser.parse_args()
    results = run(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"{results['requests']} requests in {results['seconds']} s, errors: {results['errors']}")
    for example in results["error_examples"]:
        print("  ", example)
    for window in results["windows"]:
        parts = [
            f"{k} {v['requests']} p50 {v['p50_ms']} p95 {v['p95_ms']} ms"
            for k, v in window.items()
            if k != "from_s"
        ]
        print(f"{window['from_s']:6.0f} s: " + "; ".join(parts))
    print("memory", results["memory"], "fds", results["fds"], "threads", results["threads"])
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
