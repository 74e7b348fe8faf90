"""The package layout follows the data flow: each stage imports only earlier stages.

Order: the shared base (types, settings, errors, text) → models → ingest → index →
retrieval → answer → evaluation → ui → cli. A module may import its own stage and earlier
ones, never a later one (``import`` statements anywhere in the file, lazy ones included).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "evidence_finder"
BASE = ("__init__", "_lazy", "types", "settings", "errors", "text")
ORDER = ("models", "ingest", "index", "retrieval", "answer", "evaluation", "ui", "cli")


def stage_of(module: str) -> int:
    """0 for the shared base, then 1.. in data-flow order."""
    top = module.split(".")[0]
    if top in BASE:
        return 0
    return ORDER.index(top) + 1


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "evidence_finder":
                names = [f"evidence_finder.{a.name}" for a in node.names]
            out += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(line, n.removeprefix("evidence_finder.")) for line, n in out
            if n.startswith("evidence_finder.")]


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_stage() -> None:
    for path in modules():
        rel = path.relative_to(PACKAGE).with_suffix("")
        stage_of(".".join(rel.parts))  # raises ValueError for an unplaced top-level module


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_from_a_later_stage(path: Path) -> None:
    rel = path.relative_to(PACKAGE).with_suffix("")
    own = stage_of(".".join(rel.parts))
    late = [f"line {line}: {mod}" for line, mod in imported_modules(path) if stage_of(mod) > own]
    assert not late, f"{rel} imports from a later stage: {late}"


def test_the_rule_catches_a_late_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from evidence_finder.answer.service import AnswerService\n")
    assert [stage_of(m) for _, m in imported_modules(bad)] == [ORDER.index("answer") + 1]
    assert stage_of("index.store") > stage_of("ingest.chunk") > stage_of("models.embedders")
