"""An int8 copy of the sentence-transformers encoder for indexing, checked against fp32.

On these CPUs MiniLM in fp32 runs close to the cores' peak (~150 GFLOP/s for ~60 passages/s), so
the only way to index much faster is lower precision. Plain dynamic int8 (torch's
`quantize_dynamic`) is fast but wrong: a few activation channels carry values 50x the rest, one
scale per tensor crushes everything else, and vectors fall to cosine 0.86 against fp32 (measured,
docs/scale.md). What works is SmoothQuant (Xiao et al., 2023): divide each linear layer's
input channels by s_j = max|x_j|^a / max|w_j|^(1-a) and multiply the weights' columns by the
same s_j, which leaves the product unchanged but moves the outliers into the weights, where
int8 keeps one scale per output row. The channel maxima come from fixed calibration texts
(`calibration.txt`), so the same model always gets the same copy. The feed-forward outputs of
the layers in `FP32_FFN_OUT` stay fp32: layer 0's alone in int8 brings the lowest cosine down
to 0.975-0.990 whatever a is.

The copy is refused (the caller falls back to fp32) unless its vectors agree with fp32 to
cosine >= `MIN_COSINE` on the calibration texts. The channel maxima and that cosine are saved
(`calibration_file`), keyed by everything they depend on, so the next process makes its copy in
a fraction of the time without the two calibration passes.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import threading
import warnings
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rag.embed.batches import encode_by_length
from rag.embed.onnx import model_fingerprint

log = logging.getLogger(__name__)


def has_vnni(cpu: Any = torch.cpu) -> bool:
    """Whether the CPU sums int8 products in int32 (VNNI), by the pinned torch's private
    probe; without the probe, no: 7-bit inputs are safe on every CPU."""
    probe = getattr(cpu, "_is_vnni_supported", None)
    return bool(probe()) if callable(probe) else False


MIN_COSINE = 0.99
ALPHA = 0.8
REDUCE_RANGE = not has_vnni()
# Without VNNI the 7-bit inputs cost agreement; layer 1's output in fp32 too brings it back
# (lowest cosine on 400 HotpotQA passages 0.9882 -> 0.9947, at the same speed; docs/scale.md).
FP32_FFN_OUT = (0, 1, 2, 3) if REDUCE_RANGE else (0, 2, 3)
_QKV = ("query", "key", "value")


def calibration_texts() -> list[str]:
    """The fixed texts the channel maxima and the agreement check are measured on."""
    text = resources.files("rag.embed").joinpath("calibration.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


class SmoothInt8Linear(torch.nn.Module):
    """y = int8(x / s) @ int8(W * s)^T + b for one or more linear layers sharing an input
    (their weights stacked, so the input is scaled and quantized once). Activations are
    quantized per call: over their full 8-bit range where the CPU has VNNI, which accumulates
    in int32; over 7 bits (`reduce_range`) where it has not, since AVX2 sums pairs of products
    in int16, which full-range inputs overflow (relative error 0.09 against 0.015, measured by
    tests/test_embed_int8.py on an AVX2 CPU)."""

    def __init__(
        self, linears: list[torch.nn.Linear], input_amax: torch.Tensor, alpha: float
    ) -> None:
        super().__init__()
        weight = torch.cat([linear.weight.detach().float() for linear in linears])
        smooth = (
            input_amax.clamp(min=1e-5) ** alpha
            / weight.abs().amax(0).clamp(min=1e-5) ** (1 - alpha)
        ).clamp(min=1e-5)
        scaled = weight * smooth
        scales = (scaled.abs().amax(1) / 127).clamp(min=1e-8).double()
        zeros = torch.zeros(scaled.shape[0], dtype=torch.int64)
        with warnings.catch_warnings():
            # torch marks its quantized tensors deprecated for a future release; torch is
            # pinned (2.13.0), and the agreement check would refuse a copy that came out wrong.
            warnings.simplefilter("ignore", UserWarning)
            qweight = torch.quantize_per_channel(scaled, scales, zeros, axis=0, dtype=torch.qint8)
        biases = [
            linear.bias.detach().float()
            if linear.bias is not None
            else torch.zeros(linear.out_features)
            for linear in linears
        ]
        self._packed = torch.ops.quantized.linear_prepack(qweight, torch.cat(biases))
        self.inverse: torch.Tensor = (1.0 / smooth).contiguous()
        self.widths = [linear.out_features for linear in linears]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = torch.ops.quantized.linear_dynamic(
            x * self.inverse, self._packed, reduce_range=REDUCE_RANGE
        )
        return out


class _Slice(torch.nn.Module):
    """One of query/key/value: asks the stacked layer once per input, hands out its part.

    BERT's attention calls query, key and value one after another on the same tensor; the first
    call computes all three, the next two take theirs. A different input (any other caller)
    recomputes, so the answer is always right, only the saving is lost."""

    def __init__(self, stacked: SmoothInt8Linear, part: int, shared: threading.local) -> None:
        super().__init__()
        self.stacked = stacked
        self.part = part
        self.shared = shared  # per thread: two threads encoding at once never mix inputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if getattr(self.shared, "input", None) is not x:
            self.shared.input = x
            self.shared.parts = self.stacked(x).split(self.stacked.widths, dim=-1)
        part: torch.Tensor = self.shared.parts[self.part]
        if self.part == len(self.stacked.widths) - 1:
            self.shared.input = self.shared.parts = None  # the last taker frees them
        return part


def _input_maxima(st_model: Any, texts: list[str]) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Per input channel, the largest |x| each encoder linear layer sees on `texts`; and the
    fp32 vectors of `texts`, which the agreement check compares against."""
    maxima: dict[str, torch.Tensor] = {}
    hooks = []

    def record(name: str) -> Any:
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: Any) -> None:
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
            maxima[name] = torch.maximum(maxima[name], x) if name in maxima else x

        return hook

    for name, module in st_model[0].auto_model.named_modules():
        if isinstance(module, torch.nn.Linear) and name.startswith("encoder."):
            hooks.append(module.register_forward_hook(record(name)))
    try:
        vectors = _encode(st_model, texts)
    finally:
        for hook in hooks:
            hook.remove()
    return maxima, vectors


