"""Intent and role experiments on the *dev* split (never tune on test or blind): vary the
role, boilerplate and per-report settings on a built index and print Recall@10 / nDCG@10
per kind, language and for cross-report questions, side by side. Usage:
    python bench/intent_experiments.py [--split dev] [--grid role_boost=0,0.5,1 ...]
"""

from __future__ import annotations

import argparse
import itertools
import json

from evidence_finder.evaluation import runner
from evidence_finder.retrieval.search import Searcher
from evidence_finder.retrieval.steps import build_steps
from evidence_finder.settings import get_settings

GROUPS = ("all", "kind=barrier_enabler", "kind=synthesis", "cross_report", "kind=fact", "kind=quote",
          "lang=nl", "lang=en")


def score(searcher: Searcher, qs: list[dict]) -> dict[str, tuple[float, float]]:
    table = runner.run(searcher, qs, ("hybrid",)).table()
    return {g: (round(table[g]["hybrid"].get("recall@10", 0), 3), round(table[g]["hybrid"].get("ndcg@10", 0), 3))
            for g in GROUPS if g in table}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev")
    ap.add_argument("--grid", nargs="*", default=[], help="setting=v1,v2,... (retrieval settings)")
    args = ap.parse_args()
    if args.split == "blind":
        raise SystemExit("the blind split is scored once, with `evidence eval`, not tuned on")
    qs = [q for q in runner.load_questions(runner.default_question_files()) if q["split"] == args.split]
    settings = get_settings()
    searcher = Searcher(settings)
    grid = {k: [float(x) for x in v.split(",")] for k, v in (g.split("=") for g in args.grid)}
    print("groups:", ", ".join(GROUPS), "(Recall@10, nDCG@10)")
    for values in itertools.product(*grid.values()) if grid else [()]:
        update = {k: (int(v) if k.endswith(("depth", "candidates", "rrf_k", "_top")) else v) for k, v in zip(grid, values)}
        cfg = settings.retrieval.model_copy(update=update)
        searcher.settings = settings.model_copy(update={"retrieval": cfg})
        searcher.steps = build_steps(cfg)
        print(json.dumps(update), json.dumps(score(searcher, qs)), flush=True)


if __name__ == "__main__":
    main()
