"""FAISS vectors of one index version behind stable int64 ids: exact flat or IVF.

Both layouts keep the full float32 vectors, so a later build can reuse them without
re-embedding, and both remove by id, so an incremental build edits a copy in place.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from rag.errors import IndexCorruptError

FAISS_FILE = "vectors.faiss"
Matrix = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]
# faiss.DirectMap.Hashtable (absent from faiss's stubs): lets an IVF index reconstruct and
# remove by arbitrary id.
_HASHTABLE = 2


class VectorStore:
    """An `IndexIDMap2` over `IndexFlatIP`, or an `IndexIVFFlat` (inner product) with a hashtable
    direct map; vectors are normalized, so scores are cosines either way."""

    def __init__(self, index: faiss.Index) -> None:
        # read_index and clone_index already return the concrete type; a downcast here would
        # make a second wrapper and let the first free the sub-index it owns.
        self.index = index
        if not isinstance(self.index, faiss.IndexIDMap2 | faiss.IndexIVFFlat):
            raise IndexCorruptError(
                f"unexpected FAISS index type {type(self.index).__name__}; "
                "rebuild with `rag index rebuild --full`"
            )

    @classmethod
    def empty(cls, dimension: int) -> VectorStore:
        """An exact store with no vectors."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def ivf(cls, matrix: Matrix, ids: IdArray, nlist: int, train_size: int) -> VectorStore:
        """An IVF store over these vectors, its quantizer trained by spherical k-means on a
        seeded sample of `train_size` of them."""
        dimension = matrix.shape[1]
        index = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT
        )
        index.cp.spherical = True
        index.cp.seed = 1234
        index.cp.max_points_per_centroid = max(1, train_size // nlist)
        index.cp.min_points_per_centroid = 1  # the sample size is chosen here, on purpose
        sample = np.random.default_rng(0).choice(len(matrix), min(train_size, len(matrix)), False)
        index.train(matrix[np.sort(sample)])
        index.set_direct_map_type(_HASHTABLE)
        store = cls(index)
        store.add(matrix, ids)
        return store

    @classmethod
    def load(cls, folder: Path) -> VectorStore:
        """Read a version's vectors into memory."""
        path = folder / FAISS_FILE
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as exc:
            raise IndexCorruptError(
                f"cannot read {path}: {exc}; mend it with `rag index verify --mend`"
            ) from exc

    def save(self, folder: Path) -> None:
        """Write the vectors into a version folder."""
        faiss.write_index(self.index, str(folder / FAISS_FILE))

    def copy(self) -> VectorStore:
        """An independent copy, to edit for the next version while readers use this one."""
        return VectorStore(faiss.clone_index(self.index))

    @property
    def is_ivf(self) -> bool:
        """True for the approximate layout."""
        return isinstance(self.index, faiss.IndexIVFFlat)

    @property
    def nlist(self) -> int | None:
        """IVF lists, or None for the exact layout."""
        return int(self.index.nlist) if isinstance(self.index, faiss.IndexIVFFlat) else None

    @property
    def nprobe(self) -> int | None:
        """IVF lists searched per query, or None for the exact layout."""
        return int(self.index.nprobe) if isinstance(self.index, faiss.IndexIVFFlat) else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if isinstance(self.index, faiss.IndexIVFFlat):
            self.index.nprobe = int(value)

    @property
    def kind(self) -> str:
        """The layout as a FAISS factory-style string, for the manifest."""
        return f"IVF{self.nlist},Flat,IP" if self.is_ivf else "IDMap2,Flat,IP"

    @property
    def dimension(self) -> int:
        """Vector length."""
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> list[int]:
        """Every stored id (to check FAISS against SQLite and BM25), without copying vectors."""
        index = self.index
        if isinstance(index, faiss.IndexIDMap2):
            return [int(i) for i in faiss.vector_to_array(index.id_map)]
        assert isinstance(index, faiss.IndexIVFFlat) and index.invlists is not None
        invlists = index.invlists
        return [
            int(i)
            for lst in range(index.nlist)
            if invlists.list_size(lst)
            for i in faiss.rev_swig_ptr(invlists.get_ids(lst), invlists.list_size(lst))
        ]

    def arrays(self) -> tuple[IdArray, Matrix]:
        """All ids and their vectors, row for row (copies)."""
        index = self.index
        if isinstance(index, faiss.IndexIDMap2):
            ids = faiss.vector_to_array(index.id_map).astype(np.int64)
            flat = faiss.downcast_index(index.index)
            assert isinstance(flat, faiss.IndexFlatIP)
            codes = faiss.vector_to_array(flat.codes).view(np.float32)
            return ids, codes.reshape(len(ids), self.dimension).copy()
        assert isinstance(index, faiss.IndexIVFFlat)
        invlists = index.invlists
        assert invlists is not None
        id_parts, vec_parts = [], []
        for lst in range(index.nlist):
            size = invlists.list_size(lst)
            if size:
                id_parts.append(faiss.rev_swig_ptr(invlists.get_ids(lst), size).copy())
                raw = faiss.rev_swig_ptr(invlists.get_codes(lst), size * invlists.code_size)
                vec_parts.append(raw.copy().view(np.float32).reshape(size, self.dimension))
        if not id_parts:
            return np.zeros(0, np.int64), np.zeros((0, self.dimension), np.float32)
        return np.concatenate(id_parts).astype(np.int64), np.concatenate(vec_parts)

    def add(self, vectors: Matrix, ids: list[int] | IdArray) -> None:
        """Add vectors under their ids."""
        if len(ids):
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> int:
        """Remove vectors by id; returns how many went."""
        if not ids:
            return 0
        batch = np.asarray(ids, dtype=np.int64)
        # The IVF hashtable direct map only accepts an array selector.
        selector = faiss.IDSelectorArray if self.is_ivf else faiss.IDSelectorBatch
        return int(self.index.remove_ids(selector(batch.size, faiss.swig_ptr(batch))))

    def reconstruct(self, ids: list[int]) -> Matrix:
        """The stored vectors of these ids (to reuse them without re-embedding)."""
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for row, vec_id in enumerate(ids):
            out[row] = self.index.reconstruct(int(vec_id))
        return out

    def search_many(self, queries: Matrix, k: int) -> tuple[IdArray, Matrix]:
        """Top-k ids (-1 where fewer were found) and scores for each query row."""
        if isinstance(self.index, faiss.IndexIVFFlat):
            # FAISS splits a batch's queries over the threads, which leaves one query on one
            # core; split its lists instead: 4.9 -> 2.4 ms at 100k, nprobe 384 (docs/scale.md).
            self.index.parallel_mode = 1 if len(queries) == 1 else 0
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return ids, scores

    def search(self, query: Matrix, k: int) -> tuple[list[int], list[float]]:
        """Top-k ids and cosine scores for one query vector."""
        if len(self) == 0 or k <= 0:
            return [], []
        ids, scores = self.search_many(query.reshape(1, -1), min(k, len(self)))
        keep = ids[0] >= 0
        return [int(i) for i in ids[0][keep]], [float(s) for s in scores[0][keep]]
