"""Ingest throughput: cold ingest of the corpus, unchanged re-ingest, embedding rate.

Cold means an empty data dir: no index and an empty embedding cache (the pipeline wraps
the embedder in a CachedEmbedder under data_dir/cache, so reusing a data dir would hide the
embedding cost). The converted e5 model is shared (data_dir/models links to the app's model
cache) and loaded and warmed before the clock starts; its load time is reported apart.

Measured:
- cold ingest: seconds, units (passages + quotes + tables), vectors embedded (the pipeline
  embeds ~60-word windows, ``pipeline.vector_units``), time inside the embedder, vectors/s;
- unchanged re-ingest, in-process with the model loaded (median of --reingest-runs), and
  as a fresh ``evidence ingest`` process (which imports torch and loads the model first);
- embedding rate on ~900-character passages (the issue's target unit), batch as configured.

    PYTHONPATH=src python bench/bench_ingest.py [--corpus corpus/] [--data-dir DIR --keep]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import (
    TimedEmbedder,
    bench_settings,
    child_env,
    default_model_dir,
    envelope,
    load_average,
    peak_rss_mb,
    python_cmd,
    say,
    timed,
    write_result,
)

from evidence_finder.index.build import chunk_file, ingest
from evidence_finder.models.embedders import CachedEmbedder, Embedder, make_embedder
from evidence_finder.settings import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    s = Settings()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=s.corpus_dir, help="Documents to ingest (default: corpus/).")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="Empty (or absent) data dir for the run; default: a temp dir, removed afterwards.")
    ap.add_argument("--keep", action="store_true", help="Keep the data dir (its index/ feeds bench_query).")
    ap.add_argument("--model-dir", type=Path, default=None, help="Converted model cache (default: the app's).")
    ap.add_argument("--cold-runs", type=int, default=1,
                    help="Cold ingests, each into an emptied data dir; the median is reported (default 1).")
    ap.add_argument("--reingest-runs", type=int, default=3, help="Unchanged re-ingests in-process (median).")
    ap.add_argument("--cli-runs", type=int, default=2,
                    help="Unchanged re-ingests as a fresh `evidence ingest` process (median); 0 skips.")
    ap.add_argument("--rate-n", type=int, default=48, help="~900-char passages for the embedding rate; 0 skips.")
    ap.add_argument("--rate-runs", type=int, default=3, help="Passes over them (median).")
    ap.add_argument("--engines", default="torch,onnx",
                    help="e5 passage engines to cold-ingest with, side by side (the first one is also used "
                    "for the re-ingest and rate figures); each cold run gets its own empty index and cache.")
    ap.add_argument("--results-dir", type=Path, default=None, help="Default: bench/results/.")
    ap.add_argument("--no-write", action="store_true", help="Print only; write no JSON.")
    return ap.parse_args(argv)


def passages_900(corpus: Path, settings: Settings, n: int, size: int = 900) -> list[str]:
    """``n`` passages of ~``size`` characters cut from the corpus passages at whitespace."""
    out: list[str] = []
    for path in sorted(corpus.glob("*.txt")):
        _, units = chunk_file(path, settings)
        for u in units:
            if u.kind == "passage" and len(u.text) >= size:
                cut = u.text.rfind(" ", 0, size + 1)
                out.append(u.text[: cut if cut > size // 2 else size])
    step = max(len(out) // max(n, 1), 1)  # spread over the documents, not the first one only
    return out[::step][:n]


def embedding_rate(model: Embedder, texts: list[str], runs: int) -> dict[str, object]:
    model.embed_passages(texts[:8])  # warm-up: thread pools, allocator
    rates, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        model.embed_passages(texts)
        rates.append(len(texts) / (time.perf_counter() - t0))
        cpu.append((time.process_time() - c0) / len(texts))
    return {"n": len(texts), "mean_chars": round(statistics.mean(len(t) for t in texts)),
            "passages_per_s": round(statistics.median(rates), 2), "per_run": [round(r, 2) for r in rates],
            "cpu_s_per_passage": round(statistics.median(cpu), 4)}


def cold_ingest(corpus: Path, data_dir: Path, model: Embedder, settings: Settings) -> dict[str, object]:
    """One ingest into an empty index with an empty embedding cache (same embedder stack as
    ``pipeline.ingest`` builds itself: CachedEmbedder over the model)."""
    for sub in (settings.resolved_index_dir, data_dir / "cache"):
        shutil.rmtree(sub, ignore_errors=True)
    timer = TimedEmbedder(model)
    embedder = CachedEmbedder(timer, settings.data_dir / "cache" / "vectors.sqlite3")
    load = load_average()
    c0 = time.process_time()
    report = ingest([corpus], settings, embedder=embedder)
    cpu = time.process_time() - c0
    units = report.passages + report.quotes + report.tables
    return {
        "seconds": round(report.seconds, 2), "cpu_seconds": round(cpu, 2), "documents": report.documents,
        "units": units, "passages": report.passages, "quotes": report.quotes, "tables": report.tables,
        "vectors_embedded": report.embedded, "embed_seconds": round(timer.seconds, 2),
        "embed_cpu_seconds": round(timer.cpu_seconds, 2),
        "other_seconds": round(report.seconds - timer.seconds, 2),
        "units_per_s": round(units / report.seconds, 2),
        "vectors_per_s": round(report.embedded / timer.seconds, 2) if timer.seconds else 0.0,
        "mean_chars_per_vector": round(timer.chars / max(timer.texts, 1)),
        "skipped": len(report.skipped), "load_avg": load,
    }


def reingest_in_process(corpus: Path, model: Embedder, settings: Settings, runs: int) -> dict[str, object]:
    secs, embedded = [], 0
    for _ in range(runs):
        embedder = CachedEmbedder(model, settings.data_dir / "cache" / "vectors.sqlite3")
        report = ingest([corpus], settings, embedder=embedder)
        secs.append(report.seconds)
        embedded += report.embedded
    return {"seconds": round(statistics.median(secs), 3), "per_run": [round(s, 3) for s in secs],
            "vectors_embedded": embedded}


def reingest_cli(corpus: Path, settings: Settings, runs: int) -> dict[str, object]:
    """What a user waits for: `evidence ingest` in a fresh process (imports, model load, checks)."""
    cmd = python_cmd() + ["-m", "evidence_finder.cli", "ingest", str(corpus), "--quiet",
                          "--index-dir", str(settings.resolved_index_dir)]
    env = child_env(EVIDENCE_DATA_DIR=str(settings.data_dir))
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        walls.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"`evidence ingest` failed ({proc.returncode}): {proc.stderr[-2000:]}")
        if "embedded: 0 " not in proc.stdout:
            raise SystemExit(f"an unchanged re-ingest embedded something:\n{proc.stdout}")
    # The same process start without the ingest: what imports and loading the model cost.
    probe = ("import time; t=time.perf_counter(); import evidence_finder.cli; "
             "from evidence_finder.settings import get_settings; "
             "from evidence_finder.models.embedders import make_embedder; "
             "make_embedder(get_settings()); print(time.perf_counter()-t)")
    t0 = time.perf_counter()
    out = subprocess.run(python_cmd() + ["-c", probe], env=env, capture_output=True, text=True, timeout=600)
    start_wall = time.perf_counter() - t0
    return {"seconds": round(statistics.median(walls), 2), "per_run": [round(w, 2) for w in walls],
            "process_start_and_model_load_seconds": round(start_wall, 2),
            "imports_and_model_load_in_process_seconds": _float(out.stdout)}


def _float(text: str) -> float | None:
    try:
        return round(float(text.strip().splitlines()[-1]), 2)
    except (ValueError, IndexError):
        return None


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    load_before = load_average()
    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="ef-bench-ingest-")) if own_dir else args.data_dir
    if not own_dir and data_dir.exists() and any(p.name != "models" for p in data_dir.iterdir()):
        raise SystemExit(f"--data-dir {str(data_dir)!r} is not empty: a cold ingest needs an empty one")
    result = envelope("ingest", args, load_before)
    try:
        base = bench_settings(data_dir, model_dir=args.model_dir or default_model_dir())
        engines = [e for e in args.engines.split(",") if e]
        say(f"data dir: {data_dir}  (load average {load_before}, {base.embedder.backend} embedder, "
            f"passage engines {engines})")
        converted = not (base.model_cache_dir / "multilingual-e5-small-fp32").exists()
        result["variants"] = {}
        models: dict[str, Embedder] = {}
        for engine in engines:
            s = base.model_copy(update={"embedder": base.embedder.model_copy(update={"passage_engine": engine})})
            load_s, model = timed(lambda s=s: make_embedder(s))  # type: ignore[misc]
            warm_s, _ = timed(lambda m=model: m.embed_passages(["warm-up", "opwarmen van het model"]))  # type: ignore[misc]
            models[engine] = model
            result["variants"][engine] = {"load_seconds": round(load_s + warm_s, 2)}
            say(f"{engine}: model {model.id} loaded (first passage batch, one-off export included) in "
                f"{load_s + warm_s:.1f} s")
        settings, model = base.model_copy(update={"embedder": base.embedder.model_copy(
            update={"passage_engine": engines[0]})}), models[engines[0]]
        result["model"] = {"id": model.id, "converted_now": converted, "engine": engines[0],
                           "batch_size": settings.embedder.batch_size}

        colds = []
        for i in range(max(args.cold_runs, 1)):
            for engine in engines:  # interleaved, so load drifts hit every engine alike
                # A fresh index dir per run: Chroma keeps a client per path, and a deleted one
                # can no longer be written in this process.
                run_settings = settings.model_copy(update={"index_dir": data_dir / f"index-{engine}-{i + 1}"})
                cold = cold_ingest(args.corpus, data_dir, models[engine], run_settings)
                result["variants"][engine].setdefault("cold", []).append(cold)
                if engine == engines[0]:
                    colds.append(cold)
                    first_index = run_settings.resolved_index_dir
                say(f"cold ingest {i + 1} [{engine}]: {cold['seconds']} s for {cold['units']} units "
                    f"({cold['units_per_s']}/s); {cold['vectors_embedded']} vectors in {cold['embed_seconds']} s "
                    f"= {cold['vectors_per_s']} vectors/s (~{cold['mean_chars_per_vector']} chars, "
                    f"{cold['embed_cpu_seconds']} CPU-s); other {cold['other_seconds']} s; load {cold['load_avg']}")
        med = sorted(colds, key=lambda c: float(c["seconds"]))[len(colds) // 2]  # type: ignore[arg-type]
        result["cold"] = {**med, "runs": len(colds), "per_run_seconds": [c["seconds"] for c in colds]}
        settings = settings.model_copy(update={"index_dir": first_index})  # re-ingests reuse it
        if len(engines) > 1:
            say("side by side (median cold seconds / embed CPU-s): " + "; ".join(
                f"{e}: {statistics.median(float(c['seconds']) for c in v['cold'])} s / "
                f"{statistics.median(float(c['embed_cpu_seconds']) for c in v['cold'])} CPU-s"
                for e, v in result["variants"].items()))

        re = reingest_in_process(args.corpus, model, settings, max(args.reingest_runs, 1))
        result["reingest_unchanged"] = re
        say(f"unchanged re-ingest (in-process, model loaded): median {re['seconds']} s {re['per_run']}")
        if args.cli_runs > 0:
            cli = reingest_cli(args.corpus, settings, args.cli_runs)
            result["reingest_unchanged_cli"] = cli
            say(f"unchanged re-ingest (`evidence ingest`, fresh process): median {cli['seconds']} s "
                f"{cli['per_run']}; it loads no model (loading one would cost ≈ "
                f"{cli['imports_and_model_load_in_process_seconds']} s)")
        if args.rate_n > 0:
            texts = passages_900(args.corpus, settings, args.rate_n)
            rate = embedding_rate(model, texts, max(args.rate_runs, 1))
            result["embed_rate_900"] = rate
            say(f"embedding ~{rate['mean_chars']}-char passages: {rate['passages_per_s']} passages/s "
                f"{rate['per_run']} ({rate['cpu_s_per_passage']} CPU-s each)")
        result["peak_rss_mb"] = peak_rss_mb()
        result["load_avg_after"] = load_average()
        result["data_dir"] = str(data_dir) if args.keep else None
        say(f"peak RSS {result['peak_rss_mb']} MB; load average after {result['load_avg_after']}")
        if not args.no_write:
            say(f"wrote {write_result('ingest', result, args.results_dir)}")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            say(f"kept {data_dir} (index: {data_dir / 'index'})")
    return result


if __name__ == "__main__":
    main()
