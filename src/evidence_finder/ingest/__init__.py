"""Documents to units: load (txt, pdf, docx, html, md) → clean → structure → chunk, with evidence
roles.

The step ``clean.clean`` is not re-exported: its name is also its module's.

Public names are imported on first use, as in the other stages, so ``import
evidence_finder.ingest`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence_finder._lazy import lazy_exports

if TYPE_CHECKING:
    from evidence_finder.ingest.chunk import chunk_document
    from evidence_finder.ingest.clean import CleanDoc
    from evidence_finder.ingest.load import iter_source_files, load_source
    from evidence_finder.ingest.roles import passage_roles, sentence_role
    from evidence_finder.ingest.structure import Unit, analyse

__all__ = [
    "CleanDoc",
    "Unit",
    "analyse",
    "chunk_document",
    "iter_source_files",
    "load_source",
    "passage_roles",
    "sentence_role",
]

_EXPORTS = {
    "iter_source_files": "load",
    "load_source": "load",
    "CleanDoc": "clean",
    "Unit": "structure",
    "analyse": "structure",
    "chunk_document": "chunk",
    "passage_roles": "roles",
    "sentence_role": "roles",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
