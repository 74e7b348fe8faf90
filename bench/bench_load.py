"""Load: N simulated users asking through the Gradio API, with and without a hostile upload.

Serves the web chat in a child process on 127.0.0.1 (the fixture corpus with a hashed
n-gram stand-in embedder by default; ``--index-dir`` serves a copy of a built real-corpus
index with the configured embedder), then runs two phases of ``--duration`` seconds each
against a fresh server:

- ``baseline``: ``--users`` threads, each with its own ``gradio_client.Client``, ask
  questions back to back through ``/ask``;
- ``hostile``: the same, while another client uploads a PDF bomb (a small file whose page
  content inflates to ``--bomb-mb`` MB) through ``/upload``, again and again.

Prints errors, p50/p95 latency and the server's peak RSS (the serving process alone, and
with its children, i.e. the parse worker) side by side, and writes
``bench/results/load-<date>.json``. Loopback only; nothing leaves the machine.

    PYTHONPATH=src .venv/bin/python bench/bench_load.py --users 30 --duration 60
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PROJECT_ROOT,
    child_env,
    envelope,
    latency_stats,
    load_average,
    python_cmd,
    say,
    write_result,
)

TESTS = PROJECT_ROOT / "tests"
QUESTIONS = [
    "Welke drempels zijn er bij een KA2-aanvraag?",
    "Wat dekt de subsidie voor KA1-mobiliteit?",
    "What are the barriers to KA2 applications?",
    "Wat levert een stage in het buitenland op voor mbo-studenten?",
    "Hoeveel tijd kost een aanvraag?",
    "Welke rol speelt het Nationaal Agentschap?",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=30, help="Concurrent simulated users.")
    ap.add_argument("--duration", type=float, default=60.0, help="Seconds each phase runs.")
    ap.add_argument("--bomb-mb", type=int, default=300, help="MB the hostile PDF's page content inflates to.")
    ap.add_argument("--index-dir", type=Path, default=None,
                    help="A built real-corpus index to serve (a copy of it); default: the fixture corpus.")
    ap.add_argument("--phases", default="baseline,hostile", help="Which phases to run, in order.")
    ap.add_argument("--no-write", action="store_true", help="Print only; write no result file.")
    ap.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)  # child: data dir
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port, args.index_dir)
        return

    load_before = load_average()
    out = envelope("load", args, load_before)
    out["uptime_before"] = _uptime()
    say(f"uptime: {out['uptime_before']}")
    phases: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ef-load-") as tmp:
        bomb = _bomb(Path(tmp), args.bomb_mb)
        for name in args.phases.split(","):
            say(f"--- phase {name}: {args.users} users, {args.duration:g} s")
            phases[name] = run_phase(Path(tmp) / name, args, bomb if name == "hostile" else None)
            say(f"    {phases[name]['summary']}")
    out["phases"] = phases
    out["load_avg_after"] = load_average()
    out["uptime_after"] = _uptime()
    _print_table(phases)
    say(f"uptime: {out['uptime_after']}")
    if not args.no_write:
        say(f"wrote {write_result('load', out)}")


# ---------------------------------------------------------------------- the server (child process)
def serve(data_dir: Path, port: int, index_dir: Path | None) -> None:
    from evidence_finder.settings import Settings
    from evidence_finder.ui.app import build, launch

    if index_dir is not None:  # a copy: the hostile upload must never touch the real index
        settings = Settings(data_dir=data_dir, index_dir=data_dir / "index")
        launch(settings, "127.0.0.1", port, demo=build(settings), block=True)
        return
    sys.path.insert(0, str(TESTS))
    from evidence_finder.index.build import ingest
    from helpers.fakes import FIXTURE_CORPUS, HashEmbedder

    corpus = data_dir / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus, dirs_exist_ok=True)
    settings = Settings(data_dir=data_dir, corpus_dir=corpus)
    embedder = HashEmbedder()
    ingest([corpus], settings, embedder=embedder)
    launch(settings, "127.0.0.1", port, demo=build(settings, embedder=embedder), block=True)


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    peak_rss_mb: float = 0.0  # the serving process
    peak_tree_rss_mb: float = 0.0  # with its children (the parse worker)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        while not self._stop.wait(0.1):
            own = _rss_mb(self.proc.pid)
            tree = own + sum(_rss_mb(c) for c in _descendants(self.proc.pid))
            self.peak_rss_mb = max(self.peak_rss_mb, own)
            self.peak_tree_rss_mb = max(self.peak_tree_rss_mb, tree)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(data_dir: Path, index_dir: Path | None) -> Server:
    data_dir.mkdir(parents=True)
    if index_dir is not None:
        shutil.copytree(index_dir, data_dir / "index")
    port = free_port()
    cmd = [*python_cmd(), __file__, "--serve", str(data_dir), "--port", str(port)]
    if index_dir is not None:
        cmd += ["--index-dir", str(index_dir)]
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=child_env(), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}); see {data_dir / 'server.log'}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("the server did not answer within 300 s")
    server = Server(proc, url)
    threading.Thread(target=server.sample, daemon=True).start()
    return server


# ---------------------------------------------------------------------- users
@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def user(client: Any, n: int, deadline: float, tally: Tally) -> None:
    i = n
    while time.monotonic() < deadline:
        q = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        t0 = time.perf_counter()
        try:
            out = client.predict(q, "answer", [], [], [], [], [], [], "nl", api_name="/ask")
            html = str(out[0])
            problem = "" if "ef-answer" in html and "ef-error" not in html else f"no answer: {html[:200]}"
        except Exception as exc:  # noqa: BLE001 - every failure is an error of the run
            problem = f"{type(exc).__name__}: {str(exc)[:200]}"
        ms = (time.perf_counter() - t0) * 1000
        with tally.lock:
            (tally.errors.append(problem) if problem else tally.latencies_ms.append(ms))


def hostile(client: Any, bomb: Path, deadline: float, log: list[dict[str, Any]]) -> None:
    from gradio_client import handle_file

    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            html = str(client.predict([handle_file(str(bomb))], "", None, [], "report", "nl", api_name="/upload"))
            refused = "ef-status-err" in html and "ef-status-ok" not in html
            log.append({"seconds": round(time.perf_counter() - t0, 1), "refused": refused,
                        "message": _text(html)[:300]})
        except Exception as exc:  # noqa: BLE001
            log.append({"seconds": round(time.perf_counter() - t0, 1), "refused": None,
                        "message": f"{type(exc).__name__}: {str(exc)[:200]}"})


def run_phase(work: Path, args: argparse.Namespace, bomb: Path | None) -> dict[str, Any]:
    from gradio_client import Client

    server = start_server(work, args.index_dir)
    try:
        clients = [Client(server.url, verbose=False) for _ in range(args.users)]
        warm = Client(server.url, verbose=False)
        warm.predict(QUESTIONS[0], "answer", [], [], [], [], [], [], "nl", api_name="/ask")
        tally, uploads = Tally(), []  # type: ignore[var-annotated]
        load_start = load_average()
        deadline = time.monotonic() + args.duration
        threads = [threading.Thread(target=user, args=(c, n, deadline, tally)) for n, c in enumerate(clients)]
        if bomb is not None:
            threads.append(threading.Thread(target=hostile, args=(warm, bomb, deadline, uploads)))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads[: len(clients)]:
            t.join()
        wall = time.monotonic() - t0  # the users' time; the last upload may still run on
        for t in threads[len(clients):]:
            t.join()
        stats = latency_stats(tally.latencies_ms)
        result = {
            "answers": len(tally.latencies_ms), "errors": len(tally.errors),
            "error_examples": sorted(set(tally.errors))[:5],
            "p50_s": round(stats["p50_ms"] / 1000, 2), "p95_s": round(stats["p95_ms"] / 1000, 2),
            "max_s": round(stats["max_ms"] / 1000, 2), "wall_s": round(wall, 1),
            "answers_per_s": round(len(tally.latencies_ms) / wall, 2) if wall else 0.0,
            "server_peak_rss_mb": round(server.peak_rss_mb, 1),
            "server_tree_peak_rss_mb": round(server.peak_tree_rss_mb, 1),
            "uploads": uploads, "load_avg_start": load_start, "load_avg_end": load_average(),
        }
        result["summary"] = (f"{result['answers']} answers, {result['errors']} errors, p50 {result['p50_s']} s, "
                             f"p95 {result['p95_s']} s, server peak RSS {result['server_peak_rss_mb']} MB "
                             f"({result['server_tree_peak_rss_mb']} MB with the parse worker)"
                             + (f", {len(uploads)} hostile uploads" if bomb is not None else ""))
        return result
    finally:
        server.stop()


# ---------------------------------------------------------------------- helpers
def _bomb(tmp: Path, inflated_mb: int) -> Path:
    sys.path.insert(0, str(TESTS))
    from builders import make_pdf_bomb

    return make_pdf_bomb(tmp / "verslag-bom.pdf", inflated_mb)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(x) for x in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError):
            kids = []
        out += kids
        todo += kids
    return out


def _text(html: str) -> str:
    import html as html_lib
    import re

    return html_lib.unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _print_table(phases: dict[str, Any]) -> None:
    rows = [("answers", "answers"), ("errors", "errors"), ("p50 (s)", "p50_s"), ("p95 (s)", "p95_s"),
            ("max (s)", "max_s"), ("answers/s", "answers_per_s"), ("server peak RSS (MB)", "server_peak_rss_mb"),
            ("  + parse worker (MB)", "server_tree_peak_rss_mb"), ("load avg at end", "load_avg_end")]
    names = list(phases)
    say("\n" + f"{'':24}" + "".join(f"{n:>18}" for n in names))
    for label, key in rows:
        say(f"{label:24}" + "".join(f"{str(phases[n].get(key)):>18}" for n in names))
    for n in names:
        for up in phases[n]["uploads"][:3]:
            say(f"  {n} upload: {up['seconds']} s, refused={up['refused']}: {up['message'][:160]}")


if __name__ == "__main__":
    main()
