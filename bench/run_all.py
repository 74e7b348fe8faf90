"""Run every benchmark with sensible defaults (`make bench`), then compare with the targets.

    PYTHONPATH=src python bench/run_all.py [--quick] [--sizes 1,10,100] [--keep]

1. bench_ingest.py: cold ingest of corpus/ into a fresh data dir (kept for the next steps),
   unchanged re-ingest, embedding rate on ~900-character passages;
2. bench_query.py: search and extractive-answer p50/p95 on that index, with the web chat
   launched, and the peak RSS of that serving process;
3. bench_scale.py: synthetic 1x/10x/100x corpora (100x takes ~10 minutes on 2 cores).

Each step runs in its own process and writes bench/results/<name>-<date>.json; this script
adds summary-<date>.json: every figure beside its target. Figures taken while other work
runs are slower than a quiet machine's: the load average is recorded beside each.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from common import BENCH_DIR, child_env, latest_result, load_average, python_cmd, say, write_result

# (label, figure, target, "max" = at most / "min" = at least, unit)
Target = tuple[str, float | None, float, str, str]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="One pass each and sizes 1,10: a smoke run.")
    ap.add_argument("--sizes", default=None, help="bench_scale sizes (default 1,10,100; --quick: 1,10).")
    ap.add_argument("--skip-scale", action="store_true", help="Skip bench_scale.py.")
    ap.add_argument("--work-dir", type=Path, default=None, help="Where data dirs go (default: temp).")
    ap.add_argument("--keep", action="store_true", help="Keep the work dir (indexes, synthetic corpora).")
    ap.add_argument("--results-dir", type=Path, default=None, help="Default: bench/results/.")
    ap.add_argument("--summary-only", action="store_true",
                    help="Run nothing: compare the latest results with the targets again.")
    return ap.parse_args(argv)


def step(script: str, *args: str) -> None:
    say(f"\n=== {script} {' '.join(args)}")
    proc = subprocess.run(python_cmd() + [str(BENCH_DIR / script), *args], env=child_env())
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed with exit code {proc.returncode}")


def targets(ingest: dict[str, Any] | None, query: dict[str, Any] | None,
            scale: dict[str, Any] | None) -> list[Target]:
    """The issue's targets for this machine, with the latest figures."""
    def get(d: dict[str, Any] | None, *path: str) -> float | None:
        for key in path:
            if not isinstance(d, dict) or key not in d:
                return None
            d = d[key]
        return float(d) if isinstance(d, int | float) else None

    p100 = None
    for row in (scale or {}).get("growth", []):
        if row["size"] == 100:
            p100 = float(row["search_p95_ms"])
    return [
        ("embedding, ~900-char passages (fp32)", get(ingest, "embed_rate_900", "passages_per_s"), 12, "min",
         "passages/s"),
        ("embedding, ~900-char passages (int8 goal)", get(ingest, "embed_rate_900", "passages_per_s"), 17,
         "min", "passages/s"),
        ("cold ingest of the corpus", get(ingest, "cold", "seconds"), 60, "max", "s"),
        ("unchanged re-ingest (model loaded)", get(ingest, "reingest_unchanged", "seconds"), 3, "max", "s"),
        ("unchanged re-ingest (`evidence ingest`)", get(ingest, "reingest_unchanged_cli", "seconds"), 3,
         "max", "s"),
        ("search p50", get(query, "search", "p50_ms"), 50, "max", "ms"),
        ("search p95", get(query, "search", "p95_ms"), 120, "max", "ms"),
        ("extractive answer p95", get(query, "answer", "p95_ms"), 400, "max", "ms"),
        ("search p95, 100x index", p100, 300, "max", "ms"),
        ("serving peak RSS", get(query, "peak_rss_mb"), 1536, "max", "MB"),
    ]


def verdict(figure: float | None, target: float, sense: str) -> tuple[str, str]:
    if figure is None:
        return "not measured", ""
    ok = figure <= target if sense == "max" else figure >= target
    ratio = figure / target if sense == "max" else target / figure if figure else float("inf")
    return ("met" if ok else "missed"), ("" if ok else f"{(ratio - 1) * 100:.0f}% off")


def summarise(results_dir: Path | None) -> dict[str, Any]:
    ingest, query, scale = (latest_result(n, results_dir) for n in ("ingest", "query", "scale"))
    rows = []
    say("\n=== targets (latest results; load average at the time beside each file)")
    for label, figure, target, sense, unit in targets(ingest, query, scale):
        status, margin = verdict(figure, target, sense)
        rows.append({"what": label, "figure": figure, "target": target,
                     "sense": "at most" if sense == "max" else "at least", "unit": unit,
                     "status": status, "margin": margin})
        shown = "-" if figure is None else f"{figure:g}"
        say(f"{label:<44} {shown:>8} {unit:<10} target {'≤' if sense == 'max' else '≥'} {target:g}  "
            f"{status} {margin}")
    loads = {n: (r or {}).get("load_avg_before") for n, r in (("ingest", ingest), ("query", query),
                                                                  ("scale", scale))}
    return {"targets": rows, "load_avg_before": loads}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.summary_only:
        say(f"wrote {write_result('summary', summarise(args.results_dir), args.results_dir)}")
        return
    own = args.work_dir is None
    work = Path(tempfile.mkdtemp(prefix="ef-bench-")) if own else args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    res = ["--results-dir", str(args.results_dir)] if args.results_dir else []
    runs = ["1"] if args.quick else ["3"]
    say(f"work dir {work}; load average (1, 5, 15 min) {load_average()}")
    try:
        data = work / "ingest"
        shutil.rmtree(data, ignore_errors=True)
        step("bench_ingest.py", "--data-dir", str(data), "--keep", "--reingest-runs", runs[0],
             "--cli-runs", "1" if args.quick else "2", "--rate-runs", runs[0], *res)
        step("bench_query.py", "--index-dir", str(data / "index"), "--data-dir", str(data),
             "--runs", runs[0], "--answer-runs", runs[0], *res)
        if not args.skip_scale:
            sizes = args.sizes or ("1,10" if args.quick else "1,10,100")
            step("bench_scale.py", "--source-index", str(data / "index"), "--work-dir", str(work / "scale"),
                 "--sizes", sizes, "--runs", runs[0], *res)
        summary = summarise(args.results_dir)
        say(f"wrote {write_result('summary', summary, args.results_dir)}")
    finally:
        if own and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            say(f"kept {work}")


if __name__ == "__main__":
    main()
