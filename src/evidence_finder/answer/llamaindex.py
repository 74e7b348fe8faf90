"""Grounded answers as a llama-index query engine.

``EvidenceQueryEngine`` wraps :meth:`AnswerService.ask`: the ``Response`` text is the answer
with its ``[n]`` markers, and ``source_nodes`` are exactly its verified citations, in
citation order: each node's text is the cited span, verbatim from the passage, and its
metadata holds the citation number, the document and the offsets. An abstention is a
response without source nodes and ``metadata["abstained"]`` True::

    from evidence_finder.answer.llamaindex import EvidenceQueryEngine

    engine = EvidenceQueryEngine.from_settings()
    response = engine.query("Welke drempels ervaren scholen bij KA2?")
    print(response)
    for node in response.source_nodes:
        print(node.metadata["citation"], node.metadata["title"], node.text)
"""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeWithScore, TextNode

from evidence_finder.answer.citations import span_location
from evidence_finder.answer.service import AnswerService
from evidence_finder.retrieval.llamaindex import TECHNICAL_KEYS
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import Settings, get_settings
from evidence_finder.types import Answer, Citation

CITATION_TECHNICAL_KEYS = [*TECHNICAL_KEYS, "citation", "start", "end", "span_exact", "clean_start",
                           "clean_end", "passage_char_start", "passage_char_end"]


def citation_to_node(c: Citation, score: float | None = None) -> NodeWithScore:
    """A verified citation as a llama-index node: the span as text, its location as metadata."""
    p = c.passage
    start, end = (c.start, c.end) if c.end > c.start else (0, len(p.text))
    metadata: dict[str, Any] = {
        "citation": c.n, "passage_id": p.id, "doc_id": p.doc_id, "title": c.title, "kind": p.kind,
        "attribution": p.attribution, "start": start, "end": end, **span_location(p, start, end),
    }
    node = TextNode(id_=f"{p.id}:{start}-{end}", text=c.text, metadata=metadata,
                    excluded_llm_metadata_keys=CITATION_TECHNICAL_KEYS,
                    excluded_embed_metadata_keys=CITATION_TECHNICAL_KEYS)
    return NodeWithScore(node=node, score=score)


def answer_to_response(answer: Answer) -> Response:
    """An :class:`Answer` as a llama-index ``Response`` (source nodes = its citations)."""
    scores = {h.passage.id: float(h.score) for h in answer.hits}
    return Response(
        response=answer.text,
        source_nodes=[citation_to_node(c, scores.get(c.passage.id)) for c in answer.citations],
        metadata={
            "abstained": answer.abstained, "backend": answer.backend, "lang": answer.lang,
            "mode": answer.mode, "notices": list(answer.notices),
            "unsupported": list(answer.unsupported), "search_question": answer.search_question,
        },
    )


class EvidenceQueryEngine(CustomQueryEngine):
    """Evidence Finder's answer service (extractive or the configured LLM, always verified)
    behind llama-index's query-engine interface."""

    service: AnswerService
    filters: Filters | None = None
    mode: Literal["answer", "quotes"] = "answer"
    k: int | None = None  # passages an answer draws on; None: settings answer.passages

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> EvidenceQueryEngine:
        """A query engine over the configured index (EVIDENCE_* / evidence.toml by default)."""
        settings = settings or get_settings()
        return cls(service=AnswerService(Searcher(settings), settings), **kwargs)

    def custom_query(self, query_str: str) -> Response:
        answer = self.service.ask(query_str, filters=self.filters, mode=self.mode, k=self.k)
        return answer_to_response(answer)
