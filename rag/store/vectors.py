"""FAISS vectors of one index version: exact inner product behind stable int64 ids."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from rag.errors import IndexCorruptError

FAISS_FILE = "vectors.faiss"


class VectorStore:
    """An `IndexIDMap2` over a flat inner-product index (cosine, as vectors are normalized)."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def empty(cls, dimension: int) -> VectorStore:
        """A store with no vectors."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def load(cls, folder: Path) -> VectorStore:
        """Read a version's vectors into memory."""
        path = folder / FAISS_FILE
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as exc:
            raise IndexCorruptError(
                f"cannot read {path}: {exc}; rebuild with `rag index rebuild --full`"
            ) from exc

    def save(self, folder: Path) -> None:
        """Write the vectors into a version folder."""
        faiss.write_index(self.index, str(folder / FAISS_FILE))

    @property
    def dimension(self) -> int:
        """Vector length."""
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> list[int]:
        """Every stored id (to check FAISS against SQLite and BM25)."""
        index = faiss.downcast_index(self.index)
        assert isinstance(index, faiss.IndexIDMap2)
        return [int(i) for i in faiss.vector_to_array(index.id_map)]

    def add(self, vectors: npt.NDArray[np.float32], ids: list[int]) -> None:
        """Add vectors under their ids."""
        if len(ids):
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> int:
        """Remove vectors by id; returns how many went."""
        if not ids:
            return 0
        batch = np.asarray(ids, dtype=np.int64)
        return int(self.index.remove_ids(faiss.IDSelectorBatch(batch.size, faiss.swig_ptr(batch))))

    def reconstruct(self, ids: list[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of these ids (to reuse them without re-embedding)."""
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for row, vec_id in enumerate(ids):
            out[row] = self.index.reconstruct(int(vec_id))
        return out

    def search(self, query: npt.NDArray[np.float32], k: int) -> tuple[list[int], list[float]]:
        """Top-k ids and cosine scores for one query vector."""
        if len(self) == 0 or k <= 0:
            return [], []
        scores, ids = self.index.search(query.reshape(1, -1), min(k, len(self)))
        keep = ids[0] >= 0
        return [int(i) for i in ids[0][keep]], [float(s) for s in scores[0][keep]]
