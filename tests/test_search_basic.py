from __future__ import annotations

from evidence_finder.retrieval.search import Filters, Searcher, rrf


def test_rrf_weights_and_order() -> None:
    fused = rrf([([1, 2, 3], 1.0), ([3, 1], 0.5)], k=60)
    assert sorted(fused, key=lambda i: -fused[i]) == [1, 3, 2]
    assert abs(fused[2] - 1 / 62) < 1e-12


def test_search_finds_ka2_barrier(built_index, hash_embedder) -> None:
    s = Searcher(built_index, embedder=hash_embedder)
    res = s.search("Welke drempels zijn er bij een KA2-aanvraag?", k=3)
    top = res.hits[0].passage
    assert (top.doc_id, top.kind) == ("rapport_pabo.txt", "passage")
    # the quote ranked high on its own, but is shown inside its passage, once
    assert "omvangrijke administratie" in top.text and "KA2-aanvraag ging" in top.text
    assert not any("KA2-aanvraag ging" in h.passage.text for h in res.hits[1:])


def test_kind_and_doc_filters(built_index, hash_embedder) -> None:
    s = Searcher(built_index, embedder=hash_embedder)
    res = s.search("stage buitenland", k=5, filters=Filters(kinds=["quote"]))
    assert res.hits and all(h.passage.kind == "quote" for h in res.hits)
    res = s.search("stage buitenland", k=5, filters=Filters(sectors=["MBO"]))
    assert {h.passage.doc_id for h in res.hits} == {"factsheet_mbo.txt"}
