"""The llama-index seam: EvidenceRetriever ranks exactly as Searcher.search, and the query
engine's source nodes are exactly the answer's verified citations; the README example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.llms.mock import MockLLM
from llama_index.core.query_engine import BaseQueryEngine, RetrieverQueryEngine

from answer_fixtures import abstaining, searcher_fixture, service_fixture  # noqa: F401
from evidence_finder.answer.llamaindex import EvidenceQueryEngine
from evidence_finder.answer.service import AnswerService
from evidence_finder.retrieval.llamaindex import EvidenceRetriever
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
QUESTIONS = [
    "Welke drempels zijn er bij een KA2-aanvraag?",
    "Worden studenten zelfstandiger door een stage in het buitenland?",
    "What hinders teacher mobility?",
    "stage buitenland",
]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_the_retriever_ranks_exactly_as_searcher_search(searcher: Searcher, mode: str) -> None:
    retriever = EvidenceRetriever(searcher, mode=mode)
    assert isinstance(retriever, BaseRetriever)
    for q in QUESTIONS:
        hits = searcher.search(q, k=10, mode=mode).hits
        nodes = retriever.retrieve(q)
        assert [n.node.node_id for n in nodes] == [h.passage.id for h in hits], q
        assert [n.score for n in nodes] == [pytest.approx(h.score) for h in hits]
        assert [n.node.get_content() for n in nodes] == [h.passage.text for h in hits]


def test_retriever_nodes_carry_the_passage_location(searcher: Searcher) -> None:
    q = QUESTIONS[0]
    top = searcher.search(q).hits[0]
    node = EvidenceRetriever(searcher).retrieve(q)[0].node
    p = top.passage
    assert node.metadata["doc_id"] == p.doc_id == "rapport_pabo.txt"
    assert node.metadata["title"] == top.title == "Internationalisering op de pabo"
    assert (node.metadata["section"], node.metadata["page"], node.metadata["kind"]) == (p.section, p.page, p.kind)
    assert (node.metadata["char_start"], node.metadata["char_end"]) == (p.char_start, p.char_end)
    assert node.metadata["abstain"] is False
    assert node.metadata["score_dense"] == pytest.approx(top.scores["dense"])
    # offsets and scores stay out of what a model reads; title and section go in
    for_llm = node.get_content(metadata_mode="llm")  # type: ignore[arg-type]
    assert "char_start" not in for_llm and "score_" not in for_llm and "Internationalisering op de pabo" in for_llm


def test_retriever_k_filters_and_top_k_setting(searcher: Searcher, built_index: Settings) -> None:
    q = "stage buitenland"
    quotes = EvidenceRetriever(searcher, k=2, filters=Filters(kinds=["quote"])).retrieve(q)
    assert [n.node.node_id for n in quotes] == [
        h.passage.id for h in searcher.search(q, k=2, filters=Filters(kinds=["quote"])).hits]
    assert quotes and all(n.node.metadata["kind"] == "quote" for n in quotes)
    one = built_index.model_copy(update={"retrieval": built_index.retrieval.model_copy(update={"top_k": 1})})
    assert len(EvidenceRetriever(Searcher(one, embedder=searcher.embedder)).retrieve(q)) == 1


def test_the_retriever_reports_an_abstention(searcher: Searcher) -> None:
    nodes = EvidenceRetriever(abstaining(searcher)).retrieve(QUESTIONS[0])
    assert nodes and all(n.node.metadata["abstain"] is True for n in nodes)


def test_the_retriever_plugs_into_a_llama_index_query_engine(searcher: Searcher) -> None:
    engine = RetrieverQueryEngine.from_args(EvidenceRetriever(searcher), llm=MockLLM())
    response = engine.query(QUESTIONS[0])
    assert [n.node.node_id for n in response.source_nodes] == [
        h.passage.id for h in searcher.search(QUESTIONS[0]).hits]


def test_from_settings_opens_the_configured_index(built_index: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    retriever = EvidenceRetriever.from_settings(built_index)
    expected = Searcher(built_index, embedder=hash_embedder).search(QUESTIONS[0]).hits
    assert [n.node.node_id for n in retriever.retrieve(QUESTIONS[0])] == [h.passage.id for h in expected]


@pytest.mark.parametrize("mode", ["answer", "quotes"])
def test_query_engine_source_nodes_are_exactly_the_verified_citations(
        service: AnswerService, mode: str) -> None:
    engine = EvidenceQueryEngine(service=service, mode=mode)  # type: ignore[arg-type]
    assert isinstance(engine, BaseQueryEngine)
    for q in QUESTIONS[:3]:
        answer = service.ask(q, mode=mode)  # type: ignore[arg-type]
        response = engine.query(q)
        assert isinstance(response, Response)
        assert response.response == answer.text
        assert answer.citations, q
        assert [n.node.metadata["citation"] for n in response.source_nodes] == [c.n for c in answer.citations]
        assert [n.node.get_content() for n in response.source_nodes] == [c.text for c in answer.citations]
        for node, c in zip(response.source_nodes, answer.citations, strict=True):
            meta = node.node.metadata
            passage = c.passage
            # a verbatim span of the cited passage, at the offsets the metadata gives
            assert passage.text[meta["start"]:meta["end"]] == node.node.get_content()
            assert (meta["doc_id"], meta["passage_id"], meta["title"]) == (passage.doc_id, passage.id, c.title)
            assert meta["passage_char_start"] <= meta["char_start"] < meta["char_end"] <= meta["passage_char_end"]
            assert node.score == pytest.approx(next(h.score for h in answer.hits if h.passage.id == passage.id))
        assert response.metadata is not None and response.metadata["abstained"] is False
        assert response.metadata["mode"] == mode


def test_query_engine_spans_are_in_the_source_document(service: AnswerService) -> None:
    response = EvidenceQueryEngine(service=service).query(QUESTIONS[0])
    source = (Path(__file__).parent / "data" / "corpus" / "rapport_pabo.txt").read_text(encoding="utf-8")
    first = response.source_nodes[0].node
    assert first.metadata["doc_id"] == "rapport_pabo.txt"
    span = source[first.metadata["char_start"]:first.metadata["char_end"]]
    assert " ".join(first.get_content().split()) in " ".join(span.split())


def test_an_abstaining_query_engine_cites_nothing(searcher: Searcher, built_index: Settings) -> None:
    engine = EvidenceQueryEngine(service=AnswerService(abstaining(searcher), built_index))
    response = engine.query(QUESTIONS[0])
    assert response.source_nodes == []
    assert response.metadata is not None and response.metadata["abstained"] is True
    assert str(response) == AnswerService(searcher, built_index).ask(QUESTIONS[0]).text


def test_query_engine_filters_reach_the_search(service: AnswerService) -> None:
    engine = EvidenceQueryEngine(service=service, filters=Filters(docs=["factsheet_mbo.txt"]))
    response = engine.query("stage buitenland")
    assert response.source_nodes
    assert {n.node.metadata["doc_id"] for n in response.source_nodes} == {"factsheet_mbo.txt"}


def _readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Using Evidence Finder from llama-index", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the README section has one Python example"
    return blocks[0]


def test_the_readme_example_runs_on_the_fixture_index(built_index: Settings, hash_embedder,  # type: ignore[no-untyped-def]
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # The example opens the configured index: conftest points EVIDENCE_DATA_DIR at built_index's.
    namespace: dict[str, object] = {}
    exec(compile(_readme_example(), str(README), "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out.splitlines()
    assert out[0].split(" ", 1)[1] == "rapport_pabo.txt Internationalisering op de pabo"  # top hit
    assert out[3] == "**Belemmeringen**"  # the answer: findings grouped by role
    assert out[4].startswith("- Pabo-rapport: Specifiek voor KA2 geldt als grote drempel")
    assert out[4].endswith("[1]")
    assert any(line.startswith("[1] Internationalisering op de pabo | Specifiek voor KA2") for line in out)
