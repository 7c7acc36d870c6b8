"""MiniLM on torch (fp32, rag's smoothed int8) against ONNX Runtime exports (fp32, int8).

    python bench/encoders.py

For torch at batch sizes 4 to 64 and each ONNX runtime: passages/s over 640 HotpotQA passages
in the builder's blocks of 128, one question's latency (p50 over 200 calls), and the lowest
cosine to torch's vectors (batch 32) over those passages.
rag keeps what is fastest per use among the runtimes with cosine >= 0.99 (embed_onnx.py).
Writes bench/results/encoders.json.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, SHARED

QUESTION = "Which magazine was started first, Arthur's Magazine or First for Women?"


def measure(encode: Any, texts: list[str], reference: np.ndarray) -> dict[str, float]:
    """Throughput, one-question latency and agreement with torch."""
    encode(texts[:32])
    start = time.perf_counter()
    vectors = np.concatenate([encode(texts[i : i + 128]) for i in range(0, len(texts), 128)])
    seconds = time.perf_counter() - start
    for _ in range(20):
        encode([QUESTION])
    values = []
    for _ in range(200):
        t0 = time.perf_counter()
        encode([QUESTION])
        values.append(time.perf_counter() - t0)
    return {
        "passages_per_s": round(len(texts) / seconds, 1),
        "question_p50_ms": round(1000 * statistics.median(values), 2),
        "min_cosine_to_torch": round(float(np.min(np.sum(vectors * reference, axis=1))), 5),
    }


def main() -> None:
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.config import load_settings
    from rag.embed import int8 as embed_int8
    from rag.embed.encoder import SentenceTransformerEmbedder
    from rag.embed.models import resolve_model_path
    from rag.embed.onnx import OnnxEncoder, load_onnx_encoder

    corpus = SHARED / "hotpotqa" / "corpus.jsonl"
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()][:640]
    settings = load_settings()
    torch_model = SentenceTransformerEmbedder(settings.embed.model, batch_size=32)
    st = torch_model._model
    reference = torch_model.encode(texts)
    results: dict[str, Any] = {
        "machine": {
            "cpu": torch.backends.cpu.get_cpu_capability(),
            "vnni": embed_int8.has_vnni(),
            "int8_inputs": "7-bit" if embed_int8.REDUCE_RANGE else "8-bit",
            "int8_fp32_ffn_out": list(embed_int8.FP32_FFN_OUT),
        }
    }
    for batch in (4, 8, 16, 32, 64):
        sized = SentenceTransformerEmbedder(settings.embed.model, batch_size=batch)
        results[f"torch_batch_{batch}"] = measure(sized.encode, texts, reference)
        print(f"torch_batch_{batch}", results[f"torch_batch_{batch}"], flush=True)
    int8 = SentenceTransformerEmbedder(settings.embed.model, batch_size=8, precision="int8")
    int8.plan(texts)  # as a build does; then blocks of 128 go to the int8 copy
    results["torch_int8_smoothquant_batch_8"] = measure(int8.encode, texts, reference)
    results["torch_int8_smoothquant_batch_8"]["precision"] = int8.precision
    print("torch_int8_smoothquant_batch_8", results["torch_int8_smoothquant_batch_8"], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = resolve_model_path(settings.embed.model)
        fp32 = load_onnx_encoder(st, path, Path(tmp), settings.embed.torch_threads)
        results["onnx_fp32"] = measure(fp32.encode, texts, reference)
        print("onnx_fp32", results["onnx_fp32"], flush=True)
        [exported] = Path(tmp).glob("onnx/*/model.onnx")
        for name, per_channel in (("onnx_int8", False), ("onnx_int8_per_channel", True)):
            target = Path(tmp) / f"{name}.onnx"
            quantize_dynamic(
                str(exported), str(target), weight_type=QuantType.QInt8, per_channel=per_channel
            )
            session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
            encoder = OnnxEncoder(session, st.tokenizer, int(st.get_max_seq_length() or 256))
            results[name] = measure(encoder.encode, texts, reference)
            print(name, results[name], flush=True)
    out = RESULTS / "encoders.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
