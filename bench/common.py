"""Shared helpers for the bench/ scripts: statistics, memory, load, settings, result files.

Benchmarks print figures and write JSON to ``bench/results/<name>-<date>.json``; they are
not timed tests. Every result records the load average before and after, because on a
shared 2-core machine background load moves absolute timings more than anything we tune.
"""

from __future__ import annotations

import os

# Before any library import: no network, no telemetry, no tokenizer thread pool fights.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import datetime as _dt
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.models.embedders import Embedder
from evidence_finder.settings import PROJECT_ROOT, Settings

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


# ---------------------------------------------------------------------- statistics
def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default), 0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), p)) if len(values) else 0.0


def latency_stats(ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean/max of one run's latencies (milliseconds), rounded for reading."""
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(float(np.mean(ms)) if len(ms) else 0.0, 2),
            "max_ms": round(max(ms, default=0.0), 2)}


def median_of_runs(runs: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Per key, the median over runs (each run's own p50/p95 first, then the median of those);
    the per-run values are kept so a noisy run is visible."""
    keys = [k for k in runs[0] if k != "n"] if runs else []
    out: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
    out["n_per_run"] = runs[0].get("n", 0) if runs else 0
    out["runs"] = len(runs)
    out["per_run"] = {k: [r[k] for r in runs] for k in keys if k in ("p50_ms", "p95_ms")}
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# ---------------------------------------------------------------------- memory and load
def _proc_status_kb(field: str, pid: int | str = "self") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_mb(pid: int | str = "self") -> float:
    """Current resident set size (VmRSS) in MB."""
    return round(_proc_status_kb("VmRSS", pid) / 1024, 1)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is KB on Linux; VmHWM agrees)."""
    kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _proc_status_kb("VmHWM"))
    return round(kb / 1024, 1)


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages; compare with the core count."""
    return [round(x, 2) for x in os.getloadavg()]


def dir_size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file() and not f.is_symlink())
    return round(total / 1e6, 2)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    versions: dict[str, str] = {}
    for mod in ("torch", "chromadb", "bm25s", "sentence_transformers"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing optional library is not an error here
            continue
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions, "git": _git_describe()}


def _git_describe() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, text=True,
                              capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               text=True, capture_output=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return ""


# ---------------------------------------------------------------------- results
def write_result(name: str, data: dict[str, Any], results_dir: Path | None = None) -> Path:
    """Write ``<results_dir>/<name>-<YYYY-MM-DD>.json`` atomically (a re-run the same day
    replaces it) and return its path."""
    out_dir = Path(results_dir or RESULTS_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-{_dt.date.today().isoformat()}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def latest_result(name: str, results_dir: Path | None = None) -> dict[str, Any] | None:
    """The newest ``<name>-*.json`` under the results directory, or None."""
    files = sorted(Path(results_dir or RESULTS_DIR).glob(f"{name}-*.json"))
    return json.loads(files[-1].read_text(encoding="utf-8")) if files else None


def envelope(name: str, args: Any, load_before: list[float]) -> dict[str, Any]:
    """The common head of every result file."""
    return {"bench": name, "when": _dt.datetime.now().isoformat(timespec="seconds"),
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "machine": machine(), "load_avg_before": load_before}


def say(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------- settings and models
def default_model_dir() -> Path:
    """Where the converted e5 model is cached: the app's own (data/models unless configured),
    so a benchmark never pays the conversion twice."""
    return Settings().model_cache_dir


def bench_settings(data_dir: Path, index_dir: Path | None = None, model_dir: Path | None = None) -> Settings:
    """Default settings (env and evidence.toml still apply) with the data dir moved to
    ``data_dir``; ``data_dir/models`` is linked to the shared model cache, so a fresh data
    dir has an empty embedding cache and index but needs no model conversion."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    models = data_dir / "models"
    target = Path(model_dir or default_model_dir()).resolve()
    if not models.exists() and not models.is_symlink():
        target.mkdir(parents=True, exist_ok=True)
        if models.absolute() != target:  # the app's own data dir needs no link to itself
            models.symlink_to(target, target_is_directory=True)
    return Settings(data_dir=data_dir, index_dir=index_dir or data_dir / "index")


class TimedEmbedder(Embedder):
    """Wraps an embedder and adds up the wall and CPU time spent inside it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self.query_prefix = inner.query_prefix
        self.passage_prefix = inner.passage_prefix
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.texts = 0
        self.chars = 0

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        t0, c0 = time.perf_counter(), time.process_time()
        out = self.inner.embed_batch(texts)
        self.seconds += time.perf_counter() - t0
        self.cpu_seconds += time.process_time() - c0
        self.texts += len(texts)
        self.chars += sum(len(t) for t in texts)
        self.dim = self.dim or self.inner.dim
        return out

    def reset(self) -> None:
        self.seconds = self.cpu_seconds = 0.0
        self.texts = self.chars = 0


def eval_questions(paths: Iterable[Path] | None = None) -> list[str]:
    """The questions of evals/questions/*.jsonl (dev and test), in file order."""
    from evidence_finder.evaluation import runner

    files = list(paths) if paths else runner.default_question_files()
    return [q["question"] for q in runner.load_questions(files)]


def python_cmd() -> list[str]:
    """This interpreter, with src/ on the path, for child processes."""
    return [sys.executable]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (str(PROJECT_ROOT / "src"), env.get("PYTHONPATH", "")) if x)
    env.update(extra)
    return env
