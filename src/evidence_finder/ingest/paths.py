"""File-system hazards met while collecting files: one bad path is reported, never fatal.

A symlink loop, a broken link, a name that is not valid UTF-8, an unreadable directory or a
link that leads out of the folder being ingested each become one "skipped" line with the
reason; the walk carries on with the rest.
"""

from __future__ import annotations

import errno
import os
import re
import unicodedata
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def display_path(path: Path | str) -> str:
    """``path`` safe to print on one line: undecodable bytes as ``\\xNN``, control characters
    (a newline in a file name could forge a line of a report) escaped."""
    raw = os.fsencode(str(path)).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), raw)


def name_problem(path: Path) -> str | None:
    """Why this file's name cannot be a document id, or None."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return (f"its name is not valid UTF-8 ({os.fsencode(path.name)!r}); rename the file "
                "(e.g. `convmv -f latin1 -t utf8`) and ingest it again")
    return None


def resolve_problem(path: Path) -> tuple[Path | None, str | None]:
    """(the real path, None), or (None, why it cannot be followed)."""
    try:
        return path.resolve(strict=True), None
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        return None, "is a symbolic link loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "is a symbolic link loop"
        if exc.errno == errno.ENOENT and path.is_symlink():
            return None, f"is a broken symbolic link (to {display_path(os.readlink(path))!r})"
        return None, f"cannot be accessed: {exc.strerror or exc}"


def outside_link(path: Path, real: Path, root: Path) -> str | None:
    """Why a link found under ``root`` is not followed: it leads outside ``root``."""
    if real == root or root in real.parents:
        return None
    return (f"is a link to {display_path(real)!r}, outside the folder being ingested; not followed "
            "(pass --follow-links to include such files)")


def walk_errors(skipped: list[tuple[Path, str]]) -> object:
    """An ``os.walk`` onerror callback that records unreadable directories as skipped."""
    def record(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else Path("?")
        skipped.append((where, f"directory cannot be read: {exc.strerror or exc}"))
    return record


def doc_id_for(path: Path) -> str:
    """The document id of a file: its name in Unicode NFC, so that a name typed on macOS
    (decomposed "é") and the same name typed elsewhere are one document, not two."""
    return unicodedata.normalize("NFC", path.name)
