"""A command imports what it uses, when it uses it: `rag --help`, `rag index info` and a BM25
search never load torch, and a hybrid search loads it only until the question encoder's export
has been made and checked once. (Seconds are measured by bench/startup.py, not here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers", "transformers", "litellm")
# Runs the command in this process and prints which heavy modules it imported.
PROBE = """
import json, sys
from rag.cli.app import main
sys.argv = ["rag", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
"""


def imported(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The heavy modules a `rag ARGS` process imported."""
    ran = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=True,
    )
    found: list[str] = json.loads(ran.stderr.strip().splitlines()[-1])
    return found


@pytest.fixture
def index(index: Settings) -> Path:
    return index.index.dir


@pytest.mark.parametrize(
    "args",
    [["--help"], ["index", "info"], ["search", "police", "--mode", "bm25"]],
    ids=["help", "index info", "bm25 search"],
)
def test_commands_that_do_not_encode_load_no_model(index: Path, args: list[str]) -> None:
    with_index = args if args == ["--help"] else [*args, "--index", str(index)]
    assert imported(with_index) == []


@pytest.mark.slow
def test_a_hybrid_search_encodes_the_question_without_torch_once_checked(tmp_path: Path) -> None:
    cache = {"RAG_LOCAL_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    index = ["--index", str(tmp_path / "index")]
    demo = str(REPO / "examples" / "demo")
    subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", "add", demo, *index],
        env={**os.environ, **cache},
        capture_output=True,
        check=True,
    )
    search = ["search", "Are Minneapolis police helping ICE?", *index]
    assert imported(search, cache) == []  # the build's encoder made and checked the export
    [checked] = (tmp_path / "cache" / "onnx").glob("*/checked.json")
    checked.unlink()
    assert "torch" in imported(search, cache)  # unchecked: the full encoder checks it again
    assert checked.is_file() and imported(search, cache) == []
