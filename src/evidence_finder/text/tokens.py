"""Tokens for lexical matching: lower-cased, stop-word-free, Dutch-stemmed (Snowball).

Shared by BM25 (index), the question analysis (retrieval) and sentence scoring (answer),
so the three always agree on what a word is.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[^\W_]+", re.U)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

    return frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("dutch")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, Dutch-stemmed tokens; 'KA2' and '14,7' survive as tokens."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _stopwords()]
    return list(_stemmer().stemWords(words))
