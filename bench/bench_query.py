"""Query latency and serving memory: search and extractive-answer p50/p95 over the eval
questions on a warm Searcher, what bounds search latency, and the peak RSS of a serving
process (models and index loaded, the web chat launched, every query served).

Each question is a new question: the Searcher's query-vector cache is emptied before every
call (a chat that re-asks would be faster). Latencies are taken per pass over all questions
(dev + test); p50/p95 are the median over --runs passes.

Search latency is split into its parts, timed apart on the same questions: the query
embedding (the model alone), dense retrieval with the vector given (Chroma HNSW + best
window per passage), BM25 (+ glossary), and the rest (fusion, de-duplication, abstention).

    PYTHONPATH=src python bench/bench_query.py --index-dir DIR [--runs 3] [--no-serve]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from pathlib import Path
from typing import Any

from common import (
    bench_settings,
    envelope,
    eval_questions,
    latency_stats,
    load_average,
    median_of_runs,
    peak_rss_mb,
    rss_mb,
    say,
    timed,
    write_result,
)

from evidence_finder.retrieval.search import Filters, Searcher, clean_question
from evidence_finder.settings import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, default=None,
                    help="Index to query (default: the app's, data/index); bench_ingest --keep builds one.")
    ap.add_argument("--data-dir", type=Path, default=None, help="Data dir (default: the index dir's parent).")
    ap.add_argument("--model-dir", type=Path, default=None, help="Converted model cache (default: the app's).")
    ap.add_argument("--runs", type=int, default=3, help="Passes over all questions (median of per-pass p50/p95).")
    ap.add_argument("--answer-runs", type=int, default=3, help="Passes for the extractive answers; 0 skips.")
    ap.add_argument("--warmup", type=int, default=5, help="Questions asked once before timing.")
    ap.add_argument("--k", type=int, default=10, help="Hits per search.")
    ap.add_argument("--limit", type=int, default=0, help="Use only the first N questions (0 = all).")
    ap.add_argument("--no-serve", action="store_true", help="Do not launch the web chat (RSS without the UI).")
    ap.add_argument("--name", default="query", help="Result name (bench/results/<name>-<date>.json).")
    ap.add_argument("--results-dir", type=Path, default=None, help="Default: bench/results/.")
    ap.add_argument("--no-write", action="store_true", help="Print only; write no JSON.")
    return ap.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_ui(settings: Settings, searcher: Searcher, service: Any) -> tuple[Any, float]:
    """The web chat as `evidence serve` runs it, in this process, on a free local port."""
    from evidence_finder.ui.app import build, launch

    t0 = time.perf_counter()
    demo = build(settings, searcher, service)
    launch(settings, "127.0.0.1", free_port(), demo=demo, block=False)
    return demo, time.perf_counter() - t0


def time_searches(searcher: Searcher, questions: list[str], k: int) -> dict[str, float]:
    """One pass: latency stats, plus the median CPU time per search (all threads of this
    process), which moves less than wall time when other work shares the cores."""
    ms, cpu = [], []
    for q in questions:
        searcher.dense_retriever.cache.clear()  # every question is new: the embedding is part of its cost
        t0, c0 = time.perf_counter(), time.process_time()
        searcher.search(q, k=k)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {**latency_stats(ms), "cpu_p50_ms": round(statistics.median(cpu), 2)}


def time_answers(searcher: Searcher, service: Any, questions: list[str]) -> tuple[list[float], int]:
    ms, abstained = [], 0
    for q in questions:
        searcher.dense_retriever.cache.clear()
        t0 = time.perf_counter()
        answer = service.ask(q)
        ms.append((time.perf_counter() - t0) * 1000)
        abstained += bool(answer.abstained)
    return ms, abstained


def time_parts(searcher: Searcher, questions: list[str]) -> dict[str, dict[str, float]]:
    """Each stage of a hybrid search timed on its own (one pass)."""
    n = searcher.settings.retrieval.candidates
    parts: dict[str, list[float]] = {"embed_query": [], "dense_given_vector": [], "bm25": []}
    for question in questions:
        q = clean_question(question)
        searcher.dense_retriever.cache.clear()
        t0 = time.perf_counter()
        searcher.query_vector(q)  # embeds and caches: the dense call below only queries Chroma
        t1 = time.perf_counter()
        searcher.dense(q, n, Filters())
        t2 = time.perf_counter()
        searcher.lexical(q, n, Filters())
        t3 = time.perf_counter()
        parts["embed_query"].append((t1 - t0) * 1000)
        parts["dense_given_vector"].append((t2 - t1) * 1000)
        parts["bm25"].append((t3 - t2) * 1000)
    return {name: latency_stats(v) for name, v in parts.items()}


def run(settings: Settings, questions: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Load, (launch the UI,) warm up, time; the caller owns settings and questions."""
    from evidence_finder.answer.service import AnswerService

    out: dict[str, Any] = {"rss_mb_start": rss_mb()}
    # Heavy imports timed apart (0 when something imported them already), so load_seconds
    # is the Searcher itself: model weights, passages, BM25.
    imports_s, _ = timed(lambda: [__import__(m) for m in ("torch", "sentence_transformers", "chromadb", "bm25s")])
    out["imports_seconds"] = round(imports_s, 2)
    load_s, searcher = timed(lambda: Searcher(settings))
    service = AnswerService(searcher, settings)
    out["load_seconds"] = round(load_s, 2)
    snap = searcher.snapshot()
    out["index"] = {"passages": len(snap.passages), "vectors": max(snap.vector_count, 1),
                    "documents": len(snap.metas)}
    out["rss_mb_after_load"] = rss_mb()
    say(f"imports {imports_s:.1f} s; searcher loaded in {load_s:.1f} s: {out['index']}; "
        f"RSS {out['rss_mb_after_load']} MB")
    demo = None
    if not args.no_serve:
        demo, ui_s = launch_ui(settings, searcher, service)
        out["ui_launch_seconds"] = round(ui_s, 2)
        out["rss_mb_after_ui"] = rss_mb()
        say(f"web chat launched in {ui_s:.1f} s; RSS {out['rss_mb_after_ui']} MB")
    try:
        for q in questions[: args.warmup]:
            service.ask(q)
            searcher.search(q, k=args.k)
        search_runs = []
        for i in range(max(args.runs, 1)):
            load = load_average()
            stats = time_searches(searcher, questions, args.k)
            search_runs.append(stats)
            say(f"search pass {i + 1}: p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, "
                f"max {stats['max_ms']} ms (load {load})")
        out["search"] = median_of_runs(search_runs)
        out["search_parts"] = time_parts(searcher, questions)
        parts = out["search_parts"]
        say("search parts (p50 / p95 ms): " + ", ".join(
            f"{k} {v['p50_ms']} / {v['p95_ms']}" for k, v in parts.items()))
        if args.answer_runs > 0:
            answer_runs = []
            for i in range(args.answer_runs):
                load = load_average()
                ms, abstained = time_answers(searcher, service, questions)
                stats = latency_stats(ms)
                answer_runs.append(stats)
                say(f"extractive answer pass {i + 1}: p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, "
                    f"max {stats['max_ms']} ms; {abstained} abstained (load {load})")
            out["answer"] = median_of_runs(answer_runs)
            out["answer"]["abstained"] = abstained
    finally:
        if demo is not None:
            demo.close()
    out["peak_rss_mb"] = peak_rss_mb()
    say(f"peak RSS {out['peak_rss_mb']} MB ({'with' if demo is not None else 'without'} the web chat)")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    load_before = load_average()
    index_dir = args.index_dir or Settings().resolved_index_dir
    data_dir = args.data_dir or index_dir.parent
    settings = bench_settings(data_dir, index_dir=index_dir, model_dir=args.model_dir)
    questions = eval_questions()
    if args.limit:
        questions = questions[: args.limit]
    say(f"index {index_dir}: {len(questions)} questions, {args.runs} passes (load average {load_before})")
    result = envelope(args.name, args, load_before)
    result["questions"] = len(questions)
    result.update(run(settings, questions, args))
    result["load_avg_after"] = load_average()
    s, a = result["search"], result.get("answer", {})
    say(f"SUMMARY search p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms; answer p50 {a.get('p50_ms')} ms, "
        f"p95 {a.get('p95_ms')} ms; peak RSS {result['peak_rss_mb']} MB; "
        f"load {load_before} -> {result['load_avg_after']}")
    if not args.no_write:
        say(f"wrote {write_result(args.name, result, args.results_dir)}")
    return result


if __name__ == "__main__":
    main()
