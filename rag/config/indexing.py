"""The settings of the stages that build an index (and of this machine): one pydantic model per
group, each field described, its alias the setting's flat name (RAG_<ALIAS>)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

SearchMode = Literal["dense", "bm25", "hybrid"]
ValidateMode = Literal["fast", "judge", "strict"]
StoreBackend = Literal["faiss", "milvus"]

DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"
LOCAL_LLM = "local/qwen2.5-coder-1.5b-instruct"


class Group(BaseModel):
    """The settings of one stage; each field's alias is its flat name (RAG_<ALIAS>)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True)


class IndexSettings(Group):
    """Where the index lives and what a build keeps (rag/index)."""

    dir: Path = Field(
        Path("index"), alias="index_dir", description="Folder that holds the index versions."
    )
    keep_versions: int = Field(
        3,
        alias="keep_versions",
        ge=1,
        description="Published index versions kept on disk (older ones are deleted).",
    )
    max_file_mb: float = Field(
        50.0,
        alias="max_file_mb",
        gt=0,
        description="Files larger than this many megabytes are reported and skipped.",
    )
    bm25_titles: bool = Field(
        True,
        alias="bm25_titles",
        description="Put the source title before the passage text for BM25: recall@1 and "
        "MRR rose on every QA set measured (docs/retrieval.md). Changing it re-tokenizes, never "
        "re-embeds.",
    )
    web_timeout: float = Field(
        10.0,
        alias="web_timeout",
        gt=0,
        description="Seconds a web source (a page, a feed, a feed's item) may take to answer.",
    )
    web_feed_items: int = Field(
        50,
        alias="web_feed_items",
        ge=1,
        description="Newest items of a registered feed fetched and indexed.",
    )
    web_allow_private: bool = Field(
        False,
        alias="web_allow_private",
        description="Fetch web sources from private, loopback and link-local addresses (off: "
        "a registered URL, or a redirect, that resolves to one is refused).",
    )


class ChunkSettings(Group):
    """Passage sizes in words (rag/ingest/chunk.py); recorded in the index manifest."""

    target_words: int = Field(
        160,
        alias="chunk_target_words",
        ge=20,
        description="Words a passage aims for before it is closed at a sentence end.",
    )
    max_words: int = Field(
        220,
        alias="chunk_max_words",
        ge=20,
        description="Hard ceiling of words in a passage; longer sentences are cut.",
    )
    min_words: int = Field(
        60,
        alias="chunk_min_words",
        ge=1,
        description="A trailing passage shorter than this is merged into the one before.",
    )
    overlap_words: int = Field(
        30,
        alias="chunk_overlap_words",
        ge=0,
        description="Words of whole trailing sentences repeated at the next passage's start.",
    )

    @model_validator(mode="after")
    def _sizes_agree(self) -> ChunkSettings:
        if not self.min_words <= self.target_words <= self.max_words:
            raise ValueError(
                "chunk sizes must satisfy chunk_min_words <= chunk_target_words <= chunk_max_words"
            )
        if self.overlap_words >= self.target_words:
            raise ValueError("chunk_overlap_words must be smaller than chunk_target_words")
        return self


class EmbedSettings(Group):
    """The encoder (rag/embed)."""

    model: str = Field(
        DEFAULT_EMBED_MODEL,
        alias="embed_model",
        description="Embedding model: 'all-MiniLM-L6-v2' (packaged, offline) or the path of a "
        "local sentence-transformers model folder.",
    )
    batch_size: int = Field(
        8,
        alias="embed_batch_size",
        ge=1,
        le=4096,
        description="Texts per encoder batch (on 2 cores batch 8 encoded 62.5 passages/s, 32 "
        "only 48, 64 only 36: bench/encoders.py).",
    )
    titles: bool = Field(
        False,
        alias="embed_titles",
        description="Put the source title before the passage text for embedding (off: it lost "
        "recall@1 where titles are ids or file names, docs/retrieval.md). Changing it needs "
        "`rag index rebuild --full`.",
    )
    torch_threads: int | None = Field(
        None,
        alias="torch_threads",
        ge=1,
        description="CPU threads for the encoder; unset lets torch decide.",
    )
    precision: Literal["int8", "fp32"] = Field(
        "int8",
        alias="embed_precision",
        description="Precision for batches of passages: 'int8' (a SmoothQuant int8 copy of the "
        "model, ~1.4x faster here, used only if it agrees with fp32 to cosine >= 0.99) or "
        "'fp32'.",
    )
    query_encoder: Literal["onnx", "torch"] = Field(
        "onnx",
        alias="query_encoder",
        description="Runtime for one or two texts at a time (questions): 'onnx' (a local ONNX "
        "Runtime export of the same model, ~2x faster, checked to cosine >= 0.99) or 'torch'.",
    )


class StoreSettings(Group):
    """Where vectors live and how the approximate index is tuned (rag/store)."""

    backend: StoreBackend = Field(
        "faiss",
        alias="store",
        description="Vector store: 'faiss' (vectors in the index folder, in memory when read) "
        "or 'milvus' (a Milvus Lite folder inside the index, or a Milvus server at "
        "RAG_MILVUS_URI). Changing it needs `rag index rebuild --full`.",
    )
    milvus_uri: str | None = Field(
        None,
        alias="milvus_uri",
        description="Milvus to use when RAG_STORE=milvus: a server or cluster URI "
        "(http://host:19530) or a Milvus Lite folder path; unset: <index>/milvus.db (Milvus "
        "Lite, one process at a time).",
    )
    milvus_token: SecretStr | None = Field(
        None,
        alias="milvus_token",
        description="Token ('user:password' or an API key) for a Milvus server.",
    )
    milvus_collection: str = Field(
        "rag",
        alias="milvus_collection",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
        description="Prefix of this index's Milvus collections (<prefix>_<version>); give each "
        "index sharing one Milvus server its own.",
    )
    ann_threshold: int = Field(
        50_000,
        alias="ann_threshold",
        ge=1,
        description="Passages from which the vectors go into an approximate FAISS IVF index "
        "instead of an exact flat one (an exact search over 100k vectors costs ~10 ms on 2 "
        "cores).",
    )
    ann_target_recall: float = Field(
        0.95,
        alias="ann_target_recall",
        gt=0,
        le=1,
        description="Recall@10 against exact search that the approximate index must reach, both "
        "for indexed passages and for short questions made from them; the build probes more "
        "lists until it does, and records what it measured.",
    )
    ann_sample: int = Field(
        500,
        alias="ann_sample",
        ge=10,
        description="Indexed passages used as queries to measure the approximate recall (and as "
        "many short questions made from them).",
    )

    @property
    def token(self) -> str:
        """The Milvus token, or ''."""
        return self.milvus_token.get_secret_value() if self.milvus_token else ""


class LocalSettings(Group):
    """What rag keeps and runs on this machine: its cache and the embedded LLM."""

    cache_dir: Path = Field(
        Path.home() / ".cache" / "rag",
        alias="local_cache_dir",
        description="Where rag keeps what it makes once per machine: the embedded LLM's GGUF "
        "file (1.1 GB), the ONNX question encoder, the int8 encoder's calibration, "
        "`rag eval --corpus` indexes.",
    )
    threads: int | None = Field(
        None,
        alias="local_threads",
        ge=1,
        description="CPU threads for the embedded LLM; unset uses every core.",
    )
    context: int = Field(
        4096,
        alias="local_context",
        ge=512,
        description="Context window of the embedded LLM in tokens.",
    )
