"""The index on disk: passage store (SQLite), vectors (Chroma), BM25, and their identity.

Layout of an index directory::

    index.json         embedder id, dimension, chunker version/parameters, collection name
    passages.sqlite3   documents and passages (the source of truth for text and offsets)
    chroma/            Chroma PersistentClient (vectors + filterable metadata)
    bm25/              bm25s index of the passages, with a fingerprint of what it covers

SQLite is written per document in one transaction *after* the document's vectors are in
Chroma, and BM25 is rebuilt from SQLite when its fingerprint is stale, so a crash at any
point leaves something the next ingest repairs (see ``ingest.pipeline``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_finder.errors import IndexMismatchError, NoIndexError
from evidence_finder.ingest.chunk import CHUNKER_VERSION
from evidence_finder.settings import Settings
from evidence_finder.types import DocumentMeta, Passage

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

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
    md: dict[str, Any] = {"doc_id": p.doc_id, "kind": p.kind, "type": meta.type,
                          "year": meta.year or 0, "hash": p.hash}
    for sector in meta.sectors:
        md[f"sector:{sector}"] = True
    return md


class IndexStore:
    """Opens (or creates) an index directory."""

    def __init__(self, index_dir: Path, identity: IndexIdentity, *, create: bool) -> None:
        self.dir = Path(index_dir)
        self.identity = identity
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
        self.db = sqlite3.connect(self.dir / "passages.sqlite3", check_same_thread=False)
        self.db.executescript(_SCHEMA)
        self._chroma: Any = None
        self._collection: Any = None

    # ------------------------------------------------------------------ identity
    def stored_identity(self) -> dict[str, Any]:
        path = self.dir / "index.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def write_identity(self, dim: int) -> None:
        data = {"embedder_id": self.identity.embedder_id, "dim": dim,
                "chunker": self.identity.chunker, "embed_context": self.identity.embed_context,
                "collection": self.identity.collection}
        _atomic_write(self.dir / "index.json", json.dumps(data, indent=2))

    # ------------------------------------------------------------------ chroma
    @property
    def collection(self) -> Any:
        if self._collection is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            self._chroma = chromadb.PersistentClient(
                path=str(self.dir / "chroma"),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
            )
            # embedding_function=None: we always pass vectors; Chroma's default would download one.
            self._collection = self._chroma.get_or_create_collection(
                self.identity.collection, embedding_function=None,
                metadata={"hnsw:space": "cosine"},
            )
        return self._collection

    def drop_other_collections(self) -> None:
        """Remove collections of earlier embedders/chunkers once a rebuild has succeeded."""
        _ = self.collection
        for c in self._chroma.list_collections():
            name = c if isinstance(c, str) else c.name
            if name != self.identity.collection:
                self._chroma.delete_collection(name)

    def vector_ids(self, doc_id: str | None = None) -> set[str]:
        where = {"doc_id": doc_id} if doc_id else None
        got = self.collection.get(where=where, include=[])
        return set(got["ids"])

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
            self.collection.delete(ids=sorted(ids))
        with self.db:
            self.db.execute("DELETE FROM passages WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def clear(self) -> None:
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


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
