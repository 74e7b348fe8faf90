"""Optional cross-encoder re-ranking of the fused candidates (sentence-transformers).

No multilingual cross-encoder ships inside a PyPI package, so this is off unless
``retrieval.cross_encoder`` names a local model directory or (where the network allows) a
hub model such as ``cross-encoder/mmarco-mMiniLMv2-L12-H384-v1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from evidence_finder.errors import BackendError, MissingDependencyError


class CrossEncoderReranker:
    """Scores (question, passage) pairs jointly; higher is more relevant."""

    def __init__(self, model: str, *, batch_size: int = 8, threads: int = 0, max_length: int = 512) -> None:
        try:
            import torch
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise MissingDependencyError(
                "cross-encoder re-ranking needs sentence-transformers: pip install 'torch==2.13.0' "
                "sentence-transformers") from exc
        torch.set_num_threads(threads or os.cpu_count() or 2)
        try:
            self._model: Any = CrossEncoder(model, device="cpu", max_length=max_length,
                                            local_files_only=Path(model).exists())
        except OSError as exc:
            raise BackendError(
                f"cannot load cross-encoder {model!r}: {exc}. Give a local path, or make sure the "
                "model can be downloaded.") from exc
        self.batch_size = batch_size

    def scores(self, question: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        out = self._model.predict([(question, p) for p in passages], batch_size=self.batch_size,
                                  show_progress_bar=False, convert_to_numpy=True)
        return [float(x) for x in out.reshape(len(passages), -1)[:, -1]]

    def rerank(self, question: str, passages: list[str]) -> list[int]:
        """Indices into ``passages``, best first."""
        s = self.scores(question, passages)
        return sorted(range(len(passages)), key=lambda i: (-s[i], i))


class Reranker(Protocol):
    """Reorders the fused top: indices into ``passages``, best first, or None to keep the order."""

    def rerank(self, question: str, passages: list[str]) -> list[int] | None: ...
