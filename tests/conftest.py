"""Shared fixtures: settings in a temporary index folder, a fake embedder, corpus writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import HashEmbedder

from rag.config import Settings, load_settings

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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the index in a temporary folder; claims checked by the fast layer alone
    (tests that need the judge give it a scripted one)."""
    return load_settings(index_dir=tmp_path / "index", validate_mode="fast")


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
