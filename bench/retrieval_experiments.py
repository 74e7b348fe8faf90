"""Retrieval experiments on the *dev* split (never tune on test): vary fusion settings on a
built index and print Recall@10 / nDCG@10 per language. Usage:
    python bench/retrieval_experiments.py [--split dev] [--diagnose]
"""

from __future__ import annotations

import argparse
import itertools
import sys

from evidence_finder.evaluation import runner
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import get_settings


def score(searcher: Searcher, qs: list[dict]) -> dict[str, float]:
    r = runner.run(searcher, qs, ("hybrid",))
    t = r.table()
    out = {}
    for g in ("all", "lang=nl", "lang=en"):
        m = t[g]["hybrid"]
        out[g] = (round(m.get("recall@10", 0), 3), round(m.get("ndcg@10", 0), 3))
    return out


def diagnose(searcher: Searcher, qs: list[dict]) -> None:
    from evidence_finder.evaluation.metrics import judge

    for q in qs:
        if not q["gold"]:
            continue
        res = searcher.search(q["question"], k=50)
        j = judge(q["gold"], [(h.passage.doc_id, h.passage.text) for h in res.hits])
        ranks = {}
        for rank, m in enumerate(j.matched, start=1):
            for gi in m:
                ranks.setdefault(gi, rank)
        missing = [gi for gi in range(len(q["gold"])) if ranks.get(gi, 99) > 10]
        if missing:
            print(f"{q['id']} [{q['lang']}/{q['kind']}] {q['question'][:80]}")
            for gi in missing:
                print(f"    gold {gi} rank {ranks.get(gi, '>50')}: {q['gold'][gi]['doc'][:3]} {q['gold'][gi]['text'][:70]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev")
    ap.add_argument("--diagnose", action="store_true")
    args = ap.parse_args()
    qs = [q for q in runner.load_questions(runner.default_question_files()) if q["split"] == args.split]
    settings = get_settings()
    searcher = Searcher(settings)
    if args.diagnose:
        diagnose(searcher, qs)
        return
    base = settings.retrieval
    grid = {"rrf_k": [60], "bm25_weight_nl": [0.7, 1.0], "bm25_weight_en": [0.3, 0.5, 0.8],
            "candidates": [60, 100]}
    for values in itertools.product(*grid.values()):
        searcher.settings = settings.model_copy(update={"retrieval": base.model_copy(update=dict(zip(grid, values)))})
        print(dict(zip(grid, values)), score(searcher, qs), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
