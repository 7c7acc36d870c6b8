"""Store: versioned index folders of SQLite metadata, FAISS vectors and BM25."""

from rag.store.layout import IndexLayout
from rag.store.manifest import FORMAT_VERSION, Manifest
from rag.store.reader import META_FILE, IndexReader

__all__ = ["FORMAT_VERSION", "META_FILE", "IndexLayout", "IndexReader", "Manifest"]
