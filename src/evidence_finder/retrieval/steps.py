"""Post-fusion steps: small re-weightings of the fused scores, each behind one protocol.

A step takes the fused scores (passage row → score) and returns new ones; it never adds
rows. Which steps run, and their weights, come from ``settings.retrieval``.
"""

from __future__ import annotations

from typing import Protocol

from evidence_finder.index.snapshot import Snapshot
from evidence_finder.retrieval.query import Query


class PostStep(Protocol):
    def __call__(self, query: Query, fused: dict[int, float], snap: Snapshot) -> dict[int, float]: ...


class QuestionListPenalty:
    """Passages that are mostly questions (interview guides, questionnaires) echo a
    question's words but hold no evidence: they score ``1 - penalty``."""

    def __init__(self, penalty: float) -> None:
        self.penalty = penalty

    def __call__(self, query: Query, fused: dict[int, float], snap: Snapshot) -> dict[int, float]:
        if not self.penalty or not snap.question_lists:
            return fused
        return {i: s * (1.0 - self.penalty if i in snap.question_lists else 1.0) for i, s in fused.items()}


class QuoteBoost:
    """Questions that ask for quotes rank quote units ``boost`` times higher."""

    def __init__(self, boost: float) -> None:
        self.boost = boost

    def __call__(self, query: Query, fused: dict[int, float], snap: Snapshot) -> dict[int, float]:
        if self.boost == 1.0 or not query.wants_quotes:
            return fused
        return {i: s * (self.boost if snap.passages[i].kind == "quote" else 1.0) for i, s in fused.items()}
