"""Post-fusion steps: small re-weightings of the fused scores, each behind one protocol.

A step takes the fused scores (passage row → score) and returns new ones; it never adds
rows. Which steps run, and their weights, come from ``settings.retrieval``.
"""

from __future__ import annotations

from typing import Protocol

from evidence_finder.index.snapshot import Snapshot
from evidence_finder.ingest.speakers import question_speaker, speaker_matches
from evidence_finder.retrieval.query import Query
from evidence_finder.settings import RetrievalSettings


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


class SpeakerBoost:
    """'quotes from teachers about …': quotes whose speaker is the one asked for rank
    ``boost`` times higher (speakers in Dutch or English)."""

    def __init__(self, boost: float) -> None:
        self.boost = boost

    def __call__(self, query: Query, fused: dict[int, float], snap: Snapshot) -> dict[int, float]:
        wanted = question_speaker(query.text) if self.boost != 1.0 else None
        if not wanted:
            return fused
        return {i: s * (self.boost if snap.passages[i].speaker and speaker_matches(snap.passages[i].speaker, wanted)
                        else 1.0) for i, s in fused.items()}


ROLE_INTENTS = ("barrier", "enabler", "outcome", "recommendation", "figure")


class RoleWeight:
    """Units whose evidence role matches what the question asks for weigh more; question
    lists, tables of contents and method text weigh less unless asked for.

    A unit's weight grows with the share of its sentences in a wanted role:
    ``1 + boost * share``; boilerplate shares shrink it: ``1 - demote * share``."""

    def __init__(self, boost: float, demote: float, pair: bool = False,
                 roles: tuple[str, ...] = ROLE_INTENTS) -> None:
        self.boost = boost
        self.demote = demote
        self.pair = pair
        self.roles = roles

    def __call__(self, query: Query, fused: dict[int, float], snap: Snapshot) -> dict[int, float]:
        wanted = [r for r in self.roles if r in query.intents]
        if self.pair and ("barrier" in wanted) != ("enabler" in wanted) and len(wanted) == 1:
            # 'what hinders' and 'what helps' are two sides of one question: reports state
            # a success factor as the barrier's absence and the other way round
            wanted.append("enabler" if "barrier" in wanted else "barrier")
        if not (wanted and self.boost) and not self.demote:
            return fused
        out = {}
        for i, s in fused.items():
            p = snap.passages[i]
            factor = 1.0 + self.boost * sum(p.role_share(r) for r in wanted)
            if "boilerplate" not in query.intents:
                factor *= 1.0 - self.demote * p.role_share("boilerplate")
            out[i] = s * factor
        return out


class ReportSpread:
    """Questions across reports: every report with matching evidence contributes.

    The fused list is split per document and merged round-robin, documents in the order of
    their best unit; a document joins only when its best unit scores at least ``floor``
    times the overall best (a report with nothing on the topic stays out)."""

    def __init__(self, floor: float, depth: int = 30, always: bool = False) -> None:
        self.floor = floor
        self.depth = depth
        self.always = always

    def __call__(self, query: Query, fused: dict[int, float], snap: Snapshot) -> dict[int, float]:
        if not (self.always or "comparison" in query.intents) or not fused or not self.floor:
            return fused
        order = sorted(fused, key=lambda i: -fused[i])
        best = fused[order[0]]
        per_doc: dict[str, list[int]] = {}
        for i in order[: self.depth]:
            per_doc.setdefault(snap.passages[i].doc_id, []).append(i)
        lists = [rows for rows in per_doc.values() if fused[rows[0]] >= self.floor * best]
        merged: list[int] = []
        while any(lists):
            for rows in lists:
                if rows:
                    merged.append(rows.pop(0))
        rest = [i for i in order if i not in set(merged)]
        top = len(merged) + len(rest)
        return {i: best * (1.0 + (top - r) / top) if r < len(merged) else fused[i]
                for r, i in enumerate(merged + rest)}


class ReportDecay:
    """A gentle spread over reports for every question: each unit ranked above from the same
    report damps the next by ``decay`` (1 = off), so one long report cannot fill the list."""

    def __init__(self, decay: float) -> None:
        self.decay = decay

    def __call__(self, query: Query, fused: dict[int, float], snap: Snapshot) -> dict[int, float]:
        if self.decay >= 1.0 or not fused:
            return fused
        seen: dict[str, int] = {}
        out = {}
        for i in sorted(fused, key=lambda i: -fused[i]):
            doc = snap.passages[i].doc_id
            out[i] = fused[i] * self.decay ** seen.get(doc, 0)
            seen[doc] = seen.get(doc, 0) + 1
        return out


def build_steps(cfg: RetrievalSettings) -> list[PostStep]:
    """The post-fusion steps in the order they apply, with their settings."""
    return [
        QuestionListPenalty(cfg.question_list_penalty), QuoteBoost(cfg.quote_boost),
        SpeakerBoost(cfg.speaker_boost),
        RoleWeight(cfg.role_boost, cfg.boilerplate_demote, cfg.role_pair, tuple(cfg.role_intents)),
        ReportSpread(cfg.report_spread, cfg.report_spread_depth, cfg.report_spread_always),
        ReportDecay(cfg.report_decay),
    ]
