"""Milvus vectors: the same store interface as FAISS, in a Milvus collection reached by URI.

One collection per full build (named `<prefix>_<version>`); the incremental builds after it
write into the same collection and tell their versions apart by two scalar fields, MVCC style:
a row is visible to version V when `born <= V < died`. A build writes rows born at its new
version and marks removed rows `died = new version`, so readers of the published version see
nothing of it until CURRENT names the new version: publishing stays one atomic rename, and an
incremental build costs what changed, not a copy of the collection (an alias switch between
whole collections would cost a full copy per build). A build that dies leaves rows of an
unpublished version, which the next build takes back before it starts.

The passage metadata stays in SQLite (one source of truth, versioned with the rest of the
index); Milvus holds only the vector id, the two version numbers and the vector.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import IndexCorruptError
from rag.store.milvus_conn import call, connect
from rag.store.vectors import IdArray, Matrix

if TYPE_CHECKING:
    from pymilvus import MilvusClient

ALIVE = 2**62  # `died` of a row no version has removed
_ROW_BITS = 40  # row key = version << 40 | running number within that build
_BATCH = 1000  # rows per insert or upsert, ids per `in` filter
_PAGE = 5000  # rows per page when reading a whole version out


def alive(version: int) -> str:
    """The filter of the rows version `version` sees."""
    return f"born <= {version} and died > {version}"


class MilvusVectors:
    """The rows of one version of one collection: a reader's view, or a build's (which adds
    rows born at its version and marks removed ones dead at it)."""

    backend = "milvus"

    def __init__(
        self,
        client: MilvusClient,
        uri: str,
        collection: str,
        dimension: int,
        version: int,
        count: int,
        index_type: str,
        search_params: dict[str, int] | None = None,
    ) -> None:
        self.client = client
        self.uri = uri
        self.collection = collection
        self._dimension = dimension
        self.version = version
        self._count = count
        self.index_type = index_type
        self.search_params = dict(search_params or {})
        self._next_row = 0

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        uri: str,
        token: str,
        collection: str,
        dimension: int,
        version: int,
        index_type: str,
        index_params: dict[str, int],
    ) -> MilvusVectors:
        """A new, empty collection for a full build at `version` (a leftover of the same name,
        from a build that died before publishing, is dropped first)."""
        from pymilvus import DataType

        client = connect(uri, token)
        if call("list collections", uri, client.has_collection, collection):
            call("drop a collection", uri, client.drop_collection, collection)
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("vid", DataType.INT64)
        schema.add_field("born", DataType.INT64)
        schema.add_field("died", DataType.INT64)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dimension)
        index = client.prepare_index_params()
        index.add_index("vec", index_type=index_type, metric_type="IP", params=index_params)
        call(
            "create a collection",
            uri,
            client.create_collection,
            collection,
            schema=schema,
            consistency_level="Strong",
        )
        # Not waiting for the index: pymilvus's wait polls a state Milvus Lite sometimes never
        # reports (seen here once: a test build hung there for minutes), and a server builds it
        # anyway.
        call("create an index", uri, client.create_index, collection, index, sync=False)
        call("load a collection", uri, client.load_collection, collection)
        return cls(client, uri, collection, dimension, version, 0, index_type)

    @classmethod
    def open(
        cls,
        uri: str,
        token: str,
        collection: str,
        dimension: int,
        version: int,
        count: int,
        index_type: str,
        search_params: dict[str, int] | None = None,
    ) -> MilvusVectors:
        """The view of a published version (its count is the manifest's; `count_rows` asks)."""
        client = connect(uri, token)
        if not call("list collections", uri, client.has_collection, collection):
            raise IndexCorruptError(
                f"Milvus at {uri} has no collection {collection!r}, which version {version} "
                "uses; mend it with `rag index verify --mend`"
            )
        call("load a collection", uri, client.load_collection, collection)
        return cls(client, uri, collection, dimension, version, count, index_type, search_params)

    def writer(self, version: int) -> MilvusVectors:
        """A build's view for `version`, after taking back what a dead build left behind."""
        self._recover()
        return MilvusVectors(
            self.client,
            self.uri,
            self.collection,
            self._dimension,
            version,
            self._count,
            self.index_type,
            self.search_params,
        )

    def _recover(self) -> None:
        """Rows born after this published version are an unpublished build's: delete them;
        rows it marked dead come back to life."""
        v = self.version
        self._on("delete rows", "delete", filter=f"born > {v}")
        for page in self._pages(f"died > {v} and died < {ALIVE}", ["row", "vid", "born", "vec"]):
            self._upsert([{**r, "died": ALIVE} for r in page])

    # -- the store interface ---------------------------------------------------------------
    @property
    def dimension(self) -> int:
        """Vector length."""
        return self._dimension

    @property
    def kind(self) -> str:
        """The layout, for the manifest and `rag index info`."""
        return f"Milvus {self.index_type},IP"

    def __len__(self) -> int:
        return self._count

    def count_rows(self) -> int:
        """Rows this version sees, counted by Milvus (a filtered scan: ~5 s per 100k on Lite)."""
        res = self._on(
            "count rows",
            "query",
            filter=alive(self.version),
            output_fields=["count(*)"],
        )
        return int(res[0]["count(*)"])

    def add(self, vectors: Matrix, ids: list[int] | IdArray) -> None:
        """Add vectors under their ids, born at this view's version."""
        base = self.version << _ROW_BITS
        rows = [
            {
                "row": base + self._next_row + i,
                "vid": int(vid),
                "born": self.version,
                "died": ALIVE,
                "vec": vectors[i].tolist(),
            }
            for i, vid in enumerate(ids)
        ]
        self._next_row += len(rows)
        for start in range(0, len(rows), _BATCH):
            self._on(
                "insert rows",
                "insert",
                rows[start : start + _BATCH],
            )
        self._count += len(rows)

    def remove(self, ids: list[int]) -> int:
        """Mark these ids dead at this view's version; returns how many were alive."""
        removed = 0
        for start in range(0, len(ids), _BATCH):
            batch = [int(i) for i in ids[start : start + _BATCH]]
            rows = self._query(batch, ["row", "vid", "born", "vec"])
            self._upsert([{**r, "died": self.version} for r in rows])
            removed += len(rows)
        self._count -= removed
        return removed

    def reconstruct(self, ids: list[int]) -> Matrix:
        """The stored vectors of these ids, in order."""
        found: dict[int, list[float]] = {}
        for start in range(0, len(ids), _BATCH):
            batch = [int(i) for i in ids[start : start + _BATCH]]
            found.update((int(r["vid"]), r["vec"]) for r in self._query(batch, ["vid", "vec"]))
        missing = [i for i in ids if int(i) not in found]
        if missing:
            raise IndexCorruptError(
                f"Milvus collection {self.collection!r} lacks vectors of {len(missing)} "
                f"passage(s) of version {self.version} (e.g. {missing[0]}); mend it with "
                "`rag index verify --mend`"
            )
        return np.asarray([found[int(i)] for i in ids], dtype=np.float32).reshape(
            len(ids), self._dimension
        )

    def ids(self) -> list[int]:
        """Every id this version sees."""
        return [int(r["vid"]) for page in self._pages(alive(self.version), ["vid"]) for r in page]

    def arrays(self) -> tuple[IdArray, Matrix]:
        """All ids and their vectors, row for row."""
        ids: list[int] = []
        vecs: list[list[float]] = []
        for page in self._pages(alive(self.version), ["vid", "vec"]):
            ids.extend(int(r["vid"]) for r in page)
            vecs.extend(r["vec"] for r in page)
        matrix = np.asarray(vecs, dtype=np.float32).reshape(len(ids), self._dimension)
        return np.asarray(ids, dtype=np.int64), matrix

    def search_many(self, queries: Matrix, k: int) -> tuple[IdArray, Matrix]:
        """Top-k ids (-1 where fewer were found) and scores for each query row."""
        out_ids = np.full((len(queries), k), -1, dtype=np.int64)
        out_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        if k <= 0 or len(queries) == 0:
            return out_ids, out_scores
        res = self._on(
            "search",
            "search",
            data=np.ascontiguousarray(queries, dtype=np.float32).tolist(),
            limit=k,
            filter=alive(self.version),
            output_fields=["vid"],
            search_params={"metric_type": "IP", "params": self.search_params},
        )
        for q, hits in enumerate(res):
            for rank, hit in enumerate(hits[:k]):
                out_ids[q, rank] = int(hit["entity"]["vid"])
                out_scores[q, rank] = float(hit["distance"])
        return out_ids, out_scores

    def search(self, query: Matrix, k: int) -> tuple[list[int], list[float]]:
        """Top-k ids and cosine scores for one query vector."""
        if self._count == 0 or k <= 0:
            return [], []
        ids, scores = self.search_many(query.reshape(1, -1), min(k, self._count))
        keep = ids[0] >= 0
        return [int(i) for i in ids[0][keep]], [float(s) for s in scores[0][keep]]

    def flush(self) -> None:
        """Make everything written durable before the version is published."""
        self._on(
            "flush",
            "flush",
        )

    # -- helpers ---------------------------------------------------------------------------
    def _on(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a client method on this view's collection, its refusals as VectorStoreError."""
        return call(what, self.uri, getattr(self.client, method), self.collection, *args, **kwargs)

    def _query(self, vids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        flt = f"vid in {vids} and {alive(self.version)}"
        rows = self._on(
            "query rows",
            "query",
            filter=flt,
            output_fields=fields,
        )
        return [dict(r) for r in rows]

    def _upsert(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _BATCH):
            self._on(
                "update rows",
                "upsert",
                rows[start : start + _BATCH],
            )

    def _pages(self, flt: str, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
        it = self._on(
            "read rows",
            "query_iterator",
            batch_size=_PAGE,
            filter=flt,
            output_fields=fields,
        )
        try:
            while True:
                page = call("read rows", self.uri, it.next)
                if not page:
                    return
                yield [dict(r) for r in page]
        finally:
            it.close()
