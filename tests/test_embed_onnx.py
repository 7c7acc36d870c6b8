"""The ONNX query encoder: exported locally, cached, equal to torch, refused when it is not."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rag.config import load_settings
from rag.embed.encoder import SentenceTransformerEmbedder
from rag.embed.models import resolve_model_path
from rag.embed.onnx import MIN_COSINE, load_onnx_encoder, model_fingerprint
from rag.embed.query import open_query_encoder
from rag.errors import EmbeddingError

QUESTIONS = [
    "Which magazine was started first, Arthur's Magazine or First for Women?",
    "Are Minneapolis police helping ICE?",
    "¿Qué dijo el consejo municipal sobre la ordenanza?",
    "",
    "word " * 600,  # past the 256-token window: truncated the same way
]


def testmodel_fingerprint_follows_the_model_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    first = model_fingerprint(tmp_path)
    assert model_fingerprint(tmp_path) == first
    (tmp_path / "config.json").write_text('{"changed": true}')
    assert model_fingerprint(tmp_path) != first


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[SentenceTransformerEmbedder, Path]:
    cache = tmp_path_factory.mktemp("onnx-cache")
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", onnx_cache=cache), cache


@pytest.mark.slow
def test_onnx_vectors_equal_torch(pair: tuple[SentenceTransformerEmbedder, Path]) -> None:
    embedder, _ = pair
    for question in QUESTIONS:
        fast = embedder.encode([question])
        slow = embedder._model.encode([question], normalize_embeddings=True)
        assert fast.dtype == np.float32 and fast.shape == (1, 384)
        assert float(fast[0] @ slow[0]) >= MIN_COSINE


@pytest.mark.slow
@pytest.mark.parametrize(("count", "onnx"), [(1, True), (2, True), (3, False), (40, False)])
def test_small_calls_go_to_onnx_and_batches_to_torch(
    pair: tuple[SentenceTransformerEmbedder, Path],
    monkeypatch: pytest.MonkeyPatch,
    count: int,
    onnx: bool,
) -> None:
    embedder, _ = pair
    used: list[int] = []
    assert embedder._small is not None
    real = embedder._small.encode

    def spy(texts: list[str]) -> np.ndarray:
        used.append(len(texts))
        return real(texts)

    monkeypatch.setattr(embedder._small, "encode", spy)
    assert embedder.encode(["a passage"] * count).shape == (count, 384)
    assert (used == [count]) is onnx


@pytest.mark.slow
def test_the_question_encoder_alone_gives_the_full_encoders_vectors(
    pair: tuple[SentenceTransformerEmbedder, Path],
) -> None:
    """`rag search` encodes the question without torch (query.py), from what the full encoder
    exported and checked: the same vectors, to float precision."""
    embedder, cache = pair
    settings = load_settings(local_cache_dir=cache)
    alone = open_query_encoder(settings)
    assert alone is not None and (alone.model_id, alone.dimension) == ("all-MiniLM-L6-v2", 384)
    for question in QUESTIONS:
        assert np.allclose(alone.encode([question]), embedder.encode([question]), atol=1e-6)
    assert open_query_encoder(load_settings(local_cache_dir=cache, query_encoder="torch")) is None


@pytest.mark.slow
def test_the_export_is_cached_and_a_broken_one_refused(
    pair: tuple[SentenceTransformerEmbedder, Path],
) -> None:
    embedder, cache = pair
    [exported] = list(cache.glob("onnx/*/model.onnx"))
    stamp = exported.stat().st_mtime_ns
    path = resolve_model_path("all-MiniLM-L6-v2")
    load_onnx_encoder(embedder._model, path, cache, threads=None)
    assert exported.stat().st_mtime_ns == stamp  # reused, not exported again

    exported.write_bytes(b"not an onnx graph")
    os.utime(exported, ns=(stamp, stamp))
    with pytest.raises(EmbeddingError, match="RAG_QUERY_ENCODER=torch"):
        load_onnx_encoder(embedder._model, path, cache, threads=None)
    # ... and the question encoder on its own is not used any more (the full one reports).
    assert open_query_encoder(load_settings(local_cache_dir=cache)) is None


def test_no_question_encoder_alone_before_the_full_one_checked_it(tmp_path: Path) -> None:
    assert open_query_encoder(load_settings(local_cache_dir=tmp_path)) is None
