"""The index on disk: passage store (SQLite), vectors (Chroma), BM25, and their identity.

Layout of an index directory::

    index.json         embedder id, dimension, chunker version/parameters, collection name
    passages.sqlite3   documents and passages (the source of truth for text and offsets)
    chroma/            Chroma PersistentClient (vectors + filterable metadata); absent in
                       server mode, where the vectors live on a Chroma server instead
    bm25/              bm25s index of the passages, with a fingerprint of what it covers
    vectors.npz        a NumPy copy of the collection's vectors for readers (``index.mirror``);
                       removed before vectors change, written when an ingest completes
    dense.pending      present while some passages have no vectors yet (``evidence serve``'s
                       text-only first pass)

SQLite is written per document in one transaction *after* the document's vectors are in
Chroma, and BM25 is rebuilt from SQLite when its fingerprint is stale, so a crash at any
point leaves something the next ingest repairs (see ``ingest.pipeline``).

With ``chroma.mode = "server"`` the collection lives in a Chroma server's database (one
database per index); SQLite and BM25 stay in the index directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.errors import BackendError, IndexMismatchError, NoIndexError
from evidence_finder.index.mirror import mirror_header, remove_mirror, vectors_fingerprint, write_mirror
from evidence_finder.ingest.chunk import CHUNKER_VERSION
from evidence_finder.settings import ChromaSettings, Settings
from evidence_finder.types import DocumentMeta, Passage

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

DENSE_PENDING = "dense.pending"  # passages are stored but some have no vectors yet


def dense_pending(index_dir: Path) -> bool:
    """Whether a text-only pass left passages whose vectors are still to be embedded."""
    return (Path(index_dir) / DENSE_PENDING).exists()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source_path TEXT, file_hash TEXT, meta TEXT, n_units INTEGER,
    ingested_at REAL
);
CREATE TABLE IF NOT EXISTS passages (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, seq INTEGER, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id);
"""


@dataclass(frozen=True)
class IndexIdentity:
    """Everything that changes vectors; its hash names the Chroma collection."""

    embedder_id: str
    chunker: dict[str, Any]
    embed_context: bool

    @property
    def collection(self) -> str:
        key = json.dumps([self.embedder_id, self.chunker, self.embed_context], sort_keys=True)
        return "ef_" + hashlib.sha1(key.encode()).hexdigest()[:16]

    @staticmethod
    def from_settings(settings: Settings, embedder_id: str) -> IndexIdentity:
        chunker = {"version": CHUNKER_VERSION, **settings.chunking.model_dump()}
        return IndexIdentity(embedder_id, chunker, settings.retrieval.embed_context)


def chroma_metadata(p: Passage, meta: DocumentMeta) -> dict[str, Any]:
    """Filterable fields of a passage as Chroma metadata (scalars only)."""
    md: dict[str, Any] = {"doc_id": p.doc_id, "passage_id": p.id, "kind": p.kind, "type": meta.type,
                          "year": meta.year or 0, "hash": p.hash}
    for sector in meta.sectors:
        md[f"sector:{sector}"] = True
    return md


