"""The only owner of Chroma, the passage store and BM25; ``ingest`` builds and updates the index.

Public names are imported lazily (the store pulls chromadb): ``import evidence_finder.index``
is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence_finder._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
