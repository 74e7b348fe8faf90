"""Heading levels of report lines: numbered sections ("1.2. …") and chapter lines ("3 / …")."""

from __future__ import annotations

import re

_NUMBERED = re.compile(r"^(?P<num>\d{1,2}[a-z]?(?:\.\d{1,2})*)\.?\s+(?P<title>[A-Z“‘'\"].*)$")
_CHAPTER = re.compile(r"^(?P<num>\d{1,2})\s+/\s+(?P<title>\S.*)$")


def heading_level(text: str) -> int:
    """Heading level of a block, or 0 when it is not a heading."""
    limit = 260 if text.endswith("?") else 170
    if len(text) > limit or text.endswith((".", ";", ",")) and not _CHAPTER.match(text):
        return 0
    if _CHAPTER.match(text) and len(text) < 120:
        return 1
    m = _NUMBERED.match(text)
    if m and len(text.split()) <= 36 and int(re.match(r"\d+", m.group("num")).group()) <= 20:  # type: ignore[union-attr]
        if re.search(r"\(\d{4}\)", text) or text.endswith(":"):
            return 0  # a reference or a lead-in, not a heading
        return 1 + m.group("num").count(".")
    return 0
