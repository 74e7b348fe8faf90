"""Issue #15's user-facing waits, each beside the code it replaced, measured in one run.

- one-shot ``evidence search "…"`` end to end (a fresh process: imports, index, query
  embedding, search, printing), ours and a baseline source tree's, interleaved, printed
  side by side (median and each run, with the load average);
- with ``--agreement``: whether searching the NumPy mirror of the vectors ranks as Chroma
  does: the top 10 of each eval question (every split), hybrid and dense, with the mirror
  and with ``index.vector_mirror = false``, in this process on the same index;
- ``evidence serve`` on a first run (fresh data dir, corpus not yet indexed, converted model
  shared): seconds until the chat answers HTTP 200, until a first answer can be given
  (the text pass: documents + BM25), and until the dense index is complete (hybrid);
  the baseline needed a full ``evidence ingest`` before serving.

    PYTHONPATH=src python bench/bench_first_run.py [--baseline-src /work/main/src] [--runs 3]
        [--skip-serve] [--agreement]

The one-shot figures need an index with a current vector mirror (``vectors.npz``, written by
``evidence ingest``): without one, ours opens Chroma as the baseline does (said in the output).
A run with ``--skip-serve`` is written as ``one-shot-<date>.json``, so that it does not replace
a first-run result of the same day.
"""

from __future__ import annotations

import argparse
import json
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

from evidence_finder.settings import PROJECT_ROOT, Settings

QUESTION = "Welke drempels ervaren scholen bij KA2-partnerschappen?"
SPLITS = ("dev", "test", "blind")


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
    ap.add_argument("--agreement", action="store_true",
                    help="Also compare the top 10 with the vector mirror and with Chroma on every eval question.")
    ap.add_argument("--serve-timeout", type=float, default=900)
    args = ap.parse_args()
    result = envelope("first_run", args, load_average())
    trees = {"ours": PROJECT_ROOT / "src"}
    if args.baseline_src:
        trees["baseline"] = args.baseline_src
    result["mirror_in_use"] = mirror_in_use(args.data_dir)
    if not result["mirror_in_use"]:
        say("note: the index has no current vector mirror (run `evidence ingest`): ours opens Chroma too")
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
    say(f"one-shot `evidence search` ({args.runs} runs each, interleaved; load {min(loads):.1f}-{max(loads):.1f} "
        f"on {os.cpu_count()} cores):")
    for name, w in walls.items():
        say(f"  {name:<9} median {statistics.median(w):.2f} s   runs {', '.join(f'{x:.2f}' for x in w)}   "
            f"({trees[name]})")
    if args.agreement:
        result["mirror_agreement"] = mirror_agreement(args.data_dir)
    if not args.skip_serve:
        result["serve_first_run"] = serve_first_run(args.port, args.serve_timeout)
        say(f"serve, first run: { {k: v for k, v in result['serve_first_run'].items() if k != 'log_tail'} }")
    result["load_avg_after"] = load_average()
    say(f"written {write_result('one-shot' if args.skip_serve else 'first-run', result)}")


def mirror_in_use(data_dir: Path) -> bool:
    """Whether a search of this data dir's index reads the NumPy vector mirror."""
    from evidence_finder.retrieval.search import Searcher

    return Searcher(Settings(data_dir=data_dir)).snapshot().mirror is not None


def mirror_agreement(data_dir: Path, k: int = 10) -> dict[str, object]:
    """Top ``k`` of every eval question with the mirror and with Chroma (same index, same
    query vectors): identical lists, same abstention, and the largest difference in a
    passage's dense score between the two (float32 rounding)."""
    from evidence_finder.retrieval.search import Searcher

    on = Settings(data_dir=data_dir)
    off = on.model_copy(update={"index": on.index.model_copy(update={"vector_mirror": False})})
    mirror, chroma = Searcher(on), Searcher(off)
    assert mirror.snapshot().mirror is not None and chroma.snapshot().mirror is None
    out: dict[str, object] = {}
    for split in SPLITS:
        path = PROJECT_ROOT / "evals" / "questions" / f"{split}.jsonl"
        if not path.is_file():
            continue
        qs = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        row: dict[str, object] = {"questions": len(qs)}
        for mode in ("hybrid", "dense"):
            same = same_abstain = 0
            worst = 0.0
            for q in qs:
                a, b = mirror.search(q, k=k, mode=mode), chroma.search(q, k=k, mode=mode)
                same += [h.passage.id for h in a.hits] == [h.passage.id for h in b.hits]
                same_abstain += a.abstain == b.abstain
                dense_of = {h.passage.id: h.scores["dense"] for h in b.hits}
                worst = max([worst, *(abs(h.scores["dense"] - dense_of[h.passage.id])
                                      for h in a.hits if h.passage.id in dense_of)])
            row[mode] = {"identical_top10": same, "same_abstain": same_abstain, "max_dense_score_diff": worst}
        out[split] = row
        say(f"mirror vs Chroma, {split}: {json.dumps(row)}")
    total = sum(int(r["questions"]) for r in out.values() if isinstance(r, dict))
    for mode in ("hybrid", "dense"):
        same = sum(int(r[mode]["identical_top10"]) for r in out.values() if isinstance(r, dict))
        out[f"{mode}_identical_top10"] = f"{same} of {total}"
        say(f"mirror vs Chroma, {mode}: identical top {k} on {same} of {total} eval questions")
    return out


def _default_data_dir() -> Path:  # noqa: N802 - a default, read once
    from evidence_finder.settings import Settings

    return Settings().data_dir


if __name__ == "__main__":
    main()
