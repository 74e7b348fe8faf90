"""multilingual-e5-small in ONNX Runtime (fp32): the opt-in passage engine of the e5 backend
(``embedder.passage_engine = "onnx"``).

Why: ONNX Runtime fuses the attention and layer-norm graph that PyTorch runs op by op, and
its vectors equal PyTorch's to float32 rounding (max abs difference ~1e-7), so the index
keeps the e5 id. Speed is not settled: on 160 windows at load 6-9 it spent ~0.55x
PyTorch's CPU per window, but a side-by-side cold ingest of the corpus at load ~3 took
153 s against PyTorch's 105 s at equal CPU time (bench/bench_ingest.py --engines), so
PyTorch stays the default.

The ONNX file is exported once from the fp32 directory that ``ensure_e5_model`` writes
(mean pooling included), offline, with PyTorch; like that directory it appears only via an
atomic rename of a complete temp dir, and a marker ties it to the .bin it came from.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.errors import MissingDependencyError
from evidence_finder.models.e5_convert import (
    MARKER,
    _fsync,
    ensure_derived,
    fp32_key,
)

ONNX_CONVERTER_VERSION = "1"  # bump whenever the exported graph changes
ONNX_DIRNAME = "multilingual-e5-small-onnx"
_INSTALL = "pip install 'evidence-finder[fast]' (onnx; onnxruntime and torch come with the core install)"


def ensure_e5_onnx_model(cache_dir: Path, source: Path | None = None) -> Path:
    """Return ``cache_dir/multilingual-e5-small-onnx``, exporting it first if missing or stale."""
    return ensure_derived(cache_dir, source, ONNX_DIRNAME, "model.onnx", _key,
                          lambda fp32, out, key: _export(fp32, out, key))


def _key(fp32: Path) -> dict[str, str]:
    return {"onnx_converter_version": ONNX_CONVERTER_VERSION, **fp32_key(fp32)}


def _export(fp32: Path, out: Path, key: dict[str, str]) -> None:
    """Write model.onnx (encoder + mean pooling), the tokenizer and (last) the marker."""
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
        import torch
        from transformers import XLMRobertaModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise MissingDependencyError(f"exporting e5 to ONNX needs onnx and torch: {_INSTALL}") from exc

    class _Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = XLMRobertaModel.from_pretrained(str(fp32), add_pooling_layer=False, local_files_only=True)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    ids = torch.tensor([[0, 41, 1294, 12, 54029, 28973, 2]])
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Pooled(model.eval()), (ids, torch.ones_like(ids)), str(out / "model.onnx"),
            input_names=["input_ids", "attention_mask"], output_names=["pooled"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "pooled": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    shutil.copyfile(fp32 / "tokenizer.json", out / "tokenizer.json")
    marker = {**key, "weights_bytes": (out / "model.onnx").stat().st_size}
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    for path in (*out.rglob("*"), out):
        _fsync(path)


class OnnxE5Encoder:
    """The exported model in an ONNX Runtime session: length-sorted, padded batches."""

    def __init__(self, model_dir: Path, *, batch_size: int = 8, threads: int = 0, max_length: int = 512) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingDependencyError(f"the e5 passage engine needs ONNX Runtime: {_INSTALL}") from exc
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 2
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # no warnings on stderr
        self.session = ort.InferenceSession(str(Path(model_dir) / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.batch_size = max(batch_size, 1)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        ids = [enc.ids for enc in self.tokenizer.encode_batch(texts)]
        # Length-sorted batches: padding would otherwise dominate the cost.
        order = np.argsort([len(x) for x in ids], kind="stable")
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            width = max(len(ids[r]) for r in rows)
            batch = np.ones((len(rows), width), dtype=np.int64)  # 1 = <pad>
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, r in enumerate(rows):
                batch[j, :len(ids[r])] = ids[r]
                mask[j, :len(ids[r])] = 1
            pooled = self.session.run(None, {"input_ids": batch, "attention_mask": mask})[0]
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
