"""What every stage needs from an encoder: the `Embedder` protocol, encoding a big job in
blocks with progress, and a lock for sharing one encoder between threads."""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np
import numpy.typing as npt

from rag.errors import RagError
from rag.progress import Reporter, checkpoint

Vectors = npt.NDArray[np.float32]
_EMBED_BLOCK = 128  # texts per encode call in a build: progress moves, memory stays flat


class Embedder(Protocol):
    """What the index needs from an encoder."""

    @property
    def model_id(self) -> str:
        """Identifies the model in the manifest; another id means another vector space."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def encode(self, texts: list[str]) -> Vectors:
        """One normalized float32 row per text."""
        ...

    def plan(self, texts: list[str]) -> list[int]:
        """A job is about to encode `texts` in blocks: prepare what pays for it, and return
        their positions in the order that encodes fastest (the blocks follow it)."""
        ...


def embed_in_blocks(embedder: Embedder, texts: list[str], reporter: Reporter) -> np.ndarray:
    """Vectors of `texts` (in their order), encoded a block at a time in the order the
    embedder plans, with progress shown."""
    out = np.empty((len(texts), embedder.dimension), dtype=np.float32)
    order = embedder.plan(texts)
    if sorted(order) != list(range(len(texts))):
        raise RagError(f"encoder planned an order that is not each of the {len(texts)} texts once")
    with reporter.task("embedding passages", len(texts)) as tick:
        for i in range(0, len(order), _EMBED_BLOCK):
            rows = order[i : i + _EMBED_BLOCK]
            encoded = embedder.encode([texts[r] for r in rows])
            if encoded.shape != (len(rows), embedder.dimension):
                raise RagError(f"encoder returned shape {encoded.shape} for {len(rows)} texts")
            out[rows] = encoded
            tick(len(rows))
            checkpoint("embedded a block")
    return out


class LockedEmbedder:
    """One encoder shared by request threads: a Hugging Face fast tokenizer refuses to be used
    by two threads at once ("Already borrowed"), and two cores gain nothing from overlap."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: list[str]) -> Vectors:
        with self._lock:
            return self.inner.encode(texts)

    def plan(self, texts: list[str]) -> list[int]:
        with self._lock:  # the tokenizer is not safe to share between threads either
            return self.inner.plan(texts)
