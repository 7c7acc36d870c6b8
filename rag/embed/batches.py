"""Batches of equal token length: how the passage encoder runs fastest.

sentence-transformers' `encode` sorts a call's texts by characters and pads each batch to its
longest text. That costs twice: padded positions are computed like real ones, and a batch with
any padding needs an attention mask, which makes attention slower (transformers drops the mask
when a batch has none). Ordering a whole job by exact token count (`length_order`) and encoding
consecutive texts of that order (`encode_by_length`) leaves most batches without padding at
all: 1.24x the passages/s of sentence-transformers' own `encode` on the int8 copy (measured,
docs/scale.md). In int8 the padded positions no longer widen the activation ranges either,
so the vectors agree with fp32 slightly better.

The forward pass is sentence-transformers' own (`model(features)`), fed the tokenizer's ids;
`matches_encode` checks once per model that this gives what `encode` gives, so a model whose
preprocessing differs falls back to `encode`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)

# Mixed case, accents, whitespace runs, an empty text and one longer than any model's limit:
# what could make the tokenizer's ids differ from sentence-transformers' preprocessing.
_PROBES = [
    "The Quick Brown Fox, in 1999.",
    "Über CAFÉ naïve   spaced\ttabbed\nlines",
    "",
    "word " * 600,
]


def _token_ids(st_model: Any, texts: list[str]) -> list[list[int]]:
    """Each text's ids as the model sees them: special tokens added, truncated to its limit."""
    ids: list[list[int]] = st_model.tokenizer(
        texts,
        truncation=True,
        max_length=st_model.max_seq_length,
        return_attention_mask=False,
        return_token_type_ids=False,
    )["input_ids"]
    return ids


def _by_count(ids: list[list[int]]) -> list[int]:
    return sorted(range(len(ids)), key=lambda i: len(ids[i]))


def length_order(st_model: Any, texts: list[str]) -> list[int]:
    """Positions of `texts` by token count (ties keep their order)."""
    return _by_count(_token_ids(st_model, texts))


def encode_by_length(st_model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """Normalized float32 vectors of `texts` (in their order), encoded in batches of
    consecutive token counts, each padded only to its own longest text."""
    ids = _token_ids(st_model, texts)
    order = _by_count(ids)
    out = np.empty((len(texts), st_model.get_embedding_dimension()), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            features = st_model.tokenizer.pad(
                {"input_ids": [ids[i] for i in rows]}, return_tensors="pt"
            )
            vectors = st_model(dict(features))["sentence_embedding"]
            out[rows] = torch.nn.functional.normalize(vectors.float(), dim=1).numpy()
    return out


def matches_encode(st_model: Any) -> bool:
    """Whether `encode_by_length` gives this model's `encode` vectors (within 1e-5) on texts
    chosen to expose a different preprocessing."""
    try:
        reference = st_model.encode(
            _PROBES, batch_size=len(_PROBES), normalize_embeddings=True, show_progress_bar=False
        )
        ours = encode_by_length(st_model, _PROBES, batch_size=len(_PROBES))
    except Exception as exc:  # any failure means: use the model's own encode
        log.debug("equal-length batches unavailable for this model: %s", exc)
        return False
    close = bool(np.abs(np.asarray(reference, dtype=np.float32) - ours).max() < 1e-5)
    if not close:
        log.debug("equal-length batches differ from encode for this model; using encode")
    return close
