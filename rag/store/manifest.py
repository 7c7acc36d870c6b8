"""The manifest: what built an index version, and the refusal to open a mismatched one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from rag.errors import IndexCorruptError, IndexMismatchError
from rag.types import BuildReport, Contract

FORMAT_VERSION = 1
SPLITTER = "regex-v1"


class EmbeddingInfo(Contract):
    """The vector space of an index."""

    model_id: str = Field(description="Embedding model id or local folder.")
    dimension: int = Field(gt=0, description="Vector length.")
    normalized: bool = Field(
        True, description="Vectors are L2-normalized (inner product = cosine)."
    )
    embed_titles: bool = Field(description="Titles were prefixed to passages before embedding.")


class ChunkingInfo(Contract):
    """How sources were cut into passages."""

    splitter: str = Field(SPLITTER, description="Sentence splitter name and version.")
    target_words: int = Field(description="Target passage length in words.")
    max_words: int = Field(description="Maximum passage length in words.")
    min_words: int = Field(description="Minimum length of a trailing passage.")
    overlap_words: int = Field(description="Overlap between consecutive passages in words.")


class VectorInfo(Contract):
    """The vectors of a version: FAISS exact while small, IVF above RAG_ANN_THRESHOLD; or a
    Milvus collection (FLAT while small, HNSW above the threshold)."""

    backend: Literal["faiss", "milvus"] = Field(
        "faiss", description="Store holding the vectors (RAG_STORE at build time)."
    )
    kind: str = Field(
        "IDMap2,Flat,IP",
        description=(
            "Index type: FAISS 'IDMap2,Flat,IP' or 'IVF<nlist>,Flat,IP'; Milvus "
            "'Milvus FLAT,IP' or 'Milvus HNSW,IP'."
        ),
    )
    milvus_uri: str | None = Field(
        None, description="RAG_MILVUS_URI at build time (None: the Lite folder in the index)."
    )
    collection: str | None = Field(None, description="Milvus collection holding the vectors.")
    ef: int | None = Field(None, ge=1, description="Milvus HNSW candidates searched per query.")
    count: int = Field(0, ge=0, description="Vectors stored.")
    nlist: int | None = Field(None, ge=1, description="IVF lists (k-means centroids).")
    nprobe: int | None = Field(None, ge=1, description="IVF lists searched per query.")
    trained_on: int | None = Field(
        None, ge=1, description="Vectors in the index when its quantizer was trained."
    )
    recall_at_10: float | None = Field(
        None,
        ge=0,
        le=1,
        description=(
            "Measured at build: share of the exact top 10 the approximate search returns, "
            "for indexed passages used as queries."
        ),
    )
    question_recall_at_10: float | None = Field(
        None,
        ge=0,
        le=1,
        description=(
            "The same for short questions made from those passages (a question word and three "
            "of their words), which need more IVF lists or HNSW candidates than passages do."
        ),
    )
    recall_queries: int | None = Field(
        None, ge=1, description="Indexed passages used as queries for recall_at_10."
    )

    def describe(self) -> str:
        """One line for `rag index info`."""
        if self.backend == "milvus":
            where = self.milvus_uri or "the Milvus Lite folder in the index"
            tuned = f", ef {self.ef}{self._recall()}" if self.recall_at_10 is not None else ""
            return f"Milvus {self.collection} at {where} ({self.kind}{tuned}), {self.count} vectors"
        if self.nlist is None:
            return f"FAISS exact ({self.kind}), {self.count} vectors"
        return (
            f"FAISS approximate ({self.kind}, nprobe {self.nprobe}, trained on "
            f"{self.trained_on}), {self.count} vectors{self._recall()}"
        )

    def _recall(self) -> str:
        questions = (
            f", {self.question_recall_at_10:.3f} over as many short questions made from them"
            if self.question_recall_at_10 is not None
            else ""
        )
        return (
            f"; recall@10 vs exact {self.recall_at_10:.3f} over {self.recall_queries} sampled "
            f"passages{questions}"
        )


class Manifest(Contract):
    """Everything needed to tell whether a version can be read and extended as it is."""

    format_version: int = Field(FORMAT_VERSION, description="On-disk format version.")
    version: int = Field(ge=1, description="Version number, +1 at every publish.")
    created_at: str = Field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"),
        description="UTC time of publishing.",
    )
    embedding: EmbeddingInfo = Field(description="Embedding model of the vectors.")
    chunking: ChunkingInfo = Field(description="Chunking settings of the passages.")
    vectors: VectorInfo = Field(default_factory=VectorInfo, description="FAISS index facts.")
    bm25: dict[str, str] = Field(
        default_factory=lambda: {"stemmer": "english", "stopwords": "en"},
        description="BM25 tokenization.",
    )
    bm25_titles: bool = Field(
        description="Titles were put before passage texts for BM25 (a manifest from before "
        "this field: as embedding.embed_titles, which then set both)."
    )
    locations: list[str] = Field(default_factory=list, description="Registered source locations.")
    excluded: list[str] = Field(
        default_factory=list, description="Source ids removed by hand; rebuilds skip them."
    )
    sources: int = Field(0, ge=0, description="Sources in this version.")
    passages: int = Field(0, ge=0, description="Passages in this version.")
    last_build: BuildReport | None = Field(None, description="Report of the build that made it.")

    @model_validator(mode="before")
    @classmethod
    def _bm25_titles_as_embedded(cls, data: Any) -> Any:
        if isinstance(data, dict) and "bm25_titles" not in data:
            embedding = data.get("embedding")
            if isinstance(embedding, dict) and "embed_titles" in embedding:
                data = {**data, "bm25_titles": embedding["embed_titles"]}
            elif isinstance(embedding, EmbeddingInfo):
                data = {**data, "bm25_titles": embedding.embed_titles}
        return data

    def write(self, path: Path) -> None:
        """Write as JSON (the caller fsyncs and publishes)."""
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read_raw(path: Path) -> dict[str, object]:
    """The manifest as plain JSON, for reading what an older format registered."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(
            f"cannot read index manifest {path}: {exc}; see what can be mended with "
            "`rag index verify --mend`"
        ) from exc
    if not isinstance(data, dict):
        raise IndexCorruptError(
            f"index manifest {path} is not a JSON object; see what can be mended with "
            "`rag index verify --mend`"
        )
    return data


def load_manifest(path: Path) -> Manifest:
    """The manifest of a version; another format version is refused with the fix."""
    data = read_raw(path)
    found = data.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {path.parent.parent.parent} has format version {found}, this rag reads "
            f"format {FORMAT_VERSION}; rebuild it with `rag index rebuild --full`"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise IndexCorruptError(
            f"index manifest {path} is invalid ({exc.errors()[0]['msg']}); rebuild from the "
            "registered locations with `rag index rebuild --full`"
        ) from exc
