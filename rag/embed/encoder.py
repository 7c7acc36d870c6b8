"""The encoder: texts -> L2-normalized float32 vectors, from a local sentence-transformers model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.embed.base import Embedder, Vectors
from rag.embed.batches import encode_by_length, length_order, matches_encode
from rag.embed.models import resolve_model_path, set_offline
from rag.embed.onnx import OnnxEncoder, load_onnx_encoder
from rag.errors import EmbeddingError

log = logging.getLogger(__name__)
# Above two texts torch's batching wins (measured; see embed_onnx.py).
_ONNX_MAX_TEXTS = 2
# The int8 copy saves ~5 ms a passage (60 -> 80 passages/s). Calibrating it takes ~1.6 s, so
# a first copy is made for jobs of 500 texts or more (a full build); once its calibration is
# saved a copy takes ~0.3 s and pays off from ~100 texts (a 1% rebuild of a 10k index). Either
# way it is kept for the process; calls of fewer than 32 texts (the validator's sentences) stay
# on fp32.
_INT8_MIN_JOB = 500
_INT8_MIN_JOB_SAVED = 100
_INT8_MIN_TEXTS = 32


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU; loading never touches the network."""

    def __init__(
        self,
        name: str,
        batch_size: int = 8,
        threads: int | None = None,
        onnx_cache: Path | None = None,
        precision: Literal["int8", "fp32"] = "fp32",
        int8_cache: Path | None = None,
    ) -> None:
        """`onnx_cache` set: one or two texts at a time go through an ONNX Runtime export
        kept there (2x faster for a question; embed_onnx.py has the figures). `precision`
        int8: once a big enough job is expected, batches of 32 or more go through a smoothed
        int8 copy (embed_int8.py), kept only if it agrees with fp32 to cosine >= 0.99; its
        calibration is saved under `int8_cache` where given."""
        set_offline()
        path = resolve_model_path(name)
        import torch
        from sentence_transformers import SentenceTransformer

        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
        if threads:
            torch.set_num_threads(threads)
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # any loader failure means the same thing to the user
            raise EmbeddingError(f"cannot load embedding model from {path}: {exc}") from exc
        self._id = name if name == DEFAULT_EMBED_MODEL else str(path)
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise EmbeddingError(f"model at {path} does not report an embedding dimension")
        self._dim = int(dim)
        self._batch = batch_size
        self._small: OnnxEncoder | None = None
        self._int8_untried = precision == "int8"
        self._int8: Any = None  # the copy, once made and kept
        self._calibration: Path | None = None
        self._by_length: bool | None = None  # equal-length batches: checked on first use
        if precision == "int8" and int8_cache is not None:
            from rag.embed.int8 import calibration_file

            self._calibration = calibration_file(int8_cache, path)
        if onnx_cache is not None:
            self._small = load_onnx_encoder(self._model, path, onnx_cache, threads)

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dimension(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if self._small is not None and len(texts) <= _ONNX_MAX_TEXTS:
            return self._small.encode(texts)
        model = self._model
        if self._int8 is not None and len(texts) >= _INT8_MIN_TEXTS:
            model = self._int8
        if self._batches_by_length():
            return encode_by_length(model, texts, self._batch)
        out = model.encode(
            texts,
            batch_size=self._batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def _batches_by_length(self) -> bool:
        if self._by_length is None:
            self._by_length = matches_encode(self._model)
        return self._by_length

    @property
    def precision(self) -> str:
        """What encodes big batches now: 'int8' once its copy is made and kept, else 'fp32'."""
        return "fp32" if self._int8 is None else "int8"

    def plan(self, texts: list[str]) -> list[int]:
        """Makes the int8 copy for a big enough job (once per process); orders the job by
        token count, so that its blocks, and the batches in them, have little or no padding."""
        self._prepare_int8(len(texts))
        if self._batches_by_length():
            return length_order(self._model, texts)
        return list(range(len(texts)))

    def _prepare_int8(self, count: int) -> None:
        if not self._int8_untried:
            return
        saved = self._calibration is not None and self._calibration.is_file()
        if count < (_INT8_MIN_JOB_SAVED if saved else _INT8_MIN_JOB):
            return
        self._int8_untried = False  # one attempt, kept or not
        from rag.embed.int8 import MIN_COSINE, quantized_copy

        model, cosine = quantized_copy(self._model, self._calibration)
        if cosine >= MIN_COSINE:
            self._int8 = model
            return
        # A CPU without VNNI can overflow the full-range int8 sums; fp32 is slower, never wrong.
        log.warning(
            "the int8 encoder agrees with fp32 only to cosine %.4f (< %s) on this machine; "
            "encoding in fp32 (set RAG_EMBED_PRECISION=fp32 to skip the check)",
            cosine,
            MIN_COSINE,
        )


_CACHE: dict[
    tuple[str, int, int | None, Path | None, Literal["int8", "fp32"], Path],
    SentenceTransformerEmbedder,
] = {}


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedder, loaded once per process."""
    onnx_cache = settings.local.cache_dir if settings.embed.query_encoder == "onnx" else None
    key = (
        settings.embed.model,
        settings.embed.batch_size,
        settings.embed.torch_threads,
        onnx_cache,
        settings.embed.precision,
        settings.local.cache_dir,
    )
    if key not in _CACHE:
        _CACHE[key] = SentenceTransformerEmbedder(*key)
    return _CACHE[key]
