"""The full hybrid search as a llama-index retriever.

``EvidenceRetriever`` is a llama-index ``BaseRetriever`` over :class:`Searcher`: the same
ranking (dense + BM25 fusion, weights, filters, re-ranking), returned as ``NodeWithScore``
with the passage id as node id and its location in the metadata. llama-index objects are
made here, at the seam; the rest of the package keeps its own records::

    from evidence_finder.retrieval.llamaindex import EvidenceRetriever

    retriever = EvidenceRetriever.from_settings()
    for node in retriever.retrieve("Welke drempels ervaren scholen bij KA2?"):
        print(node.score, node.metadata["title"], node.text[:80])
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import Settings, get_settings
from evidence_finder.types import Hit

# Locations and scores help a program, not a model: keep them out of prompts and embeddings.
TECHNICAL_KEYS = ["passage_id", "char_start", "char_end", "page", "kind", "abstain"]


def passage_metadata(hit: Hit) -> dict[str, Any]:
    """Where a hit's passage comes from, as flat llama-index metadata."""
    p, meta = hit.passage, hit.meta
    return {
        "passage_id": p.id, "doc_id": p.doc_id, "title": hit.title, "section": p.section,
        "page": p.page, "kind": p.kind, "char_start": p.char_start, "char_end": p.char_end,
        "attribution": p.attribution,
        "publisher": meta.publisher if meta else "", "year": meta.year if meta else None,
        **{f"score_{name}": float(v) for name, v in hit.scores.items()},  # flat: vector stores want it
    }


def hit_to_node(hit: Hit, *, abstain: bool = False) -> NodeWithScore:
    """A search hit as a llama-index node (id = passage id, score = fused score)."""
    metadata = {**passage_metadata(hit), "abstain": abstain}
    technical = TECHNICAL_KEYS + [key for key in metadata if key.startswith("score_")]
    node = TextNode(id_=hit.passage.id, text=hit.passage.text, metadata=metadata,
                    excluded_llm_metadata_keys=technical, excluded_embed_metadata_keys=technical)
    return NodeWithScore(node=node, score=float(hit.score))


class EvidenceRetriever(BaseRetriever):
    """Evidence Finder's hybrid search behind llama-index's retriever interface.

    Each node's metadata carries ``abstain``: True when the search judged that the index
    does not cover the question (the nodes are then only the closest passages).
    """

    def __init__(self, searcher: Searcher, *, k: int | None = None, filters: Filters | None = None,
                 mode: str = "hybrid", callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.searcher = searcher
        self.k = k or searcher.settings.retrieval.top_k
        self.filters = filters
        self.mode = mode

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> EvidenceRetriever:
        """A retriever over the configured index (EVIDENCE_* / evidence.toml by default)."""
        return cls(Searcher(settings or get_settings()), **kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = self.searcher.search(query_bundle.query_str, k=self.k, filters=self.filters,
                                      mode=self.mode)
        return [hit_to_node(h, abstain=result.abstain) for h in result.hits]
