"""First-stage retrievers over an index snapshot: dense (e5 windows in Chroma) and BM25.

Each is one small class behind the :class:`Retriever` protocol; the public ``retrieve``
wraps ``_retrieve`` with timing and logging.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from evidence_finder.index.snapshot import Snapshot
from evidence_finder.models.embedders import Embedder
from evidence_finder.retrieval.query import Query
from evidence_finder.text.tokens import tokenize

log = logging.getLogger(__name__)


@dataclass
class Ranking:
    """Passage rows (into the snapshot) best first, with the retriever's own scores."""

    rows: list[int]
    scores: list[float]

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.rows, self.scores))


class Retriever(Protocol):
    name: str

    def retrieve(self, query: Query, n: int, snap: Snapshot, text: str | None = None) -> Ranking: ...


class _Timed(ABC):
    """Base of the retrievers: ``retrieve`` times and logs what ``_retrieve`` finds."""

    name = "retriever"

    def retrieve(self, query: Query, n: int, snap: Snapshot, text: str | None = None) -> Ranking:
        """The ``n`` best passages for ``query`` (or for ``text`` in its place)."""
        t0 = time.perf_counter()
        got = self._retrieve(query, n, snap, text)
        log.debug("%s: %d rows in %.1f ms", self.name, len(got.rows), (time.perf_counter() - t0) * 1000)
        return got

    @abstractmethod
    def _retrieve(self, query: Query, n: int, snap: Snapshot, text: str | None) -> Ranking:
        """The ranking itself, without timing."""


class DenseRetriever(_Timed):
    """Nearest passage windows to the question's embedding (a passage scores by its best window)."""

    name = "dense"

    def __init__(self, embedder: Embedder, cache_size: int = 512) -> None:
        self.embedder = embedder
        self.cache: dict[str, np.ndarray] = {}
        self.cache_size = cache_size

    def vector(self, text: str) -> np.ndarray:
        """The question's embedding, cached: a chat re-asks and evals run several modes."""
        qv = self.cache.get(text)
        if qv is None:
            qv = self.embedder.embed_query(text)
            if len(self.cache) >= self.cache_size:
                self.cache.pop(next(iter(self.cache)))
            self.cache[text] = qv
        return qv

    def _retrieve(self, query: Query, n: int, snap: Snapshot, text: str | None) -> Ranking:
        if not snap.passages:
            return Ranking([], [])
        rows, sims = snap.query_vectors(self.vector(text or query.text), n, query.filters)
        return Ranking(rows, sims)


class LexicalRetriever(_Timed):
    """BM25 over stemmed Dutch tokens; English questions bring their glossary terms."""

    name = "bm25"

    def _retrieve(self, query: Query, n: int, snap: Snapshot, text: str | None) -> Ranking:
        rows, scores = snap.bm25_scores(text or query.lexical, n, query.filters)
        return Ranking(rows, scores)


def feedback_terms(query: str, texts: list[str], snap: Snapshot, limit: int) -> list[str]:
    """Pseudo-relevance feedback: the terms that weigh most (tf x idf) in the top results
    and are not in the query yet. A question's own words rarely match all of a passage's
    phrasing ('schoolbreed gedragen' vs 'olievlek', 'collega's'); its best hits do."""
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
    return ranked[:limit]
