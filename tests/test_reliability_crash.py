"""Crash safety under random kills: 10 ingests SIGKILLed at seeded-random points, each then
completed by a normal run, must each end identical to one clean ingest — same documents,
passage ids and hashes in SQLite, Chroma ids == the stored units' vector ids (no orphans, no
duplicates), BM25 ids == SQLite ids.

tests/test_crash_safety.py kills at three fixed points and also compares the vectors
themselves; this module samples the whole run (any embedding batch, between a document's
vectors and its SQLite write, the BM25 rebuild) at random offsets. The points are drawn from
a fixed seed, so a failure reproduces: the trial's id names its kill point.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from evidence_finder.index.build import ingest
from evidence_finder.settings import IndexSettings, Settings
from helpers.fakes import HashEmbedder
from helpers.index_state import assert_consistent, index_state, make_generated_corpus
from helpers.kill import kill_ingest_at

SEED = 1205
TRIALS = 10
BATCH = 4
SLEEP = 0.04  # seconds per embedding batch in the killed run
PAUSE_STORE = 0.03  # seconds between a document's vectors and its SQLite rows


def _kill_points(n_batches: int, docs: list[str]) -> list[tuple[str, float]]:
    """TRIALS (marker, delay after it) pairs, seeded: one in each stage of the run (an
    embedding batch, a document's SQLite write, BM25), the rest anywhere."""
    rng = random.Random(SEED)
    batches = [f"batch {k}" for k in range(1, n_batches + 1)]
    stores = [f"store {d}" for d in docs]
    markers = [rng.choice(batches), rng.choice(stores), "bm25"]
    markers += [rng.choice(batches + stores + ["bm25"]) for _ in range(TRIALS - len(markers))]
    return [(m, round(rng.uniform(0.0, 1.5 * SLEEP), 3)) for m in markers]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("crash_clean")
    corpus = make_generated_corpus(root / "corpus", reports=2, sections=4, sentences=8)
    settings = Settings(data_dir=root / "data", index_dir=root / "index",
                        index=IndexSettings(embed_batch=BATCH))  # same batches as the killed runs
    embedder = HashEmbedder()
    report = ingest([corpus], settings, embedder=embedder)
    assert report.documents == 5 and not report.skipped
    state = index_state(settings)
    assert_consistent(state)
    assert len(state["owned"]) == report.embedded
    return {"corpus": corpus, "state": state, "batches": embedder.calls, "docs": sorted(state["docs"])}


def _run_until_killed(corpus: Path, index_dir: Path, marker: str, delay: float) -> list[str]:
    return kill_ingest_at(corpus, index_dir, marker, delay, [
        "--sleep", str(SLEEP), "--batch", str(BATCH), "--pause-bm25", "5",
        "--pause-store", str(PAUSE_STORE)])


def test_kill_points_are_reproducible_and_cover_the_run(clean: dict[str, Any]) -> None:
    points = _kill_points(clean["batches"], clean["docs"])
    assert points == _kill_points(clean["batches"], clean["docs"])  # seeded
    assert len(points) == TRIALS and clean["batches"] >= 6
    stages = {m.split()[0] for m, _ in points}
    assert stages == {"batch", "store", "bm25"}, points  # the seed samples every stage


@pytest.mark.parametrize("trial", range(TRIALS))
def test_random_sigkill_then_rerun_equals_one_clean_ingest(
        trial: int, clean: dict[str, Any], tmp_path: Path) -> None:
    marker, delay = _kill_points(clean["batches"], clean["docs"])[trial]
    corpus = tmp_path / "corpus"
    shutil.copytree(clean["corpus"], corpus)
    index_dir = tmp_path / "index"
    seen = _run_until_killed(corpus, index_dir, marker, delay)
    assert not any(s.startswith("done") for s in seen), f"{marker} +{delay}s: the run finished"

    settings = Settings(data_dir=tmp_path / "data", index_dir=index_dir,
                        index=IndexSettings(embed_batch=BATCH))
    report = ingest([corpus], settings, embedder=HashEmbedder())
    assert report.documents == 5 and not report.skipped, (marker, delay, report.summary())
    state = index_state(settings)
    assert_consistent(state)
    expected = clean["state"]
    assert sorted(state["docs"]) == sorted(expected["docs"])
    assert state["docs"] == expected["docs"]  # same files, same hashes
    assert state["sqlite"] == expected["sqlite"], (marker, delay)  # passage ids + hashes
    assert state["sqlite_ids"] == expected["sqlite_ids"]  # same order, no duplicates
    assert state["chroma_ids"] == expected["owned"], (marker, delay)  # no orphans, none missing
    assert state["chroma_hash"] == expected["chroma_hash"]
    assert state["bm25_ids"] == state["sqlite_ids"]
    assert state == expected
    # a second run changes nothing: the repaired index is a stable one
    again = ingest([corpus], settings, embedder=HashEmbedder())
    assert (again.embedded, again.processed, again.unchanged) == (0, 0, 5)
    assert index_state(settings) == expected
