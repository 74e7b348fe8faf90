"""The ONNX Runtime passage engine must give the PyTorch fp32 vectors (same index id), and
its export must be cached and rebuilt like the other model build steps.

Slow: one fp32 conversion and one ONNX export (~20 s), and two model loads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evidence_finder.models.e5_onnx import ONNX_DIRNAME, ensure_e5_onnx_model
from evidence_finder.models.embedders import E5_ID, E5Embedder, make_embedder
from evidence_finder.settings import Settings

pytestmark = pytest.mark.slow
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("sentence_transformers")

TEXTS = [
    "Scholen vinden de aanvraag voor een KA2-partnerschap complex en administratief zwaar.",
    "How many student teachers went abroad with Erasmus+ KA1 mobility in 2019?",
    "kort",
    "Geïnventariseerd: coördinatie, financiële middelen en ‘internationale competenties’. " * 8,
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnxdata")


def test_onnx_passages_equal_torch_passages(data_dir: Path) -> None:
    onnx = make_embedder(Settings(data_dir=data_dir, embedder={"passage_engine": "onnx"}))
    torch = make_embedder(Settings(data_dir=data_dir, embedder={"passage_engine": "torch"}))
    assert isinstance(onnx, E5Embedder) and onnx.id == torch.id == E5_ID
    ours, ref = onnx.embed_passages(TEXTS), torch.embed_passages(TEXTS)
    assert ours.shape == (4, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=2e-6)
    alone = np.vstack([onnx.embed_passages([t]) for t in TEXTS])  # padding in batches changes nothing
    np.testing.assert_allclose(alone, ours, atol=2e-6)


def test_export_is_cached_and_redone_when_stale(data_dir: Path) -> None:
    target = ensure_e5_onnx_model(data_dir / "models")
    assert target.name == ONNX_DIRNAME
    stamp = (target / "model.onnx").stat().st_mtime_ns
    assert ensure_e5_onnx_model(data_dir / "models") == target
    assert (target / "model.onnx").stat().st_mtime_ns == stamp  # not exported again
    with open(target / "model.onnx", "ab") as fh:  # a torn file no longer matches its marker
        fh.write(b"x")
    ensure_e5_onnx_model(data_dir / "models")
    assert (target / "model.onnx").stat().st_mtime_ns != stamp
