"""Hybrid cross-lingual retrieval, composed of small parts. Entry point: ``Searcher.search``.

    question → Query (language, BM25 text, filters)
      → retrievers (dense, BM25; with an LLM also the Dutch translation) on one snapshot
      → fusion (weighted RRF) → post-steps (question lists, quotes, …)
      → rerankers (cross-encoder, LLM; optional) → hits, de-duplicated
      → abstention (calibrated on the search's signals)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from evidence_finder.index.snapshot import IndexReader, Snapshot, is_question_list
from evidence_finder.index.store import IndexIdentity, IndexStore
from evidence_finder.models.embedders import Embedder, make_embedder
from evidence_finder.retrieval import signals
from evidence_finder.retrieval.abstain import AbstentionModel
from evidence_finder.retrieval.fusion import ranked, rrf
from evidence_finder.retrieval.gaps import facet_gap
from evidence_finder.retrieval.intent import question_intent
from evidence_finder.retrieval.llm_assist import LLMAssist
from evidence_finder.retrieval.query import (
    MAX_QUESTION_CHARS,
    Query,
    asks_for_quotes,
    clean_question,
    lexical_text,
)
from evidence_finder.retrieval.rerank import CrossEncoderReranker, Reranker
from evidence_finder.retrieval.retrievers import (
    DenseRetriever,
    LexicalRetriever,
    Ranking,
    feedback_terms,
)
from evidence_finder.retrieval.steps import PostStep, build_steps
from evidence_finder.settings import Settings
from evidence_finder.text.lang import detect_language
from evidence_finder.text.tokens import tokenize
from evidence_finder.types import Filters, Hit, Passage, SearchResult

__all__ = ["MAX_QUESTION_CHARS", "Filters", "Mode", "Searcher", "asks_for_quotes",
           "clean_question", "is_question_list", "rrf"]

log = logging.getLogger(__name__)
Mode = str  # "hybrid" | "dense" | "bm25"


class Searcher:
    """Loads the index once; answers many questions."""

    def __init__(self, settings: Settings, index_dir: Path | None = None,
                 embedder: Embedder | None = None, assist: LLMAssist | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        cfg = settings.retrieval
        if assist is None and settings.llm.backend != "none" and (cfg.llm_translate or cfg.llm_rerank):
            from evidence_finder.models.llm import LLMBackend

            assist = LLMAssist(LLMBackend(settings.llm))
        self.assist = assist
        self.cross_encoder: CrossEncoderReranker | None = None
        if cfg.cross_encoder:
            self.cross_encoder = CrossEncoderReranker(
                cfg.cross_encoder, batch_size=settings.embedder.batch_size, threads=settings.embedder.threads)
        self.dense_retriever = DenseRetriever(self.embedder)
        self.lexical_retriever = LexicalRetriever()
        self.steps: list[PostStep] = build_steps(cfg)
        identity = IndexIdentity.from_settings(settings, self.embedder.id)
        self.reader = IndexReader(Path(index_dir or settings.resolved_index_dir), identity, settings.chroma,
                                  use_mirror=settings.index.vector_mirror)
        # While the dense index is still being built (`evidence serve` on a first run), every
        # search is a BM25 search: partial vectors would skew the fusion.
        self.lexical_only = False
        self.reload()

    @property
    def store(self) -> IndexStore:
        return self.reader.store

    def reload(self) -> None:
        """Re-read the index (after an ingest by this or another process).

        The snapshot is built aside and swapped in as one value, so a search running during
        a reload sees the old index or the new one, never half of each."""
        self._snap = self.reader.load()
        self.abstention = AbstentionModel.load(self.embedder.id, data_dir=self.settings.data_dir)

    def snapshot(self) -> Snapshot:
        """The current index state; keep it for everything one request reads."""
        return self._snap

    # ------------------------------------------------------------------ public
    def query(self, question: str, filters: Filters | None = None, mode: Mode = "hybrid") -> Query:
        """How retrieval reads a question (cleaned, language, BM25 text, filters)."""
        q = clean_question(question)
        lang = detect_language(q)
        return Query(q, lang, lexical_text(q, lang, self.settings.retrieval.glossary),
                     filters or Filters(), mode, frozenset(question_intent(q)))

    def search(self, question: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode = "hybrid") -> SearchResult:
        t0 = time.perf_counter()
        k = k or self.settings.retrieval.top_k
        snap = self._snap  # one index state for the whole search
        query = self.query(question, snap.resolve(filters or Filters()), "bm25" if self.lexical_only else mode)
        result = self._search(query, k, snap)
        result.elapsed_ms = (time.perf_counter() - t0) * 1000
        log.debug("search %r: %d hits in %.1f ms", query.text[:60], len(result.hits), result.elapsed_ms)
        return result

    def features(self, question: str, filters: Filters | None = None) -> dict[str, float]:
        """Retrieval features of a question, as the abstention model sees them."""
        query = self.query(question, filters)
        snap, n = self._snap, self.settings.retrieval.candidates
        dense = self.dense_retriever.retrieve(query, n, snap)
        lexical = self.lexical_retriever.retrieve(query, n, snap)
        return self._signals(query, dense, lexical, snap)

    # ------------------------------------------------------------------ the pipeline
    def _search(self, query: Query, k: int, snap: Snapshot) -> SearchResult:
        cfg = self.settings.retrieval
        n = max(cfg.candidates, k)
        mode = query.mode
        empty = Ranking([], [])
        dense = self.dense_retriever.retrieve(query, n, snap) if mode in ("hybrid", "dense") else empty
        lexical = self.lexical_retriever.retrieve(query, n, snap) if mode in ("hybrid", "bm25") else empty
        if mode == "dense":
            fused = dense.as_dict()
        elif mode == "bm25":
            fused = lexical.as_dict()
        else:
            fused = self._fuse(query, n, snap, dense, lexical)
            for step in self.steps:
                fused = step(query, fused, snap)
        order, reranked = self._rerank(query, fused, snap) if mode == "hybrid" else (ranked(fused), {})
        dense_of, bm25_of = dense.as_dict(), lexical.as_dict()
        hits = dedupe([
            Hit(snap.passages[i], float(fused[i]), snap.title(i), snap.metas.get(snap.passages[i].doc_id),
                {"dense": dense_of.get(i, 0.0), "bm25": bm25_of.get(i, 0.0),
                 **({"rerank_rank": float(reranked[i])} if i in reranked else {})})
            for i in order[: k * 3]
        ])[:k]
        features = self._signals(query, dense, lexical, snap)
        confidence = self.abstention.confidence(features)
        abstain = bool(self.abstention.abstains(features)) if mode == "hybrid" else False
        gap = facet_gap(query.text, snap) if mode == "hybrid" else ""
        return SearchResult(query.text, hits, abstain=abstain or bool(gap) or not hits, lang=query.lang,
                            confidence=confidence, intents=tuple(sorted(query.intents)), gap=gap, view=snap)

    def _fuse(self, query: Query, n: int, snap: Snapshot, dense: Ranking, lexical: Ranking) -> dict[int, float]:
        """Weighted RRF of the retrievers (plus the LLM's Dutch wording and pseudo-relevance
        feedback where they are on)."""
        cfg = self.settings.retrieval
        w_b = cfg.bm25_weight_en if query.lang == "en" else cfg.bm25_weight_nl
        rankings = [(dense.rows, cfg.dense_weight), (lexical.rows, w_b)]
        dutch = (self.assist.translate(query.text) if self.assist and cfg.llm_translate and query.lang == "en"
                 else None)
        if dutch:  # the model's Dutch wording: Dutch words for BM25, Dutch-to-Dutch dense
            t_dense = self.dense_retriever.retrieve(query, n, snap, text=dutch)
            t_lex = self.lexical_retriever.retrieve(query, n, snap, text=f"{query.lexical} {dutch}")
            rankings = [(dense.rows, cfg.dense_weight), (t_dense.rows, cfg.dense_weight), (t_lex.rows, w_b)]
        fused = rrf(rankings, cfg.rrf_k)
        w_f = cfg.feedback_weight_en if query.lang == "en" else cfg.feedback_weight_nl
        if w_f > 0 and fused:
            top = ranked(fused)[: cfg.feedback_passages]
            terms = feedback_terms(query.lexical, [snap.passages[i].text for i in top], snap, cfg.feedback_terms)
            if terms:
                more = self.lexical_retriever.retrieve(query, n, snap, text=f"{query.lexical} {' '.join(terms)}")
                fused = rrf([*rankings, (more.rows, w_f)], cfg.rrf_k)
        return fused

    def _rerank(self, query: Query, fused: dict[int, float], snap: Snapshot) -> tuple[list[int], dict[int, int]]:
        """Optional rerankers reorder the fused top; scores stay in rank order."""
        cfg = self.settings.retrieval
        order = ranked(fused)
        reranked: dict[int, int] = {}
        rerankers: list[Reranker] = [r for r, on in ((self.cross_encoder, True), (self.assist, cfg.llm_rerank))
                                     if r is not None and on]
        for reranker in rerankers if len(order) > 1 else []:
            top = order[: cfg.llm_rerank_candidates]
            new = reranker.rerank(query.text, [snap.passages[i].text for i in top])
            if new:
                below = fused[order[len(top)]] if len(order) > len(top) else 0.0
                order = [top[j] for j in new] + order[len(top):]
                for r, i in enumerate(order[: len(top)]):
                    fused[i] = below + (len(top) - r) / len(top)
                    reranked[i] = r + 1
        return order, reranked

    def _signals(self, query: Query, dense: Ranking, lexical: Ranking, snap: Snapshot) -> dict[str, float]:
        return signals.features(dense.scores, lexical.scores, len(tokenize(query.lexical)),
                                len(signals.unknown_names(query.text, query.lang, snap)))

    # ------------------------------------------------------------------ parts, for benchmarks
    def query_vector(self, question: str) -> np.ndarray:
        return self.dense_retriever.vector(question)

    def dense(self, question: str, n: int, filters: Filters) -> tuple[list[int], list[float]]:
        got = self.dense_retriever.retrieve(self.query(question, filters), n, self._snap)
        return got.rows, got.scores

    def lexical(self, question: str, n: int, filters: Filters) -> tuple[list[int], list[float]]:
        got = self.lexical_retriever.retrieve(self.query(question, filters), n, self._snap)
        return got.rows, got.scores


def dedupe(hits: list[Hit]) -> list[Hit]:
    """One result per stretch of text: a quote or table inside a passage that is also a
    candidate is shown as that passage (more context), at the better of the two ranks."""

    def inside(a: Passage, b: Passage) -> bool:
        return (a is not b and a.doc_id == b.doc_id and b.clean_start <= a.clean_start
                and a.clean_end <= b.clean_end)

    kept: list[Hit] = []
    used: set[int] = set()
    for h in hits:
        if id(h) in used or any(inside(h.passage, k.passage) for k in kept):
            continue
        container = next((c for c in hits if id(c) not in used and inside(h.passage, c.passage)
                          and c.passage.kind == "passage"), None)
        chosen = h
        if container is not None:
            chosen = Hit(container.passage, h.score, container.title, container.meta,
                         {**container.scores, "via": 1.0})
            used.add(id(container))
        used.add(id(h))
        kept.append(chosen)
    return kept
