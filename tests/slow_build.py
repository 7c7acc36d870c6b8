"""A build with a slow fake embedder, for the SIGKILL test: slow_build.py INDEX CORPUS MARKER."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakes import HashEmbedder

from rag.build import build_index
from rag.config import load_settings

if __name__ == "__main__":
    index_dir, corpus, marker = sys.argv[1:4]
    embedder = HashEmbedder(delay=0.5, started_marker=Path(marker))
    build_index(load_settings(index_dir=index_dir), add=[corpus], embedder=embedder)
