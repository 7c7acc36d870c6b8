"""An opened index version: manifest, metadata, vectors and BM25, fixed for the reader's life."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rag.errors import IndexCorruptError, IndexMismatchError
from rag.store.backends import Vectors, open_vectors
from rag.store.layout import MANIFEST, IndexLayout
from rag.store.lexical import LexicalIndex
from rag.store.manifest import Manifest, load_manifest
from rag.store.meta import MetaDB

META_FILE = "meta.sqlite"


class IndexReader:
    """One published version; a rebuild publishing a newer one does not change what it sees."""

    def __init__(
        self,
        layout: IndexLayout,
        version: int,
        manifest: Manifest,
        meta: MetaDB,
        vectors: Vectors,
        lexical: LexicalIndex,
    ) -> None:
        self.layout = layout
        self.version = version
        self.manifest = manifest
        self.meta = meta
        self.vectors = vectors
        self.lexical = lexical

    @classmethod
    def open(cls, index_dir: Path, milvus_token: str = "") -> IndexReader:
        """Open the current version of the index in `index_dir` (a Milvus server may want
        `milvus_token`)."""
        layout = IndexLayout(index_dir)
        version = layout.require_current()
        folder = layout.version_dir(version)
        if not (folder / MANIFEST).is_file():
            raise IndexCorruptError(
                f"index version {version} in {index_dir} is missing its manifest; "
                "mend it with `rag index verify --mend`"
            )
        manifest = load_manifest(folder / MANIFEST)
        try:
            meta = MetaDB.open_readonly(folder / META_FILE)
            passages = meta.count("passages")
        except sqlite3.DatabaseError as exc:  # missing, truncated or overwritten
            raise IndexCorruptError(
                f"cannot read {folder / META_FILE}: {exc}; mend it with `rag index verify --mend`"
            ) from exc
        vectors = open_vectors(folder, manifest, layout.root, milvus_token)
        lexical = LexicalIndex.load(folder)
        # A Milvus count is the manifest's (counting costs a scan); `rag index verify` counts.
        counts = {
            "SQLite": passages,
            manifest.vectors.backend: len(vectors),
            "BM25": len(lexical),
            "manifest": manifest.passages,
        }
        if len(set(counts.values())) != 1:
            raise IndexCorruptError(
                f"index version {version} disagrees on passage counts {counts}; "
                "mend it with `rag index verify --mend`"
            )
        return cls(layout, version, manifest, meta, vectors, lexical)

    def check_model(self, model_id: str, dimension: int) -> None:
        """Refuse to mix vector spaces: the query encoder must be the one that built the index."""
        built = self.manifest.embedding
        if built.model_id != model_id or built.dimension != dimension:
            raise IndexMismatchError(
                f"index at {self.layout.root} was built with embedding model {built.model_id!r} "
                f"(dimension {built.dimension}) but the settings ask for {model_id!r} "
                f"(dimension {dimension}); set RAG_EMBED_MODEL={built.model_id} or rebuild with "
                "`rag index rebuild --full`"
            )

    @property
    def folder(self) -> Path:
        """Folder of the opened version."""
        return self.layout.version_dir(self.version)

    def close(self) -> None:
        """Release the SQLite connection."""
        self.meta.close()
