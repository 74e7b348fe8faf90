"""Everything an index holds, per store, for tests that prove nothing was lost or left over.

``index_state(settings)`` reads SQLite (documents, passage ids + hashes), Chroma (vector ids
and their ``hash`` metadata), BM25 (ids and fingerprint) and the readers' NumPy mirror of the
vectors of an index built with the fake embedder; ``assert_consistent`` checks they agree: no
duplicates, no orphans, nothing missing, and no mirror a reader would use that differs from
Chroma. Used by tests/test_reliability_*.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.index.bm25 import BM25Index
from evidence_finder.index.build import vector_units
from evidence_finder.index.mirror import MIRROR_FILE, load_mirror
from evidence_finder.index.store import IndexIdentity, IndexStore, dense_pending
from evidence_finder.settings import Settings
from helpers.fakes import FIXTURE_CORPUS, HashEmbedder


def make_generated_corpus(dest: Path, reports: int, sections: int, sentences: int,
                          attribution: bool = False) -> Path:
    """The fixture corpus plus generated Dutch reports (numbered sections, one quote each):
    enough units for many small embedding batches, for tests that kill an ingest midway."""
    shutil.copytree(FIXTURE_CORPUS, dest)
    for n in range(reports):
        paras = []
        for k in range(sections):
            paras.append(f"{n + 1}.{k + 1}. Onderdeel {k + 1} van rapport {n}")
            paras.append(" ".join(
                f"Scholen in regio {n} werken in project {k}-{i} samen met partners uit land {i} "
                f"en leren daarvan over onderwerp {n * 10 + k}." for i in range(sentences)))
            paras.append(f"“Wij leerden in project {k} van rapport {n} heel veel van onze partners.”")
            if attribution:
                paras.append("- trekker -")
        (dest / f"rapport_{n}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return dest


def index_state(settings: Settings, embedder_id: str = HashEmbedder.id, *,
                with_vectors: bool = False) -> dict[str, Any]:
    """With ``with_vectors``, also every vector (rounded), to prove re-used ones are intact."""
    store = IndexStore(settings.resolved_index_dir,
                       IndexIdentity.from_settings(settings, embedder_id), create=False)
    try:
        passages = store.passages()
        got = store.collection.get(include=["metadatas", "embeddings"] if with_vectors else ["metadatas"])
        bm25 = BM25Index.load(store.dir / "bm25")
        vectors = ({"vectors": {i: [round(float(x), 5) for x in v]
                                for i, v in zip(got["ids"], got["embeddings"], strict=True)}}
                   if with_vectors else {})
        return {**vectors,
            "docs": {d: row["file_hash"] for d, row in store.documents().items()},
            "sqlite": sorted((p.id, p.hash) for p in passages),
            "sqlite_ids": [p.id for p in passages],
            "owned": sorted(vid for p in passages for vid, _ in vector_units(p)),
            "owned_hash": sorted((vid, p.hash) for p in passages for vid, _ in vector_units(p)),
            "chroma_ids": sorted(got["ids"]),
            "chroma_hash": sorted((i, (m or {}).get("hash")) for i, m in
                                  zip(got["ids"], got["metadatas"], strict=True)),
            "bm25_ids": list(bm25.ids),
            "bm25_fresh": BM25Index.stored_fingerprint(store.dir / "bm25") == store.fingerprint(),
            "mirror": mirror_state(store),
        }
    finally:
        store.close()


def mirror_state(store: IndexStore) -> str:
    """'absent' (no mirror a reader would use: none, dense.pending, or written for other
    passages), 'matches' (a reader would use it and it holds exactly Chroma's vectors) or
    'differs' (a reader would use it, but it does not equal Chroma: a stale mirror)."""
    passages = store.passages()
    usable = not dense_pending(store.dir) and load_mirror(
        store.dir, store.identity.collection, passages, {p.id: i for i, p in enumerate(passages)})
    if not usable:
        return "absent"
    got = store.collection.get(include=["embeddings"])
    chroma = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
    with np.load(store.dir / MIRROR_FILE) as z:
        mirror = dict(zip(z["ids"].tolist(), z["vectors"]))
    same = chroma.keys() == mirror.keys() and all(np.array_equal(chroma[k], mirror[k]) for k in chroma)
    return "matches" if same else "differs"


def assert_consistent(state: dict[str, Any]) -> None:
    """SQLite, Chroma and BM25 describe the same passages: no duplicates, orphans or gaps."""
    ids = state["sqlite_ids"]
    assert len(set(ids)) == len(ids), "duplicate passage ids in SQLite"
    assert state["chroma_ids"] == state["owned"], "Chroma ids differ from the stored units' vector ids"
    assert state["chroma_hash"] == state["owned_hash"], "a Chroma vector has a stale passage hash"
    assert state["bm25_ids"] == ids, "BM25 rows differ from SQLite"
    assert state["bm25_fresh"], "BM25 fingerprint is stale"
    assert state["mirror"] != "differs", "a reader would search a mirror that differs from Chroma"
