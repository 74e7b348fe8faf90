"""Read side of the index: an immutable snapshot per index state, for searches and their callers.

``IndexReader.load()`` reads the passage store and BM25 once and returns a
:class:`Snapshot`; a search keeps the snapshot it started with, and everything that search
returns (hits, the text around a cited passage) reads that same snapshot, so a reload in
between never mixes two index states. Chroma's filter dialect lives here and nowhere else.

Dense search reads the NumPy mirror of the vectors when it matches the passages just loaded
(``index.mirror``; no chromadb to import, exact cosine) and Chroma otherwise; both apply the
same filters the same way and return the same shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evidence_finder.errors import BadInputError
from evidence_finder.index.bm25 import BM25Index
from evidence_finder.index.mirror import VectorMirror, load_mirror
from evidence_finder.index.store import IndexIdentity, IndexStore, dense_pending
from evidence_finder.ingest.facets import groups_named
from evidence_finder.ingest.speakers import speaker_matches
from evidence_finder.settings import ChromaSettings
from evidence_finder.types import DocumentMeta, Filters, Passage

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def is_question_list(text: str) -> bool:
    """A passage that is mostly questions: an interview guide or a questionnaire."""
    sentences = [x for x in _SENTENCE_SPLIT.split(text) if len(x.split()) >= 3]
    asked = sum(x.rstrip().endswith("?") for x in sentences)
    return len(sentences) >= 2 and asked >= 0.5 * len(sentences)


@dataclass(frozen=True)
class Snapshot:
    """What a search reads of the index, swapped as a whole by ``IndexReader.load``."""

    passages: list[Passage]
    by_id: dict[str, int]
    metas: dict[str, DocumentMeta]
    bm25: BM25Index
    bm25_rows: np.ndarray
    vector_count: int
    question_lists: frozenset[int] = frozenset()  # rows of passages that are mostly questions
    collection: Any = field(default=None, repr=False, compare=False)
    mirror: VectorMirror | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ IndexView
    def meta(self, doc_id: str) -> DocumentMeta | None:
        return self.metas.get(doc_id)

    def title(self, i: int) -> str:
        meta = self.metas.get(self.passages[i].doc_id)
        return meta.title if meta else self.passages[i].doc_id

    def neighbours(self, passage: Passage) -> tuple[Passage | None, Passage | None]:
        """The running-text passages just before and after ``passage`` in its document
        (units nested in it, its quotes and table captions, are skipped)."""
        i = self.by_id.get(passage.id)
        if i is None or passage.kind != "passage":
            return None, None

        def walk(step: int) -> Passage | None:
            j = i + step
            while 0 <= j < len(self.passages) and self.passages[j].doc_id == passage.doc_id:
                q = self.passages[j]
                if q.kind == "passage" and (q.clean_start < passage.clean_start if step < 0
                                            else q.clean_end > passage.clean_end):
                    return q
                j += step
            return None

        return walk(-1), walk(1)

    # ------------------------------------------------------------------ filters
    def known_values(self) -> dict[str, list[str]]:
        """Every value each filter can take in this index (for messages and the UI)."""
        metas = self.metas.values()
        return {
            "document": sorted(self.metas),
            "sector": sorted({s for m in metas for s in m.sectors} | {s for p in self.passages for s in p.sectors}),
            "type": sorted({m.type for m in metas if m.type}),
            "kind": sorted({p.kind for p in self.passages}),
            "year": sorted({str(m.year) for m in metas if m.year}),
            "speaker": sorted({p.speaker for p in self.passages if p.speaker}),
            "region": sorted({m.region for m in metas if m.region}),
            "group": sorted({g for p in self.passages for g in p.groups}),
        }

    def resolve(self, filters: Filters) -> Filters:
        """Filters with values matched case-insensitively to the index's own spelling
        ('mbo' → 'MBO'); a value no document has is bad input, named with the known ones."""
        if filters.is_empty():
            return filters
        known = self.known_values()

        def match(name: str, values: list[str]) -> list[str]:
            by_fold = {k.casefold(): k for k in known[name]}
            out = []
            for v in values:
                hit = by_fold.get(str(v).strip().casefold())
                if hit is None:
                    plural = f"{name}s"
                    raise BadInputError(
                        f"no documents for {name} {str(v)!r}; known {plural}: "
                        f"{', '.join(known[name]) or '(none)'}")
                out.append(hit)
            return out

        return Filters(
            docs=match("document", filters.docs), sectors=match("sector", filters.sectors),
            types=match("type", filters.types), kinds=match("kind", filters.kinds),
            years=[int(y) for y in match("year", [str(y) for y in filters.years])],
            speakers=self._speakers(filters.speakers, known["speaker"]),
            regions=match("region", filters.regions),
            groups=match("group", [(groups_named(g) or (g,))[0] for g in filters.groups]),
        )

    @staticmethod
    def _speakers(wanted: list[str], known: list[str]) -> list[str]:
        """Speaker roles matching each wanted one, in Dutch or English ('teachers' →
        leerkracht, docent, leraar)."""
        out: list[str] = []
        for w in wanted:
            hits = [k for k in known if speaker_matches(k, w)]
            if not hits:
                raise BadInputError(f"no quotes by speaker {w!r}; known speakers: {', '.join(known) or '(none)'}")
            out += [h for h in hits if h not in out]
        return out

    # ------------------------------------------------------------------ queries
    def allows(self, i: int, filters: Filters) -> bool:
        p = self.passages[i]
        return filters.allows(p, self.metas.get(p.doc_id))

    def query_vectors(self, vector: np.ndarray, n: int, filters: Filters) -> tuple[list[int], list[float]]:
        """Rows of the ``n`` passages whose best window is nearest ``vector``, best first,
        with cosine similarities. The nearest ``4 n`` windows among those the document-level
        filters allow are read (in the mirror or in Chroma), then every filter again per unit."""
        if not self.passages or (self.collection is None and self.mirror is None):
            return [], []
        coarse = filters
        if filters.sectors or filters.speakers or filters.regions or filters.groups:  # per unit
            docs = sorted({p.doc_id for i, p in enumerate(self.passages) if self.allows(i, filters)})
            if not docs:
                return [], []
            coarse = Filters(docs=docs, kinds=filters.kinds)
        windows = min(n * 4, max(self.vector_count, 1))
        found = (self._mirror_windows(vector, windows, coarse) if self.mirror is not None
                 else self._chroma_windows(vector, windows, coarse))
        best: dict[int, float] = {}
        for i, sim in found:
            if i is None or i in best:  # results come best first: keep a passage's best window
                continue
            if self.allows(i, filters):
                best[i] = sim
            if len(best) >= n:
                break
        return list(best), list(best.values())

    def _chroma_windows(self, vector: np.ndarray, windows: int, coarse: Filters) -> list[tuple[int | None, float]]:
        got = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=windows,
            where=chroma_where(coarse), include=["distances", "metadatas"],
        )
        return [(self.by_id.get((md or {}).get("passage_id", vid.split("#")[0])), 1.0 - float(dist))
                for vid, dist, md in zip(got["ids"][0], got["distances"][0], got["metadatas"][0])]

    def _mirror_windows(self, vector: np.ndarray, windows: int, coarse: Filters) -> list[tuple[int | None, float]]:
        """As ``_chroma_windows``, exactly: the filters of Chroma's ``where`` clause (document,
        kind, type, year) are read from the passages and their documents' metadata."""
        assert self.mirror is not None
        allowed = None
        if not coarse.is_empty():
            allowed = np.array([coarse.allows(p, self.metas.get(p.doc_id)) for p in self.passages], dtype=bool)
        idx, sims = self.mirror.nearest(vector, windows, allowed)
        rows = self.mirror.rows[idx]
        return [(int(r) if r >= 0 else None, float(s)) for r, s in zip(rows, sims)]

    def bm25_scores(self, query: str, n: int, filters: Filters) -> tuple[list[int], list[float]]:
        """Rows of the ``n`` best BM25 passages for ``query`` (already analysed text), best first."""
        scores = self.bm25.scores(query)
        if not scores.size:
            return [], []
        rows = self.bm25_rows
        if not filters.is_empty():
            mask = np.array([r >= 0 and self.allows(int(r), filters) for r in rows])
            scores = np.where(mask, scores, 0.0)
        ranked = [int(t) for t in np.argsort(-scores)[:n] if scores[t] > 0 and rows[t] >= 0]
        return [int(rows[t]) for t in ranked], [float(scores[t]) for t in ranked]


