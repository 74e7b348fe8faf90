"""Each package states its public API in ``__all__``; importing a package stays cheap."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

PACKAGES = ("text", "models", "ingest", "index", "retrieval", "answer", "evaluation", "ui")
HEAVY = ("numpy", "torch", "transformers", "sentence_transformers", "chromadb", "gradio", "llama_index",
         "matplotlib", "pymupdf")


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_resolves_to_the_package_own_code(name: str) -> None:
    pkg = importlib.import_module(f"evidence_finder.{name}")
    assert pkg.__all__ and len(set(pkg.__all__)) == len(pkg.__all__)
    for public in pkg.__all__:
        obj = getattr(pkg, public)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and public != "ComposerOptions":
            # (the composer's options are a settings section, defined in settings.py)
            assert obj.__module__.startswith(f"evidence_finder.{name}."), (public, obj.__module__)
        assert public in dir(pkg)
    star: dict[str, object] = {}
    exec(f"from evidence_finder.{name} import *", star)  # noqa: S102
    assert set(pkg.__all__) <= set(star)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import evidence_finder.retrieval as retrieval

    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        retrieval.Nope  # type: ignore[attr-defined]  # noqa: B018


def test_importing_the_packages_pulls_no_heavy_library() -> None:
    code = ("import sys\n" + "".join(f"import evidence_finder.{p}\n" for p in PACKAGES)
            + f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_public_names_match_the_submodules() -> None:
    from evidence_finder.answer import AnswerService, EvidenceQueryEngine
    from evidence_finder.answer.llamaindex import EvidenceQueryEngine as engine
    from evidence_finder.answer.service import AnswerService as service
    from evidence_finder.retrieval import EvidenceRetriever, Searcher
    from evidence_finder.retrieval.llamaindex import EvidenceRetriever as retriever
    from evidence_finder.retrieval.search import Searcher as searcher

    assert (AnswerService, EvidenceQueryEngine, EvidenceRetriever, Searcher) == (
        service, engine, retriever, searcher)
