"""Findings answers keep the search's best passages: a top-ranked passage that states no
barrier or success factor still gives its best sentence (on the fixture corpus)."""

from __future__ import annotations

import dataclasses

from answer_fixtures import searcher_fixture, service_fixture  # noqa: F401 - fixtures
from evidence_finder.answer.findings import FindingOptions, compose_findings
from evidence_finder.answer.service import AnswerService
from evidence_finder.ingest.roles import sentence_role

KA2 = "Welke drempels zijn er bij een KA2-aanvraag?"


def test_the_best_ranked_passage_is_cited_whatever_its_role(service: AnswerService, searcher) -> None:  # type: ignore[no-untyped-def]
    result = searcher.search(KA2)
    # put a passage without any barrier or success-factor sentence first, as a search may rank it
    plain = next(h for h in result.hits if not {sentence_role(s, h.passage.section) for s in
                                                h.passage.text.split(". ")} & {"barrier", "enabler"})
    hits = [plain, *[h for h in result.hits if h is not plain]]
    result = dataclasses.replace(result, hits=hits)
    composer = service.composer()
    without = compose_findings(composer, KA2, result, FindingOptions(lead_passages=0, min_findings=0))
    with_lead = compose_findings(composer, KA2, result, FindingOptions(lead_passages=1, min_findings=0))
    assert without is not None and with_lead is not None
    assert plain.passage.id not in {c.passage.id for c in without.citations}
    assert plain.passage.id in {c.passage.id for c in with_lead.citations}
    # the barriers are still there, and the answer is no longer than allowed
    assert {c.passage.id for c in without.citations} <= {c.passage.id for c in with_lead.citations}
    assert len(with_lead.citations) <= FindingOptions().max_findings * 3


def test_a_full_answer_keeps_every_lead_passage(service: AnswerService, searcher) -> None:  # type: ignore[no-untyped-def]
    result = searcher.search(KA2)
    composer = service.composer()
    top = {h.passage.id for h in result.hits[:3]}
    roomy = compose_findings(composer, KA2, result, FindingOptions(min_findings=0, lead_passages=3))
    assert roomy is not None
    leads = top & {c.passage.id for c in roomy.citations}
    assert len(leads) >= 2
    # room for as many findings as there are leads: each lead replaces a finding from outside
    # the top passages, never another lead
    full = compose_findings(composer, KA2, result,
                            FindingOptions(max_findings=len(leads), min_findings=0, lead_passages=3))
    assert full is not None
    assert leads <= {c.passage.id for c in full.citations}
