"""Reciprocal rank fusion: a pure function over ranked lists of passage rows."""

from __future__ import annotations


def rrf(rankings: list[tuple[list[int], float]], k: int = 60) -> dict[int, float]:
    """Weighted reciprocal rank fusion of ranked index lists: sum of w / (k + rank)."""
    fused: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, idx in enumerate(ranking, start=1):
            fused[idx] = fused.get(idx, 0.0) + weight / (k + rank)
    return fused


def ranked(scores: dict[int, float]) -> list[int]:
    """Rows by score, best first (ties keep insertion order)."""
    return sorted(scores, key=lambda i: -scores[i])
