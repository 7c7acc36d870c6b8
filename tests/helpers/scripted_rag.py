"""The real `rag` command with the fake encoder and a scripted model (litellm's mock replies, a
good one-draft answer), for tests that drive a `rag` process from outside, such as an MCP
client: `PYTHONPATH=tests python tests/helpers/scripted_rag.py RAG-ARGS...`."""

from __future__ import annotations

import os
import sys

from helpers.data import GOOD
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models
from rag.cli.app import main
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL

if __name__ == "__main__":
    os.environ.setdefault("OPENAI_API_KEY", "sk-test-not-a-real-key")
    models = scripted_models(ScriptedLiteLLM([], reply=GOOD))
    sys.argv = ["rag", *sys.argv[1:]]
    main(Runtime(embedder=HashEmbedder(DEFAULT_EMBED_MODEL), models=models))
