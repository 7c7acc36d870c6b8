"""A client that goes away: how long the embedded model stays busy after a streamed answer's client
disconnects, measured as the time until the next question's first event from the model.

    python bench/disconnect.py [--tries 3] [--out FILE.json]

`rag serve` runs in its own process with the embedded model on the demo corpus. Each try: a
streamed /ask of a seed question (a whole fact-check), read until its first `token` event, then
the connection closed; at once a second streamed /ask of a factoid question, timed until its
first `token` (the engine serves one request at a time, so this is when it was free again) and
until its answer. Before the tries, the server's CPU use each second for 20 s after a client
leaves, with no other request (what the abandoned answer still costs). Prints the figures and
writes JSON (default bench/results/disconnect.json). Run it from another checkout (PYTHONPATH)
to measure an older version.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import write_result

ROOT = Path(__file__).resolve().parents[1]
LEAVING = "Are Minneapolis police helping ICE?"
NEXT = "When did the Minneapolis council vote?"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def first_token(url: str, question: str, leave: bool) -> dict[str, float]:
    """Seconds to the first token event (and to the answer, unless `leave`)."""
    started = time.perf_counter()
    out: dict[str, float] = {}
    with httpx.stream(
        "POST",
        f"{url}/ask",
        json={"question": question},
        headers={"Accept": "text/event-stream"},
        timeout=600,
    ) as response:
        for line in response.iter_lines():
            if line == "event: token" and "first_token_s" not in out:
                out["first_token_s"] = round(time.perf_counter() - started, 2)
                if leave:
                    break
            if line == "event: answer":
                out["answer_s"] = round(time.perf_counter() - started, 2)
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def cpu_after_leaving(url: str, pid: int, seconds: int = 20) -> list[float]:
    """Cores the server uses each second after a client leaves a fact-check at its first
    token, with no other request: what the abandoned answer still costs."""
    first_token(url, LEAVING, leave=True)
    used = []
    last = cpu_seconds(pid)
    for _ in range(seconds):
        time.sleep(1)
        now = cpu_seconds(pid)
        used.append(round(now - last, 2))
        last = now
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "disconnect.json")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env["RAG_INDEX_DIR"] = str(Path(tmp) / "index")
        subprocess.run(
            [sys.executable, "-m", "rag.cli", "index", "add", str(ROOT / "examples" / "demo")],
            env=env,
            check=True,
            capture_output=True,
        )
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
            first_token(url, NEXT, leave=False)  # warm: the model and its prompts loaded
            cores = cpu_after_leaving(url, server.pid)
            print("cores used each second after leaving:", cores, flush=True)
            for n in range(args.tries):
                left = first_token(url, LEAVING, leave=True)
                after = first_token(url, NEXT, leave=False)
                row = {"try": n + 1, "left_after_s": left["first_token_s"], **after}
                rows.append(row)
                print(row, flush=True)
        finally:
            server.terminate()
            server.wait(timeout=60)
    summary = {
        "cores_used_after_leaving_mean": round(statistics.mean(cores[1:]), 2),
        "next_first_token_p50_s": statistics.median(r["first_token_s"] for r in rows),
        "next_answer_p50_s": statistics.median(r.get("answer_s", 0.0) for r in rows),
    }
    print(summary)
    write_result(args.out, {"summary": summary, "tries": rows, "cores_after_leaving": cores})


if __name__ == "__main__":
    main()
