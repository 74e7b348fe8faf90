"""Upload bookkeeping: validated metadata, names that never collide, and undo on failure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from evidence_finder.errors import BadInputError
from evidence_finder.ingest.manifest import check_text, read_entries, update_manifest
from evidence_finder.ingest.paths import display_path

HEADER = "Metadata of documents uploaded in the web chat (read by `evidence ingest`)."

__all__ = ["UploadUndo", "free_upload_name", "original_name", "read_entries", "upload_entry"]


def upload_entry(*, title: str, year: int | None, sectors: list[str], doc_type: str) -> dict[str, Any]:
    """The manifest entry for an upload; every field checked (:class:`BadInputError` names it)."""
    entry: dict[str, Any] = {"type": check_text("document type", doc_type or "report") or "report",
                             "uploaded": time.strftime("%Y-%m-%d")}
    if check_text("title", title or ""):
        entry["title"] = check_text("title", title)
    if year:
        try:
            entry["year"] = int(year)
        except (TypeError, ValueError) as exc:
            raise BadInputError(f"the year {year!r} is not a number") from exc
    if sectors:
        entry["sectors"] = [check_text("sector", str(s)) for s in sectors]
    return entry


def original_name(name: str) -> str:
    """The name the user's file had, printable (control characters and surrogates escaped)."""
    return display_path(name.encode("utf-8", "backslashreplace").decode("utf-8"))


def free_upload_name(uploads: Path, name: str, original: str, entries: dict[str, dict[str, Any]],
                     taken: set[str]) -> str:
    """``name``, unless another upload already holds it: then ``stem-2.ext``, ``stem-3.ext``, ...

    The same original file name uploaded again replaces the earlier upload (a new version);
    a different file whose name sanitises the same way ('verslag é.txt', 'verslag e.txt')
    gets a name of its own.
    """
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while True:
        held = (uploads / candidate).exists() or candidate in entries
        recorded = entries.get(candidate, {}).get("original")
        same = recorded is None or recorded == original_name(original)
        if candidate not in taken and (not held or same):
            return candidate
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"


class UploadUndo:
    """Writes upload files and manifest entries, remembering how to put everything back."""

    def __init__(self, manifest: Path, entries: dict[str, dict[str, Any]]) -> None:
        self.manifest = manifest
        self.entries = entries
        self.previous: dict[Path, bytes | None] = {}
        self.updates: dict[str, dict[str, Any] | None] = {}

    def save(self, dest: Path, data: bytes, entry: dict[str, Any]) -> None:
        self.previous[dest] = dest.read_bytes() if dest.is_file() else None
        dest.write_bytes(data)
        self.updates[dest.name] = entry

    def write_manifest(self) -> None:
        update_manifest(self.manifest, self.updates, HEADER)

    def rollback(self, dests: list[Path]) -> None:
        """Put these uploads back as they were before: earlier version restored, or removed."""
        if not dests:
            return
        restore: dict[str, dict[str, Any] | None] = {}
        for dest in dests:
            before = self.previous.get(dest)
            if before is None:
                dest.unlink(missing_ok=True)
            else:
                dest.write_bytes(before)
            restore[dest.name] = self.entries.get(dest.name)
        update_manifest(self.manifest, restore, HEADER)
