"""One settings object for the service, read from `RAG_*` variables, overridable by flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

SearchMode = Literal["dense", "bm25", "hybrid"]
ValidateMode = Literal["fast", "judge", "strict"]
StoreBackend = Literal["faiss", "milvus"]

DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"
LOCAL_LLM = "local/qwen2.5-1.5b"


class Settings(BaseSettings):
    """Every knob of the service; `RAG_<FIELD>` in the environment sets it, a CLI flag wins."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="forbid", validate_default=True)

    index_dir: Path = Field(Path("index"), description="Folder that holds the index versions.")
    embed_model: str = Field(
        DEFAULT_EMBED_MODEL,
        description=(
            "Embedding model: 'all-MiniLM-L6-v2' (packaged, offline) or the path of a local "
            "sentence-transformers model folder."
        ),
    )
    embed_batch_size: int = Field(
        8,
        ge=1,
        le=4096,
        description=(
            "Texts per encoder batch (on 2 cores batch 8 encoded 62.5 passages/s, 32 only "
            "48, 64 only 36: bench/encoders.py)."
        ),
    )
    embed_titles: bool = Field(
        False, description="Put the source title before the passage text for embedding and BM25."
    )
    torch_threads: int | None = Field(
        None, ge=1, description="CPU threads for the encoder; unset lets torch decide."
    )
    embed_precision: Literal["int8", "fp32"] = Field(
        "int8",
        description=(
            "Precision for batches of passages: 'int8' (a SmoothQuant int8 copy of the model, "
            "~1.4x faster here, used only if it agrees with fp32 to cosine >= 0.99) or 'fp32'."
        ),
    )
    query_encoder: Literal["onnx", "torch"] = Field(
        "onnx",
        description=(
            "Runtime for one or two texts at a time (questions): 'onnx' (a local ONNX Runtime "
            "export of the same model, ~2x faster, checked to cosine >= 0.99) or 'torch'."
        ),
    )
    chunk_target_words: int = Field(
        160, ge=20, description="Words a passage aims for before it is closed at a sentence end."
    )
    chunk_max_words: int = Field(
        220, ge=20, description="Hard ceiling of words in a passage; longer sentences are cut."
    )
    chunk_min_words: int = Field(
        60, ge=1, description="A trailing passage shorter than this is merged into the one before."
    )
    chunk_overlap_words: int = Field(
        30,
        ge=0,
        description="Words of whole trailing sentences repeated at the next passage's start.",
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="Files larger than this many megabytes are reported and skipped."
    )
    search_k: int = Field(10, ge=1, le=1000, description="Hits returned by a search.")
    search_mode: SearchMode = Field("hybrid", description="dense, bm25 or hybrid (RRF of both).")
    fusion_candidates: int = Field(
        100, ge=1, description="Candidates each retriever contributes before fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant k in 1/(k + rank).")
    ann_threshold: int = Field(
        50_000,
        ge=1,
        description=(
            "Passages from which the vectors go into an approximate FAISS IVF index instead of "
            "an exact flat one (an exact search over 100k vectors costs ~10 ms on 2 cores)."
        ),
    )
    ann_target_recall: float = Field(
        0.95,
        gt=0,
        le=1,
        description=(
            "Recall@10 against exact search that the approximate index must reach, both for "
            "indexed passages and for short questions made from them; the build probes more "
            "lists until it does, and records what it measured."
        ),
    )
    ann_sample: int = Field(
        500,
        ge=10,
        description=(
            "Indexed passages used as queries to measure the approximate recall (and as many "
            "short questions made from them)."
        ),
    )
    store: StoreBackend = Field(
        "faiss",
        description=(
            "Vector store: 'faiss' (vectors in the index folder, in memory when read) or "
            "'milvus' (a Milvus Lite folder inside the index, or a Milvus server at "
            "RAG_MILVUS_URI). Changing it needs `rag index rebuild --full`."
        ),
    )
    milvus_uri: str | None = Field(
        None,
        description=(
            "Milvus to use when RAG_STORE=milvus: a server or cluster URI "
            "(http://host:19530) or a Milvus Lite folder path; unset: <index>/milvus.db "
            "(Milvus Lite, one process at a time)."
        ),
    )
    milvus_token: SecretStr | None = Field(
        None, description="Token ('user:password' or an API key) for a Milvus server."
    )
    milvus_collection: str = Field(
        "rag",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
        description=(
            "Prefix of this index's Milvus collections (<prefix>_<version>); give each index "
            "sharing one Milvus server its own."
        ),
    )
    link_hits: int = Field(
        3,
        ge=0,
        le=20,
        description=(
            "Best hybrid hits scanned for other sources' titles; the sources they mention are "
            "ranked by cosine and fused in, the second hop of multi-part questions (0 = off)."
        ),
    )
    decompose: bool = Field(
        False,
        description=(
            "Hybrid search also asks RAG_LLM_MODEL to split the question into up to 3 search "
            "queries and fuses their results (one LLM call per search)."
        ),
    )
    keep_versions: int = Field(
        3, ge=1, description="Published index versions kept on disk (older ones are deleted)."
    )
    llm_model: str = Field(
        LOCAL_LLM,
        description=(
            "litellm model string that writes answers: the embedded 'local/qwen2.5-1.5b', or any "
            "provider's, e.g. 'openai/gpt-4o-mini', 'anthropic/claude-3-5-haiku-latest', "
            "'ollama/llama3.1'."
        ),
    )
    llm_api_base: str | None = Field(
        None, description="Base url for an OpenAI-compatible or self-hosted server."
    )
    llm_timeout: float = Field(120.0, gt=0, description="Seconds before one LLM call is abandoned.")
    llm_retries: int = Field(
        3, ge=0, le=10, description="Retries after rate limits, timeouts and server errors."
    )
    llm_max_tokens: int = Field(300, ge=16, description="Most tokens an answer may have.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    answer_k: int = Field(4, ge=1, le=20, description="Passages given to the model per question.")
    passage_words: int = Field(
        36,
        ge=20,
        description="Words of each passage shown to the model: the sentences closest to the "
        "question, in order (shorter prompts answer faster on a CPU).",
    )
    local_cache_dir: Path = Field(
        Path.home() / ".cache" / "rag",
        description="Where rag keeps what it makes once per machine: the embedded LLM's GGUF "
        "file (1.1 GB), the ONNX question encoder, the int8 encoder's calibration.",
    )
    local_threads: int | None = Field(
        None, ge=1, description="CPU threads for the embedded LLM; unset uses every core."
    )
    local_context: int = Field(
        4096, ge=512, description="Context window of the embedded LLM in tokens."
    )
    validate_mode: ValidateMode = Field(
        "judge",
        description="How claims are checked: fast (scored overlap and similarity only), judge "
        "(the fast layer settles clear cases, an LLM judge the unsure ones) or strict (the judge "
        "must also confirm every claim the fast layer would pass).",
    )
    support_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Fast-layer score at or above which a claim counts as supported when no "
        "judge is used (calibrated on the dev set, docs/validator.md).",
    )
    support_accept: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Fast-layer score at or above which a claim is supported without the judge.",
    )
    support_reject: float = Field(
        0.45,
        ge=0,
        le=1,
        description="Fast-layer score below which a claim is unsupported without the judge.",
    )
    judge_model: str | None = Field(
        None, description="litellm model string of the support judge; unset uses RAG_LLM_MODEL."
    )
    judge_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Judge probability of 'Yes' at or above which a claim counts as supported.",
    )
    repair_rounds: int = Field(
        1,
        ge=0,
        le=3,
        description="Times a draft with unsupported claims is sent back to the model with the "
        "list of failures before unsupported sentences are dropped.",
    )
    eval_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Questions `rag eval` answers at once; unset: 1 for the embedded model (it "
        "serves one request at a time) and for retrieval only, 4 for a provider.",
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token for the server's endpoints that change the index (upload, "
        "delete, rebuild); unset disables them.",
    )
    server_models: list[str] = Field(
        default_factory=list,
        description="Further litellm model strings a client of `rag serve` may ask for (JSON "
        "list, e.g. '[\"openai/gpt-4o-mini\"]'); RAG_LLM_MODEL is always allowed.",
    )
    max_question_chars: int = Field(
        2000, ge=1, description="Longest question the server accepts, in characters."
    )
    max_upload_mb: float = Field(
        20.0, gt=0, description="Largest upload (all files of one request) the server accepts."
    )
    rate_limit_per_minute: int = Field(
        120,
        ge=0,
        description="API requests one client (IP address) may make per minute, in bursts of up "
        "to the same number; 0 turns the limit off.",
    )

    @model_validator(mode="after")
    def _chunk_sizes_agree(self) -> Settings:
        if not self.chunk_min_words <= self.chunk_target_words <= self.chunk_max_words:
            raise ValueError(
                "chunk sizes must satisfy chunk_min_words <= chunk_target_words <= chunk_max_words"
            )
        if self.chunk_overlap_words >= self.chunk_target_words:
            raise ValueError("chunk_overlap_words must be smaller than chunk_target_words")
        if not self.support_reject <= self.support_threshold <= self.support_accept:
            raise ValueError(
                "support thresholds must satisfy support_reject <= support_threshold <= "
                "support_accept"
            )
        return self


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with `overrides` (flags) on top; None means "not given"."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings ({problems}); fix the RAG_* variable or flag named"
        ) from exc
