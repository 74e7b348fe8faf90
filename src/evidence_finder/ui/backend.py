"""What the web chat does, without Gradio: ask, show evidence, list/upload/delete documents.

One :class:`Backend` serves all browser sessions. It opens the index lazily, so the app
starts (and says what to do) when no index exists yet, and it reloads the searcher after
every upload or delete so new documents are searchable at once.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from evidence_finder.errors import (
    BadInputError,
    EvidenceError,
    FileTooLargeError,
    NoIndexError,
    UnsupportedFileError,
)
from evidence_finder.ingest.load import SUPPORTED_EXTENSIONS
from evidence_finder.models.embedders import Embedder
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import Settings
from evidence_finder.types import Answer, IndexView, Passage

if TYPE_CHECKING:
    from evidence_finder.answer.service import AnswerEvent, AnswerService
from evidence_finder.ui.render import EvidenceItem, Turn
from evidence_finder.ui.uploads import (
    UploadUndo,
    free_upload_name,
    original_name,
    read_entries,
    upload_entry,
)

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]  # (fraction done, label)
AROUND_CHARS = 360  # text shown before/after a cited passage


def safe_filename(name: str) -> str:
    """A file name that is safe to store: no directories, ASCII letters/digits/._- only.

    The extension must be one the loaders read; anything else is an UnsupportedFileError.
    """
    base = PurePath(name.replace("\\", "/")).name
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise UnsupportedFileError(
            f"{base!r} has an unsupported file type {ext or '(none)'!r}. "
            f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}."
        )
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:80] or "document"
    return stem + ext


@dataclass
class UploadResult:
    added: list[str]
    skipped: list[tuple[str, str]]


@dataclass
class BuildStatus:
    """The background dense-index build that `evidence serve` starts on a first run."""

    running: bool = False
    done: int = 0
    total: int = 0
    error: str = ""


@dataclass
class DocumentRow:
    doc_id: str
    title: str
    publisher: str
    year: int | None
    sectors: list[str]
    type: str
    language: str
    passages: int
    quotes: int
    tables: int
    uploaded: bool


class Backend:
    """Shared by every session of one app: the searcher, the answer service and the index."""

    def __init__(self, settings: Settings, searcher: Searcher | None = None,
                 answer_service: AnswerService | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._searcher = searcher or (answer_service.searcher if answer_service is not None else None)
        self._answers = answer_service
        self._embedder = embedder or (self._searcher.embedder if self._searcher else None)
        self._lock = threading.RLock()  # guards creating/reloading the searcher: held briefly
        self._write_lock = threading.Lock()  # one upload ingest at a time; askers never wait on it
        self.build = BuildStatus()
        self._build_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lazy parts
    @property
    def uploads_dir(self) -> Path:
        return self.settings.data_dir / "uploads"

    def embedder(self) -> Embedder:
        if self._embedder is None:
            from evidence_finder.models.embedders import make_embedder

            self._embedder = make_embedder(self.settings)
        return self._embedder

    def searcher(self) -> Searcher:
        """The searcher; raises NoIndexError (a message for the user) while there is no index."""
        if self._searcher is not None:  # no lock: asking must not wait for an upload's ingest
            return self._searcher
        with self._lock:
            if self._searcher is None:
                searcher = Searcher(self.settings, embedder=self.embedder())
                searcher.lexical_only = self.build.running
                self._searcher = searcher
            return self._searcher

    def has_index(self) -> bool:
        try:
            self.searcher()
        except NoIndexError:
            return False
        return True

    def answers(self) -> AnswerService:
        if self._answers is not None:
            return self._answers
        with self._lock:
            if self._answers is None:
                from evidence_finder.answer.service import AnswerService

                self._answers = AnswerService(self.searcher(), self.settings)
            return self._answers

    # ------------------------------------------------------------------ background build
    def build_in_background(self, targets: list[Path]) -> threading.Thread:
        """Embed what the index lacks (after a text-only ingest) while the chat answers from
        BM25; then reload, so answers switch to hybrid retrieval without a restart. A stop
        midway loses nothing: the next start embeds only what is still missing."""
        from evidence_finder.index.build import ingest

        self.build = BuildStatus(running=True)
        with self._lock:
            if self._searcher is not None:
                self._searcher.lexical_only = True

        def progress(stage: str, done: int, total: int, label: str) -> None:
            self.build.done, self.build.total = done, total

        def run() -> None:
            try:
                with self._write_lock:
                    ingest(targets, self.settings, progress=progress)
                    with self._lock:
                        self._reload()
                        if self._searcher is not None:
                            self._searcher.lexical_only = False
                self.build.running = False
            except Exception as exc:  # the chat keeps answering from BM25 and says why
                log.exception("background index build failed")
                self.build.error = f"{type(exc).__name__}: {exc}"

        self._build_thread = threading.Thread(target=run, name="dense-index-build", daemon=True)
        self._build_thread.start()
        return self._build_thread

    def wait_for_build(self, timeout: float | None = None) -> bool:
        """Whether the background build (if any) has ended within ``timeout`` seconds."""
        if self._build_thread is not None:
            self._build_thread.join(timeout)
            return not self._build_thread.is_alive()
        return True

    # ------------------------------------------------------------------ asking
    def ask(self, question: str, filters: Filters, mode: str,
            history: list[Turn] | None = None) -> Iterator[Turn]:
        """Yield the turn as it grows: streamed text while the backend streams, then the answer."""
        turn = Turn(question=question, mode=mode)
        svc = self.answers()
        hist = _history(history or [])
        kwargs: dict[str, Any] = {"filters": filters, "mode": mode, "history": hist}
        answer: Answer | None = None
        for event in svc.stream(question, **kwargs):
            got = _event_answer(event)
            if got is not None:
                answer = got
                continue
            delta = _event_text(event)
            if delta:
                turn = replace(turn, partial=turn.partial + delta)
                yield turn
        if answer is None:
            raise EvidenceError("the answer service ended without an answer; try again")
        yield replace(turn, answer=answer, evidence=self.evidence(answer), partial="")

    def evidence(self, answer: Answer) -> list[EvidenceItem]:
        """Each citation with its document metadata and the text just around it."""
        view = answer.view or self.searcher().snapshot()  # the index state the answer came from
        items = []
        for c in answer.citations:
            meta = view.meta(c.passage.doc_id)
            before, after = self._neighbours(view, c.passage)
            items.append(EvidenceItem(c, meta, before, after))
        return items

    @staticmethod
    def _neighbours(view: IndexView, p: Passage) -> tuple[str, str]:
        """Text of the running-text passages just before and after ``p`` in its document.

        Quotes and tables already come with their paragraph (``context``); units nested in
        the passage (its quotes, table captions) are skipped.
        """
        if p.kind != "passage":
            return "", ""
        prev, nxt = view.neighbours(p)
        before = _tail(_trim_overlap(prev.text, p.text), AROUND_CHARS) if prev else ""
        after = _head(_trim_overlap_start(p.text, nxt.text), AROUND_CHARS) if nxt else ""
        return before, after

    # ------------------------------------------------------------------ documents
    def filter_choices(self) -> dict[str, list[Any]]:
        """Choices for the filter controls, from what is in the index."""
        try:
            s = self.searcher()
        except NoIndexError:
            return {"docs": [], "sectors": [], "types": [], "kinds": [], "years": [], "speakers": []}
        snap = s.snapshot()
        metas = snap.metas
        kinds = sorted({p.kind for p in snap.passages})
        return {
            "docs": sorted(((m.short_title or m.title, d) for d, m in metas.items()),
                           key=lambda x: x[0].lower()),
            "sectors": sorted({x for m in metas.values() for x in m.sectors}),
            "types": sorted({m.type for m in metas.values() if m.type}),
            "kinds": kinds,
            "years": sorted({m.year for m in metas.values() if m.year}, reverse=True),
            "speakers": sorted({p.speaker for p in snap.passages if p.speaker}),
        }

    def documents(self) -> list[DocumentRow]:
        s = self.searcher()
        snap = s.snapshot()
        counts = Counter((p.doc_id, p.kind) for p in snap.passages)
        rows = s.store.documents()
        uploads = self.uploads_dir.resolve()
        out = []
        for doc_id, m in sorted(snap.metas.items(), key=lambda x: x[1].title.lower()):
            src = Path(rows.get(doc_id, {}).get("source_path", ""))
            out.append(DocumentRow(
                doc_id, m.title, m.publisher, m.year, list(m.sectors), m.type, m.language,
                counts[(doc_id, "passage")], counts[(doc_id, "quote")], counts[(doc_id, "table")],
                uploads in src.parents,
            ))
        return out

    def upload(self, files: list[str], *, title: str = "", year: int | None = None,
               sectors: list[str] | None = None, doc_type: str = "report",
               progress: Progress | None = None) -> UploadResult:
        """Save uploaded files under data_dir/uploads (sanitised names) and ingest them.

        Metadata is validated before anything is written; two different uploads whose names
        sanitise alike get distinct names; a file that does not ingest (or an ingest that
        fails as a whole) leaves uploads/ and its manifest as they were.
        """
        entry = upload_entry(title=title if len(files) == 1 else "", year=year,
                             sectors=sectors or [], doc_type=doc_type)
        max_bytes = self.settings.server.max_upload_mb * 1024 * 1024
        saved: list[Path] = []
        skipped: list[tuple[str, str]] = []
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        manifest_path = self.uploads_dir / "manifest.toml"
        with self._write_lock:
            entries, _ = read_entries(manifest_path)
            undo = UploadUndo(manifest_path, entries)
            for f in files:
                src = Path(f)
                try:
                    name = safe_filename(src.name)
                    size = src.stat().st_size
                    if size > max_bytes:
                        raise FileTooLargeError(
                            f"{src.name!r} is {size / 1e6:.1f} MB; the limit is "
                            f"{self.settings.server.max_upload_mb} MB"
                        )
                except (EvidenceError, OSError) as exc:
                    skipped.append((src.name, str(exc)))
                    continue
                dest = self.uploads_dir / free_upload_name(self.uploads_dir, name, src.name, entries,
                                                           taken={d.name for d in saved})
                undo.save(dest, src.read_bytes(), {**entry, "original": original_name(src.name)})
                saved.append(dest)
            if not saved:
                return UploadResult([], skipped)
            try:
                undo.write_manifest()
                report = self._ingest_uploads(saved, progress)
            except BaseException:
                undo.rollback(saved)  # an upload that is not indexed is not left behind
                raise
            # reasons name the stored file by its name only: the server's folders are nobody's business
            failed = {Path(p).name: _without_paths(reason, saved) for p, reason in report.skipped}
            undo.rollback([d for d in saved if d.name in failed])
            skipped.extend((d.name, failed[d.name]) for d in saved if d.name in failed)
        return UploadResult([d.name for d in saved if d.name not in failed], skipped)

    def _ingest_uploads(self, saved: list[Path], progress: Progress | None) -> Any:
        from evidence_finder.index.build import ingest

        def on_progress(stage: str, done: int, total: int, label: str) -> None:
            if progress:
                progress(done / total if total else 1.0, label or stage)

        report = ingest(saved, self.settings, embedder=self.embedder(), progress=on_progress,
                        prune=False)
        with self._lock:
            self._reload()
        return report

    def delete(self, doc_id: str) -> tuple[int, bool]:
        """Remove a document's passages from the index, and its file if it was uploaded.

        Returns (units removed, whether it was an upload). A corpus file stays where it is, so
        the next ``evidence ingest`` of the corpus adds it again.
        """
        from evidence_finder.index.build import remove_document

        s = self.searcher()
        rows = s.store.documents()
        if doc_id not in rows:
            raise BadInputError(f"document {doc_id!r} is not in the index")
        n = sum(1 for p in s.snapshot().passages if p.doc_id == doc_id)
        with self._write_lock, self._lock:  # after a running upload's ingest, not failing on it
            remove_document(s.store, doc_id, self.settings)
            src = Path(rows[doc_id]["source_path"])
            uploaded = self.uploads_dir.resolve() in src.parents
            if uploaded:
                src.unlink(missing_ok=True)
            self._reload()
        return n, uploaded

    def _reload(self) -> None:
        if self._searcher is None:
            self._searcher = Searcher(self.settings, embedder=self.embedder())
        else:
            self._searcher.reload()


def _without_paths(reason: str, saved: list[Path]) -> str:
    """``reason`` with every full path of an uploaded file replaced by its name."""
    for path in saved:
        for form in (str(path), str(path.resolve())):
            reason = reason.replace(repr(form), repr(path.name)).replace(form, path.name)
    return reason


def _history(turns: list[Turn]) -> list[tuple[str, str]]:
    """Earlier questions and answer texts, oldest first (what follow-up questions need)."""
    return [(t.question, t.answer.text) for t in turns if t.answer is not None and not t.error]


def _event_answer(event: AnswerEvent) -> Answer | None:
    return event.answer if event.type == "answer" else None


def _event_text(event: AnswerEvent) -> str:
    """Streamed text of an AnswerEvent ("delta"); notices arrive with the final answer."""
    return event.text if event.type == "delta" else ""


def _trim_overlap(prev: str, cur: str) -> str:
    """``prev`` without the sentences it shares with the start of ``cur`` (chunk overlap)."""
    start = cur[:400]
    for j in range(max(0, len(prev) - 400), len(prev)):
        tail = prev[j:].strip()
        if len(tail) > 10 and start.startswith(tail):
            return prev[:j].rstrip()
    return prev


def _trim_overlap_start(cur: str, nxt: str) -> str:
    """``nxt`` without the sentences it repeats from the end of ``cur``."""
    for j in range(min(len(nxt), 400), 10, -1):
        if cur.rstrip().endswith(nxt[:j].strip()):
            return nxt[j:].lstrip()
    return nxt


def _tail(text: str, n: int) -> str:
    if len(text) <= n:
        return text
    cut = text[-n:]
    return "… " + cut[cut.find(" ") + 1:] if " " in cut else "… " + cut


def _head(text: str, n: int) -> str:
    if len(text) <= n:
        return text
    cut = text[:n]
    return (cut[: cut.rfind(" ")] if " " in cut else cut) + " …"
