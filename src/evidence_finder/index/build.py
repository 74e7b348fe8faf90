"""Ingest: files → load → clean → structure → chunk → embed → index. One entry point: ``ingest``.

Incremental and crash-safe: a document whose file hash is unchanged is skipped; a changed
document embeds only passages whose ids are not yet in Chroma and drops the ones that are
gone; deleted documents (under a directory being ingested) are removed. Vectors go to
Chroma first, then the document's rows go to SQLite in one transaction, then BM25 is
rebuilt if its fingerprint is stale, and a final sweep removes vectors that no SQLite
passage owns. Killing the process at any point and running again gives the same index as
one clean run.

Two passes for serving at once (``evidence serve`` on a first run): ``ingest(embed=False)``
writes passages and BM25 without vectors (seconds), marked ``dense.pending``; the next
``ingest`` embeds every passage that has no vector yet (``_embed_missing``), wherever an
earlier run stopped, and removes the mark.

Readers search a NumPy copy of the vectors (``index.mirror``): every vector write removes it
first (``IndexStore.upsert_vectors`` / ``delete_vectors``), and a run that ends with every
passage embedded writes it again from what Chroma holds.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_finder.errors import BadInputError, EvidenceError
from evidence_finder.index.bm25 import BM25Index
from evidence_finder.index.identity import IdentityGuard
from evidence_finder.index.store import (
    DENSE_PENDING,
    IndexIdentity,
    IndexStore,
    chroma_metadata,
    dense_pending,
)
from evidence_finder.index.write_errors import storage_errors
from evidence_finder.ingest.chunk import ANNOTATION_VERSION, chunk_document
from evidence_finder.ingest.clean import clean
from evidence_finder.ingest.load import _check_path, iter_source_files
from evidence_finder.ingest.paths import display_path, doc_id_for
from evidence_finder.ingest.structure import analyse
from evidence_finder.ingest.titles import usable_title
from evidence_finder.ingest.worker import load_limited
from evidence_finder.models.embedders import CachedEmbedder, Embedder, LazyEmbedder
from evidence_finder.settings import Settings
from evidence_finder.types import DocumentMeta, Passage

Progress = Callable[[str, int, int, str], None]  # (stage, done, total, label)


@dataclass
class IngestReport:
    documents: int = 0  # documents in the index after the run
    processed: int = 0  # documents (re)chunked in this run
    unchanged: int = 0
    removed: int = 0
    passages: int = 0
    quotes: int = 0
    tables: int = 0
    embedded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"documents: {self.documents} in index ({self.processed} ingested, "
            f"{self.unchanged} unchanged, {self.removed} removed)",
            f"units: {self.passages} passages, {self.quotes} quotes, {self.tables} tables",
            f"embedded: {self.embedded} new or changed units",
            f"skipped: {len(self.skipped)}",
        ]
        # display_path: a newline in a file name must not forge a line of this summary
        lines += [f"  - {display_path(path)}: {display_path(reason)}" for path, reason in self.skipped]
        lines.append(f"seconds: {self.seconds:.1f}")
        return "\n".join(lines)


def load_manifest(directory: Path) -> dict[str, dict[str, Any]]:
    path = directory / "manifest.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{str(path)!r} is not valid TOML: {exc}") from exc


def document_meta(path: Path, passages_text: str, manifest: dict[str, dict[str, Any]],
                  own_title: str = "") -> DocumentMeta:
    """Manifest metadata; without a manifest title, the file's own title (metadata, Title
    style, first heading), else its first title-like line (never a quotation)."""
    doc_id = doc_id_for(path)
    entry = manifest.get(path.name) or manifest.get(doc_id) or {}
    title = entry.get("title") or own_title or _guess_title(passages_text) or path.stem
    return DocumentMeta(
        doc_id=doc_id, title=title, publisher=entry.get("publisher", ""),
        commissioned_by=entry.get("commissioned_by", ""), year=entry.get("year"),
        region=entry.get("region", ""), sectors=tuple(entry.get("sectors", ())),
        type=entry.get("type", "report"), language=entry.get("language", "nl"),
        short_title=entry.get("short_title", "") or title[:60], summary=entry.get("summary", ""),
    )


def _guess_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if 3 <= len(line) <= 120 and usable_title(line) and not line.endswith(":"):
            return line
    return ""


def embed_text(p: Passage, meta: DocumentMeta, with_context: bool, text: str | None = None) -> str:
    """What the embedder reads for a passage (or one of its windows): optionally its
    document and section first."""
    text = p.text if text is None else text
    if not with_context:
        return text
    section = p.section.split(" > ")[-1] if p.section else ""
    head = " — ".join(x for x in (meta.short_title or meta.title, section) if x)
    return f"{head}\n{text}"


def chunk_file(path: Path, settings: Settings) -> tuple[str, list[Passage]]:
    """Load, clean, structure and chunk one file; returns (cleaned text, units)."""
    text, passages, _title = chunk_file_titled(path, settings)
    return text, passages


def chunk_file_titled(path: Path, settings: Settings) -> tuple[str, list[Passage], str]:
    """``chunk_file`` and the document's own title: from its metadata or Title style, else
    (DOCX, PDF) its first heading; '' when it has neither."""
    source = load_limited(path, settings.max_file_mb * 1024 * 1024, settings.parse)
    doc = clean(source)
    if not doc.text.strip():
        raise BadInputError(f"{path.name!r} has no text left after cleaning")
    units = analyse(doc)
    title = source.title
    if not title and source.format in ("docx", "pdf"):  # in plain text the first line is the title
        title = usable_title(next((doc.text[u.start:u.end] for u in units if u.kind == "heading"), ""))
    return doc.text, chunk_document(doc_id_for(path), doc, units, settings.chunking), title


@contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time; readers never take this lock."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise EvidenceError(
                f"another ingest is running on {str(index_dir)!r}; wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ingest(paths: list[Path], settings: Settings, *, index_dir: Path | None = None,
           embedder: Embedder | None = None, progress: Progress | None = None,
           prune: bool = True, follow_links: bool = False, embed: bool = True) -> IngestReport:
    """Build or update the index from ``paths`` (files or directories).

    Links inside a directory that lead out of it are followed only with ``follow_links``.
    With ``embed=False`` only passages and BM25 are written (a BM25-only index, marked
    pending); a later run with ``embed=True`` embeds what is missing."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir or settings.resolved_index_dir)
    report = IngestReport()
    files, skipped = iter_source_files([Path(p) for p in paths], follow_links=follow_links)
    report.skipped.extend((display_path(p), reason) for p, reason in skipped)
    if embedder is None:  # loaded only if some text is neither indexed nor cached
        embedder = CachedEmbedder(LazyEmbedder(settings), settings.data_dir / "cache" / "vectors.sqlite3")
    identity = IndexIdentity.from_settings(settings, embedder.id)
    with storage_errors(index_dir), index_lock(index_dir):
        store = IndexStore(index_dir, identity, create=True, chroma=settings.chroma)
        try:
            _run(store, files, [Path(p) for p in paths], settings, embedder, report, progress, prune, embed)
        finally:
            store.close()
    report.seconds = time.perf_counter() - t0
    return report


