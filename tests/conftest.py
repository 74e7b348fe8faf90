"""Shared fixtures: a deterministic fake embedder and a tiny fixture corpus index.

Fast tests never load a real model: ``HashEmbedder`` embeds hashed character n-grams, so
texts sharing words get similar vectors, deterministically.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from evidence_finder.models.embedders import Embedder  # noqa: E402
from evidence_finder.settings import Settings, get_settings  # noqa: E402

DATA = Path(__file__).parent / "data"
FIXTURE_CORPUS = DATA / "corpus"
REPO = Path(__file__).resolve().parents[1]


class HashEmbedder(Embedder):
    """Hashed character 4-grams of lower-cased words → 256-d unit vectors."""

    id = "test-hash-ngrams-v1"
    dim = 256
    query_prefix = ""
    passage_prefix = ""

    def __init__(self) -> None:
        self.calls = 0

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                padded = f"#{word}#"
                for i in range(max(len(padded) - 3, 1)):
                    h = int(hashlib.md5(padded[i:i + 4].encode()).hexdigest()[:8], 16)
                    out[row, h % self.dim] += 1.0
        out[np.all(out == 0, axis=1), 0] = 1.0
        return out


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data/index directory; nothing touches the real one."""
    data = tmp_path / "data"
    monkeypatch.setenv("EVIDENCE_DATA_DIR", str(data))
    monkeypatch.delenv("EVIDENCE_INDEX_DIR", raising=False)
    monkeypatch.delenv("EVIDENCE_EMBEDDER__BACKEND", raising=False)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


@pytest.fixture
def hash_embedder(monkeypatch: pytest.MonkeyPatch) -> HashEmbedder:
    """The fake embedder, also returned by ``make_embedder`` for code that builds its own."""
    emb = HashEmbedder()
    import evidence_finder.models.embedders as embedders

    monkeypatch.setattr(embedders, "make_embedder", lambda settings: emb)
    monkeypatch.setattr(embedders, "embedder_spec",
                        lambda settings: (emb.id, emb.query_prefix, emb.passage_prefix))
    import evidence_finder.retrieval.search as search

    monkeypatch.setattr(search, "make_embedder", lambda settings: emb)
    return emb


@pytest.fixture
def settings(_isolated_data_dir: Path) -> Settings:
    return Settings(data_dir=_isolated_data_dir, corpus_dir=FIXTURE_CORPUS)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture corpus."""
    dest = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, dest)
    return dest


@pytest.fixture
def built_index(settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder) -> Settings:
    """The fixture corpus ingested with the fake embedder; returns the settings to open it."""
    from evidence_finder.index.build import ingest

    report = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert report.documents == 3, report.summary()
    return settings


# ---------------------------------------------------------------- no silent skips in CI
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """In CI (``CI`` set, as `.ci/run` does) every test must run: a skipped test — a missing
    dependency, browser, tmpfs or corpus — fails the run instead of passing unnoticed."""
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("CI") and skipped:
        terminalreporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; in CI every test must run (see the skip reasons above)",
            red=True)
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED  # type: ignore[attr-defined]
