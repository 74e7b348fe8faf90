"""Embedder backends, the one-off model build steps and the LLM client.

Public names are imported lazily (the embedders pull torch and transformers): ``import
evidence_finder.models`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence_finder._lazy import lazy_exports

if TYPE_CHECKING:
    from evidence_finder.models.embedders import Embedder, embedder_spec, make_embedder
    from evidence_finder.models.llm import LLMBackend

__all__ = [
    "Embedder",
    "LLMBackend",
    "embedder_spec",
    "make_embedder",
]

_EXPORTS = {
    "Embedder": "embedders",
    "embedder_spec": "embedders",
    "make_embedder": "embedders",
    "LLMBackend": "llm",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
