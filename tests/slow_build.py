"""The real `rag` command with a slow fake embedder in place of the model, for the SIGKILL and
lock tests: slow_build.py MARKER DELAY RAG-ARGS... (MARKER holds "0" once the command starts,
then the number of embedding blocks done)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakes import HashEmbedder

import rag.index.build
import rag.index.mend
from rag.cli.app import main
from rag.config import DEFAULT_EMBED_MODEL

if __name__ == "__main__":
    marker, delay, *args = sys.argv[1:]
    embedder = HashEmbedder(DEFAULT_EMBED_MODEL, delay=float(delay), started_marker=Path(marker))
    for module in (rag.index.build, rag.index.mend):
        vars(module)["load_embedder"] = lambda settings: embedder
    Path(marker).write_text("0")
    sys.argv = ["rag", *args]
    main()
