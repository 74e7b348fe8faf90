"""The only owner of Chroma, the passage store and BM25; ``ingest`` builds and updates the index.

Public names are imported lazily (the store pulls chromadb): ``import evidence_finder.index``
is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidence_finder.index.bm25 import BM25Index
    from evidence_finder.index.build import IngestReport, default_targets, ingest, remove_document
    from evidence_finder.index.store import IndexIdentity, IndexStore

__all__ = [
    "BM25Index",
    "IndexIdentity",
    "IndexStore",
    "IngestReport",
    "default_targets",
    "ingest",
    "remove_document",
]

_EXPORTS = {
    "IngestReport": "build",
    "default_targets": "build",
    "ingest": "build",
    "remove_document": "build",
    "IndexIdentity": "store",
    "IndexStore": "store",
    "BM25Index": "bm25",
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
