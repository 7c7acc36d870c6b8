"""Open the current index with the right encoder: the entry point for searching from outside."""

from __future__ import annotations

from rag.config import Settings
from rag.embed import expected_model_id, load_embedder
from rag.retrieve import Searcher
from rag.store import IndexReader
from rag.store.backends import token_of


def open_searcher(settings: Settings, need_embedder: bool = True) -> Searcher:
    """A searcher over the current version; the encoder is checked against the manifest."""
    reader = IndexReader.open(settings.index_dir, token_of(settings))
    embedder = None
    if need_embedder:
        # Checked before loading, so a mismatch costs no model load.
        reader.check_model(expected_model_id(settings), reader.manifest.embedding.dimension)
        embedder = load_embedder(settings)
    return Searcher(reader, settings, embedder)
