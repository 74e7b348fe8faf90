"""Crash safety: an ingest killed at any point, then run again, equals one clean ingest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidence_finder.index.build import ingest
from evidence_finder.index.store import IndexIdentity
from evidence_finder.settings import Settings
from helpers.fakes import HashEmbedder
from helpers.index_state import index_state, make_generated_corpus
from helpers.kill import kill_ingest_at

BATCH = 4


def _vectors_left(settings: Settings) -> set[str]:
    """Ids in the Chroma collection a killed run left behind (it had no index.json yet)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(  # same settings as IndexStore, or Chroma refuses
        path=str(settings.resolved_index_dir / "chroma"),
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
    )
    name = IndexIdentity.from_settings(settings, HashEmbedder.id).collection
    return set(client.get_collection(name).get(include=[])["ids"])


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("clean_run")
    corpus = make_generated_corpus(root / "corpus", reports=4, sections=6, sentences=9, attribution=True)
    settings = Settings(data_dir=root / "data", index_dir=root / "index")
    report = ingest([corpus], settings, embedder=HashEmbedder())
    assert report.documents == 7 and not report.skipped
    assert report.embedded > 6 * BATCH  # the subprocess needs more than six batches
    state = index_state(settings, with_vectors=True)
    assert len(state["owned"]) == report.embedded  # type: ignore[arg-type]
    return corpus, state


@pytest.mark.parametrize("kill_at", ["batch 2", "batch 4", "bm25"], ids=["early", "middle", "late"])
def test_killed_ingest_then_rerun_equals_a_clean_ingest(
    kill_at: str, tmp_path: Path, clean_run: tuple[Path, dict[str, object]], settings: Settings
) -> None:
    corpus_src, expected = clean_run
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_src, corpus)
    index_dir = tmp_path / "index"
    # killed inside the sleep of that batch / of the BM25 step
    seen = kill_ingest_at(corpus, index_dir, kill_at, 0.05,
                          ["--sleep", "0.15", "--batch", str(BATCH), "--pause-bm25", "30"], timeout=25)
    assert "done" not in " ".join(seen)
    assert (index_dir / "chroma").exists()  # it got far enough to write vectors

    resumed_settings = settings.model_copy(update={"index_dir": index_dir})
    kept = _vectors_left(resumed_settings)
    expected_ids = set(expected["owned"])  # type: ignore[call-overload]
    assert kept and kept <= expected_ids  # the batches finished before the kill were stored
    report = ingest([corpus], resumed_settings, embedder=HashEmbedder())
    assert report.documents == 7 and not report.skipped
    assert report.embedded == len(expected_ids - kept)  # only what was missing is embedded
    if kill_at == "bm25":
        assert report.embedded == 0  # every vector was stored before the kill
    state = index_state(resumed_settings, with_vectors=True)
    assert state["bm25_fresh"]
    assert state["sqlite_ids"] == state["bm25_ids"]
    assert state["chroma_ids"] == state["owned"]  # the vectors of exactly the stored units
    assert len(set(state["sqlite_ids"])) == len(state["sqlite_ids"])  # type: ignore[arg-type]
    assert {k: v for k, v in state.items() if k != "docs"} == {
        k: v for k, v in expected.items() if k != "docs"}
    assert sorted(state["docs"]) == sorted(expected["docs"])  # type: ignore[call-overload]
