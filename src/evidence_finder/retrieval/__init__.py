"""Hybrid search over the index (``Searcher.search``), abstention, and the llama-index retriever.

Public names are imported lazily (search pulls the index and the embedders; the adapter pulls
llama-index): ``import evidence_finder.retrieval`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidence_finder.retrieval.abstain import AbstentionModel
    from evidence_finder.retrieval.intent import question_intent
    from evidence_finder.retrieval.llamaindex import EvidenceRetriever
    from evidence_finder.retrieval.search import Searcher

__all__ = [
    "AbstentionModel",
    "EvidenceRetriever",
    "Searcher",
    "question_intent",
]

_EXPORTS = {
    "Searcher": "search",
    "AbstentionModel": "abstain",
    "EvidenceRetriever": "llamaindex",
    "question_intent": "intent",
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
