"""Metadata files written by the app (uploads/manifest.toml): validated, atomic, per entry.

A title with a lone surrogate or a control character once truncated the file, or made it
invalid TOML so the next upload reset every other entry. Here every value is checked before
anything is written (:func:`check_text`), the file is replaced atomically (temp file, fsync,
rename), and a damaged file is read entry by entry: the entries that parse are kept, and
the text of the ones that do not is moved aside to ``manifest.toml.damaged``, never lost.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from evidence_finder.errors import BadInputError

_SECTION = re.compile(r"^\s*\[", re.M)
MAX_FIELD_CHARS = 500


def check_text(field: str, value: str) -> str:
    """``value`` stripped, or a :class:`BadInputError` naming the field and the bad character."""
    for i, ch in enumerate(value):
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            raise BadInputError(
                f"the {field} {_shown(value)} contains a lone surrogate (U+{code:04X}) at position "
                f"{i + 1}, which is not text; remove it and try again"
            )
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d\u00ad":
            raise BadInputError(
                f"the {field} {_shown(value)} contains a control character (U+{code:04X}) at "
                f"position {i + 1}; remove it and try again"
            )
    if len(value) > MAX_FIELD_CHARS:
        raise BadInputError(f"the {field} is {len(value)} characters long; at most {MAX_FIELD_CHARS}")
    return value.strip()


def _shown(value: str) -> str:
    return ascii(value[:60])


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a reader sees the old or the new file, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_entries(path: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """(entries that parse, raw text of sections that do not) of a manifest file."""
    if not path.is_file():
        return {}, []
    raw = path.read_bytes().decode("utf-8", "replace")
    try:
        return tomllib.loads(raw), []
    except tomllib.TOMLDecodeError:
        pass
    entries: dict[str, dict[str, Any]] = {}
    damaged: list[str] = []
    starts = [m.start() for m in _SECTION.finditer(raw)]
    for a, b in zip(starts, [*starts[1:], len(raw)]):
        chunk = raw[a:b]
        try:
            entries.update(tomllib.loads(chunk))
        except tomllib.TOMLDecodeError:
            damaged.append(chunk)
    return entries, damaged


def to_toml(manifest: dict[str, dict[str, Any]], header: str) -> str:
    """A manifest as TOML (JSON string/array literals are valid TOML basic strings/arrays)."""
    out = [f"# {header}"]
    for name, entry in manifest.items():
        out.append(f"\n[{json.dumps(name)}]")
        for key, value in entry.items():
            out.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    text = "\n".join(out) + "\n"
    tomllib.loads(text)  # never write what cannot be read back
    return text


def update_manifest(path: Path, updates: dict[str, dict[str, Any] | None], header: str) -> None:
    """Set (or, with None, remove) entries of the manifest at ``path``; the rest stay as they are."""
    entries, damaged = read_entries(path)
    if damaged:
        with open(path.with_name(path.name + ".damaged"), "a", encoding="utf-8") as fh:
            fh.write("".join(damaged))
    for name, entry in updates.items():
        if entry is None:
            entries.pop(name, None)
        else:
            entries[name] = entry
    write_atomic(path, to_toml(entries, header))
