"""Hybrid search over the index (``Searcher.search``), abstention, and the llama-index retriever.

Public names are imported lazily (search pulls the index and the embedders; the adapter pulls
llama-index): ``import evidence_finder.retrieval`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence_finder._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
