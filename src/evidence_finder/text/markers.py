"""Citation markers in answer text: ``[1]``, ``[2, 3]``, ``[1; 4]``.

One pattern for the composer, the LLM post-processing, verification and the UI, so a marker
one stage writes is a marker every other stage reads.
"""

from __future__ import annotations

import re

MARKER_BODY = r"\d{1,3}(?:\s*[,;]\s*\d{1,3})*"
MARKER = re.compile(rf"\[({MARKER_BODY})\]")
"""A citation marker; group 1 holds its numbers."""


def marker_numbers(body: str) -> list[int]:
    """The citation numbers in a marker's body ('2, 3' -> [2, 3])."""
    return [int(n) for n in re.split(r"\s*[,;]\s*", body.strip()) if n]