def _run(store: IndexStore, files: list[Path], roots: list[Path], settings: Settings,
         embedder: Embedder, report: IngestReport, progress: Progress | None, prune: bool,
         embed: bool = True) -> None:
    pending = store.dir / DENSE_PENDING
    if (store.stored_identity().get("collection") != store.identity.collection
            or store.vectors_moved() or (store.vectors_lost() and not pending.exists())):
        store.clear()  # another embedder, chunker or vector store, or lost vectors: rebuild all
    known = store.documents()
    identities = IdentityGuard(known)
    work: list[tuple[Path, str, DocumentMeta, list[Passage]]] = []
    manifests: dict[Path, dict[str, dict[str, Any]]] = {}
    for path in files:
        try:
            # size, type and emptiness before hashing: a 200 MB file is refused unread
            _check_path(path, settings.max_file_mb * 1024 * 1024)
            file_hash = _file_hash(path)
            prior = known.get(identities.claim(path, file_hash))
            if prior and prior["file_hash"] == file_hash:
                report.unchanged += 1
                continue
            if path.parent not in manifests:
                manifests[path.parent] = load_manifest(path.parent)
            text, passages, own_title = chunk_file_titled(path, settings)
            meta = document_meta(path, text, manifests[path.parent], own_title)
            work.append((path, file_hash, meta, passages))
        except EvidenceError as exc:
            report.skipped.append((display_path(path), str(exc)))
    if not embed and work:
        pending.touch()  # before any passage goes in without its vectors
    _embed_and_store(store, work, settings, embedder, report, progress, embed)
    if embed:
        _embed_missing(store, settings, embedder, report, progress)
    if prune:
        report.removed = _remove_deleted(store, files, roots)
    _sweep_orphans(store)
    _refresh_bm25(store, settings)
    store.write_identity(embedder.dim or int(store.stored_identity().get("dim") or 0))
    store.drop_other_collections()
    if embed:
        pending.unlink(missing_ok=True)
    _refresh_mirror(store)
    for p in store.passages():
        kind_counts = {"passage": "passages", "quote": "quotes", "table": "tables"}
        setattr(report, kind_counts[p.kind], getattr(report, kind_counts[p.kind]) + 1)
    report.documents = len(store.documents())


