"""The int8 passage encoder: smoothing keeps outlier channels exact enough, the stacked
query/key/value answer like three layers, and the copy is kept only when it agrees with fp32."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rag.embed import batches as embed_batches
from rag.embed import int8 as embed_int8
from rag.embed.encoder import SentenceTransformerEmbedder
from rag.embed.int8 import (
    MIN_COSINE,
    SmoothInt8Linear,
    _Slice,
    calibration_file,
    calibration_texts,
    has_vnni,
)


def _linear(inputs: int, outputs: int, seed: int) -> torch.nn.Linear:
    torch.manual_seed(seed)
    return torch.nn.Linear(inputs, outputs)


def _activations(rows: int, width: int, outlier: float) -> torch.Tensor:
    """Activations like a transformer's: small values, and two channels `outlier` times larger."""
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(rows, width, generator=generator)
    x[:, [3, 17]] *= outlier
    return x


def _relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return float((got - want).norm() / want.norm())


@pytest.mark.parametrize(
    ("outlier", "smoothed_below", "plain_above"),
    [
        (1.0, 0.02, 0.0),  # no outliers: both are fine, smoothing costs nothing
        (60.0, 0.02, 0.10),  # outliers: one activation scale ruins plain int8, not smoothed
    ],
)
def test_smoothing_keeps_outlier_channels_from_ruining_the_rest(
    outlier: float, smoothed_below: float, plain_above: float
) -> None:
    linear = _linear(64, 48, seed=1)
    with torch.no_grad():  # as in a trained model, the outlier channels' weights are small
        linear.weight[:, [3, 17]] /= outlier
    x = _activations(256, 64, outlier)
    want = linear(x).detach()
    smoothed = SmoothInt8Linear([linear], x.abs().amax(0), alpha=0.8)(x)
    plain = SmoothInt8Linear([linear], torch.ones(64), alpha=1.0)(x)  # s = 1: no smoothing
    assert _relative_error(smoothed, want) < smoothed_below
    assert _relative_error(plain, want) > plain_above


class _Cpu:
    """A stand-in for `torch.cpu`, with or without its VNNI probe."""

    def __init__(self, vnni: bool | None) -> None:
        if vnni is not None:
            self._is_vnni_supported = lambda: vnni


@pytest.mark.parametrize(
    ("vnni", "expected"),
    [(True, True), (False, False), (None, False)],  # no probe: the 7-bit inputs, safe anywhere
)
def test_full_range_inputs_only_where_the_cpu_sums_in_int32(
    vnni: bool | None, expected: bool
) -> None:
    assert has_vnni(_Cpu(vnni)) is expected


def test_stacked_query_key_value_answer_like_three_layers() -> None:
    layers = [_linear(32, 32, seed) for seed in (1, 2, 3)]
    x = _activations(40, 32, 10.0)
    stacked = SmoothInt8Linear(layers, x.abs().amax(0), alpha=0.8)
    shared = threading.local()
    parts = [_Slice(stacked, i, shared) for i in range(3)]
    got = [part(x) for part in parts]
    for layer, out in zip(layers, got, strict=True):
        assert out.shape == (40, 32)
        assert _relative_error(out, layer(x).detach()) < 0.02
    assert shared.input is None and shared.parts is None  # freed by the last taker
    # Asked out of order or with another input, each part is recomputed, never mixed up.
    other = _activations(40, 32, 1.0) + 1
    assert torch.equal(parts[1](other), stacked(other)[:, 32:64])
    assert torch.equal(parts[0](x), got[0])


def test_calibration_texts_ship_with_the_package() -> None:
    texts = calibration_texts()
    assert len(texts) >= 50
    assert any(len(t.split()) > 100 for t in texts)  # passages as long as the index holds
    assert any(len(t.split()) < 3 for t in texts)  # and the tiniest inputs


def passages(count: int) -> list[str]:
    """A job of `count` passages, as a build plans it."""
    return [f"passage {i} about the river and its harbor" for i in range(count)]


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="int8")


@pytest.mark.slow
def test_int8_vectors_agree_with_fp32_on_real_passages(
    embedder: SentenceTransformerEmbedder, shared_data: Path
) -> None:
    lines = (shared_data / "squad2" / "corpus.jsonl").read_text().splitlines()
    texts = [json.loads(line)["text"] for line in lines[:96]]
    embedder.plan(texts * 10)
    fast = embedder.encode(texts)
    assert embedder.precision == "int8"
    slow = embedder._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    cosines = np.sum(fast * slow, axis=1)
    assert fast.dtype == np.float32 and fast.shape == (96, 384)
    assert float(cosines.min()) >= MIN_COSINE
    assert float(cosines.mean()) >= 0.997


