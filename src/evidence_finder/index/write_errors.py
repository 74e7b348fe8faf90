"""One clear message when the index cannot be written (read-only, no permission, disk full).

SQLite, Chroma and the file system each word these differently ("attempt to write a readonly
database", "Failed to apply logs", ``OSError: [Errno 28]``); the ingest turns any of them into
one :class:`IndexWriteError` that names the directory and the cause. SQLite writes one
document per transaction after its vectors, so a failed write leaves every stored document
as it was; vectors without a document are swept by the next ingest.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evidence_finder.errors import EvidenceError, IndexWriteError

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_FULL_WORDS = ("disk is full", "no space left", "database or disk is full", "quota exceeded",
               "failed to apply logs")
_READONLY_WORDS = ("readonly database", "read-only file system", "permission denied",
                   "attempt to write a readonly")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _cause(exc: BaseException) -> str | None:
    """'full' or 'readonly' when the exception (or one behind it) is a storage failure."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
            return "full"
        if isinstance(e, OSError) and e.errno in _READONLY_ERRNOS:
            return "readonly"
        said = str(e).lower()
        if isinstance(e, sqlite3.Error) or type(e).__module__.startswith("chromadb") or isinstance(e, OSError):
            if any(w in said for w in _READONLY_WORDS):
                return "readonly"
            if any(w in said for w in _FULL_WORDS):
                return "full"
    return None


def _free(index_dir: Path) -> str:
    for d in (index_dir, *index_dir.parents):
        if d.exists():
            return f"{shutil.disk_usage(d).free / (1024 * 1024):.0f} MB free"
    return "free space unknown"


def describe(exc: BaseException, index_dir: Path) -> str | None:
    """The user-facing message for a storage failure, or None if ``exc`` is something else."""
    cause = _cause(exc)
    where = repr(str(index_dir))
    kept = ("Documents already in the index are unchanged and still searchable; "
            "nothing from this run was lost")
    if cause == "full":
        return (f"cannot write the index at {where}: the disk is full ({_free(index_dir)}). "
                f"{kept}. Free some space and run `evidence ingest` again.")
    if cause == "readonly":
        return (f"cannot write the index at {where}: it is read-only or not writable by this user "
                f"({type(exc).__name__}). {kept}. Make it writable (or pass --index-dir to a "
                "writable copy) and run `evidence ingest` again; searching it works as it is.")
    return None


@contextmanager
def storage_errors(index_dir: Path) -> Iterator[None]:
    """Turn storage failures inside the block into one :class:`IndexWriteError`."""
    try:
        yield
    except EvidenceError:
        raise
    except Exception as exc:
        msg = describe(exc, index_dir)
        if msg is None:
            raise
        raise IndexWriteError(msg) from exc
