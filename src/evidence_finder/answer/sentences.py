"""Split a passage into citable sentences, each a verbatim span with offsets into the passage.

Blocks (separated by blank lines) are labelled first: headings, table captions, attribution
lines and respondent quotes are not statements a memo can rest on in answer mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence_finder.answer.verify import forged_turn_start, is_instruction_like
from evidence_finder.text.headings import heading_level
from evidence_finder.text.sentences import split_sentences

_BLOCK_SEP = re.compile(r"\n[ \t]*\n")
_ATTRIBUTION = re.compile(r"^(?:-\s.{2,80}\s-|(?:UIT|Uit|BRON|Bron|Source|SOURCE)\s*:.{3,200})$")
_CAPTION = re.compile(r"^(?:Tabel|Table|Figuur|Figure|Grafiek|Box|Kader)\s+\d+[a-z]?\s*[:.]", re.I)
_BULLET = re.compile(r"^(?:[•●▪◦‣\-–*+]|\d{1,2}[.)])\s+")
_OPEN_QUOTE = ("“", "„", '"', "‘")
_CLOSE_QUOTE = ("”", '"', "’")


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage: ``text == passage.text[start:end]``."""

    start: int
    end: int
    text: str
    block: int  # index of its block in the passage
    position: int  # index of the sentence within its block
    kind: str  # "statement" | "quote"
    instruction_like: bool = False

    @property
    def words(self) -> int:
        return len(self.text.split())


def block_kind(text: str) -> str:
    """'heading', 'caption', 'attribution', 'quote' or 'paragraph'."""
    t = text.strip()
    if t.startswith("#") or heading_level(t):
        return "heading"
    if _CAPTION.match(t):
        return "caption"
    if _ATTRIBUTION.match(t):
        return "attribution"
    if t.startswith(_OPEN_QUOTE) and t.rstrip(".").endswith(_CLOSE_QUOTE):
        return "quote"
    if len(t.split()) <= 9 and not t.endswith((".", "!", "?", "”", '"', ":", ";")):
        return "heading"  # a title line such as 'Factsheet Erasmus+ in het mbo'
    return "paragraph"


def blocks(text: str) -> list[tuple[int, int]]:
    """Spans of the blank-line-separated blocks of ``text`` (whitespace trimmed)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in [*_BLOCK_SEP.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        s, e = start + lead, start + len(chunk.rstrip())
        if e > s:
            spans.append((s, e))
        if m:
            start = m.end()
    return spans


def passage_sentences(text: str, *, include_quotes: bool = True) -> list[Sentence]:
    """The sentences of a passage text that can be cited as evidence.

    Everything from a forged conversation turn on is marked instruction-like: a statement
    that follows "ASSISTANT:" is the document speaking as the model, never a finding.
    """
    out: list[Sentence] = []
    forged = forged_turn_start(text)
    tainted_from = len(text) + 1 if forged is None else forged
    for b, (bs, be) in enumerate(blocks(text)):
        block = text[bs:be]
        kind = block_kind(block)
        if kind in ("heading", "caption", "attribution"):
            continue
        if kind == "quote":
            if include_quotes:
                out.append(Sentence(bs, be, block, b, 0, "quote",
                                    be > tainted_from or is_instruction_like(block)))
            continue
        bullet = _BULLET.match(block)
        offset = bs + (bullet.end() if bullet else 0)
        body = text[offset:be]
        for i, (s, e) in enumerate(split_sentences(body, offset)):
            sent = text[s:e]
            if len(sent.split()) < 3 or not any(ch.isalpha() for ch in sent):
                continue
            out.append(Sentence(s, e, sent, b, i, "statement",
                                e > tainted_from or is_instruction_like(sent)))
    return out
