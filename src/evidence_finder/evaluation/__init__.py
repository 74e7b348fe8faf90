"""Retrieval and answer evaluation (question sets and reports live in the top-level evals/).

Public names are imported lazily (the runner draws charts with matplotlib): ``import
evidence_finder.evaluation`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence_finder._lazy import lazy_exports

if TYPE_CHECKING:
    from evidence_finder.evaluation.answers import check_answer, summarise_checks
    from evidence_finder.evaluation.metrics import judge, summarise
    from evidence_finder.evaluation.runner import EvalRun, gate, load_questions, run

__all__ = [
    "EvalRun",
    "check_answer",
    "gate",
    "judge",
    "load_questions",
    "run",
    "summarise",
    "summarise_checks",
]

_EXPORTS = {
    "EvalRun": "runner",
    "gate": "runner",
    "load_questions": "runner",
    "run": "runner",
    "judge": "metrics",
    "summarise": "metrics",
    "check_answer": "answers",
    "summarise_checks": "answers",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
