"""Grounded answers with verified citations (``AnswerService.ask``), and the llama-index query
engine.

Public names are imported lazily (the service pulls retrieval; the query engine pulls llama-
index): ``import evidence_finder.answer`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
