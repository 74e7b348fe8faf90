from __future__ import annotations

import pytest

from evidence_finder.retrieval.retrievers import feedback_terms
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
    from evidence_finder.index.build import ingest

    s = Searcher(built_index, embedder=hash_embedder)
    question = "Welke drempels zijn er bij een KA2-aanvraag?"
    before = [(h.passage.id, h.passage.text) for h in s.search(question, k=8).hits]
    assert s.snapshot().passages[0].doc_id == "english_note.md"  # removing it shifts every row number

    real_lexical = s.lexical_retriever.retrieve

    def lexical_then_reload(*args, **kwargs):
        got = real_lexical(*args, **kwargs)
        (corpus_copy / "english_note.md").unlink()  # the index shrinks mid-search
        ingest([corpus_copy], built_index, embedder=hash_embedder)
        s.reload()
        return got

    s.lexical_retriever.retrieve = lexical_then_reload  # type: ignore[method-assign]
    during = [(h.passage.id, h.passage.text) for h in s.search(question, k=8).hits]
    assert during == before
    s.lexical_retriever.retrieve = real_lexical  # type: ignore[method-assign]
    after = s.search(question, k=8).hits
    assert after and not any(h.passage.doc_id == "english_note.md" for h in after)
    assert "english_note.md" not in s.snapshot().metas  # the new snapshot is in use


def test_asks_for_quotes_in_both_languages() -> None:
    from evidence_finder.retrieval.search import asks_for_quotes

    assert asks_for_quotes("Citaat van een coördinator over de KA2-aanvraag")
    assert asks_for_quotes("quote from a teacher about language barriers")
    assert asks_for_quotes("Wat zegt een docent over de werkdruk?")
    assert asks_for_quotes("what did respondents say about funding")
    assert not asks_for_quotes("Welke drempels zijn er bij een KA2-aanvraag?")
    assert not asks_for_quotes("what hinders KA2 applications in teacher training")


def test_a_question_asking_for_quotes_ranks_quote_units_higher(built_index, hash_embedder) -> None:
    question = "citaat coördinator KA2-aanvraag administratie drempel"
    plain = Searcher(built_index.model_copy(update={"retrieval": built_index.retrieval.model_copy(
        update={"quote_boost": 1.0})}), embedder=hash_embedder)
    boosted = Searcher(built_index.model_copy(update={"retrieval": built_index.retrieval.model_copy(
        update={"quote_boost": 3.0})}), embedder=hash_embedder)
    only_quotes = Filters(kinds=["quote"])
    a = plain.search(question, k=5, filters=only_quotes).hits
    b = boosted.search(question, k=5, filters=only_quotes).hits
    assert a and [h.passage.id for h in a] == [h.passage.id for h in b]
    for x, y in zip(a, b):
        assert y.score == pytest.approx(3.0 * x.score)
    other = boosted.search("KA2-aanvraag administratie drempel", k=5, filters=only_quotes).hits
    assert [h.score for h in other] == pytest.approx(
        [h.score for h in plain.search("KA2-aanvraag administratie drempel", k=5, filters=only_quotes).hits])


def test_feedback_terms_come_from_the_top_passages_not_the_query(built_index, hash_embedder) -> None:
    s = Searcher(built_index, embedder=hash_embedder)
    pabo = [p.text for p in s.snapshot().passages if p.doc_id == "rapport_pabo.txt" and p.kind == "passage"]
    terms = feedback_terms("drempels KA2-aanvraag", pabo[:2], s.snapshot(), s.settings.retrieval.feedback_terms)
    assert terms and len(terms) <= s.settings.retrieval.feedback_terms
    assert not {"drempel", "ka2", "aanvrag"} & set(terms)  # the question's own (stemmed) words
    assert all(len(t) >= 3 and not t.isdigit() for t in terms)
    assert s.snapshot().bm25.idf(terms[0]) > 0 and s.snapshot().bm25.idf("woorddatnergensvoorkomt") == 0.0
    # feedback on: a second BM25 run joins the fusion; results stay well-formed
    on = Searcher(built_index.model_copy(update={"retrieval": built_index.retrieval.model_copy(
        update={"feedback_weight_nl": 1.0})}), embedder=hash_embedder)
    res = on.search("Welke drempels zijn er bij een KA2-aanvraag?", k=3)
    assert res.hits[0].passage.doc_id == "rapport_pabo.txt"


def test_interview_guides_and_questionnaires_rank_below_findings(built_index, hash_embedder,
                                                                 corpus_copy) -> None:
    from evidence_finder.index.build import ingest
    from evidence_finder.retrieval.search import is_question_list

    assert is_question_list("Inleidende vragen\n\nWelke drempels zijn er bij een KA2-aanvraag? "
                            "Wie schrijft de aanvraag bij u op school? Hoeveel tijd kost dat?")
    assert not is_question_list("Welke drempels zijn er? Specifiek voor KA2 geldt als grote drempel de "
                                "omvangrijke administratie. Dat ontmoedigt docenten en coördinatoren.")
    assert not is_question_list("Welke drempels zijn er bij een KA2-aanvraag?")  # one line: a heading

    (corpus_copy / "topiclijst.txt").write_text(
        "Topiclijst interviews\n\nWelke drempels zijn er bij een KA2-aanvraag op uw opleiding? "
        "Welke drempels ervaren docenten en coördinatoren bij de aanvraag? "
        "Hoe groot is de administratie van een KA2-aanvraag?\n", encoding="utf-8")
    ingest([corpus_copy], built_index, embedder=hash_embedder)
    question = "Welke drempels zijn er bij een KA2-aanvraag?"
    plain = Searcher(built_index.model_copy(update={"retrieval": built_index.retrieval.model_copy(
        update={"question_list_penalty": 0.0, "role_boost": 0.0, "boilerplate_demote": 0.0})}),
        embedder=hash_embedder)
    assert plain.search(question, k=3).hits[0].passage.doc_id == "topiclijst.txt"  # it echoes the words
    hits = Searcher(built_index, embedder=hash_embedder).search(question, k=10).hits
    assert hits[0].passage.doc_id == "rapport_pabo.txt"
    assert "topiclijst.txt" in {h.passage.doc_id for h in hits[3:]}  # still found, below the findings
