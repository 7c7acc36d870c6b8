"""An ONNX Runtime copy of the sentence-transformers encoder, for one or two texts at a time.

Measured here (`python bench/encoders.py`, docs/scale.md): one question takes 4.7 ms p50
with ONNX Runtime against 7.5-12.8 ms with torch; for batches of passages torch is 4x faster (62
vs 16 passages/s); int8 exports fall below cosine 0.99 (0.903, 0.987 per channel). So questions
go through ONNX and indexing stays on torch. The graph is
exported locally from the packaged model on first use (~1 s, cached), and refused unless its
vectors match torch's to cosine >= 0.99 on fixed texts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import EmbeddingError

log = logging.getLogger(__name__)

MIN_COSINE = 0.99
TOKENIZER = "tokenizer.json"  # the model's fast tokenizer, saved beside the export
CHECKED = "checked.json"  # the export's agreement with torch, its dimension and max length
_CHECK_TEXTS = [
    "Did the city council vote to tighten the separation ordinance?",
    "Arthur's Magazine was an American literary periodical published in Philadelphia.",
    "x",
    "The quick brown fox jumps over the lazy dog " * 40,
]


class OnnxEncoder:
    """Tokenize with the model's own tokenizer, run the exported graph (mean pooling and
    normalization included), return one unit row per text."""

    def __init__(self, session: Any, tokenizer: Any, max_length: int) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, float32, one row per text."""
        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self._max_length, return_tensors="np"
        )
        feed = {
            "input_ids": batch["input_ids"].astype(np.int64),
            "attention_mask": batch["attention_mask"].astype(np.int64),
        }
        return np.ascontiguousarray(self._session.run(None, feed)[0], dtype=np.float32)


def model_fingerprint(model_dir: Path) -> str:
    """Changes whenever the model's files do, so nothing cached from them is ever stale."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(
                f"{path.relative_to(model_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
            )
    return digest.hexdigest()[:16]


def _export(st_model: Any, target: Path) -> None:
    """Write the transformer plus mean pooling and L2 normalization as one ONNX graph."""
    import torch

    transformer = st_model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = st_model.tokenizer(["a sample"], return_tensors="pt")
    partial = target.with_suffix(f".{os.getpid()}.partial")
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():
        # The TorchScript exporter's deprecation notes are not the user's to act on; the
        # cosine check after loading is what guards the result.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(partial),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)  # atomic: a reader never sees half a file


def export_folder(model_dir: Path, cache_dir: Path) -> Path:
    """Where this model's export, tokenizer and check record are kept."""
    return cache_dir / "onnx" / f"{model_dir.name}-{model_fingerprint(model_dir)}"


def session(path: Path, threads: int | None) -> Any:
    """An ONNX Runtime session over an export, its threads told not to spin."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise EmbeddingError(
            "onnxruntime is missing; `pip install onnxruntime onnx`, or set RAG_QUERY_ENCODER=torch"
        ) from exc
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Without this ORT's threads spin for a while after each question and take the cores
    # FAISS needs next (measured: an exact search over 100k vectors right after a question
    # took 27 ms p50 with spinning, 15 ms without; encoding itself is no slower).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_onnx_encoder(
    st_model: Any, model_dir: Path, cache_dir: Path, threads: int | None
) -> OnnxEncoder:
    """The cached export for this model (made on first use), checked against torch; the check
    is recorded with the tokenizer, so a question encoder can later load without torch
    (query.py)."""
    folder = export_folder(model_dir, cache_dir)
    target = folder / "model.onnx"
    (folder / CHECKED).unlink(missing_ok=True)  # written again below once the check passes
    try:
        if not target.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            _export(st_model, target)
        loaded = session(target, threads)
    except EmbeddingError:
        raise
    except Exception as exc:  # export or load: either way the ONNX path is unusable
        raise EmbeddingError(
            f"cannot export or load the ONNX query encoder at {target}: {exc}; "
            "set RAG_QUERY_ENCODER=torch to use torch for queries"
        ) from exc
    max_length = int(st_model.get_max_seq_length() or 256)
    encoder = OnnxEncoder(loaded, st_model.tokenizer, max_length)
    reference = st_model.encode(_CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    cosine = float(np.min(np.sum(encoder.encode(_CHECK_TEXTS) * reference, axis=1)))
    if cosine < MIN_COSINE:
        raise EmbeddingError(
            f"the ONNX export at {target} agrees with torch only to cosine {cosine:.4f} "
            f"(< {MIN_COSINE}); delete it to re-export, or set RAG_QUERY_ENCODER=torch"
        )
    log.debug("ONNX query encoder %s, cosine to torch %.6f", target, cosine)
    _record(folder, st_model, cosine, max_length, reference.shape[1])
    return encoder


def _record(folder: Path, st_model: Any, cosine: float, max_length: int, dimension: int) -> None:
    """The tokenizer and the check, written aside and renamed (readers never see half); the
    check last, since a question encoder loads only where it is."""
    record = {"cosine": cosine, "max_length": max_length, "dimension": int(dimension)}
    tokenizer = folder / f".{TOKENIZER}.{os.getpid()}"
    checked = folder / f".{CHECKED}.{os.getpid()}"
    try:
        st_model.tokenizer.backend_tokenizer.save(str(tokenizer))
        tokenizer.replace(folder / TOKENIZER)
        checked.write_text(json.dumps(record), encoding="utf-8")
        checked.replace(folder / CHECKED)
    except OSError:  # a cache that cannot be written only makes searches start slower
        tokenizer.unlink(missing_ok=True)
        checked.unlink(missing_ok=True)
