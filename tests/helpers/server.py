"""Real HTTP servers for clients that need a socket (a browser, the official `openai` client):
uvicorn in a thread around an app built in the test, or the `rag serve` command itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` served on 127.0.0.1 until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def rag_serve(work: Path, corpus: Path, **env: str) -> Iterator[str]:
    """`rag serve` (packaged encoder, configured model) on an index of `corpus` built in
    `work`, on a free loopback port, with `env` (RAG_ variables) set; yields its URL. Its log
    is work/server.log."""
    index = work / "index"
    environment = {**os.environ, "RAG_INDEX_DIR": str(index), **env}
    subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", "add", str(corpus), "--json"],
        env=environment,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = (work / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, 300, lambda: (work / "server.log").read_text())
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def wait_ready(
    url: str, proc: subprocess.Popen[Any], seconds: float, log: Callable[[], str]
) -> None:
    """Until `url`/healthz answers 200; fails with `log()` if the process ends first."""
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, log()[-3000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"server not ready in {seconds:g} s"
        time.sleep(0.2)
