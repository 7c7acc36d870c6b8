"""The question encoder on its own: the cached ONNX export and the model's tokenizer, without
torch or sentence-transformers, so `rag search` starts in about a second.

The export, its tokenizer and a record of its check against torch are written by the full
encoder the first time it loads (onnx.py); until then, and for `RAG_QUERY_ENCODER=torch`, there
is no question encoder on its own and the full one is loaded instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.embed.base import Vectors
from rag.embed.models import expected_model_id, resolve_model_path
from rag.embed.onnx import CHECKED, MIN_COSINE, TOKENIZER, export_folder, session


class QueryEncoder:
    """Encodes questions (and any few texts) with the checked ONNX export; an `Embedder`."""

    def __init__(self, folder: Path, model_id: str, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        checked = json.loads((folder / CHECKED).read_text(encoding="utf-8"))
        self.model_id = model_id
        self.dimension = int(checked["dimension"])
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self._tokenizer.enable_truncation(int(checked["max_length"]))
        self._tokenizer.enable_padding()
        self._session = session(folder / "model.onnx", threads)

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batch = self._tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
        }
        return np.ascontiguousarray(self._session.run(None, feed)[0], dtype=np.float32)

    def plan(self, texts: list[str]) -> list[int]:
        return list(range(len(texts)))


def open_query_encoder(settings: Settings) -> QueryEncoder | None:
    """The configured model's question encoder on its own, if its export has been made and
    checked (cosine >= MIN_COSINE to torch); else None."""
    if settings.embed.query_encoder != "onnx":
        return None
    folder = export_folder(resolve_model_path(settings.embed.model), settings.local.cache_dir)
    checked = folder / CHECKED
    if not (checked.is_file() and (folder / TOKENIZER).is_file()):
        return None
    try:
        if float(json.loads(checked.read_text(encoding="utf-8"))["cosine"]) < MIN_COSINE:
            return None
    except (ValueError, KeyError, TypeError):
        return None  # a torn or foreign record: the full encoder checks and writes it again
    try:
        return QueryEncoder(folder, expected_model_id(settings.embed), settings.embed.torch_threads)
    except Exception:  # whatever broke the shortcut, the full encoder loads, checks and says
        return None
