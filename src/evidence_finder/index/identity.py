"""Document identity during one ingest: two files never silently replace each other.

The document id is the (NFC-normalised) file name. Two files in one run with the same id, a
file whose id is already indexed from another existing file, and a file with exactly the
content of another indexed document are refused with a message naming both; the first one
stays indexed as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence_finder.errors import BadInputError
from evidence_finder.ingest.paths import display_path, doc_id_for


class IdentityGuard:
    """Hands out document ids for one ingest run and refuses collisions."""

    def __init__(self, known: dict[str, dict[str, Any]]) -> None:
        self.known = known
        self.claimed: dict[str, str] = {}  # doc id -> source path, this run
        self.by_hash: dict[str, str] = {}  # file hash -> doc id (indexed and still on disk, or this run)
        for doc_id, row in known.items():
            if row.get("file_hash") and Path(row["source_path"]).exists():
                self.by_hash.setdefault(row["file_hash"], doc_id)

    def claim(self, path: Path, file_hash: str) -> str:
        """The id of ``path``; raises :class:`BadInputError` if it would replace or repeat another."""
        doc_id = doc_id_for(path)
        src = str(path.resolve())
        shown = repr(display_path(path.name))
        other = self.claimed.get(doc_id)
        if other is not None and other != src:
            raise BadInputError(
                f"{shown}: another file with the same name, {display_path(other)!r}, is in this "
                "ingest and was indexed; the file name is the document id, so rename one of them"
            )
        prior = self.known.get(doc_id)
        if prior and prior["source_path"] != src and Path(prior["source_path"]).exists():
            raise BadInputError(
                f"{shown}: a document with this name is already indexed from "
                f"{display_path(prior['source_path'])!r}; rename the file (the file name is the "
                "document id)"
            )
        twin = self.by_hash.get(file_hash)
        if twin is not None and twin != doc_id:
            raise BadInputError(
                f"{shown} has exactly the same content as {twin!r}, which is indexed; it is not "
                "indexed twice (remove one of the copies to silence this notice)"
            )
        self.claimed[doc_id] = src
        self.by_hash[file_hash] = doc_id
        return doc_id
