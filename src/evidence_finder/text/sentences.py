"""Sentence boundaries in Dutch and English report text, aware of Dutch abbreviations."""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "o.a", "bijv", "bv", "e.d", "m.b.t", "t.o.v", "i.p.v", "dhr", "mevr", "nl", "ca", "etc",
    "d.w.z", "z.g", "zgn", "e.a", "evt", "incl", "excl", "resp", "vgl", "p", "pp", "nr", "jr",
    "i.s.m", "ism", "m.n", "t.a.v", "e.g", "i.e", "vs", "fig", "dr", "prof", "ir", "drs", "mr",
}
_BOUNDARY = re.compile(r"[.!?…][”’\"')\]]*\s+(?=[A-Z0-9“‘\"(À-Ý])")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans in ``text`` (shifted by ``offset``), aware of Dutch abbreviations."""
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        word = text[:m.start() + 1].rsplit(None, 1)[-1].rstrip(".").lstrip("(“‘\"'[").lower()
        if word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word):
            continue
        end = m.start() + len(m.group().rstrip())
        spans.append((offset + start, offset + end))
        start = m.end()
    if start < len(text):
        spans.append((offset + start, offset + len(text.rstrip())))
    return [(s, e) for s, e in spans if e > s]
