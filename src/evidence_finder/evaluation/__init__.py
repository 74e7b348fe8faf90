"""Retrieval and answer evaluation (question sets and reports live in the top-level evals/).

Public names are imported lazily (the runner draws charts with matplotlib): ``import
evidence_finder.evaluation`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, so importing the package stays cheap."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
