"""Hybrid cross-lingual retrieval: dense (Chroma) + BM25, fused by weighted RRF, filtered,
de-duplicated, with a calibrated decision to abstain. Entry point: ``Searcher.search``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.errors import BadInputError
from evidence_finder.index.bm25 import BM25Index
from evidence_finder.index.store import IndexIdentity, IndexStore
from evidence_finder.models.embedders import Embedder, make_embedder
from evidence_finder.retrieval.abstain import AbstentionModel
from evidence_finder.retrieval.llm_assist import LLMAssist
from evidence_finder.retrieval.rerank import CrossEncoderReranker
from evidence_finder.settings import Settings
from evidence_finder.text.glossary import expand_english
from evidence_finder.text.lang import detect_language
from evidence_finder.text.tokens import tokenize
from evidence_finder.types import DocumentMeta, Hit, Passage, SearchResult

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000
Mode = str  # "hybrid" | "dense" | "bm25"


@dataclass
class Filters:
    """Restrict results; an empty list means no restriction on that field."""

    docs: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.docs or self.sectors or self.types or self.kinds or self.years)

    def allows(self, p: Passage, meta: DocumentMeta | None) -> bool:
        if self.docs and p.doc_id not in self.docs:
            return False
        if self.kinds and p.kind not in self.kinds:
            return False
        if meta is None:
            return not (self.sectors or self.types or self.years)
        if self.types and meta.type not in self.types:
            return False
        if self.years and (meta.year or 0) not in self.years:
            return False
        return not self.sectors or any(s in meta.sectors for s in self.sectors)


def clean_question(question: str) -> str:
    """Strip control characters and bound the length; an empty question is bad input."""
    q = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question)
    q = " ".join(q.split())
    if not q:
        raise BadInputError("the question is empty: type a question")
    return q[:MAX_QUESTION_CHARS]


_ASKS_FOR_QUOTES = re.compile(
    r"\b(quotes?|quotations?|quoted?|citaat|citaten|citeer\w*|uitspra(?:ak|ken)|says?|said|"
    r"zegt|zeggen|zei|zeiden|verbatim|letterlijk|respondents?|geïnterviewde\w*|interviewee\w*)\b",
    re.IGNORECASE,
)


_WORD = re.compile(r"[^\W_][\w+\-]*", re.U)


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def is_question_list(text: str) -> bool:
    """A passage that is mostly questions: an interview guide or a questionnaire."""
    sentences = [x for x in _SENTENCE_SPLIT.split(text) if len(x.split()) >= 3]
    asked = sum(x.rstrip().endswith("?") for x in sentences)
    return len(sentences) >= 2 and asked >= 0.5 * len(sentences)


def asks_for_quotes(question: str) -> bool:
    """Whether a question asks for what someone said (researchers look for quotes)."""
    return bool(_ASKS_FOR_QUOTES.search(question))


def rrf(rankings: list[tuple[list[int], float]], k: int = 60) -> dict[int, float]:
    """Weighted reciprocal rank fusion of ranked index lists: sum of w / (k + rank)."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, idx in enumerate(ranking, start=1):
            fused[idx] = fused.get(idx, 0.0) + weight / (k + rank)
    return fused


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
        identity = IndexIdentity.from_settings(settings, self.embedder.id)
        self.store = IndexStore(Path(index_dir or settings.resolved_index_dir), identity,
                                create=False, chroma=settings.chroma)
        self._qcache: dict[str, np.ndarray] = {}
        # While the dense index is still being built (`evidence serve` on a first run), every
        # search is a BM25 search: partial vectors would skew the fusion.
        self.lexical_only = False
        self.reload()

    def reload(self) -> None:
        """Re-read passages and BM25 (after an ingest by this or another process).

        Everything a search reads is built aside and swapped in as one snapshot, so a search
        running during a reload sees the old index or the new one, never half of each."""
        passages = self.store.passages()
        by_id = {p.id: i for i, p in enumerate(passages)}
        bm25 = BM25Index.load(self.store.dir / "bm25")
        self._snap = _Snapshot(
            passages=passages, by_id=by_id, metas=self.store.document_meta(), bm25=bm25,
            bm25_rows=np.array([by_id.get(pid, -1) for pid in bm25.ids], dtype=np.int64),
            vector_count=int(self.store.collection.count()),
            question_lists=frozenset(i for i, p in enumerate(passages) if is_question_list(p.text)),
        )
        self.abstention = AbstentionModel.load(self.embedder.id)

    # The current snapshot's parts, for callers that read one of them at a time.
    @property
    def passages(self) -> list[Passage]:
        return self._snap.passages

    @property
    def by_id(self) -> dict[str, int]:
        return self._snap.by_id

    @property
    def metas(self) -> dict[str, DocumentMeta]:
        return self._snap.metas

    @property
    def bm25(self) -> BM25Index:
        return self._snap.bm25

    # ------------------------------------------------------------------ retrievers
    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding, cached: a chat re-asks and evals run several modes."""
        qv = self._qcache.get(question)
        if qv is None:
            qv = self.embedder.embed_query(question)
            if len(self._qcache) >= 512:
                self._qcache.pop(next(iter(self._qcache)))
            self._qcache[question] = qv
        return qv

    def dense(self, question: str, n: int, filters: Filters,
              snap: _Snapshot | None = None) -> tuple[list[int], list[float]]:
        snap = snap or self._snap
        if not snap.passages:
            return [], []
        qv = self.query_vector(question)
        where = _chroma_where(filters)
        got = self.store.collection.query(
            query_embeddings=[qv.tolist()], n_results=min(n * 4, max(snap.vector_count, 1)),
            where=where, include=["distances", "metadatas"],
        )
        best: dict[int, float] = {}
        for vid, dist, md in zip(got["ids"][0], got["distances"][0], got["metadatas"][0]):
            i = snap.by_id.get((md or {}).get("passage_id", vid.split("#")[0]))
            if i is None or i in best:  # results come best first: keep a passage's best window
                continue
            if filters.allows(snap.passages[i], snap.metas.get(snap.passages[i].doc_id)):
                best[i] = 1.0 - float(dist)
            if len(best) >= n:
                break
        return list(best), list(best.values())

    def _n_vectors(self) -> int:
        return max(self._snap.vector_count, 1)

    def lexical(self, query: str, n: int, filters: Filters,
                snap: _Snapshot | None = None) -> tuple[list[int], list[float]]:
        snap = snap or self._snap
        scores = snap.bm25.scores(query)
        if not scores.size:
            return [], []
        rows = snap.bm25_rows
        if not filters.is_empty():
            mask = np.array([r >= 0 and filters.allows(snap.passages[r], snap.metas.get(
                snap.passages[r].doc_id)) for r in rows])
            scores = np.where(mask, scores, 0.0)
        ranked = [int(t) for t in np.argsort(-scores)[:n] if scores[t] > 0 and rows[t] >= 0]
        return [int(rows[t]) for t in ranked], [float(scores[t]) for t in ranked]

    # ------------------------------------------------------------------ public
    def search(self, question: str, k: int = 10, filters: Filters | None = None,
               mode: Mode = "hybrid") -> SearchResult:
        t0 = time.perf_counter()
        q = clean_question(question)
        filters = filters or Filters()
        lang = detect_language(q)
        result = self._search(q, k, filters, "bm25" if self.lexical_only else mode, lang)
        result.elapsed_ms = (time.perf_counter() - t0) * 1000
        log.debug("search %r: %d hits in %.1f ms", q[:60], len(result.hits), result.elapsed_ms)
        return result

    def _search(self, q: str, k: int, filters: Filters, mode: Mode, lang: str) -> SearchResult:
        cfg = self.settings.retrieval
        snap = self._snap  # one index state for the whole search, whatever reload() does
        n = max(cfg.candidates, k)
        d_idx, d_sims = self.dense(q, n, filters, snap) if mode in ("hybrid", "dense") else ([], [])
        b_idx, b_scores = (self.lexical(self._lexical_query(q, lang), n, filters, snap)
                           if mode in ("hybrid", "bm25") else ([], []))
        if mode == "dense":
            fused = {i: s for i, s in zip(d_idx, d_sims)}
        elif mode == "bm25":
            fused = {i: s for i, s in zip(b_idx, b_scores)}
        else:
            w_b = cfg.bm25_weight_en if lang == "en" else cfg.bm25_weight_nl
            rankings = [(d_idx, cfg.dense_weight), (b_idx, w_b)]
            dutch = (self.assist.translate(q) if self.assist and cfg.llm_translate and lang == "en"
                     else None)
            if dutch:  # the model's Dutch wording: Dutch words for BM25, Dutch-to-Dutch dense
                t_idx, _ = self.dense(dutch, n, filters, snap)
                tb_idx, _ = self.lexical(f"{self._lexical_query(q, lang)} {dutch}", n, filters, snap)
                rankings = [(d_idx, cfg.dense_weight), (t_idx, cfg.dense_weight), (tb_idx, w_b)]
            fused = rrf(rankings, cfg.rrf_k)
            w_f = cfg.feedback_weight_en if lang == "en" else cfg.feedback_weight_nl
            if w_f > 0 and fused:
                top = sorted(fused, key=lambda i: -fused[i])[: cfg.feedback_passages]
                lex = self._lexical_query(q, lang)
                terms = self.feedback_terms(lex, [snap.passages[i].text for i in top], snap)
                if terms:
                    f_idx, _ = self.lexical(f"{lex} {' '.join(terms)}", n, filters, snap)
                    fused = rrf([*rankings, (f_idx, w_f)], cfg.rrf_k)
            if cfg.question_list_penalty and snap.question_lists:
                fused = {i: s * (1.0 - cfg.question_list_penalty if i in snap.question_lists else 1.0)
                         for i, s in fused.items()}
            if cfg.quote_boost != 1.0 and asks_for_quotes(q):
                fused = {i: s * (cfg.quote_boost if snap.passages[i].kind == "quote" else 1.0)
                         for i, s in fused.items()}
        dense_of = dict(zip(d_idx, d_sims))
        bm25_of = dict(zip(b_idx, b_scores))
        order = sorted(fused, key=lambda i: -fused[i])
        reranked: dict[int, int] = {}
        rerankers = [r for r, on in ((self.cross_encoder, True), (self.assist, cfg.llm_rerank)) if r and on]
        for reranker in rerankers if mode == "hybrid" and len(order) > 1 else []:
            top = order[: cfg.llm_rerank_candidates]
            new = reranker.rerank(q, [snap.passages[i].text for i in top])
            if new:
                below = fused[order[len(top)]] if len(order) > len(top) else 0.0
                order = [top[j] for j in new] + order[len(top):]
                for r, i in enumerate(order[: len(top)]):  # scores stay in rank order
                    fused[i] = below + (len(top) - r) / len(top)
                    reranked[i] = r + 1
        hits = self._dedupe([
            Hit(snap.passages[i], float(fused[i]), _title(snap, i), snap.metas.get(snap.passages[i].doc_id),
                {"dense": dense_of.get(i, 0.0), "bm25": bm25_of.get(i, 0.0),
                 **({"rerank_rank": float(reranked[i])} if i in reranked else {})})
            for i in order[: k * 3]
        ])[:k]
        features = _features(d_sims, b_scores, len(tokenize(self._lexical_query(q, lang))),
                             len(self.unknown_names(q, lang, snap)))
        confidence = self.abstention.confidence(features)
        abstain = bool(self.abstention.abstains(features)) if mode == "hybrid" else False
        return SearchResult(q, hits, abstain=abstain or not hits, lang=lang, confidence=confidence)

    def feedback_terms(self, query: str, texts: list[str], snap: _Snapshot | None = None) -> list[str]:
        """Pseudo-relevance feedback: the terms that weigh most (tf x idf) in the top results
        and are not in the query yet. A question's own words rarely match all of a passage's
        phrasing ('schoolbreed gedragen' vs 'olievlek', 'collega's'); its best hits do."""
        snap = snap or self._snap
        asked = set(tokenize(query))
        weight: dict[str, float] = {}
        for text in texts:
            tokens = tokenize(text)
            if not tokens:
                continue
            for term in set(tokens) - asked:
                if len(term) < 3 or term.isdigit():
                    continue
                tf = tokens.count(term) / len(tokens)
                weight[term] = weight.get(term, 0.0) + tf * snap.bm25.idf(term)
        ranked = sorted(weight, key=lambda t: (-weight[t], t))
        return ranked[: self.settings.retrieval.feedback_terms]

    def _lexical_query(self, q: str, lang: str) -> str:
        if lang == "en" and self.settings.retrieval.glossary:
            return f"{q} {expand_english(q)}"
        return q

    def features(self, question: str, filters: Filters | None = None) -> dict[str, float]:
        """Retrieval features of a question, as the abstention model sees them."""
        q = clean_question(question)
        n = self.settings.retrieval.candidates
        filters = filters or Filters()
        snap = self._snap
        _, d_sims = self.dense(q, n, filters, snap)
        lex = self._lexical_query(q, detect_language(q))
        _, b_scores = self.lexical(lex, n, filters, snap)
        return _features(d_sims, b_scores, len(tokenize(lex)),
                         len(self.unknown_names(q, detect_language(q), snap)))

    def unknown_names(self, question: str, lang: str, snap: _Snapshot | None = None) -> list[str]:
        """Names, acronyms and numbers in the question that the corpus never mentions
        ('Zwitserland', 'Brexit', 'PISA', '2023'): a question about something absent is one
        the corpus cannot answer, however on-topic its other words are. English words count
        as mentioned when a glossary translation is ('Flemish' → 'Vlaamse')."""
        snap = snap or self._snap
        words = [m.group(0) for m in _WORD.finditer(question)]
        alpha = [w for w in words if w[:1].isalpha()]
        # In a Title Case or ALL CAPS question capitals mark no names; only numbers and (in
        # Title Case) acronyms still do.
        title_case = sum(w[0].isupper() for w in alpha[1:]) > 0.5 * max(len(alpha) - 1, 1)
        all_caps = sum(w.isupper() for w in alpha) > 0.5 * max(len(alpha), 1)
        out = []
        for i, w in enumerate(words):
            name = i > 0 and w[0].isupper() and not title_case
            acronym = len(w) > 1 and w.isupper() and not all_caps
            if not (name or acronym or any(c.isdigit() for c in w)):
                continue
            tokens = tokenize(w)
            if lang == "en":
                tokens += tokenize(expand_english(w))
            if tokens and not any(snap.bm25.knows(t, prefix=5) for t in tokens):
                out.append(w)
        return out

    @staticmethod
    def _dedupe(hits: list[Hit]) -> list[Hit]:
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


@dataclass(frozen=True)
class _Snapshot:
    """What a search reads of the index, swapped as a whole by ``Searcher.reload``."""

    passages: list[Passage]
    by_id: dict[str, int]
    metas: dict[str, DocumentMeta]
    bm25: BM25Index
    bm25_rows: np.ndarray
    vector_count: int
    question_lists: frozenset[int] = frozenset()  # rows of passages that are mostly questions


def _title(snap: _Snapshot, i: int) -> str:
    meta = snap.metas.get(snap.passages[i].doc_id)
    return meta.title if meta else snap.passages[i].doc_id


def _features(d_sims: list[float], b_scores: list[float], n_terms: int = 1,
              unknown_names: int = 0) -> dict[str, float]:
    top5 = sorted(d_sims, reverse=True)[:5]
    top1 = max(d_sims, default=0.0)
    mean5 = float(np.mean(top5)) if top5 else 0.0
    bm25 = max(b_scores, default=0.0)
    # Similarities of e5 are compressed (0.8–0.9 for anything on topic), so how much the best
    # passage stands out, and BM25 per query term, carry more signal than raw levels.
    return {"dense_top1": top1, "dense_top5_mean": mean5, "dense_gap": top1 - mean5,
            "bm25_top1": bm25, "bm25_per_term": bm25 / max(n_terms, 1),
            "unknown_names": float(unknown_names)}


def _chroma_where(filters: Filters) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if filters.docs:
        clauses.append({"doc_id": {"$in": list(filters.docs)}})
    if filters.kinds:
        clauses.append({"kind": {"$in": list(filters.kinds)}})
    if filters.types:
        clauses.append({"type": {"$in": list(filters.types)}})
    if filters.years:
        clauses.append({"year": {"$in": [int(y) for y in filters.years]}})
    if filters.sectors:
        ors = [{f"sector:{s}": True} for s in filters.sectors]
        clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
