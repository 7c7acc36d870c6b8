"""Load test of `rag serve` on loopback: concurrent /search clients with a full rebuild started
mid-run, then concurrent /ask clients against a mocked model.

    python bench/load.py                      # HotpotQA corpus from ../shared/data, else the demo
    python bench/load.py --seconds 60 --search-clients 50 --ask-clients 10 --json

The server runs in its own process (this script with --serve), on 127.0.0.1 only, with the
packaged MiniLM encoder and the real index, FAISS and BM25. The model that writes answers is
litellm's mock_response (no network, no GPU): the /ask figures measure the service around the
model (retrieval, prompt, streaming, the fast validation layer with the real encoder, repair),
not a model's speed. The per-client rate limit is off (every client is 127.0.0.1). Bounded: each
phase stops after --seconds, each request after 30 s. Prints a table and writes
bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "hotpotqa"
TOKEN = "load-test-token"
TIMEOUT = 30.0
MOCK_ANSWER = (
    "## Summary\nThe sources name the people and places asked about [1]. A second source adds "
    "a date [2].\n## 1. What the sources say\nThe first passage gives the main fact [1].\n"
    "## Bottom line\nThe passages answer part of the question [1].\n"
    "## What the sources cannot settle\nWhat the passages do not mention.\n"
    "## Follow-up questions\n- What do other sources say?\n"
)
DEMO_QUESTIONS = [
    "Are Minneapolis police helping ICE?",
    "What did the council vote on December 11?",
    "How many arrests did the federal operation make?",
    "What do 287(g) agreements allow?",
]


def serve(index: Path, port: int) -> None:
    """The server process: real encoder and index, mocked answering model."""
    import uvicorn

    from rag.config import Settings, load_settings
    from rag.llm.model import ChatModel
    from rag.llm.providers import LiteLLMModel
    from rag.serve.app import create_app
    from rag.serve.service import Service

    os.environ.setdefault("OPENAI_API_KEY", "sk-mock-not-used")
    settings = load_settings(
        index_dir=index,
        llm_model="openai/mock-model",
        validate_mode="fast",
        rate_limit_per_minute=0,
        admin_token=TOKEN,
    )

    def mocked(name: str, settings: Settings) -> ChatModel:
        # litellm itself, answering with a canned reply: the service's whole path but the model.
        return LiteLLMModel(name, settings.llm, options={"mock_response": MOCK_ANSWER})

    service = Service(settings, models=mocked)
    service.start()
    uvicorn.run(create_app(service=service), host="127.0.0.1", port=port, log_level="warning")


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 and max in milliseconds."""
    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "max_ms": round(ordered[-1] * 1000, 1)}


class Tally:
    """Latencies, errors and index versions seen, each with the time it finished."""

    def __init__(self) -> None:
        self.done: list[tuple[float, float, int | None]] = []  # (finished at, seconds, version)
        self.errors: list[str] = []

    def summary(self, seconds: float, window: tuple[float, float] | None = None) -> dict[str, Any]:
        rows = self.done
        if window is not None:
            rows = [r for r in rows if window[0] <= r[0] <= window[1]]
        versions: dict[str, int] = {}
        for _, _, version in rows:
            versions[str(version)] = versions.get(str(version), 0) + 1
        out: dict[str, Any] = {
            "requests": len(rows),
            "per_second": round(len(rows) / seconds, 1) if seconds else 0.0,
            **percentiles([r[1] for r in rows]),
            "index_versions_seen": versions,
        }
        if window is None:
            out["errors"] = len(self.errors)
            out["error_examples"] = self.errors[:5]
        return out


class Failed(Exception):
    """A response that is not a good answer to the request."""


async def search_once(client: httpx.AsyncClient, q: str) -> int:
    """One /search; the index version it answered from."""
    response = await client.get("/search", params={"q": q, "k": 10})
    body = response.json()
    if response.status_code != 200 or not body.get("hits"):
        raise Failed(f"{response.status_code}: {response.text[:200]}")
    return int(body["index_version"])


async def ask_once(client: httpx.AsyncClient, q: str) -> int:
    """One streamed /ask, as the web page asks: the last event must be the validated answer."""
    last, version = "", None
    async with client.stream(
        "POST", "/ask", json={"question": q}, headers={"Accept": "text/event-stream"}
    ) as response:
        if response.status_code != 200:
            raise Failed(f"{response.status_code}: {(await response.aread())[:200]!r}")
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                last = line.removeprefix("event: ")
            elif line.startswith("data: ") and last == "answer":
                version = json.loads(line.removeprefix("data: "))["index_version"]
    if last != "answer" or version is None:
        raise Failed(f"stream ended with event {last!r}")
    return int(version)


async def client_loop(
    request: Any,
    client: httpx.AsyncClient,
    questions: list[str],
    until: float,
    tally: Tally,
    start: float,
) -> None:
    """One simulated user: `request` after `request`, random questions, until the phase ends."""
    rng = random.Random(len(tally.done) ^ int(start * 1000))
    while time.monotonic() < until:
        began = time.monotonic()
        try:
            version = await request(client, rng.choice(questions))
        except (Failed, httpx.HTTPError, ValueError, KeyError) as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        tally.done.append((time.monotonic() - start, time.monotonic() - began, version))