class IndexStore:
    """Opens (or creates) an index directory."""

    def __init__(self, index_dir: Path, identity: IndexIdentity, *, create: bool,
                 chroma: ChromaSettings | None = None) -> None:
        self.dir = Path(index_dir)
        self.identity = identity
        self.create = create
        self.chroma_settings = chroma or ChromaSettings.model_validate({})  # embedded
        meta_path = self.dir / "index.json"
        if not meta_path.exists():
            if not create:
                raise NoIndexError(
                    f"no index found at {str(self.dir)!r}. Build one with `evidence ingest corpus/` "
                    "(or pass --index-dir to point at an existing index)."
                )
            self.dir.mkdir(parents=True, exist_ok=True)
        else:
            stored = json.loads(meta_path.read_text())
            if not create and stored.get("embedder_id") != identity.embedder_id:
                raise IndexMismatchError(
                    f"the index at {str(self.dir)!r} was built with embedder "
                    f"{stored.get('embedder_id')!r}, but the current settings use "
                    f"{identity.embedder_id!r}. Re-run `evidence ingest` with these settings, or set "
                    "EVIDENCE_EMBEDDER__BACKEND back to the index's embedder."
                )
            if not create and stored.get("collection") != identity.collection:
                raise IndexMismatchError(
                    f"the index at {str(self.dir)!r} was built with other chunking or embedding "
                    "settings than the current ones. Re-run `evidence ingest` to rebuild it."
                )
            if not create and self.vectors_moved():
                raise IndexMismatchError(
                    f"the index at {str(self.dir)!r} keeps its vectors in "
                    f"{_describe(stored.get('vectors', 'embedded'))}, but the current settings look in "
                    f"{_describe(self.vectors_location)}. Set EVIDENCE_CHROMA__MODE (and "
                    "EVIDENCE_CHROMA__DATABASE) to match, or re-run `evidence ingest` with these settings."
                )
        # A reader of an index it may not write (a read-only mount, another user's files)
        # opens SQLite read-only and Chroma from a private copy: Chroma writes on open.
        self.read_only = not create and not _writable(self.dir)
        self._snapshot: Path | None = None
        if self.read_only:
            uri = (self.dir.resolve() / "passages.sqlite3").as_uri() + "?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(self.dir / "passages.sqlite3", check_same_thread=False)
            self.db.executescript(_SCHEMA)
        self._chroma: Any = None
        self._collection: Any = None

    # ------------------------------------------------------------------ identity
    def stored_identity(self) -> dict[str, Any]:
        path = self.dir / "index.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def vectors_location(self) -> str:
        """Where the vectors live: "embedded", or "server:<tenant>/<database>". The server's
        address is left out: replicas may reach the same server by different names."""
        cfg = self.chroma_settings
        return f"server:{cfg.tenant}/{cfg.database}" if cfg.mode == "server" else "embedded"

    def vectors_moved(self) -> bool:
        """The index was built with its vectors elsewhere (an ingest then rebuilds them all)."""
        stored = self.stored_identity()
        return bool(stored) and stored.get("vectors", "embedded") != self.vectors_location

    def vectors_lost(self) -> bool:
        """SQLite lists documents but the collection is empty: a wiped or new Chroma server,
        or a deleted chroma/ directory (an ingest then rebuilds every vector)."""
        has_passages = self.db.execute("SELECT 1 FROM passages LIMIT 1").fetchone() is not None
        return has_passages and self.collection.count() == 0

    def write_identity(self, dim: int) -> None:
        data = {"embedder_id": self.identity.embedder_id, "dim": dim,
                "chunker": self.identity.chunker, "embed_context": self.identity.embed_context,
                "collection": self.identity.collection, "vectors": self.vectors_location}
        _atomic_write(self.dir / "index.json", json.dumps(data, indent=2))

    # ------------------------------------------------------------------ chroma
    @property
    def collection(self) -> Any:
        if self._collection is None:
            if self.chroma_settings.mode == "server":
                self._chroma = self._connect_server()
                self._collection = _ServerCollection(self._open_server_collection(),
                                                     self.chroma_settings.address)
            else:
                import chromadb
                from chromadb.config import Settings as ChromaClientSettings

                self._chroma = chromadb.PersistentClient(
                    path=str(self._chroma_path()),
                    settings=ChromaClientSettings(anonymized_telemetry=False, allow_reset=True),
                )
                # embedding_function=None: we always pass vectors; Chroma's default would download one.
                self._collection = self._chroma.get_or_create_collection(
                    self.identity.collection, embedding_function=None,
                    metadata={"hnsw:space": "cosine"},
                )
        return self._collection

    def _chroma_path(self) -> Path:
        if not self.read_only:
            return self.dir / "chroma"
        if self._snapshot is None:
            self._snapshot = Path(tempfile.mkdtemp(prefix="evidence-ro-index-"))
            # removed on close(), when the store is collected, or at exit: never left behind
            weakref.finalize(self, shutil.rmtree, str(self._snapshot), True)
            source = self.dir / "chroma"
            if source.is_dir():
                shutil.copytree(source, self._snapshot / "chroma", copy_function=shutil.copyfile)
                for dirpath, _, filenames in os.walk(self._snapshot):  # the copy must be writable
                    os.chmod(dirpath, 0o700)
                    for f in filenames:
                        os.chmod(os.path.join(dirpath, f), 0o600)
        return self._snapshot / "chroma"

    def _client_settings(self) -> Any:
        from chromadb.config import Settings as ChromaClientSettings

        cfg = self.chroma_settings
        token = cfg.auth_token.get_secret_value()
        auth: dict[str, Any] = {}
        if token:  # chromadb's provider keeps the token a SecretStr and adds "Bearer " itself
            auth = {"chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
                    "chroma_client_auth_credentials": token,
                    "chroma_auth_token_transport_header": cfg.auth_header}
        return ChromaClientSettings(anonymized_telemetry=False, **auth)

    def _connect_server(self) -> Any:
        import chromadb
        import httpx
        from chromadb.errors import ChromaError, NotFoundError

        cfg = self.chroma_settings

        def client() -> Any:
            return chromadb.HttpClient(host=cfg.host, port=cfg.port, ssl=cfg.ssl, tenant=cfg.tenant,
                                       database=cfg.database, settings=self._client_settings())

        try:
            try:
                return client()
            except NotFoundError:
                if not self.create:
                    raise
                admin_settings = self._client_settings()
                admin_settings.chroma_api_impl = "chromadb.api.fastapi.FastAPI"
                admin_settings.chroma_server_host = cfg.host
                admin_settings.chroma_server_http_port = cfg.port
                admin_settings.chroma_server_ssl_enabled = cfg.ssl
                chromadb.AdminClient(admin_settings).create_database(cfg.database, tenant=cfg.tenant)
                return client()
        except NotFoundError as exc:
            raise NoIndexError(
                f"the Chroma server at {cfg.address} has no database {cfg.database!r} in tenant "
                f"{cfg.tenant!r} ({exc}). Build the index with `evidence ingest` and these settings, "
                "or fix EVIDENCE_CHROMA__DATABASE / EVIDENCE_CHROMA__TENANT."
            ) from exc
        except (ChromaError, ValueError, httpx.HTTPError) as exc:
            # A proxy's 401 arrives as a ValueError like a refused connection: name both causes.
            said = str(exc).strip()
            said += "" if said.endswith((".", "?", "!")) else "."
            token = cfg.auth_token.get_secret_value()
            said = said.replace(token, "***") if token else said
            raise BackendError(
                f"cannot use the Chroma server at {cfg.address}: {said} "
                f"Check that it is running (`chroma run --path DIR --host {cfg.host} --port {cfg.port}`) "
                "and that EVIDENCE_CHROMA__HOST, __PORT, __SSL, __AUTH_TOKEN and __TENANT are right, "
                "or set EVIDENCE_CHROMA__MODE=embedded."
            ) from None

    def _open_server_collection(self) -> Any:
        from chromadb.errors import NotFoundError

        name = self.identity.collection
        try:
            if self.create:
                return self._chroma.get_or_create_collection(
                    name, embedding_function=None, metadata={"hnsw:space": "cosine"})
            return self._chroma.get_collection(name, embedding_function=None)
        except NotFoundError as exc:
            cfg = self.chroma_settings
            raise NoIndexError(
                f"the Chroma server at {cfg.address} (database {cfg.database!r}) has no vectors for "
                f"the index at {str(self.dir)!r}. Run `evidence ingest` with these settings, or point "
                "EVIDENCE_CHROMA__* at the server and database the index was built on."
            ) from exc

    def drop_other_collections(self) -> None:
        """Remove collections of earlier embedders/chunkers once a rebuild has succeeded."""
        _ = self.collection
        server = self.chroma_settings.mode == "server"
        for c in self._chroma.list_collections():
            name = c if isinstance(c, str) else c.name
            # A server's database may hold collections that are not ours: leave them alone.
            if name != self.identity.collection and (not server or _OUR_COLLECTION.fullmatch(name)):
                self._chroma.delete_collection(name)

    def vector_ids(self, doc_id: str | None = None) -> set[str]:
        where = {"doc_id": doc_id} if doc_id else None
        got = self.collection.get(where=where, include=[])
        return set(got["ids"])

    # Every write that changes vectors goes through these two: the mirror goes first.
    def upsert_vectors(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        remove_mirror(self.dir)
        self.collection.upsert(ids=ids, embeddings=np.asarray(vectors).tolist(), metadatas=metadatas)

    def delete_vectors(self, ids: Iterable[str]) -> None:
        remove_mirror(self.dir)
        self.collection.delete(ids=sorted(ids))

    # ------------------------------------------------------------------ mirror
    def mirror_is_current(self) -> bool:
        """The mirror was written for this collection, these passages and as many vectors."""
        header = mirror_header(self.dir)
        return (header is not None and header.get("collection") == self.identity.collection
                and header.get("fingerprint") == vectors_fingerprint(self.passages())
                and header.get("count") == self.collection.count())

    def write_mirror(self) -> None:
        """Copy the collection's vectors, as Chroma holds them, into the mirror readers search.
        Embedded Chroma only: a server's collection is the replicas' shared record and can
        change (or be wiped) without this index directory knowing."""
        if self.chroma_settings.mode == "server":
            remove_mirror(self.dir)
            return
        got = self.collection.get(include=["embeddings", "metadatas"])
        ids = list(got["ids"])
        passage_ids = [(md or {}).get("passage_id", vid.split("#")[0])
                       for vid, md in zip(ids, got["metadatas"] or [None] * len(ids))]
        vectors = np.asarray(got["embeddings"] if ids else [], dtype=np.float32)
        write_mirror(self.dir, self.identity.collection, vectors_fingerprint(self.passages()),
                     ids, passage_ids, vectors)

    # ------------------------------------------------------------------ sqlite
    def documents(self) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc_id, source_path, file_hash, meta, n_units FROM documents ORDER BY doc_id"
        ).fetchall()
        return {r[0]: {"source_path": r[1], "file_hash": r[2], "meta": json.loads(r[3]),
                       "n_units": r[4]} for r in rows}

    def document_meta(self) -> dict[str, DocumentMeta]:
        out = {}
        for doc_id, row in self.documents().items():
            m = dict(row["meta"])
            m["sectors"] = tuple(m.get("sectors", ()))
            out[doc_id] = DocumentMeta(**m)
        return out

    def passages(self, doc_id: str | None = None) -> list[Passage]:
        if doc_id:
            rows = self.db.execute(
                "SELECT data FROM passages WHERE doc_id=? ORDER BY seq", (doc_id,)
            ).fetchall()
        else:
            rows = self.db.execute("SELECT data FROM passages ORDER BY doc_id, seq").fetchall()
        return [Passage.from_dict(json.loads(r[0])) for r in rows]

    def replace_document(self, meta: DocumentMeta, source_path: str, file_hash: str,
                         passages: Iterable[Passage], ingested_at: float) -> None:
        plist = list(passages)
        with self.db:
            self.db.execute("DELETE FROM passages WHERE doc_id=?", (meta.doc_id,))
            self.db.executemany(
                "INSERT INTO passages(id, doc_id, seq, data) VALUES (?,?,?,?)",
                [(p.id, p.doc_id, i, json.dumps(p.to_dict(), ensure_ascii=False))
                 for i, p in enumerate(plist)],
            )
            self.db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?)",
                (meta.doc_id, source_path, file_hash, json.dumps(meta.to_dict(), ensure_ascii=False),
                 len(plist), ingested_at),
            )

    def delete_document(self, doc_id: str) -> None:
        ids = self.vector_ids(doc_id)
        if ids:
            self.delete_vectors(ids)
        with self.db:
            self.db.execute("DELETE FROM passages WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def clear(self) -> None:
        remove_mirror(self.dir)
        with self.db:
            self.db.execute("DELETE FROM passages")
            self.db.execute("DELETE FROM documents")

    def fingerprint(self) -> str:
        h = hashlib.sha1()
        for pid, data in self.db.execute("SELECT id, data FROM passages ORDER BY doc_id, seq"):
            h.update(pid.encode())
            h.update(json.loads(data)["hash"].encode())
        return h.hexdigest()

    def close(self) -> None:
        self.db.close()
        if self._snapshot is not None:
            self._chroma = self._collection = None
            shutil.rmtree(self._snapshot, ignore_errors=True)
            self._snapshot = None
        if self.chroma_settings.mode == "server" and self._chroma is not None:
            self._chroma.close()  # each HttpClient holds its own connection pool
            self._chroma = self._collection = None


def _describe(location: str) -> str:
    if location.startswith("server:"):
        tenant, _, database = location[len("server:"):].partition("/")
        return f"database {database!r} (tenant {tenant!r}) of a Chroma server"
    return "the embedded Chroma in the index directory"


_OUR_COLLECTION = re.compile(r"ef_[0-9a-f]{16}")


class _ServerCollection:
    """A Chroma server collection whose lost connections read as a BackendError, not a traceback."""

    def __init__(self, inner: Any, address: str) -> None:
        self._inner = inner
        self._address = address

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            import httpx

            try:
                return attr(*args, **kwargs)
            except httpx.TransportError as exc:
                raise BackendError(
                    f"lost the Chroma server at {self._address}: {exc}. Check that it is running "
                    "(its heartbeat is /api/v2/heartbeat) and try again."
                ) from exc

        return call


def _writable(index_dir: Path) -> bool:
    files = [index_dir / "passages.sqlite3", index_dir / "chroma", index_dir / "chroma" / "chroma.sqlite3"]
    return os.access(index_dir, os.W_OK) and all(os.access(f, os.W_OK) for f in files if f.exists())


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
