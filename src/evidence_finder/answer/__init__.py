"""Grounded answers with verified citations (``AnswerService.ask``), and the llama-index query
engine.

Public names are imported lazily (the service pulls retrieval; the query engine pulls llama-
index): ``import evidence_finder.answer`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence_finder._lazy import lazy_exports

if TYPE_CHECKING:
    from evidence_finder.answer.citations import CitationBook, answer_json, render_text
    from evidence_finder.answer.extractive import ComposerOptions, ExtractiveComposer
    from evidence_finder.answer.llamaindex import EvidenceQueryEngine
    from evidence_finder.answer.service import AnswerEvent, AnswerService
    from evidence_finder.answer.verify import verify_citation_span

__all__ = [
    "AnswerEvent",
    "AnswerService",
    "CitationBook",
    "ComposerOptions",
    "EvidenceQueryEngine",
    "ExtractiveComposer",
    "answer_json",
    "render_text",
    "verify_citation_span",
]

_EXPORTS = {
    "AnswerEvent": "service",
    "AnswerService": "service",
    "ComposerOptions": "extractive",
    "ExtractiveComposer": "extractive",
    "CitationBook": "citations",
    "answer_json": "citations",
    "render_text": "citations",
    "verify_citation_span": "verify",
    "EvidenceQueryEngine": "llamaindex",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
