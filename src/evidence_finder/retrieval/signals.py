"""What the abstention model reads of a search: similarity and BM25 levels, and names or
numbers in the question that the corpus never mentions."""

from __future__ import annotations

import re

import numpy as np

from evidence_finder.index.snapshot import Snapshot
from evidence_finder.text.glossary import expand_english
from evidence_finder.text.tokens import tokenize

_WORD = re.compile(r"[^\W_][\w+\-]*", re.U)


def unknown_names(question: str, lang: str, snap: Snapshot) -> list[str]:
    """Names, acronyms and numbers in the question that the corpus never mentions
    ('Zwitserland', 'Brexit', 'PISA', '2023'): a question about something absent is one
    the corpus cannot answer, however on-topic its other words are. English words count
    as mentioned when a glossary translation is ('Flemish' → 'Vlaamse')."""
    # A hyphenated compound is judged by its parts: the name in 'Erasmus Mundus-masteropleidingen'
    # is not made known by the common word it is joined to.
    words = [part for m in _WORD.finditer(question) for part in m.group(0).split("-") if part]
    alpha = [w for w in words if w[:1].isalpha()]
    # In a Title Case or ALL CAPS question capitals mark no names; only numbers and (in
    # Title Case) acronyms still do. Title Case capitalises nearly every longer word; a
    # question naming several places ('Bonaire, Sint Eustatius, Saba') is not Title Case.
    longer = [w for w in alpha[1:] if len(w) >= 4]
    title_case = sum(w[0].isupper() for w in longer) > 0.8 * max(len(longer), 1)
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


def features(d_sims: list[float], b_scores: list[float], n_terms: int = 1,
             unknown: int = 0) -> dict[str, float]:
    """The abstention model's inputs for one search."""
    top5 = sorted(d_sims, reverse=True)[:5]
    top1 = max(d_sims, default=0.0)
    mean5 = float(np.mean(top5)) if top5 else 0.0
    bm25 = max(b_scores, default=0.0)
    # Similarities of e5 are compressed (0.8–0.9 for anything on topic), so how much the best
    # passage stands out, and BM25 per query term, carry more signal than raw levels.
    return {"dense_top1": top1, "dense_top5_mean": mean5, "dense_gap": top1 - mean5,
            "bm25_top1": bm25, "bm25_per_term": bm25 / max(n_terms, 1),
            "unknown_names": float(unknown)}