async def rebuild_midway(
    client: httpx.AsyncClient, at: float, start: float, until: float
) -> dict[str, Any]:
    """Start a full rebuild `at` seconds in and follow it until published or the phase ends."""
    await asyncio.sleep(max(0.0, start + at - time.monotonic()))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    job = (await client.post("/index/rebuild", params={"full": True}, headers=headers)).json()
    began = time.monotonic() - start
    while time.monotonic() < until + 120:
        state = (await client.get("/index")).json()
        mine = next(j for j in state["jobs"] if j["id"] == job["id"])
        if mine["state"] in ("done", "failed"):
            return {
                "started_at_s": round(began, 1),
                "published_at_s": round(time.monotonic() - start, 1),
                "state": mine["state"],
                "version": (mine.get("report") or {}).get("version"),
                "passages_embedded": (mine.get("report") or {}).get("passages", {}).get("embedded"),
                "error": mine.get("error"),
            }
        await asyncio.sleep(0.5)
    return {"started_at_s": round(began, 1), "state": "unfinished"}


async def phase(
    url: str,
    clients: int,
    seconds: float,
    questions: list[str],
    request: Any,
    rebuild_at: float | None = None,
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, limits=limits) as client:
        tally = Tally()
        start = time.monotonic()
        until = start + seconds
        tasks = [
            client_loop(request, client, questions, until, tally, start) for _ in range(clients)
        ]
        rebuild: dict[str, Any] | None = None
        if rebuild_at is not None:
            results = await asyncio.gather(rebuild_midway(client, rebuild_at, start, until), *tasks)
            rebuild = results[0]
        else:
            await asyncio.gather(*tasks)
        elapsed = time.monotonic() - start
    out = {"clients": clients, "seconds": round(elapsed, 1), **tally.summary(elapsed)}
    if rebuild is not None:
        out["rebuild"] = rebuild
        if rebuild.get("published_at_s") is not None:
            # The part of the rebuild inside the phase.
            window = (rebuild["started_at_s"], min(rebuild["published_at_s"], elapsed))
            out["during_rebuild"] = tally.summary(window[1] - window[0], window)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _questions(corpus: Path) -> list[str]:
    gold = corpus.parent / "gold.jsonl"
    if gold.is_file():
        return [json.loads(line)["question"] for line in gold.read_text().splitlines() if line]
    return DEMO_QUESTIONS


def index_corpus(corpus: Path, index: Path) -> int:
    """`rag index add CORPUS` into `index` in a fresh process; the passages indexed."""
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "index",
            "add",
            str(corpus),
            "--index",
            str(index),
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(json.loads(built.stdout)["passages"]["total"])


def start_server(index: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The server (`serve`, in its own process) on a free loopback port, once it answers
    /healthz; its process and URL."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--index", str(index), "--port", str(port)]
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit("the server process exited while starting")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise SystemExit("server not ready in 120 s")
        time.sleep(0.3)


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Path(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        passages = index_corpus(corpus, index)
        server, url = start_server(index)
        try:
            questions = _questions(corpus)
            search = asyncio.run(
                phase(
                    url,
                    args.search_clients,
                    args.seconds,
                    questions,
                    search_once,
                    rebuild_at=args.seconds / 6,
                )
            )
            ask = asyncio.run(phase(url, args.ask_clients, args.seconds, questions, ask_once))
            scraped = scrape(url)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "corpus": str(corpus),
        "passages": passages,
        "machine": f"{os.cpu_count()} cores",
        "search": search,
        "ask_mocked_model": ask,
        "metrics": {
            "search_sent": search["requests"] + search["errors"],
            "search_counted": scraped.get(
                'rag_http_requests_total{method="GET",route="/search",status="200"}', 0.0
            ),
            "ask_sent": ask["requests"] + ask["errors"],
            "ask_counted": scraped.get(
                'rag_http_requests_total{method="POST",route="/ask",status="200"}', 0.0
            ),
            "answers_counted": sum(
                v for k, v in scraped.items() if k.startswith("rag_answers_total")
            ),
            "rebuilds_counted": sum(
                v for k, v in scraped.items() if k.startswith('rag_build_jobs_total{kind="rebuild"')
            ),
            "index_version": scraped.get("rag_index_version"),
        },
    }


def scrape(url: str) -> dict[str, float]:
    """`GET /metrics` as 'name{labels}' -> value."""
    text = httpx.get(f"{url}/metrics", timeout=TIMEOUT).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = SHARED / "corpus.jsonl"
    parser.add_argument(
        "--corpus", default=str(default if default.is_file() else ROOT / "examples" / "demo")
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--search-clients", type=int, default=50)
    parser.add_argument("--ask-clients", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    parser.add_argument("--json", action="store_true", help="Print the results as JSON only.")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.index), args.port)
        return
    results = run(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"rag serve under load ({results['passages']} passages, {results['machine']})"
    )
    for column in ("phase", "clients", "requests", "errors", "req/s", "p50 ms", "p95 ms", "max ms"):
        table.add_column(column)
    s, a = results["search"], results["ask_mocked_model"]
    rows = [("/search", s), ("/ask (mocked model)", a)]
    if "during_rebuild" in s:
        rows.insert(
            1,
            (
                "/search during rebuild",
                {**s["during_rebuild"], "clients": s["clients"], "errors": "-"},
            ),
        )
    for name, r in rows:
        table.add_row(
            name,
            str(r["clients"]),
            str(r["requests"]),
            str(r["errors"]),
            str(r["per_second"]),
            str(r["p50_ms"]),
            str(r["p95_ms"]),
            str(r["max_ms"]),
        )
    Console().print(table)
    Console().print(
        f"rebuild: {s.get('rebuild')}\nsearch versions seen: {s['index_versions_seen']}"
    )
    Console().print(f"GET /metrics after the run: {results['metrics']}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