def _encode(st_model: Any, texts: list[str]) -> np.ndarray:
    # Batched as passages are (by token count): padded positions would widen the maxima.
    return encode_by_length(st_model, texts, batch_size=8)


def calibration_file(cache_dir: Path, model_dir: Path) -> Path:
    """Where this model's calibration is saved: the name changes with the model's files, the
    calibration texts, the recipe, torch and the CPU's instruction set, so a saved one is
    never used for a copy it was not measured for."""
    recipe = "|".join(
        [
            *calibration_texts(),
            f"alpha={ALPHA}",
            f"fp32={FP32_FFN_OUT}",
            "batches=by-token-count",
            f"torch={torch.__version__}",
            f"cpu={torch.backends.cpu.get_cpu_capability()}",
            f"reduce_range={REDUCE_RANGE}",
        ]
    )
    digest = hashlib.sha256(recipe.encode("utf-8")).hexdigest()[:16]
    return cache_dir / "int8" / f"{model_dir.name}-{model_fingerprint(model_dir)}-{digest}.npz"


def _load_calibration(path: Path) -> tuple[dict[str, torch.Tensor], float] | None:
    """Saved maxima and cosine, or None where there are none (or they cannot be read)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            cosine = float(data["__cosine__"])
            maxima = {k: torch.from_numpy(data[k]) for k in data.files if k != "__cosine__"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return (maxima, cosine) if maxima else None


def _save_calibration(path: Path, maxima: dict[str, torch.Tensor], cosine: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial.npz")
        arrays: dict[str, Any] = {k: v.numpy() for k, v in maxima.items()}
        np.savez(partial, __cosine__=np.array(cosine), **arrays)
        partial.replace(path)  # atomic: another process never reads half a file
    except OSError as exc:  # a read-only cache costs time, never the copy
        log.warning("cannot save the int8 calibration to %s: %s", path, exc)


def _kept_fp32(name: str) -> bool:
    return any(name == f"encoder.layer.{layer}.output.dense" for layer in FP32_FFN_OUT)


def quantized_copy(st_model: Any, saved: Path | None = None) -> tuple[Any, float]:
    """A copy of the model with its encoder's linear layers in smoothed int8, and its lowest
    cosine to fp32 on the calibration texts (the caller decides whether that is enough).
    `saved`: the calibration file, read if there, written if not."""
    loaded = _load_calibration(saved) if saved is not None else None
    if loaded is not None:
        maxima, cosine = loaded
        log.debug("int8 encoder from the calibration in %s (cosine %.5f)", saved, cosine)
        return _smoothed(st_model, maxima), cosine
    texts = calibration_texts()
    maxima, reference = _input_maxima(st_model, texts)
    model = _smoothed(st_model, maxima)
    cosine = float(np.min(np.sum(reference * _encode(model, texts), axis=1)))
    log.debug("int8 encoder: %d linear layers smoothed, cosine to fp32 %.5f", len(maxima), cosine)
    if saved is not None:
        _save_calibration(saved, maxima, cosine)
    return model, cosine


def _smoothed(st_model: Any, maxima: dict[str, torch.Tensor]) -> Any:
    """The int8 copy made from each linear layer's input maxima."""
    model = copy.deepcopy(st_model)
    inner = model[0].auto_model
    for name, amax in maxima.items():
        parent_name, _, attr = name.rpartition(".")
        if _kept_fp32(name) or attr in _QKV:
            continue
        parent = inner.get_submodule(parent_name)
        setattr(parent, attr, SmoothInt8Linear([getattr(parent, attr)], amax, ALPHA))
    for name, module in list(inner.named_modules()):  # listed first: the loop replaces modules
        if all(isinstance(getattr(module, attr, None), torch.nn.Linear) for attr in _QKV):
            amax = maxima[f"{name}.{_QKV[0]}"]  # the three share their input
            stacked = SmoothInt8Linear([getattr(module, attr) for attr in _QKV], amax, ALPHA)
            shared = threading.local()
            for part, attr in enumerate(_QKV):
                setattr(module, attr, _Slice(stacked, part, shared))
    return model
