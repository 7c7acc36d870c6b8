"""Test doubles: a tiny deterministic embedder (feature hashing of words), optionally slow."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import numpy as np

from rag.embed import Vectors


class HashEmbedder:
    """Bag-of-words hashed into `dimension` buckets, L2-normalized; same text, same vector."""

    def __init__(
        self,
        model_id: str = "test-hash",
        dimension: int = 64,
        delay: float = 0.0,
        started_marker: Path | None = None,
    ) -> None:
        self._id = model_id
        self._dim = dimension
        self.delay = delay
        self.started_marker = started_marker
        self.calls: list[int] = []

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dimension(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> Vectors:
        self.calls.append(len(texts))
        if self.started_marker is not None:
            self.started_marker.write_text(str(len(self.calls)))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self._dim
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        if self.delay:
            time.sleep(self.delay)
        return np.asarray(out / norms, dtype=np.float32)

    @property
    def texts_embedded(self) -> int:
        """How many texts went through the encoder so far."""
        return sum(self.calls)
