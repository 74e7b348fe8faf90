"""BM25 over passages with a Dutch Snowball stemmer and Dutch + English stopwords (bm25s).

The index is built at ingest and persisted beside Chroma; queries load it once.
"""

from __future__ import annotations

import bisect
import json
import os
import shutil
from pathlib import Path

import numpy as np

from evidence_finder.text.tokens import tokenize


class BM25Index:
    """A persisted bm25s index whose rows line up with ``ids``."""

    def __init__(self, retriever: object, ids: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self._retriever = retriever
        self.ids = ids
        self.k1, self.b = k1, b
        self._df: np.ndarray | None = None
        self._sorted_vocab: list[str] | None = None

    @staticmethod
    def build(texts: list[str], ids: list[str], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        """Index ``texts``; k1 and b come from settings.index (bm25_k1, bm25_b)."""
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
        corpus = [tokenize(t) or ["∅"] for t in texts]
        if corpus:
            retriever.index(corpus, show_progress=False)
        return BM25Index(retriever, ids, k1, b)

    def save(self, directory: Path, fingerprint: str) -> None:
        """Write atomically: a crash leaves the previous index (or none), never half of one."""
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(tmp), show_progress=False)  # type: ignore[attr-defined]
        (tmp / "ids.json").write_text(json.dumps({"fingerprint": fingerprint, "ids": self.ids,
                                                  "k1": self.k1, "b": self.b}))
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def stored_fingerprint(directory: Path) -> str | None:
        path = directory / "ids.json"
        if not path.exists():
            return None
        return str(json.loads(path.read_text()).get("fingerprint"))

    @staticmethod
    def stored_parameters(directory: Path) -> tuple[float, float] | None:
        """(k1, b) of the stored index; indexes from before they were recorded used 1.2, 0.75."""
        path = directory / "ids.json"
        if not path.exists():
            return None
        meta = json.loads(path.read_text())
        return float(meta.get("k1", 1.2)), float(meta.get("b", 0.75))

    @staticmethod
    def load(directory: Path) -> BM25Index:
        import bm25s

        meta = json.loads((directory / "ids.json").read_text())
        ids = list(meta["ids"])
        retriever = bm25s.BM25.load(str(directory), show_progress=False) if ids else None
        return BM25Index(retriever, ids, float(meta.get("k1", 1.2)), float(meta.get("b", 0.75)))

    def knows(self, token: str, prefix: int = 0) -> bool:
        """Whether a (tokenized) term occurs in the corpus; with ``prefix``, whether any term
        starts with its first ``prefix`` characters ('maldegems' ~ 'maldegem')."""
        if self._retriever is None:
            return False
        vocab = self._retriever.vocab_dict  # type: ignore[attr-defined]
        if token in vocab:
            return True
        if not prefix or len(token) < prefix:
            return False
        if self._sorted_vocab is None:
            self._sorted_vocab = sorted(vocab)
        head = token[:prefix]
        i = bisect.bisect_left(self._sorted_vocab, head)
        return i < len(self._sorted_vocab) and self._sorted_vocab[i].startswith(head)

    def idf(self, token: str) -> float:
        """Inverse document frequency of a (tokenized) term; 0 for unknown terms."""
        if self._retriever is None:
            return 0.0
        if self._df is None:
            indptr = np.asarray(self._retriever.scores["indptr"])  # type: ignore[attr-defined]
            self._df = np.diff(indptr)  # postings per term id: the term's document frequency
        tid = self._retriever.vocab_dict.get(token)  # type: ignore[attr-defined]
        if tid is None or tid >= len(self._df):
            return 0.0
        n, df = len(self.ids), int(self._df[tid])
        return float(np.log((n - df + 0.5) / (df + 0.5) + 1.0))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no query token is known)."""
        if not self.ids or self._retriever is None:
            return np.zeros(len(self.ids), dtype=np.float32)
        vocab = self._retriever.vocab_dict  # type: ignore[attr-defined]
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]
