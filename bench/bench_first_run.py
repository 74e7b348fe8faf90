"""Issue #15's user-facing waits, each beside the code it replaced, measured in one run.

- one-shot ``evidence search "…"`` end to end (a fresh process: imports, index, query
  embedding, search, printing), ours and a baseline source tree's, interleaved;
- ``evidence serve`` on a first run (fresh data dir, corpus not yet indexed, converted model
  shared): seconds until the chat answers HTTP 200, until a first answer can be given
  (the text pass: documents + BM25), and until the dense index is complete (hybrid);
  the baseline needed a full ``evidence ingest`` before serving.

    PYTHONPATH=src python bench/bench_first_run.py [--baseline-src /work/main/src] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import child_env, default_model_dir, envelope, load_average, say, write_result

from evidence_finder.settings import PROJECT_ROOT

QUESTION = "Welke drempels ervaren scholen bij KA2-partnerschappen?"


def one_shot(src: Path, data_dir: Path) -> tuple[float, str]:
    env = dict(child_env(EVIDENCE_DATA_DIR=str(data_dir)), PYTHONPATH=str(src))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "evidence_finder.cli", "search", QUESTION],
                          env=env, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"search failed in {src}: {proc.stderr[-1500:]}")
    return wall, proc.stderr


def serve_first_run(port: int, timeout: float) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="ef-bench-serve-"))
    (data / "models").symlink_to(default_model_dir().resolve(), target_is_directory=True)
    env = child_env(EVIDENCE_DATA_DIR=str(data))
    log = open(data / "serve.log", "w")  # noqa: SIM115 - closed below
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "evidence_finder.cli", "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    out: dict[str, object] = {"load_avg_start": load_average()}
    try:
        while time.perf_counter() - t0 < timeout:
            if "bm25_ready_s" not in out and (data / "index" / "bm25").exists():
                out["bm25_ready_s"] = round(time.perf_counter() - t0, 1)
            if "chat_up_s" not in out:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                        if r.status == 200:
                            out["chat_up_s"] = round(time.perf_counter() - t0, 1)
                except OSError:
                    pass
            if "chat_up_s" in out and not (data / "index" / "dense.pending").exists():
                out["dense_ready_s"] = round(time.perf_counter() - t0, 1)
                break
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        out["log_tail"] = (data / "serve.log").read_text(errors="replace")[-600:]
        out["load_avg_end"] = load_average()
        shutil.rmtree(data, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline-src", type=Path, default=None, help="src/ of the code before #15.")
    ap.add_argument("--data-dir", type=Path, default=_default_data_dir(), help="Data dir with an index.")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--port", type=int, default=7891)
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--serve-timeout", type=float, default=900)
    args = ap.parse_args()
    result = envelope("first_run", args, load_average())
    trees = {"ours": PROJECT_ROOT / "src"}
    if args.baseline_src:
        trees["baseline"] = args.baseline_src
    walls: dict[str, list[float]] = {k: [] for k in trees}
    stderr: dict[str, str] = {}
    loads = []
    for _ in range(args.runs):
        for name, src in trees.items():
            loads.append(os.getloadavg()[0])
            wall, err = one_shot(src, args.data_dir)
            walls[name].append(round(wall, 2))
            stderr[name] = err
    result["one_shot_search"] = {
        name: {"median_s": statistics.median(w), "per_run_s": w, "stderr_chars": len(stderr[name]),
               "loading_bar_on_stderr": "Loading weights" in stderr[name]} for name, w in walls.items()}
    result["one_shot_load_avg"] = [round(x, 2) for x in loads]
    say(f"one-shot search: {result['one_shot_search']} (load {loads[0]:.1f}-{max(loads):.1f})")
    if not args.skip_serve:
        result["serve_first_run"] = serve_first_run(args.port, args.serve_timeout)
        say(f"serve, first run: { {k: v for k, v in result['serve_first_run'].items() if k != 'log_tail'} }")
    result["load_avg_after"] = load_average()
    say(f"written {write_result('first-run', result)}")


def _default_data_dir() -> Path:  # noqa: N802 - a default, read once
    from evidence_finder.settings import Settings

    return Settings().data_dir


if __name__ == "__main__":
    main()
