"""The eval gate's answer floor: gold evidence cited in `ask` answers below the threshold fails."""

from __future__ import annotations

from answer_fixtures import searcher_fixture  # noqa: F401 - fixture
from evidence_finder.cli import _answer_checks

KA2 = "Welke drempels zijn er bij een KA2-aanvraag?"


def _q(gold_text: str) -> dict:
    return {"id": "t1", "question": KA2, "split": "test", "kind": "barrier_enabler",
            "gold": [{"doc": "rapport_pabo.txt", "text": gold_text}]}


def test_answer_gold_coverage_floor(searcher) -> None:  # type: ignore[no-untyped-def]
    floor = {"split=test": {"gold_coverage": 0.5}}
    table, failures = _answer_checks(searcher, [_q("omvangrijke administratie")], floor)
    assert failures == [] and "| gold_coverage split=test | 1.000 |" in table
    _, failures = _answer_checks(searcher, [_q("een zin die in geen enkel rapport staat")], floor)
    assert failures == ["answers split=test gold_coverage = 0.000 < threshold 0.5"]
    _, failures = _answer_checks(searcher, [_q("omvangrijke administratie")], {"split=blind": {"gold_coverage": 0.5}})
    assert failures == ["answers: no questions in group 'split=blind'"]
