"""Vectors to tune and search on: clustered like text embeddings, in an exact store."""

from __future__ import annotations

import faiss
import numpy as np

from rag.store.vectors import VectorStore


def clustered(n: int, dimension: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around `clusters` centres, as text embeddings are (not uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dimension)).astype(np.float32)
    noise = 0.35 * rng.standard_normal((n, dimension))
    points = (centres[rng.integers(0, clusters, n)] + noise).astype(np.float32)
    faiss.normalize_L2(points)
    return points


def flat_store(matrix: np.ndarray, first_id: int = 1000) -> VectorStore:
    store = VectorStore.empty(matrix.shape[1])
    store.add(matrix, np.arange(first_id, first_id + len(matrix), dtype=np.int64))
    return store
