"""Shared fixtures: settings in a temporary index folder, a fake embedder, corpus writers."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import HashEmbedder

from rag.config import Settings, load_settings
from rag.store.milvus_conn import close_clients

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

WORD_LIST = (
    "council police ordinance federal agents river bridge budget school court judge county "
    "mayor protest warrant county sheriff transit housing library museum festival harbor "
    "election senate clinic vaccine farmer drought orchard factory union strike railway"
)
WORDS = WORD_LIST.split()


def synthetic_text(n: int, sentences: int = 6) -> str:
    """Deterministic prose for source number n: distinct words, real sentence ends."""
    out = []
    for s in range(sentences):
        words = [WORDS[(n * 7 + s * 3 + i * 5) % len(WORDS)] for i in range(12)]
        out.append(f"Item{n} sentence {s} mentions " + " ".join(words) + ".")
    return " ".join(out)


def write_corpus(path: Path, records: list[dict[str, str]]) -> Path:
    """Write a corpus JSONL file."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# The vector stores the store tests run on: a module that tests the store sets
# `pytestmark = pytest.mark.parametrize("settings", STORES, indirect=True)`.
STORES = ("faiss", "milvus")


# Where several processes share one index (a build killed while readers search), Milvus
# must be a server: "milvus-server" runs `milvus-lite server` in its own process.
STORES_SHARED = ("faiss", "milvus-server")


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings with the index in a temporary folder; claims checked by the fast layer alone
    (tests that need the judge give it a scripted one). FAISS, unless a test module asks for
    each store in turn (Milvus: a Milvus Lite folder inside the index, or a server)."""
    store = getattr(request, "param", "faiss")
    index = tmp_path / "index"
    if store != "milvus-server":
        yield load_settings(index_dir=index, validate_mode="fast", store=store)
        if store == "milvus":
            close_clients()
        return
    with milvus_server(tmp_path / "milvus-server") as uri:
        yield load_settings(index_dir=index, validate_mode="fast", store="milvus", milvus_uri=uri)
        close_clients()


@contextlib.contextmanager
def milvus_server(data_dir: Path) -> Iterator[str]:
    """A Milvus Lite gRPC server in its own process, on a free loopback port; its URI."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["server", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]
    log = (data_dir.parent / "milvus-server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", *args], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, (data_dir.parent / "milvus-server.log").read_text()
            assert time.monotonic() < deadline, "milvus-lite server did not start in 60 s"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture
def embedder() -> HashEmbedder:
    """A fresh fake embedder per test."""
    return HashEmbedder()


@pytest.fixture
def shared_data() -> Iterator[Path]:
    """The shared QA sets, or a clean skip where they are absent."""
    if not (SHARED_DATA / "hotpotqa" / "corpus.jsonl").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    yield SHARED_DATA


RagRunner = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def offline_rag(tmp_path: Path) -> RagRunner:
    """Run the `rag` command in a subprocess on a fresh index, with JSON output and with any
    network use doomed to fail (proxies pointed at a closed port; no HF_/RAG_ settings)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "RAG_"))
    }
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="")
    index = str(tmp_path / "index")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rag.cli", *args, "--index", index, "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )

    return run


@pytest.fixture
def count_tokenized(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many texts each BM25 tokenize call was given."""
    import rag.store.lexical as lexical

    calls: list[int] = []
    real = lexical.tokenize

    def counting(texts: list[str]) -> list[list[str]]:
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(lexical, "tokenize", counting)
    return calls
