"""A NumPy copy of the dense vectors, so that a reader can search without opening Chroma.

Why: a one-shot ``evidence search`` spent ~1.5 s of ~2.5 s importing chromadb and opening
the collection, to find the nearest of ~1,650 window vectors, which a matrix product over
a 2.5 MB array does exactly in about a millisecond. Chroma stays the store of record (every
write, the server mode, the fallback); the mirror is a copy of what it holds.

``vectors.npz`` in the index directory holds the vectors as Chroma returns them (float32,
one row per window), their vector ids, the id of the passage each belongs to, and a JSON
header: the collection name and a fingerprint of the passages it was written for. It is
one file, replaced with ``os.replace``, so a reader sees a whole old mirror or a whole new
one. Ingest removes it before any write that changes vectors and writes it again once every
passage has its vectors, so a crash in between leaves no mirror, never a stale one. A
reader uses it only when the collection name and the fingerprint match the passages it has
just read from SQLite; anything else (no file, an unreadable one, another index state)
means Chroma, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.types import Passage

MIRROR_FILE = "vectors.npz"
MIRROR_VERSION = 1


def vectors_fingerprint(passages: Iterable[Passage]) -> str:
    """What decides a passage's vectors besides the collection (embedder and chunker): its
    id, content hash and windows; over the passages sorted by id."""
    h = hashlib.sha1()
    for p in sorted(passages, key=lambda p: p.id):
        windows = ",".join(f"{start}:{end}" for start, end in p.windows)
        h.update(f"{p.id}\x1f{p.hash}\x1f{windows}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class VectorMirror:
    """The window vectors of one index state, normalised, with the passage row of each."""

    vectors: np.ndarray  # float32 [n, dim], unit rows
    rows: np.ndarray  # int64 [n]: the passage row (in the snapshot) of each vector; -1 none

    @property
    def count(self) -> int:
        return int(self.vectors.shape[0])

    def nearest(self, vector: np.ndarray, n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the ``n`` vectors nearest ``vector`` by cosine, best first, and their
        similarities; ``allowed`` (a bool per passage row) leaves out the other rows' vectors."""
        if not self.count or n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = np.asarray(vector, dtype=np.float32).ravel()
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        sims = self.vectors @ q
        candidates = np.arange(self.count)
        if allowed is not None:
            candidates = candidates[(self.rows >= 0) & allowed[np.maximum(self.rows, 0)]]
            sims = sims[candidates]
        top = np.arange(len(candidates))
        if n < len(candidates):  # the n best; of equal ones at the cut, the first stored
            cut = -np.partition(-sims, n - 1)[n - 1]
            above = np.flatnonzero(sims > cut)
            top = np.concatenate([above, np.flatnonzero(sims == cut)[: n - len(above)]])
        # equal vectors (a repeated text) in stored order: Chroma gave them so on every eval question
        top = top[np.lexsort((top, -sims[top]))]
        return candidates[top], sims[top]


def remove_mirror(index_dir: Path) -> None:
    """Before vectors change: no mirror is better than a stale one."""
    (Path(index_dir) / MIRROR_FILE).unlink(missing_ok=True)


def write_mirror(index_dir: Path, collection: str, fingerprint: str, vector_ids: list[str],
                 passage_ids: list[str], vectors: np.ndarray) -> None:
    """Write the mirror atomically (a temp file in the same directory, then ``os.replace``)."""
    path = Path(index_dir) / MIRROR_FILE
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors = vectors.reshape(len(vector_ids), -1) if len(vector_ids) else np.zeros((0, 0), np.float32)
    header = {"version": MIRROR_VERSION, "collection": collection, "fingerprint": fingerprint,
              "count": len(vector_ids), "dim": int(vectors.shape[1])}
    tmp = path.with_name(f".{MIRROR_FILE}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=np.array(json.dumps(header)), vectors=vectors,
                     ids=np.array(vector_ids, dtype=str), passage_ids=np.array(passage_ids, dtype=str))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def mirror_header(index_dir: Path) -> dict[str, Any] | None:
    """The mirror's header (collection, fingerprint, count, dim), or None without a readable one."""
    try:
        with np.load(Path(index_dir) / MIRROR_FILE, allow_pickle=False) as z:
            return dict(json.loads(str(z["header"])))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def load_mirror(index_dir: Path, collection: str, passages: list[Passage],
                by_id: dict[str, int]) -> VectorMirror | None:
    """The mirror, if it was written for ``collection`` and exactly these passages; else None."""
    try:
        with np.load(Path(index_dir) / MIRROR_FILE, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if (header.get("version") != MIRROR_VERSION or header.get("collection") != collection
                    or header.get("fingerprint") != vectors_fingerprint(passages)):
                return None
            vectors = np.asarray(z["vectors"], dtype=np.float32)
            passage_ids = z["passage_ids"].tolist()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if vectors.ndim != 2 or len(vectors) != len(passage_ids) or len(vectors) != header.get("count"):
        return None
    # Chroma's cosine space compares normalised vectors; the embedders' are unit already.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)
    rows = np.array([by_id.get(pid, -1) for pid in passage_ids], dtype=np.int64)
    return VectorMirror(vectors=vectors, rows=rows)
