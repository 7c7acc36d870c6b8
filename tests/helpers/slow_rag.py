"""The real `rag` command with a slow fake encoder in place of the model, for the SIGKILL and
lock tests: `PYTHONPATH=tests python tests/helpers/slow_rag.py MARKER DELAY RAG-ARGS...`
(MARKER holds "0" once the command starts, then the number of embedding blocks done)."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.fakes import HashEmbedder
from rag.cli.app import main
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL

if __name__ == "__main__":
    marker, delay, *args = sys.argv[1:]
    embedder = HashEmbedder(DEFAULT_EMBED_MODEL, delay=float(delay), started_marker=Path(marker))
    Path(marker).write_text("0")
    sys.argv = ["rag", *args]
    main(Runtime(embedder=embedder))
