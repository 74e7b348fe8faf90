"""Concurrency against the running web chat on 127.0.0.1 (Gradio, in-process, fixture index).

1. 20 simultaneous chat users ask questions in a loop for a bounded time through Gradio's
   queue API (``gradio_client``, endpoint ``/ask``): 0 errors; p50/p95 latency printed and
   written to test-artifacts/concurrency.json.
2. An upload is ingested (slow fake passage embedder) while users keep asking: every ask
   succeeds, none waits for the ingest to finish, and the new document is searchable after.

Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import json
import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evidence_finder.answer.service import AnswerService
from evidence_finder.index.build import ingest
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import Settings
from evidence_finder.ui.app import build
from helpers.fakes import FIXTURE_CORPUS, HashEmbedder
from helpers.served import serving

gradio_client = pytest.importorskip("gradio_client")

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
USERS = 20
DURATION_S = 6.0
QUESTIONS = [
    "Welke drempels zijn er bij een KA2-aanvraag?",
    "what hinders KA2 applications in teacher training",
    "Wat zeggen mbo-studenten over stage in het buitenland?",
    "What hinders teacher mobility?",
    "Hoeveel tijd kost een aanvraag?",
]
UPLOAD_SLEEP_PER_TEXT_S = 0.15  # per passage embedded during the upload's ingest
MAX_ASK_DURING_INGEST_S = 4.0


class SlowPassageEmbedder(HashEmbedder):
    """HashEmbedder whose *passage* embedding is slow (an ingest takes seconds) while query
    embedding stays fast: searching must not wait for an ingest."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = False
        self.passage_calls = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passage_calls += 1
        if self.slow:
            time.sleep(UPLOAD_SLEEP_PER_TEXT_S * len(texts))
        return super().embed_passages(texts)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("concurrency")
    corpus = root / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    settings = Settings(data_dir=root / "data", corpus_dir=corpus)
    embedder = SlowPassageEmbedder()
    assert ingest([corpus], settings, embedder=embedder).documents == 3
    searcher = Searcher(settings, embedder=embedder)
    demo = build(settings, searcher, AnswerService(searcher, settings), embedder=embedder)
    with serving(settings, demo) as url:
        yield {"url": url, "embedder": embedder, "settings": settings, "root": root}


def _client(url: str) -> Any:
    return gradio_client.Client(url, verbose=False, download_files=False)


