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


def test_a_reload_during_a_search_does_not_mix_two_index_states(
    built_index, hash_embedder, corpus_copy
) -> None:
    """A search that started before an ingest + reload finishes on the index it started with:
    row numbers from the old passage list must never be looked up in the new one."""
    from evidence_finder.ingest.pipeline import ingest

    s = Searcher(built_index, embedder=hash_embedder)
    question = "Welke drempels zijn er bij een KA2-aanvraag?"
    before = [(h.passage.id, h.passage.text) for h in s.search(question, k=8).hits]
    assert s.passages[0].doc_id == "english_note.md"  # removing it shifts every row number

    real_lexical = s.lexical

    def lexical_then_reload(*args, **kwargs):
        got = real_lexical(*args, **kwargs)
        (corpus_copy / "english_note.md").unlink()  # the index shrinks mid-search
        ingest([corpus_copy], built_index, embedder=hash_embedder)
        s.reload()
        return got

    s.lexical = lexical_then_reload  # type: ignore[method-assign]
    during = [(h.passage.id, h.passage.text) for h in s.search(question, k=8).hits]
    assert during == before
    s.lexical = real_lexical  # type: ignore[method-assign]
    after = s.search(question, k=8).hits
    assert after and not any(h.passage.doc_id == "english_note.md" for h in after)
    assert "english_note.md" not in s.metas  # the new snapshot is in use