@pytest.mark.parametrize(
    ("change", "attribute", "value"),
    [
        ("smoothing exponent", "ALPHA", 0.7),
        ("layers kept in fp32", "FP32_FFN_OUT", (0,)),
        ("calibration texts", "calibration_texts", lambda: ["another text"]),
    ],
)
def test_the_calibration_file_is_named_for_what_it_depends_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, attribute: str, value: Any
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    before = calibration_file(tmp_path / "cache", model)
    assert before == calibration_file(tmp_path / "cache", model)
    assert before.parent == tmp_path / "cache" / "int8"
    monkeypatch.setattr(embed_int8, attribute, value)
    assert calibration_file(tmp_path / "cache", model) != before, change
    monkeypatch.undo()
    (model / "config.json").write_text('{"changed": true}')  # the model's files
    assert calibration_file(tmp_path / "cache", model) != before


@pytest.fixture(scope="module")
def saved_calibration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the packaged model's calibration, made by a first embedder."""
    cache = tmp_path_factory.mktemp("cache")
    first = SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="int8", int8_cache=cache)
    first.plan(passages(500))
    return cache


@pytest.mark.slow
@pytest.mark.parametrize(
    ("precision", "saved", "job", "made"),
    [
        ("int8", False, 499, False),  # a small rebuild: calibrating would cost more than it saves
        ("int8", False, 500, True),
        ("int8", True, 99, False),
        ("int8", True, 100, True),  # calibration saved: the copy pays off sooner
        ("fp32", True, 100_000, False),
    ],
)
def test_the_copy_is_made_for_big_enough_jobs_only(
    saved_calibration: Path, tmp_path: Path, precision: str, saved: bool, job: int, made: bool
) -> None:
    cache = saved_calibration if saved else tmp_path
    fresh = SentenceTransformerEmbedder(
        "all-MiniLM-L6-v2",
        precision=precision,  # type: ignore[arg-type]
        int8_cache=cache,
    )
    fresh.plan(passages(job))
    assert fresh.precision == ("int8" if made else "fp32")
    assert (fresh._int8 is not None) is made


@pytest.mark.slow
def test_a_saved_calibration_makes_the_same_copy_without_calibrating(
    saved_calibration: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder.plan(passages(500))
    texts = [f"passage number {i} about the river and its harbor" for i in range(40)]
    want = embedder.encode(texts)

    def no_calibration(*_: Any) -> None:
        raise AssertionError("calibrated again although the calibration was saved")

    monkeypatch.setattr(embed_int8, "_input_maxima", no_calibration)
    fresh = SentenceTransformerEmbedder(
        "all-MiniLM-L6-v2", precision="int8", int8_cache=saved_calibration
    )
    fresh.plan(passages(100))
    assert fresh.precision == "int8"
    assert np.array_equal(fresh.encode(texts), want)


@pytest.mark.slow
@pytest.mark.parametrize("spoil", [b"", b"not a zip", b"PK\x03\x04 half a zip"])
def test_an_unreadable_calibration_is_made_again(tmp_path: Path, spoil: bytes) -> None:
    first = SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="int8", int8_cache=tmp_path)
    assert first._calibration is not None
    first._calibration.parent.mkdir(parents=True)
    first._calibration.write_bytes(spoil)
    first.plan(passages(500))
    assert first.precision == "int8"
    assert first._calibration.stat().st_size > 10_000  # rewritten whole


@pytest.mark.slow
@pytest.mark.parametrize(("count", "int8"), [(3, False), (31, False), (32, True), (128, True)])
def test_only_big_batches_go_to_int8(
    embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch, count: int, int8: bool
) -> None:
    embedder.plan(passages(500))  # a job big enough for the copy
    calls: list[str] = []
    real = embed_batches.encode_by_length

    def spy(model: Any, texts: list[str], batch_size: int) -> Any:
        calls.append("int8" if model is embedder._int8 else "fp32")
        return real(model, texts, batch_size)

    monkeypatch.setattr("rag.embed.encoder.encode_by_length", spy)
    assert embedder.encode(["a passage about rivers"] * count).shape == (count, 384)
    assert calls == ["int8" if int8 else "fp32"]


@pytest.mark.slow
def test_an_int8_copy_that_disagrees_is_dropped_for_fp32(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(embed_int8, "MIN_COSINE", 1.01)  # no copy can reach it
    fresh = SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="int8")
    texts = [f"passage number {i} about the river" for i in range(40)]
    with caplog.at_level(logging.WARNING, logger="rag.embed.encoder"):
        fresh.plan(passages(1000))
    fast = fresh.encode(texts)
    assert fresh.precision == "fp32"
    assert "RAG_EMBED_PRECISION=fp32" in caplog.text
    slow = fresh._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(fast, slow, atol=1e-6)