def vector_units(p: Passage) -> list[tuple[str, str]]:
    """(vector id, text) for each vector of a passage: one per window."""
    texts = p.window_texts()
    if len(texts) == 1:
        return [(p.id, texts[0])]
    return [(f"{p.id}#{i}", t) for i, t in enumerate(texts)]


def _embed_and_store(store: IndexStore, work: list[tuple[Path, str, DocumentMeta, list[Passage]]],
                     settings: Settings, embedder: Embedder, report: IngestReport,
                     progress: Progress | None, embed: bool = True) -> None:
    plans = []
    total = 0
    for path, file_hash, meta, passages in work:
        existing = store.vector_ids(meta.doc_id)
        units = [(vid, text, p) for p in passages for vid, text in vector_units(p)]
        new = [u for u in units if u[0] not in existing] if embed else []
        plans.append((path, file_hash, meta, passages, units, new, existing))
        total += len(new)
    done = 0
    if progress and embed:
        progress("embed", 0, total, "")
    size = settings.index.embed_batch
    for path, file_hash, meta, passages, units, new, existing in plans:
        for i in range(0, len(new), size):
            batch = new[i:i + size]
            _embed_batch(store, batch, meta, settings, embedder)
            done += len(batch)
            report.embedded += len(batch)
            if progress:
                progress("embed", done, total, meta.doc_id)
        wanted = {vid for vid, _, _ in units}
        stale = existing - wanted
        if stale:
            store.delete_vectors(stale)
        kept = [(vid, p) for vid, _, p in units if vid in existing]
        if kept:  # metadata (e.g. a manifest edit) may have changed without the text changing
            store.collection.update(ids=[vid for vid, _ in kept],
                                    metadatas=[chroma_metadata(p, meta) for _, p in kept])
        store.replace_document(meta, str(path.resolve()), file_hash, passages, time.time())
        report.processed += 1


def _embed_batch(store: IndexStore, batch: list[tuple[str, str, Passage]], meta: DocumentMeta,
                 settings: Settings, embedder: Embedder) -> None:
    vectors = embedder.embed_passages([embed_text(p, meta, settings.retrieval.embed_context, text)
                                       for _, text, p in batch])
    store.upsert_vectors([vid for vid, _, _ in batch], vectors,
                         [chroma_metadata(p, meta) for _, _, p in batch])


