"""The real `rag` command with the fake encoder and a scripted model (litellm's mock replies, a
good one-draft answer), for tests that drive a `rag` process from outside (an MCP client, a
server killed mid-work): `PYTHONPATH=tests python tests/helpers/scripted_rag.py RAG-ARGS...`.
SCRIPTED_DELAY=seconds makes the model wait that long before each piece of its reply."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from helpers.data import GOOD
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models
from rag.cli.app import main
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL


class SlowLiteLLM(ScriptedLiteLLM):
    """The scripted model, `delay` seconds before each streamed piece."""

    def __init__(self, delay: float) -> None:
        super().__init__([], reply=GOOD)
        self.delay = delay

    def completion(self, **kwargs: Any) -> Iterator[Any]:
        stream = super().completion(**kwargs)
        if not kwargs.get("stream"):
            return stream

        def slow() -> Iterator[Any]:
            for chunk in stream:
                time.sleep(self.delay)
                yield chunk

        return slow()


if __name__ == "__main__":
    os.environ.setdefault("OPENAI_API_KEY", "sk-test-not-a-real-key")
    models = scripted_models(SlowLiteLLM(float(os.environ.get("SCRIPTED_DELAY", "0"))))
    sys.argv = ["rag", *sys.argv[1:]]
    main(Runtime(embedder=HashEmbedder(DEFAULT_EMBED_MODEL), models=models))
