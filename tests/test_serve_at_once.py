"""`evidence serve` on a first run: the chat answers from BM25 while the dense index is built
in a background thread, switches to hybrid retrieval when it is done, and a build stopped
midway is finished by the next start with the same index as one clean build."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from evidence_finder.index.build import dense_pending, ingest
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import IndexSettings, Settings
from evidence_finder.ui.app import build_note
from evidence_finder.ui.backend import Backend
from helpers.fakes import HashEmbedder
from helpers.index_state import assert_consistent, index_state, make_generated_corpus
from helpers.kill import kill_ingest_at

KA2 = "Welke drempels ervaren lerarenopleidingen bij KA2-aanvragen?"


class GatedEmbedder(HashEmbedder):
    """Embeds nothing until ``gate`` opens, so a test can ask while the build is under way;
    a search that tried dense retrieval then would hang on it and fail."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.started = threading.Event()

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return super().embed_batch(texts)


def test_a_question_during_the_background_build_gets_a_bm25_answer(
        settings: Settings, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emb = GatedEmbedder()
    import evidence_finder.models.embedders as embedders

    monkeypatch.setattr(embedders, "make_embedder", lambda s: emb)
    monkeypatch.setattr(embedders, "embedder_spec", lambda s: (emb.id, emb.query_prefix, emb.passage_prefix))
    settings = settings.model_copy(update={"index": IndexSettings(embed_batch=4)})

    text = ingest([corpus_copy], settings, embed=False)  # what serve does before the chat comes up
    assert text.documents == 3 and text.embedded == 0
    assert dense_pending(settings.resolved_index_dir)

    backend = Backend(settings, embedder=emb)
    backend.build_in_background([corpus_copy])
    assert emb.started.wait(30)
    assert backend.build.running and backend.build.done == 0 and backend.build.total > 4
    assert build_note(backend, "en") == (f"Indexing 0 of {backend.build.total} passages — answers improve "
                                         "when this is done (keyword search until then).")

    turn = list(backend.ask(KA2, Filters(), "answer"))[-1]  # asked while the build waits at the gate
    assert turn.answer is not None and turn.answer.citations and not turn.error
    searcher = backend.searcher()
    assert searcher.lexical_only
    bm25 = Searcher(settings, embedder=emb).search(KA2, mode="bm25")
    assert [h.passage.id for h in searcher.search(KA2).hits] == [h.passage.id for h in bm25.hits]
    assert all(h.scores["dense"] == 0.0 for h in searcher.search(KA2).hits)

    emb.gate.set()
    assert backend.wait_for_build(60)
    assert not backend.build.running and not backend.build.error and build_note(backend, "en") == ""
    assert not searcher.lexical_only and not dense_pending(settings.resolved_index_dir)
    hits = backend.searcher().search(KA2).hits
    assert any(h.scores["dense"] > 0 for h in hits)  # hybrid now, without a restart

    state = index_state(settings, with_vectors=True)
    assert_consistent(state)
    clean = settings.model_copy(update={"index_dir": settings.data_dir / "clean-index"})
    ingest([corpus_copy], clean, embedder=HashEmbedder())
    assert index_state(clean, with_vectors=True) == state


def test_a_killed_background_build_is_finished_by_the_next_start(tmp_path: Path) -> None:
    corpus = make_generated_corpus(tmp_path / "corpus", reports=2, sections=4, sentences=8)
    clean = Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "clean",
                     index=IndexSettings(embed_batch=4))
    ingest([corpus], clean, embedder=HashEmbedder())
    want = index_state(clean, with_vectors=True)

    index_dir = tmp_path / "index"
    seen = kill_ingest_at(corpus, index_dir, "batch 3", 0.02,
                          ["--sleep", "0.05", "--batch", "4", "--text-first"])
    assert seen[-1] == "batch 3" and "text done" in seen and not any(s.startswith("done") for s in seen)
    assert dense_pending(index_dir)
    settings = Settings(data_dir=tmp_path / "data", index_dir=index_dir, index=IndexSettings(embed_batch=4))
    half = index_state(settings, with_vectors=True)
    assert half["sqlite"] == want["sqlite"] and half["bm25_ids"] == want["bm25_ids"]  # BM25-ready
    assert 0 < len(half["chroma_ids"]) < len(want["chroma_ids"])

    # The next start: the text pass finds nothing new, the build embeds only what is missing.
    emb = HashEmbedder()
    assert ingest([corpus], settings, embedder=emb, embed=False).embedded == 0
    report = ingest([corpus], settings, embedder=emb)
    assert report.embedded == len(want["chroma_ids"]) - len(half["chroma_ids"])
    assert not dense_pending(index_dir)
    got = index_state(settings, with_vectors=True)
    assert_consistent(got)
    assert got == want
    shutil.rmtree(index_dir)