def _embed_missing(store: IndexStore, settings: Settings, embedder: Embedder, report: IngestReport,
                   progress: Progress | None) -> None:
    """Embed the stored passages that have no vector yet: those a text-only pass wrote, or
    that a run stopped before. Their rows are in SQLite already, so only vectors are added."""
    if not dense_pending(store.dir):
        return
    have = store.vector_ids()
    metas = store.document_meta()
    missing = [(vid, text, p) for p in store.passages() for vid, text in vector_units(p) if vid not in have]
    if progress:
        progress("embed", 0, len(missing), "")
    done = 0
    for doc_id in dict.fromkeys(p.doc_id for _, _, p in missing):
        mine = [u for u in missing if u[2].doc_id == doc_id]
        size = settings.index.embed_batch
        for i in range(0, len(mine), size):
            batch = mine[i:i + size]
            _embed_batch(store, batch, metas[doc_id], settings, embedder)
            done += len(batch)
            report.embedded += len(batch)
            if progress:
                progress("embed", done, len(missing), doc_id)


def remove_document(store: IndexStore, doc_id: str, settings: Settings) -> None:
    """Remove one document's passages everywhere (Chroma, SQLite, BM25) under the writer lock."""
    with index_lock(store.dir):
        store.delete_document(doc_id)
        _refresh_bm25(store, settings)
        _refresh_mirror(store)


def default_targets(settings: Settings) -> list[Path]:
    """What a plain `evidence ingest` indexes: the corpus, plus documents uploaded in the app."""
    uploads = settings.data_dir / "uploads"
    return [settings.corpus_dir] + ([uploads] if uploads.is_dir() else [])


def _remove_deleted(store: IndexStore, files: list[Path], roots: list[Path]) -> int:
    """Documents whose file vanished from a directory being ingested are removed."""
    present = {str(f.resolve()) for f in files}
    dirs = [r.resolve() for r in roots if r.is_dir()]
    removed = 0
    for doc_id, row in store.documents().items():
        src = Path(row["source_path"])
        under = any(d == src.parent or d in src.parents for d in dirs)
        if under and str(src) not in present and not src.exists():
            store.delete_document(doc_id)
            removed += 1
    return removed


def _sweep_orphans(store: IndexStore) -> None:
    owned = {vid for p in store.passages() for vid, _ in vector_units(p)}
    orphans = store.vector_ids() - owned
    if orphans:
        store.delete_vectors(orphans)


def _refresh_mirror(store: IndexStore) -> None:
    """Write the readers' copy of the vectors once every passage has its vectors (not while
    ``dense.pending``), unless the one there already matches."""
    if not dense_pending(store.dir) and not store.mirror_is_current():
        store.write_mirror()


def _refresh_bm25(store: IndexStore, settings: Settings) -> None:
    k1, b = settings.index.bm25_k1, settings.index.bm25_b
    fp = store.fingerprint()
    bm25_dir = store.dir / "bm25"
    if BM25Index.stored_fingerprint(bm25_dir) == fp and BM25Index.stored_parameters(bm25_dir) == (k1, b):
        return
    passages = store.passages()
    metas = store.document_meta()
    texts = [_bm25_text(p, metas.get(p.doc_id)) for p in passages]
    BM25Index.build(texts, [p.id for p in passages], k1=k1, b=b).save(bm25_dir, fp)


def _bm25_text(p: Passage, meta: DocumentMeta | None) -> str:
    section = p.section.split(" > ")[-1] if p.section else ""
    return f"{section}\n{p.text}" if section else p.text


def _file_hash(path: Path) -> str:
    """The file's content hash, tagged with the annotation version (a new version of the
    role/sector/speaker analysis re-analyses the document; its vectors are reused)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return f"{h.hexdigest()}:a{ANNOTATION_VERSION}"
