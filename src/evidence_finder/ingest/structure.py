"""Structure: headings and section paths, respondent quotes, attributions and table captions.

Works on the cleaned blocks. Everything here is a heuristic tuned on report layouts of
this field (numbered sections "1.2. …", chapter lines "3 / Impact op …", research-question
headings, ALL-CAPS subheadings, “…” interview quotes followed by "- trekker -" or
"UIT: ONDERZOEKSRAPPORT …"), and each heuristic has a test on hand-built text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence_finder.ingest.clean import Block, CleanDoc
from evidence_finder.ingest.speakers import attach_speakers
from evidence_finder.text.headings import heading_level

_ATTRIBUTION = re.compile(
    r"^(?:[-–]\s(?P<role>.{2,80})\s[-–]|(?P<src>(?:UIT|Uit|BRON|Bron)\s*:\s*.{3,200}))$"
)
_TABLE = re.compile(r"^(Tabel|Table)\s+\d+[a-z]?\s*[:.]", re.I)
_OPEN_QUOTES = "“„\""
_CLOSE = re.compile("[”\"“](?=[\\s.,;:)!?]*$|\\s)")
_ROLE_WORDS = re.compile(
    r"\b(docent|leraar|leraren|leerkracht|directeur|coördinator|coordinator|student|studenten|"
    r"lerarenopleider|opleider|trekker|respondent|schoolleider|medewerker|teamleider|"
    r"bestuurder|deelnemer|beleidsmedewerker|manager|directie)\w*",
    re.I,
)
_SAYS = re.compile(r"\b(zegt|vertelt|geeft aan|stelt|verwoordt|licht toe|benadrukt|zei|vertelde)\b", re.I)
# 'Een docent: “…”' — a short lead-in and the quote in one paragraph (common in typed DOCX)
_INLINE_QUOTE = re.compile(r"^(?P<lead>[^“„\"\n]{3,160}:)\s+(?P<quote>[“„\"][^“”„\"]{30,}[”\"])\s*$")


@dataclass
class Unit:
    """A structural unit of a cleaned document, in reading order."""

    kind: str  # heading | text | quote | attribution | table
    start: int
    end: int
    section: str
    level: int = 0
    attribution: str = ""
    context: str = ""
    bullet: bool = False
    speaker: str = ""  # quotes: normalised role of who says it ('leerkracht'), when the text says
    speaker_org: str = ""  # quotes: the school or organisation named for the speaker


def _is_caps_heading(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return (
        len(letters) >= 8
        and " " in text
        and all(c.isupper() for c in letters)
        and len(text) <= 200
        and not _ATTRIBUTION.match(text)
    )


_NUMBER_CELL = re.compile(r"(?<!\S)\d+(?:[.,]\d+)?(?!\S)")


def _is_plain_heading(block: Block, nxt: Block | None) -> bool:
    """A short title-like line ('Aanleiding', 'Onderzoeksopzet') followed by a real paragraph."""
    text = block.text
    if block.bullet or nxt is None or len(text) > 70 or len(text.split()) > 9:
        return False
    if text.endswith((".", ",", ";", ":", "”", "’")) or not text[:1].isupper():
        return False
    if re.search(r"\d+%|\(\d", text) or _TABLE.match(text) or text.startswith(("Figuur", "Bron")):
        return False
    drop_cap_lost = re.fullmatch(r"[A-Z][a-z]{4,}", text) is not None  # 'Inleiding' + 'it rapport'
    return len(nxt.text) >= 120 and (nxt.text[:1].isupper() or drop_cap_lost)


def _quote_end(blocks: list[Block], i: int, text: str) -> int | None:
    """Index of the block where the quote opened in block ``i`` closes, if it does soon."""
    opened: list[str] = []
    for j in range(i, min(i + 8, len(blocks))):
        body = blocks[j].text[1:] if j == i else blocks[j].text
        opened.append(body)
        if _CLOSE.search(body) or _closed_by_single(opened):
            return j
        if j > i and (heading_level(blocks[j].text) or _ATTRIBUTION.match(blocks[j].text)):
            return None
    return None


_SINGLE_MARK = re.compile(r"‘|’(?![^\W\d_])")  # an opening ‘, or a ’ that is no apostrophe (zo’n)


def _single_quote_end(blocks: list[Block], i: int) -> tuple[int, int] | None:
    """Where a ‘…’ quote opened at the start of block ``i`` closes: (block index, offset
    just after the closing mark). It must close at the end of a block or of a line
    (‘Ik heb veel geleerd.’); nested ‘terms’ inside it are skipped. A ‘term’ closed
    mid-sentence (‘Theory of Change’ en …) or a short phrase is no quote."""
    depth = 0
    words = 0
    for j in range(i, min(i + 4, len(blocks))):
        b = blocks[j]
        body = b.text
        if j > i and (heading_level(body) or _ATTRIBUTION.match(body) or body[:1] == "‘"):
            return None
        for m in _SINGLE_MARK.finditer(body):
            if m.group() == "‘":
                # '… het geld… ‘' at a block's end: a closing mark typed as an opening one
                if depth and m.start() and body[m.start() - 1] in " …" and not body[m.end():].strip():
                    depth = 0
                else:
                    depth += 1
                    continue
            else:
                depth -= 1
            if depth > 0:
                continue
            words += len(body[:m.end()].split())
            rest = body[m.end():]
            if words < 6:
                return None
            if not rest.strip(" .,;:!?)"):
                return j, b.end
            # '… delen.’ Ook vonden ze …': the quote's last sentence ended inside it and a new
            # sentence follows in the same paragraph (lines joined by cleaning)
            if body[m.start() - 1:m.start()] in (".", "!", "?", "…") and re.match(r"\s+[A-Z]", rest):
                return j, b.start + m.end()
            return None
        words += len(body.split())
    return None


def _closed_by_single(bodies: list[str]) -> bool:
    """A “-quote that the source closes with ’ ('… ingewikkeld.’'): the block ends with ’ and
    there is one more ’ than ‘ (apostrophes inside words, as in 'zo’n', not counted)."""
    joined = " ".join(bodies).rstrip()
    if not joined.endswith("’"):
        return False
    return len(re.findall(r"’(?![^\W\d_])", joined)) > joined.count("‘")


def _quote_attribution(blocks: list[Block], i: int, j: int) -> tuple[str, int]:
    """Attribution of the quote spanning blocks i..j and the index of an attribution block."""
    tail = blocks[j].text
    m = re.search(r"[”\"]\s*\(([^()]{3,100})\)\s*\.?$", tail)
    if m:
        return m.group(1).strip(), -1
    if j + 1 < len(blocks):
        am = _ATTRIBUTION.match(blocks[j + 1].text)
        if am:
            return (am.group("role") or am.group("src") or "").strip(), j + 1
    if i > 0:
        prev = blocks[i - 1].text
        last = re.split(r"(?<=[.!?])\s+", prev)[-1]
        role, says = _ROLE_WORDS.search(last), _SAYS.search(last)
        # a lead-in ('Een docent vertelt:'), not any sentence that happens to hold 'geeft aan'
        if (prev.endswith(":") and (role or says)) or (role and says):
            return last[:200], -1
    return "", -1


def analyse(doc: CleanDoc) -> list[Unit]:
    """Label each block and give it its section path ('2 / Impact … > 2.1. Visie')."""
    blocks = doc.blocks
    units: list[Unit] = []
    stack: list[tuple[int, str]] = []

    def section() -> str:
        return " > ".join(t for _, t in stack)

    def push(level: int, title: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title[:160]))

    def context_of(i: int) -> str:
        return blocks[i - 1].text[:800] if i > 0 else ""

    def add_quote(i: int, j: int) -> int:
        """A quote over blocks i..j, with its attribution; returns the next block's index."""
        who, attr_idx = _quote_attribution(blocks, i, j)
        units.append(Unit("quote", blocks[i].start, blocks[j].end, section(), attribution=who,
                          context=context_of(i)))
        if attr_idx > 0:
            ab = blocks[attr_idx]
            units.append(Unit("attribution", ab.start, ab.end, section()))
            j = attr_idx
        return j + 1

    i = 0
    while i < len(blocks):
        b = blocks[i]
        text = b.text
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        level = 0 if b.bullet else heading_level(text)
        if level:
            push(level, text)
            units.append(Unit("heading", b.start, b.end, section(), level))
        elif _is_caps_heading(text) and not b.bullet:
            push(8, text)
            units.append(Unit("heading", b.start, b.end, section(), 8))
        elif _is_plain_heading(b, nxt):
            if len(_NUMBER_CELL.findall(text)) < 2:  # a table row ('Pabo (n=27) 7 3 7 10') starts
                push(9, text)  # a new passage as before, but is no title of the section after it
            units.append(Unit("heading", b.start, b.end, section(), 9))
        elif _TABLE.match(text):
            units.append(Unit("table", b.start, b.end, section(), context=_neighbour(blocks, i)))
        elif text[:1] == "‘" and (single := _single_quote_end(blocks, i)) is not None:
            last, end = single
            if end < blocks[last].end:  # the paragraph goes on after the quote: the rest is text
                units.append(Unit("quote", b.start, end, section(), context=context_of(i)))
                rest = blocks[last].text[end - blocks[last].start:]
                rest_start = end + len(rest) - len(rest.lstrip())
                units.append(Unit("text", rest_start, blocks[last].end, section()))
                i = last + 1
            else:
                i = add_quote(i, last)
            continue
        elif text[:1] in _OPEN_QUOTES and len(text) > 1:
            j = _quote_end(blocks, i, text)
            if j is not None:
                i = add_quote(i, j)
                continue
            units.append(Unit("text", b.start, b.end, section(), bullet=b.bullet))
        elif (inline := _INLINE_QUOTE.match(text)) and _ROLE_WORDS.search(inline.group("lead")):
            q_start = b.start + inline.start("quote")
            units.append(Unit("text", b.start, b.start + inline.end("lead"), section()))
            units.append(Unit("quote", q_start, b.start + inline.end("quote"), section(),
                              attribution=inline.group("lead"), context=inline.group("lead")))
        elif _ATTRIBUTION.match(text):
            units.append(Unit("attribution", b.start, b.end, section()))
        else:
            units.append(Unit("text", b.start, b.end, section(), bullet=b.bullet))
        i += 1
    attach_speakers(doc.text, units)
    return units


def _neighbour(blocks: list[Block], i: int) -> str:
    """Context for a table caption: the paragraph before it."""
    for k in range(i - 1, max(i - 3, -1), -1):
        if len(blocks[k].text) > 80:
            return blocks[k].text[:800]
    return ""
