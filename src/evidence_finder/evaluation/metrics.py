"""Metrics exactly as docs/eval-format.md defines them: matching rule, Recall@k, Hit@k, MRR@10,
nDCG@10 and abstention rates. Pure functions, unit-tested on hand-built rankings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

MAX_PASSAGE_CHARS = 1600
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00ad": None})


def normalise(text: str) -> str:
    """Whitespace runs → one space, strip, lowercase, curly → straight quotes, no soft hyphens."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().lower()


def matches(gold_doc: str, gold_text: str, doc: str, passage_text: str) -> bool:
    """Whether a retrieved passage counts as relevant to one gold item."""
    if gold_doc != doc:
        return False
    g = normalise(gold_text)
    p = normalise(passage_text)[:MAX_PASSAGE_CHARS]
    if not g:
        return False
    if g in p:
        return True
    m = SequenceMatcher(None, g, p, autojunk=False).find_longest_match(0, len(g), 0, len(p))
    return m.size >= math.ceil(0.6 * len(g))


@dataclass(frozen=True)
class Judged:
    """One question's ranking judged against its gold: per rank, which gold items it matches."""

    gold_count: int
    matched: tuple[frozenset[int], ...]  # per retrieved rank: indices of gold items matched


def judge(gold: list[dict[str, str]], ranking: list[tuple[str, str]]) -> Judged:
    """``ranking``: (doc, text) of retrieved passages, best first."""
    matched = tuple(
        frozenset(i for i, g in enumerate(gold) if matches(g["doc"], g["text"], doc, text))
        for doc, text in ranking
    )
    return Judged(len(gold), matched)


def recall_at(j: Judged, k: int) -> float:
    if not j.gold_count:
        return 0.0
    found: set[int] = set()
    for m in j.matched[:k]:
        found |= m
    return len(found) / j.gold_count


def hit_at(j: Judged, k: int) -> float:
    return 1.0 if any(j.matched[:k]) else 0.0


def mrr_at(j: Judged, k: int = 10) -> float:
    for rank, m in enumerate(j.matched[:k], start=1):
        if m:
            return 1.0 / rank
    return 0.0


def ndcg_at(j: Judged, k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(rank + 1) for rank, m in enumerate(j.matched[:k], start=1) if m)
    ideal_n = min(k, j.gold_count)
    idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_n + 1))
    return dcg / idcg if idcg else 0.0


def summarise(rows: list[dict]) -> dict[str, float]:
    """Aggregate per-question rows ({answerable, judged, abstained}) into the reported metrics."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    out: dict[str, float] = {"n": float(len(rows)), "n_answerable": float(len(ans))}
    if ans:
        js = [r["judged"] for r in ans]
        out["recall@5"] = sum(recall_at(j, 5) for j in js) / len(js)
        out["recall@10"] = sum(recall_at(j, 10) for j in js) / len(js)
        out["hit@10"] = sum(hit_at(j, 10) for j in js) / len(js)
        out["mrr@10"] = sum(mrr_at(j, 10) for j in js) / len(js)
        out["ndcg@10"] = sum(ndcg_at(j, 10) for j in js) / len(js)
        out["false_abstention"] = sum(1 for r in ans if r["abstained"]) / len(ans)
    if una:
        out["true_abstention"] = sum(1 for r in una if r["abstained"]) / len(una)
    return out
