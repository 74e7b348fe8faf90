"""``HashEmbedder`` and ``FIXTURE_CORPUS`` from tests/conftest.py, importable from any test.

``from conftest import …`` is ambiguous once tests/browser/conftest.py is collected too (both
are module ``conftest``), so this finds the root conftest by path: the module pytest already
loaded when there is one (same class as the ``hash_embedder`` fixture), else a fresh load.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _root_conftest() -> ModuleType:
    for mod in list(sys.modules.values()):
        if getattr(mod, "__file__", None) == str(_ROOT_CONFTEST):
            return mod
    spec = importlib.util.spec_from_file_location("_ef_root_conftest", _ROOT_CONFTEST)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_ef_root_conftest"] = mod
    spec.loader.exec_module(mod)
    return mod


_root = _root_conftest()
HashEmbedder = _root.HashEmbedder
FIXTURE_CORPUS: Path = _root.FIXTURE_CORPUS
