"""How ingest and search cost grow with corpus size: synthetic corpora at 1x, 10x and 100x.

The corpora are built offline from a real index: each copy c reshuffles all of our
passages (kind "passage", with their section headings) into as many new documents as the
real corpus has, with the real documents' passage counts and manifest entries, under new
ids (``syn<c>_<j>.txt``). 100x is ~56 MB of text and ~75,000 units.

Those .txt files go through the real pipeline (load, clean, structure, chunk, CachedEmbedder,
Chroma upserts, SQLite, BM25, orphan sweep) except for one stage: embedding 150,000+ windows
with the real model would take hours on 2 cores, so a **stand-in embedder** returns, for each
window, the real vector of a source window (the one with the same text where the recombined
window matches one, else one picked by hashing the text) plus Gaussian noise (sigma 0.01 per
dimension: cosine ~0.98 to the source), normalised. So the index holds vectors from the real
model's distribution at the real count, and what search pays at that size - the query
embedding by the real model, Chroma's HNSW, BM25 over all passages, fusion - is measured, not
modelled. Only embedding is extrapolated: vectors / the rate measured on the real corpus
(bench_ingest's cold ingest; --embed-rate to override). Rankings on these indexes mean
nothing; only their cost does. The stand-in's own time is subtracted from the ingest time.

Each size is built in one child process and searched in another (fresh process: load time
and peak RSS of a process serving that index, without the web chat).

    PYTHONPATH=src python bench/bench_scale.py --source-index DIR [--sizes 1,10,100]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    TimedEmbedder,
    bench_settings,
    child_env,
    dir_size_mb,
    envelope,
    eval_questions,
    latest_result,
    load_average,
    peak_rss_mb,
    python_cmd,
    say,
    write_result,
)

from evidence_finder.index.build import ingest, load_manifest, vector_units
from evidence_finder.index.store import IndexIdentity, IndexStore
from evidence_finder.models.embedders import E5_ID, CachedEmbedder, Embedder
from evidence_finder.settings import Settings
from evidence_finder.types import Passage

KEY_CHARS = 200  # windows are matched on their last characters: the head (title, section) differs
NOISE_SIGMA = 0.01


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source-index", type=Path, default=None,
                    help="A real index (bench_ingest --keep builds one; default: the app's data/index).")
    ap.add_argument("--corpus", type=Path, default=Settings().corpus_dir,
                    help="The real corpus dir (for manifest.toml).")
    ap.add_argument("--sizes", default="1,10,100", help="Comma-separated multiples of the corpus.")
    ap.add_argument("--work-dir", type=Path, default=None, help="Where corpora and indexes go (default: temp).")
    ap.add_argument("--keep", action="store_true", help="Keep the work dir.")
    ap.add_argument("--model-dir", type=Path, default=None, help="Converted model cache (default: the app's).")
    ap.add_argument("--embed-rate", type=float, default=0.0,
                    help="Vectors/s of the real embedder for the extrapolation (default: the latest "
                         "bench_ingest result, else measured here).")
    ap.add_argument("--runs", type=int, default=3, help="Search passes over all eval questions per size.")
    ap.add_argument("--answer-runs", type=int, default=1, help="Extractive-answer passes per size (0 skips).")
    ap.add_argument("--limit", type=int, default=0, help="Only the first N questions (0 = all).")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reuse", action="store_true",
                    help="Reuse indexes already built in --work-dir (kept with --keep): re-measure search "
                         "only, e.g. when the machine is quiet.")
    ap.add_argument("--results-dir", type=Path, default=None, help="Default: bench/results/.")
    ap.add_argument("--no-write", action="store_true", help="Print only; write no JSON.")
    ap.add_argument("--worker", choices=["build", "search"], help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


# ---------------------------------------------------------------------- source
class Source:
    """Passages, documents and window vectors of a real index."""

    def __init__(self, index_dir: Path) -> None:
        settings = Settings(index_dir=index_dir)
        store = IndexStore(index_dir, IndexIdentity.from_settings(settings, E5_ID), create=False,
                           chroma=settings.chroma)
        try:
            self.passages: list[Passage] = store.passages()
            self.doc_ids = sorted(store.documents())
            vids = [vid for p in self.passages for vid, _ in vector_units(p)]
            texts = [t for p in self.passages for _, t in vector_units(p)]
            got = store.collection.get(ids=vids, include=["embeddings"])
        finally:
            store.close()
        row = {vid: i for i, vid in enumerate(got["ids"])}
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        self.vectors = np.stack([vectors[row[v]] for v in vids])
        self.keys = {t[-KEY_CHARS:]: i for i, t in enumerate(texts)}
        self.window_texts = texts


class StandInEmbedder(Embedder):
    """Real source vectors + small noise; see the module docstring. Deterministic per text."""

    id = E5_ID  # the index must open with the real model (which embeds the questions)
    query_prefix = "query: "
    passage_prefix = "passage: "

    def __init__(self, source: Source, sigma: float = NOISE_SIGMA) -> None:
        self.vectors = source.vectors
        self.keys = source.keys
        self.dim = int(self.vectors.shape[1])
        self.sigma = sigma
        self.matched = 0
        self.hashed = 0

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            row = self.keys.get(text.removeprefix(self.passage_prefix)[-KEY_CHARS:])
            if row is None:
                row = seed % len(self.vectors)
                self.hashed += 1
            else:
                self.matched += 1
            noise = np.random.default_rng(seed).normal(0.0, self.sigma, self.dim)
            out[i] = self.vectors[row] + noise
        return self._normalise(out)


# ---------------------------------------------------------------------- corpus
def write_corpus(source: Source, real_corpus: Path, size: int, out_dir: Path, seed: int) -> dict[str, Any]:
    """``size`` recombined copies of the corpus as .txt files + manifest.toml under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(real_corpus)
    by_doc: dict[str, list[Passage]] = {d: [] for d in source.doc_ids}
    for p in source.passages:
        if p.kind == "passage":
            by_doc[p.doc_id].append(p)
    counts = [len(by_doc[d]) for d in source.doc_ids]
    pool = [p for d in source.doc_ids for p in by_doc[d]]
    rng = random.Random(seed)
    lines: list[str] = ["# Synthetic corpus for bench/bench_scale.py: recombined passages, new ids."]
    chars = files = 0
    for c in range(size):
        order = pool[:]
        rng.shuffle(order)
        start = 0
        for j, (real_id, n) in enumerate(zip(source.doc_ids, counts)):
            chunk, start = order[start:start + n], start + n
            doc_id = f"syn{c:03d}_{j}.txt"
            text = _document_text(chunk)
            (out_dir / doc_id).write_text(text, encoding="utf-8")
            chars += len(text)
            files += 1
            lines += _manifest_entry(doc_id, manifest.get(real_id, {}), c)
    (out_dir / "manifest.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"documents": files, "chars": chars, "mb": round(chars / 1e6, 2)}


def _document_text(passages: list[Passage]) -> str:
    """Passages as paragraphs, each preceded by its section heading when the section changes."""
    parts: list[str] = []
    last = None
    for p in passages:
        heading = p.section.split(" > ")[-1] if p.section else ""
        if heading and heading != last:
            parts.append(heading)
        last = heading
        parts.append(p.text)
    return "\n\n".join(parts) + "\n"


def _manifest_entry(doc_id: str, real: dict[str, Any], copy: int) -> list[str]:
    entry = dict(real)
    for key in ("title", "short_title"):
        if entry.get(key):
            entry[key] = f"{entry[key]} [synthetic {copy:03d}]"
    out = ["", f"[{json.dumps(doc_id)}]"]
    for key, value in entry.items():
        if value is not None and isinstance(value, str | int | float | list):
            out.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")  # JSON scalars/arrays are TOML
    return out


# ---------------------------------------------------------------------- workers
def build_worker(args: argparse.Namespace) -> dict[str, Any]:
    size_dir = args.work_dir / f"x{args.size}"
    shutil.rmtree(size_dir, ignore_errors=True)
    t0 = time.perf_counter()
    source = Source(args.source_index)
    corpus = write_corpus(source, args.corpus, args.size, size_dir / "corpus", args.seed)
    corpus["write_seconds"] = round(time.perf_counter() - t0, 2)
    say(f"[x{args.size}] corpus: {corpus['documents']} documents, {corpus['mb']} MB "
        f"(written in {corpus['write_seconds']} s)")
    settings = bench_settings(size_dir / "data", model_dir=args.model_dir)
    index_dir = settings.resolved_index_dir
    stand_in = StandInEmbedder(source)
    timer = TimedEmbedder(stand_in)
    embedder = CachedEmbedder(timer, settings.data_dir / "cache" / "vectors.sqlite3")
    load = load_average()
    c0 = time.process_time()
    report = ingest([size_dir / "corpus"], settings, embedder=embedder)
    cpu = time.process_time() - c0
    (index_dir / "STAND-IN-VECTORS.txt").write_text("Built by bench/bench_scale.py: not real embeddings.\n")
    units = report.passages + report.quotes + report.tables
    again = ingest([size_dir / "corpus"], settings, embedder=embedder)  # unchanged: nothing to embed
    out = {
        "size": args.size, "corpus": corpus, "documents": report.documents, "units": units,
        "passages": report.passages, "quotes": report.quotes, "tables": report.tables,
        "vectors": report.embedded, "ingest_seconds": round(report.seconds, 2),
        "ingest_cpu_seconds": round(cpu, 2), "stand_in_seconds": round(timer.seconds, 2),
        "indexing_seconds": round(report.seconds - timer.seconds, 2),
        "reingest_unchanged_seconds": round(again.seconds, 2),
        "stand_in_matched_windows": stand_in.matched, "stand_in_hashed_windows": stand_in.hashed,
        "disk_mb": {"index": dir_size_mb(index_dir), "chroma": dir_size_mb(index_dir / "chroma"),
                    "passages_sqlite": round((index_dir / "passages.sqlite3").stat().st_size / 1e6, 2),
                    "bm25": dir_size_mb(index_dir / "bm25"),
                    "embedding_cache": dir_size_mb(settings.data_dir / "cache"), "corpus": corpus["mb"]},
        "build_peak_rss_mb": peak_rss_mb(), "load_avg": load, "load_avg_after": load_average(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    say(f"[x{args.size}] ingest {out['ingest_seconds']} s ({out['indexing_seconds']} s indexing + "
        f"{out['stand_in_seconds']} s stand-in) for {units} units / {out['vectors']} vectors; "
        f"unchanged re-ingest {out['reingest_unchanged_seconds']} s; index {out['disk_mb']['index']} MB; "
        f"load {load} -> {out['load_avg_after']}")
    return out


def search_worker(args: argparse.Namespace) -> dict[str, Any]:
    import bench_query

    settings = bench_settings(args.work_dir / f"x{args.size}" / "data", model_dir=args.model_dir)
    questions = eval_questions()
    if args.limit:
        questions = questions[: args.limit]
    qargs = argparse.Namespace(runs=args.runs, answer_runs=args.answer_runs, warmup=5, k=10, no_serve=True)
    return {"size": args.size, "questions": len(questions), "load_avg": load_average(),
            **bench_query.run(settings, questions, qargs), "load_avg_after": load_average()}


def run_worker(kind: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    out = args.work_dir / f"{kind}-x{size}.json"
    cmd = python_cmd() + [str(Path(__file__).resolve()), "--worker", kind, "--size", str(size),
                          "--work-dir", str(args.work_dir), "--source-index", str(args.source_index),
                          "--corpus", str(args.corpus), "--runs", str(args.runs),
                          "--answer-runs", str(args.answer_runs), "--limit", str(args.limit),
                          "--seed", str(args.seed), "--out", str(out)]
    if args.model_dir:
        cmd += ["--model-dir", str(args.model_dir)]
    proc = subprocess.run(cmd, env=child_env())
    if proc.returncode != 0:
        raise SystemExit(f"the {kind} worker for x{size} failed ({proc.returncode})")
    return dict(json.loads(out.read_text()))


# ---------------------------------------------------------------------- main
def embed_rate(args: argparse.Namespace, source: Source) -> tuple[float, str]:
    """Vectors/s of the real embedder on the pipeline's window texts."""
    if args.embed_rate > 0:
        return args.embed_rate, "--embed-rate"
    last = latest_result("ingest", args.results_dir)
    if last and last.get("cold", {}).get("vectors_per_s"):
        return float(last["cold"]["vectors_per_s"]), f"bench_ingest result of {last.get('when')}"
    from evidence_finder.models.embedders import make_embedder

    settings = bench_settings(args.work_dir / "rate", model_dir=args.model_dir)
    model = make_embedder(settings)
    texts = source.window_texts[:: max(len(source.window_texts) // 64, 1)][:64]
    model.embed_passages(texts[:8])
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        model.embed_passages(texts)
        rates.append(len(texts) / (time.perf_counter() - t0))
    return statistics.median(rates), "measured here on 64 source windows (median of 3)"


def growth(rows: list[dict[str, Any]], rate: float) -> list[dict[str, Any]]:
    table = []
    for r in rows:
        b, s = r["build"], r["search"]
        extrapolated = b["vectors"] / rate if rate else 0.0
        table.append({
            "size": r["size"], "documents": b["documents"], "units": b["units"], "vectors": b["vectors"],
            "corpus_mb": b["corpus"]["mb"], "indexing_seconds": b["indexing_seconds"],
            "embed_seconds_extrapolated": round(extrapolated, 1),
            "cold_ingest_seconds_projected": round(b["indexing_seconds"] + extrapolated, 1),
            "reingest_unchanged_seconds": b["reingest_unchanged_seconds"],
            "index_mb": b["disk_mb"]["index"], "embedding_cache_mb": b["disk_mb"]["embedding_cache"],
            "search_p50_ms": s["search"]["p50_ms"], "search_p95_ms": s["search"]["p95_ms"],
            "dense_p95_ms": s["search_parts"]["dense_given_vector"]["p95_ms"],
            "bm25_p95_ms": s["search_parts"]["bm25"]["p95_ms"],
            "embed_query_p95_ms": s["search_parts"]["embed_query"]["p95_ms"],
            "answer_p95_ms": s.get("answer", {}).get("p95_ms"),
            "searcher_load_seconds": s["load_seconds"], "serving_peak_rss_mb": s["peak_rss_mb"],
        })
    return table


def print_table(table: list[dict[str, Any]]) -> None:
    cols = [("size", "x"), ("units", "units"), ("vectors", "vectors"), ("indexing_seconds", "index s"),
            ("embed_seconds_extrapolated", "embed s*"), ("reingest_unchanged_seconds", "re-ingest s"),
            ("index_mb", "index MB"), ("search_p50_ms", "p50 ms"), ("search_p95_ms", "p95 ms"),
            ("dense_p95_ms", "dense p95"), ("bm25_p95_ms", "bm25 p95"), ("answer_p95_ms", "answer p95"),
            ("searcher_load_seconds", "load s"), ("serving_peak_rss_mb", "RSS MB")]
    say(" | ".join(h for _, h in cols))
    for row in table:
        say(" | ".join(str(row[k]) for k, _ in cols))
    say("* embedding extrapolated from the real model's measured rate")


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    args = parse_args(argv)
    args.source_index = (args.source_index or Settings().resolved_index_dir).resolve()
    if args.worker:
        out = build_worker(args) if args.worker == "build" else search_worker(args)
        args.out.write_text(json.dumps(out, indent=2))
        return None
    if not (args.source_index / "index.json").exists():
        raise SystemExit(f"no index at {str(args.source_index)!r}: build one with "
                         "`bench/bench_ingest.py --data-dir DIR --keep` and pass --source-index DIR/index")
    load_before = load_average()
    own = args.work_dir is None
    args.work_dir = (Path(tempfile.mkdtemp(prefix="ef-bench-scale-")) if own else args.work_dir).resolve()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    result = envelope("scale", args, load_before)
    try:
        source = Source(args.source_index)
        rate, rate_from = embed_rate(args, source)
        say(f"source: {len(source.passages)} units, {len(source.vectors)} window vectors; real embedding "
            f"rate {rate:.1f} vectors/s ({rate_from}); work dir {args.work_dir}; load {load_before}")
        rows = []
        for size in [int(x) for x in args.sizes.split(",") if x.strip()]:
            built = args.work_dir / f"build-x{size}.json"
            if args.reuse and built.exists() and (args.work_dir / f"x{size}" / "data" / "index").is_dir():
                build = dict(json.loads(built.read_text()))
                say(f"[x{size}] reusing the index built at {build.get('built_at', '?')}")
            else:
                build = run_worker("build", size, args)
            search = run_worker("search", size, args)
            rows.append({"size": size, "build": build, "search": search})
            shutil.rmtree(args.work_dir / f"x{size}" / "corpus", ignore_errors=True)
        result.update({"embed_rate_vectors_per_s": round(rate, 2), "embed_rate_from": rate_from,
                       "stand_in": {"noise_sigma": NOISE_SIGMA, "key_chars": KEY_CHARS},
                       "sizes": rows, "growth": growth(rows, rate), "load_avg_after": load_average()})
        print_table(result["growth"])
        say(f"load average {load_before} -> {result['load_avg_after']}")
        if not args.no_write:
            say(f"wrote {write_result('scale', result, args.results_dir)}")
    finally:
        if own and not args.keep:
            shutil.rmtree(args.work_dir, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