def _ask(client: Any, question: str) -> tuple[float, str | None]:
    """(seconds, error or None) of one chat question through the queue API."""
    start = time.perf_counter()
    try:
        out = client.predict(question, "answer", [], [], [], [], [], [], "nl", api_name="/ask")
    except Exception as exc:  # noqa: BLE001 - every failure counts as an error
        return time.perf_counter() - start, f"{type(exc).__name__}: {exc}"[:300]
    elapsed = time.perf_counter() - start
    transcript = str(out[0])
    if "ef-error" in transcript or "ef-answer" not in transcript:
        return elapsed, f"no answer in transcript: {transcript[:300]}"
    return elapsed, None


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def _write_artifact(key: str, data: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "concurrency.json"
    try:
        existing = json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError:
        existing = {}
    existing[key] = data
    path.write_text(json.dumps(existing, indent=1))


def test_20_simultaneous_chat_users_get_answers_without_errors(served: dict[str, Any]) -> None:
    url = served["url"]
    latencies: list[float] = []
    errors: list[str] = []
    per_user = [0] * USERS
    lock = threading.Lock()
    start_gate = threading.Barrier(USERS)
    deadline: list[float] = []

    def user(n: int) -> None:
        try:
            client = _client(url)
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors.append(f"user {n} could not connect: {exc}")
            start_gate.abort()
            return
        try:
            start_gate.wait(timeout=60)
        except threading.BrokenBarrierError:
            return
        with lock:
            if not deadline:
                deadline.append(time.monotonic() + DURATION_S)
        i = n
        while time.monotonic() < deadline[0]:
            secs, err = _ask(client, QUESTIONS[i % len(QUESTIONS)])
            i += 1
            with lock:
                latencies.append(secs)
                per_user[n] += 1
                if err:
                    errors.append(f"user {n}: {err}")

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(USERS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DURATION_S + 90)
    wall = time.monotonic() - t0
    assert not any(t.is_alive() for t in threads), "a user never finished"
    assert errors == [], errors[:5]
    assert all(n >= 1 for n in per_user), per_user  # every user got answers
    figures = {
        "users": USERS, "duration_s": DURATION_S, "requests": len(latencies),
        "errors": len(errors), "throughput_rps": round(len(latencies) / DURATION_S, 2),
        "p50_s": round(statistics.median(latencies), 3), "p95_s": round(_pct(latencies, 95), 3),
        "max_s": round(max(latencies), 3), "min_per_user": min(per_user), "wall_s": round(wall, 1),
    }
    _write_artifact("chat_users", figures)
    print(f"\n[concurrency] {USERS} users x {DURATION_S:g} s: {figures['requests']} answers, "
          f"0 errors, p50 {figures['p50_s']} s, p95 {figures['p95_s']} s, max {figures['max_s']} s, "
          f"{figures['throughput_rps']} answers/s")
    assert figures["p95_s"] < 30  # bounded: a queue that never drains would fail here


def test_asking_during_an_upload_ingest_neither_fails_nor_waits_for_it(
        served: dict[str, Any], tmp_path: Path) -> None:
    url, embedder = served["url"], served["embedder"]
    doc = tmp_path / "Zeilreis naar Noorwegen.txt"
    sections = []
    for k in range(6):  # enough text for several embedding calls
        body = " ".join(f"Leerlingen van school {k} zeilden in week {i} met een zeilschip naar Bergen "
                        f"en oefenden daar Engels met Noorse leeftijdgenoten." for i in range(14))
        sections.append(f"{k + 1}. Zeilreis deel {k + 1}\n\n{body}")
    doc.write_text("Zeilreis naar Noorwegen\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")

    uploader = _client(url)
    askers = [_client(url) for _ in range(3)]
    upload_out: dict[str, Any] = {}
    upload_done = threading.Event()

    def do_upload() -> None:
        t = time.perf_counter()
        try:
            upload_out["html"] = uploader.predict(
                [gradio_client.handle_file(str(doc))], "", None, [], "report", "nl", api_name="/upload")
        except Exception as exc:  # noqa: BLE001
            upload_out["error"] = f"{type(exc).__name__}: {exc}"
        upload_out["seconds"] = time.perf_counter() - t
        upload_done.set()

    calls_before = embedder.passage_calls
    embedder.slow = True
    try:
        up = threading.Thread(target=do_upload, daemon=True)
        up.start()
        deadline = time.monotonic() + 30
        while embedder.passage_calls == calls_before and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until the ingest is embedding
        assert embedder.passage_calls > calls_before, upload_out
        during: list[tuple[float, str | None, bool]] = []
        lock = threading.Lock()

        def asker(client: Any, n: int) -> None:
            i = n
            while not upload_done.is_set():
                secs, err = _ask(client, QUESTIONS[i % len(QUESTIONS)])
                i += 1
                with lock:
                    during.append((secs, err, not upload_done.is_set()))

        threads = [threading.Thread(target=asker, args=(c, n), daemon=True) for n, c in enumerate(askers)]
        for t in threads:
            t.start()
        up.join(timeout=120)
        for t in threads:
            t.join(timeout=60)
    finally:
        embedder.slow = False

    assert "error" not in upload_out, upload_out
    assert "ef-status-ok" in str(upload_out["html"]), upload_out
    ingest_s = upload_out["seconds"]
    assert ingest_s > 3  # the ingest really took a while
    errors = [e for _, e, _ in during if e]
    assert errors == [], errors[:3]
    inside = [secs for secs, _, still_ingesting in during if still_ingesting]
    assert len(inside) >= 3, (during, ingest_s)  # answers arrived while the ingest was running
    worst = max(secs for secs, _, _ in during)
    figures = {"ingest_s": round(ingest_s, 2), "asks_during_ingest": len(during),
               "answered_while_ingesting": len(inside),
               "p50_s": round(statistics.median(s for s, _, _ in during), 3), "max_s": round(worst, 3)}
    _write_artifact("ask_during_upload", figures)
    print(f"\n[concurrency] during a {ingest_s:.1f} s upload ingest: {len(during)} answers, 0 errors, "
          f"p50 {figures['p50_s']} s, max {worst:.2f} s")
    assert worst < MAX_ASK_DURING_INGEST_S, figures
    # the uploaded document is searchable at once
    secs, err = _ask(askers[0], "zeilschip naar Bergen Noorse leeftijdgenoten")
    assert err is None
    out = askers[0].predict("zeilschip naar Bergen Noorse leeftijdgenoten", "answer", [], [], [], [], [], [],
                            "nl", api_name="/ask")
    assert "Zeilreis_naar_Noorwegen.txt" in str(out[1]), str(out[1])[:500]
