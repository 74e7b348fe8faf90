"""Embedder backends, the one-off model build steps and the LLM client.

Public names are imported lazily (the embedders pull torch and transformers): ``import
evidence_finder.models`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, so importing the package stays cheap."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
