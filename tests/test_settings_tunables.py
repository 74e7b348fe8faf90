"""Every tunable lives in the settings tree, and changing a setting reaches the code that uses it.

Also: the LLM endpoint and key come only from the settings (OPENAI_* variables change nothing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from evidence_finder.answer.extractive import ComposerOptions
from evidence_finder.answer.service import AnswerService
from evidence_finder.cli import app
from evidence_finder.errors import BackendError
from evidence_finder.evaluation import runner
from evidence_finder.index.bm25 import BM25Index
from evidence_finder.index.build import ingest
from evidence_finder.models.llm import LLMBackend
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import (
    AnswerSettings,
    ComposerSettings,
    IndexSettings,
    LLMSettings,
    RetrievalSettings,
    Settings,
    get_settings,
)
from helpers.fakes import HashEmbedder

KA2 = "Welke drempels zijn er bij een KA2-aanvraag?"
BROAD = "Erasmus+ mobiliteit docenten studenten stage buitenland"


def _sections(model: type[BaseModel]) -> list[type[BaseModel]]:
    out = [model]
    for f in model.model_fields.values():
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
            out += _sections(f.annotation)
    return out


def test_every_setting_has_a_description() -> None:
    missing = [f"{m.__name__}.{name}" for m in _sections(Settings)
               for name, f in m.model_fields.items() if not (f.description or "").strip()]
    assert not missing, missing


def test_defaults_are_the_values_the_code_had_before() -> None:
    s = Settings()
    assert (s.retrieval.top_k, s.answer.passages) == (10, 10)
    assert (s.index.embed_batch, s.index.bm25_k1, s.index.bm25_b) == (32, 1.2, 0.75)
    assert s.llm.context_window == 8192
    assert s.answer.composer == ComposerOptions() == ComposerSettings(
        max_sentences=6, min_relative_score=0.4, per_doc_decay=0.7, max_redundancy=0.6,
        quote_factor=0.6, use_embedder=False, embed_candidates=5, embed_weight=0.3, max_quotes=6,
        cross_lingual_fallback=True)


def test_nested_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCE_RETRIEVAL__TOP_K", "4")
    monkeypatch.setenv("EVIDENCE_ANSWER__COMPOSER__MAX_SENTENCES", "2")
    monkeypatch.setenv("EVIDENCE_INDEX__BM25_K1", "0.9")
    monkeypatch.setenv("EVIDENCE_LLM__CONTEXT_WINDOW", "4096")
    s = Settings()
    assert (s.retrieval.top_k, s.answer.composer.max_sentences, s.index.bm25_k1,
            s.llm.context_window) == (4, 2, 0.9, 4096)


# ---------------------------------------------------------------- top_k
def _search_ids(*args: str) -> list[str]:
    res = CliRunner().invoke(app, ["search", BROAD, "--format", "jsonl", *args])
    assert res.exit_code == 0, res.output
    return [r["id"] for r in json.loads(res.stdout)["results"]]


def test_top_k_setting_is_the_default_of_cli_search(built_index: Settings, hash_embedder: HashEmbedder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ten = _search_ids()
    assert len(ten) == 3  # the whole fixture index (fewer than 10 units match)
    monkeypatch.setenv("EVIDENCE_RETRIEVAL__TOP_K", "1")
    get_settings.cache_clear()
    assert _search_ids() == ten[:1]
    assert _search_ids("--top-k", "2") == ten[:2]  # the option still wins


def test_answer_passages_setting_is_the_default_of_ask(built_index: Settings,
                                                      hash_embedder: HashEmbedder) -> None:
    searcher = Searcher(built_index, embedder=hash_embedder)
    assert len(AnswerService(searcher, built_index).ask(BROAD).hits) == 3  # all there are
    fewer = built_index.model_copy(update={"answer": AnswerSettings(passages=1)})
    assert len(AnswerService(searcher, fewer).ask(BROAD).hits) == 1
    assert len(AnswerService(searcher, fewer).ask(BROAD, k=2).hits) == 2


class _RecordingSearcher:
    def __init__(self) -> None:
        self.ks: list[int] = []

    def search(self, question: str, k: int = 10, mode: str = "hybrid") -> Any:
        self.ks.append(k)
        from evidence_finder.types import SearchResult

        return SearchResult(question, [])


def test_eval_depth_defaults_to_top_k(monkeypatch: pytest.MonkeyPatch) -> None:
    qs = [{"id": "1", "question": "x", "gold": [], "lang": "nl", "kind": "unanswerable", "split": "dev"}]
    rec = _RecordingSearcher()
    runner.run(rec, qs, ("bm25",))
    monkeypatch.setenv("EVIDENCE_RETRIEVAL__TOP_K", "20")
    get_settings.cache_clear()
    runner.run(rec, qs, ("bm25",))
    runner.run(rec, qs, ("bm25",), k=7)
    assert rec.ks == [10, 20, 7]


# ---------------------------------------------------------------- composer options
def test_composer_options_come_from_the_settings(built_index: Settings, hash_embedder: HashEmbedder) -> None:
    searcher = Searcher(built_index, embedder=hash_embedder)
    default = AnswerService(searcher, built_index).ask(KA2)
    assert len(default.citations) == 3 and default.text.startswith("**Belemmeringen**")
    one = built_index.model_copy(update={"answer": AnswerSettings(composer=ComposerSettings(
        max_sentences=1, findings=False))})
    answer = AnswerService(searcher, one).ask(KA2)  # a lead sentence, no grouped findings
    assert len(answer.citations) == 1
    assert answer.citations[0].text == default.citations[0].text
    two = built_index.model_copy(update={"answer": AnswerSettings(composer=ComposerSettings(max_findings=2))})
    assert len(AnswerService(searcher, two).ask(KA2).citations) == 2


# ---------------------------------------------------------------- index: batch, BM25
def test_embed_batch_setting_sizes_the_ingest_batches(settings: Settings, corpus_copy: Path) -> None:
    default, small = HashEmbedder(), HashEmbedder()
    report = ingest([corpus_copy], settings, embedder=default)
    other = settings.model_copy(update={"data_dir": settings.data_dir.parent / "other",
                                        "index": IndexSettings(embed_batch=1)})
    ingest([corpus_copy], other, embedder=small)
    assert small.calls == report.embedded > default.calls == 3  # one call per document at 32


def test_bm25_parameters_come_from_the_settings_and_rebuild_the_index(
        settings: Settings, corpus_copy: Path) -> None:
    ingest([corpus_copy], settings, embedder=HashEmbedder())
    bm25_dir = settings.resolved_index_dir / "bm25"
    index = BM25Index.load(bm25_dir)
    assert (index.k1, index.b) == (1.2, 0.75)
    assert (index._retriever.k1, index._retriever.b) == (1.2, 0.75)  # type: ignore[attr-defined]
    before = index.scores("drempels KA2-aanvraag administratie")

    tuned = settings.model_copy(update={"index": IndexSettings(bm25_k1=0.5, bm25_b=0.1)})
    ingest([corpus_copy], tuned, embedder=HashEmbedder())  # nothing changed but the parameters
    index = BM25Index.load(bm25_dir)
    assert BM25Index.stored_parameters(bm25_dir) == (0.5, 0.1)
    assert (index._retriever.k1, index._retriever.b) == (0.5, 0.1)  # type: ignore[attr-defined]
    assert (index.scores("drempels KA2-aanvraag administratie") != before).any()


# ---------------------------------------------------------------- LLM: settings only
def test_openai_environment_variables_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://elsewhere.invalid/v1")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-elsewhere")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-123456")
    backend = LLMBackend(LLMSettings(backend="openai"))
    assert (backend.base_url, backend.model) == ("", "")
    assert "sk-from" not in backend.scrub("sk-from-the-environment-123456")
    with pytest.raises(BackendError, match="no model configured for the openai LLM backend"):
        backend.client()
    configured = LLMBackend(LLMSettings(backend="openai", base_url="http://127.0.0.1:9/v1", model="m"))
    assert configured.base_url == "http://127.0.0.1:9/v1" and configured.model == "m"
    assert configured._key == ""  # OPENAI_API_KEY is not picked up


def test_llm_settings_come_from_evidence_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCE_LLM__BACKEND", "openai")
    monkeypatch.setenv("EVIDENCE_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("EVIDENCE_LLM__MODEL", "served-model")
    monkeypatch.setenv("EVIDENCE_LLM__API_KEY", "sk-evidence-key-123456")
    backend = LLMBackend(Settings().llm)
    assert (backend.base_url, backend.model, backend._key) == (
        "http://127.0.0.1:9/v1", "served-model", "sk-evidence-key-123456")
    assert LLMBackend(LLMSettings(backend="ollama", model="m")).base_url == "http://127.0.0.1:11434"


def test_context_window_setting_reaches_the_client() -> None:
    pytest.importorskip("llama_index.llms.openai_like")
    cfg = LLMSettings(backend="openai", base_url="http://127.0.0.1:9/v1", model="m")
    assert LLMBackend(cfg).client().context_window == 8192
    small = cfg.model_copy(update={"context_window": 2048})
    assert LLMBackend(small).client().context_window == 2048


def test_retrieval_section_still_forbids_unknown_keys() -> None:
    with pytest.raises(ValueError, match="top_kk"):
        RetrievalSettings(top_kk=3)  # type: ignore[call-arg]