class IndexReader:
    """Opens an index for reading and loads snapshots of it."""

    def __init__(self, index_dir: Path, identity: IndexIdentity, chroma: ChromaSettings,
                 use_mirror: bool = True) -> None:
        self.store = IndexStore(Path(index_dir), identity, create=False, chroma=chroma)
        self.use_mirror = use_mirror and self.store.chroma_settings.mode == "embedded"

    @property
    def dir(self) -> Path:
        return self.store.dir

    def load(self) -> Snapshot:
        """Everything a search reads, built aside: callers swap it in as one value."""
        passages = self.store.passages()
        by_id = {p.id: i for i, p in enumerate(passages)}
        bm25 = BM25Index.load(self.store.dir / "bm25")
        mirror = self._mirror(passages, by_id)
        collection = None if mirror is not None else self.store.collection  # opens Chroma
        return Snapshot(
            passages=passages, by_id=by_id, metas=self.store.document_meta(), bm25=bm25,
            bm25_rows=np.array([by_id.get(pid, -1) for pid in bm25.ids], dtype=np.int64),
            vector_count=mirror.count if mirror is not None else int(self.store.collection.count()),
            question_lists=frozenset(i for i, p in enumerate(passages) if is_question_list(p.text)),
            collection=collection, mirror=mirror,
        )

    def _mirror(self, passages: list[Passage], by_id: dict[str, int]) -> VectorMirror | None:
        """The NumPy mirror when it holds exactly these passages' vectors; else None (Chroma)."""
        if not self.use_mirror or dense_pending(self.store.dir) or not (self.store.dir / "chroma").is_dir():
            return None  # no mirror outlives the vectors it copies: Chroma's own files must be there
        return load_mirror(self.store.dir, self.store.identity.collection, passages, by_id)


def chroma_where(filters: Filters) -> dict[str, Any] | None:
    """Filters in Chroma's ``where`` dialect; unit-level sectors and speakers are checked
    per unit after the query (a chapter's sector can differ from its document's)."""
    clauses: list[dict[str, Any]] = []
    if filters.docs:
        clauses.append({"doc_id": {"$in": list(filters.docs)}})
    if filters.kinds:
        clauses.append({"kind": {"$in": list(filters.kinds)}})
    if filters.types:
        clauses.append({"type": {"$in": list(filters.types)}})
    if filters.years:
        clauses.append({"year": {"$in": [int(y) for y in filters.years]}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
