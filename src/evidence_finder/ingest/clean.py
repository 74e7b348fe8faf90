"""Cleaning: undo PDF-extraction artefacts while keeping an exact offset map to the source.

Only whitespace and hyphenation may change: lines broken mid-sentence are joined, words
hyphenated across line ends are repaired, and pure artefacts are dropped (page numbers,
running headers/footers, separator rules, private-use bullet glyphs, footnote markers
glued to words, stray chart labels). Words are never rewritten.

The cleaned text is built from *segments*: each segment is a verbatim copy of a stretch of
the source, so :class:`OffsetMap` can map every cleaned offset back to the source.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

from evidence_finder.types import SourceText

_PUA = re.compile("[\ue000-\uf8ff\u00ad\ufeff\u200b]")  # private-use glyphs, soft hyphens, BOM, ZWSP
_INVISIBLE = re.compile("[\u00ad\u200b\ufeff]")  # removed inside a word without a trace
_BULLET_CHARS = "•●▪◦‣❑□■○◆➢✓-–+*"
_TERMINAL = tuple(".!?:;”\"’)…")
_PAGE_NUMBER = re.compile(r"^(?:[-–]\s*)?(?:pagina|page|p\.)?\s*\d{1,4}(?:\s*(?:/|van|of)\s*\d{1,4})?(?:\s*[-–])?$", re.I)
_SEPARATOR = re.compile(r"^[\s_\-=*.·•]{1,}$")
_FOOTNOTE_TOKEN = re.compile(r"^(?P<word>[^\W\d_][\w’'+-]*[a-zà-ÿ+)])(?P<num>\d{1,2})(?P<punct>[.,;:]?)$")
_WORD = re.compile(r"[^\W\d_][\w’'+-]*[^\W\d_]|[^\W\d_]", re.U)
_ATTRIBUTION_LINE = re.compile(r"^[-–]\s.{2,80}\s[-–]$")  # '- trekker -' under a quote
_NUMBERED_HEADING = re.compile(r"^(?:[A-Z]\.)?\d{1,2}(?:(?:\.\d{1,2})+\.?| /)\s+[A-Z]")
_QUOTE_CLOSED = re.compile(r"[”\"](?:\s*(?:\[…\]|\[\.\.\.\]))?$")
_SUPERSCRIPT = re.compile("[\u00b9\u00b2\u00b3\u2070-\u2079]")


@dataclass
class OffsetMap:
    """Maps cleaned-text offsets to source offsets through verbatim segments."""

    clean_starts: list[int] = field(default_factory=list)
    src_starts: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def add(self, clean_start: int, src_start: int, length: int) -> None:
        if length > 0:
            self.clean_starts.append(clean_start)
            self.src_starts.append(src_start)
            self.lengths.append(length)

    def to_source(self, i: int) -> int:
        """Source offset of cleaned char ``i`` (an inserted space maps to the gap it fills)."""
        k = bisect_right(self.clean_starts, i) - 1
        if k < 0:
            return self.src_starts[0] if self.src_starts else 0
        delta = i - self.clean_starts[k]
        if delta < self.lengths[k]:
            return self.src_starts[k] + delta
        return self.src_starts[k] + self.lengths[k]

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """Source span covering cleaned ``[start, end)``."""
        if end <= start:
            s = self.to_source(start)
            return s, s
        return self.to_source(start), self.to_source(end - 1) + 1


@dataclass
class Block:
    """A paragraph-like unit of cleaned text: a paragraph, list item, heading candidate …"""

    start: int
    end: int
    text: str
    bullet: bool = False
    n_lines: int = 1


@dataclass
class CleanDoc:
    text: str
    offsets: OffsetMap
    blocks: list[Block]
    source: SourceText
    dropped_lines: int = 0

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        return self.offsets.span_to_source(start, end)

    def page_of(self, clean_offset: int) -> int | None:
        return self.source.page_at(self.offsets.to_source(clean_offset))


@dataclass
class _Line:
    words: list[tuple[str, int]]  # (verbatim word, source offset)
    blank_before: bool
    bullet: bool = False
    glued: frozenset[int] = frozenset()  # word indices that continue the previous word

    @property
    def text(self) -> str:
        return " ".join(w for w, _ in self.words)


# --------------------------------------------------------------------------- lines


def _raw_lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _norm_for_repeat(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def _running_lines(source: SourceText, lines: list[tuple[int, str]]) -> set[str]:
    """Lines repeated as page headers/footers (paged sources) or as '|'-style footers."""
    repeated: set[str] = set()
    if len(source.page_starts) >= 3:
        edges: Counter[str] = Counter()
        by_page: dict[int, list[str]] = {}
        for pos, line in lines:
            if line.strip():
                by_page.setdefault(source.page_at(pos) or 0, []).append(_norm_for_repeat(line))
        for page_lines in by_page.values():
            for key in set(page_lines[:2] + page_lines[-2:]):
                edges[key] += 1
        threshold = max(3, int(0.4 * len(source.page_starts)))
        repeated |= {k for k, c in edges.items() if c >= threshold and len(k) > 1}
    counts = Counter(_norm_for_repeat(line) for _, line in lines if line.strip())
    for key, c in counts.items():
        if c >= 3 and (" | " in key or re.search(r"\b(pagina|page)\s+#", key)):
            repeated.add(key)
    return repeated


def _words_of(line: str, base: int) -> tuple[list[tuple[str, int]], frozenset[int]]:
    """Verbatim words of a line, and the indices of pieces glued to the previous piece
    (a word split only by a soft hyphen or zero-width space: 'leer\u00adkrachten')."""
    words: list[tuple[str, int]] = []
    glued: set[int] = set()
    for m in re.finditer(r"\S+", line):
        tok, start = m.group(), base + m.start()
        pieces = [p for p in _split_removed(tok, start) if p[0]]
        for k, (piece, src) in enumerate(pieces):
            if k and _INVISIBLE.fullmatch(line[src - base - 1]) and words:
                glued.add(len(words))
            words.append((piece, src))
    return words, frozenset(glued)


def _split_removed(tok: str, start: int) -> list[tuple[str, int]]:
    """Drop private-use glyphs and soft hyphens inside a token, keeping verbatim pieces."""
    if not _PUA.search(tok) and not _SUPERSCRIPT.search(tok):
        return [(tok, start)]
    out, cur, cur_start = [], "", start
    for i, ch in enumerate(tok):
        if _PUA.match(ch) or _SUPERSCRIPT.match(ch):
            if cur:
                out.append((cur, cur_start))
            cur, cur_start = "", start + i + 1
        else:
            cur += ch
    if cur:
        out.append((cur, cur_start))
    return out


def _is_noise(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text) or _SEPARATOR.match(text))


def _to_lines(source: SourceText) -> tuple[list[_Line], int]:
    raw = _raw_lines(source.text)
    running = _running_lines(source, raw)
    lines: list[_Line] = []
    blank = True
    dropped = 0
    for pos, line in raw:
        had_glyph_bullet = bool(re.match(r"^\s*[\ue000-\uf8ff]", line))
        words, glued = _words_of(line, pos)
        if not words:
            blank = True
            continue
        text = " ".join(w for w, _ in words)
        if _is_noise(text) or _norm_for_repeat(text) in running:
            dropped += 1
            blank = True
            continue
        attribution = _ATTRIBUTION_LINE.match(text) is not None
        bullet = not attribution and (
            had_glyph_bullet or (words[0][0] in _BULLET_CHARS and len(words) > 1)
        )
        lines.append(_Line(words, blank, bullet, glued))
        blank = False
    return lines, dropped


# --------------------------------------------------------------------------- joining


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and " " in text.strip() and all(c.isupper() for c in letters)


_CAPS_LINKS = {"EN", "VAN", "DE", "HET", "OP", "IN", "AAN", "DOOR", "TOT", "MET", "VOOR", "OF",
               "DIE", "DAT", "BIJ", "NAAR", "OVER", "UIT", "ALS", "EEN", "OM", "TE", "-", "–"}


def _starts_block(line: _Line) -> bool:
    first = line.words[0][0]
    text = line.text
    return (
        line.bullet
        or first[:1] in "“„\""
        or bool(re.match(r"^\d+(\.\d+)*\.?\s+[A-Z]", text) and len(text) < 160)
        or bool(re.match(r"^\d+ / ", text))
        or bool(_ATTRIBUTION_LINE.match(text))
        or bool(re.match(r"^(UIT|Uit|BRON|Bron|Tabel|Figuur|Table|Figure)\b", first))
    )


def _should_join(prev: _Line, prev_block_text: str, line: _Line) -> bool:
    """Whether ``line`` continues the block that ``prev`` ended."""
    if _starts_block(line):
        return False
    prev_text = prev.text
    cur = line.text
    if _is_caps(prev_block_text) and _is_caps(cur) and not prev_block_text.endswith((".", ":")):
        return len(prev_text) >= 40 or prev_text.split()[-1] in _CAPS_LINKS
    if _is_caps(prev_block_text) != _is_caps(cur) and (_is_caps(cur) or len(prev_block_text) < 120):
        return False
    if _ATTRIBUTION_LINE.match(prev_text):
        return False
    if prev_block_text[:1] in "“„\"" and _QUOTE_CLOSED.search(prev_text) and cur[:1].isupper():
        return False  # the quote closed at the line end: a heading or new paragraph follows
    if re.fullmatch(r"[A-Z][a-z]{4,}", prev_block_text) and line.blank_before and len(cur) >= 60:
        return False  # a one-word title ('Inleiding') over a paragraph that lost its drop cap
    first_char = cur[0]
    continues = first_char.islower() or first_char in "(,;)‘'"
    if prev_text.endswith(":") and continues:
        return True
    if prev_text.split()[-1].lower() in _NL_LINKS:
        return True
    if prev.bullet and line.blank_before and not continues:
        return False
    if prev_text.endswith(_TERMINAL):
        return not line.blank_before and not prev_text.endswith(":") and len(prev_text) > 40
    if prev_text.endswith("-") or prev_text.endswith(","):
        return True
    if continues:
        return True
    # No terminal punctuation and the next line starts upper-case: a wrapped line when the
    # previous line was long, a heading or label when it was short.
    return len(prev_text) >= 50 and not _is_caps(prev_text)


def _dehyphenate(prev_word: str, next_word: str, vocab: Counter[str]) -> bool:
    """Whether 'interna-' + 'tionalisering' is one word broken by a line end."""
    stem = prev_word[:-1]
    if not stem or not stem[-1].isalpha() or not next_word[:1].islower():
        return False
    if any(c.isupper() or c.isdigit() or c == "+" for c in stem) or "-" in stem:
        return False
    joined = (stem.split("’")[-1] + next_word).lower().strip(".,;:!?)")
    hyphened = (stem + "-" + next_word).lower().strip(".,;:!?)")
    if vocab[joined] > 0:
        return True
    return vocab[hyphened] == 0


def _footnote_strip(word: str, vocab: Counter[str]) -> str:
    """'Erasmus+1' → 'Erasmus+' when the bare word is common and the numbered form is not."""
    m = _FOOTNOTE_TOKEN.match(word)
    if not m or len(m.group("word")) < 3:
        return word
    bare = m.group("word").lower().rstrip("+)")
    if vocab[bare] >= 2 and vocab[word.lower().strip(".,;:")] <= 2:
        return m.group("word") + m.group("punct")
    return word


_NL_LINKS = {"de", "het", "een", "van", "en", "in", "op", "aan", "voor", "met", "door", "tot", "te",
             "die", "dat", "als", "naar", "over", "bij", "om", "of", "the", "and", "to", "a"}


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.offsets = OffsetMap()

    def copy(self, text: str, src: int) -> None:
        self.offsets.add(self.length, src, len(text))
        self.parts.append(text)
        self.length += len(text)

    def insert(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)


def _copy_word(b: _Builder, word: str, src: int, vocab: Counter[str]) -> None:
    stripped = _footnote_strip(word, vocab)
    if stripped == word:
        b.copy(word, src)
        return
    core = stripped[:-1] if stripped[-1:] in ".,;:" and stripped != word[: len(stripped)] else stripped
    b.copy(core, src)
    if core != stripped:  # trailing punctuation after the removed footnote number
        b.copy(stripped[-1], src + len(word) - 1)


def _build_block(lines: list[_Line], b: _Builder, vocab: Counter[str]) -> None:
    for li, line in enumerate(lines):
        for wi, (word, src) in enumerate(line.words):
            is_last_of_line = wi == len(line.words) - 1
            if wi > 0 and wi not in line.glued:
                b.insert(" ")
            if is_last_of_line and li + 1 < len(lines) and word.endswith("-") and len(word) > 1:
                nxt = lines[li + 1].words[0][0]
                if _dehyphenate(word, nxt, vocab):
                    _copy_word(b, word[:-1], src, vocab)
                    continue
                b.copy(word, src)
                continue
            _copy_word(b, word, src, vocab)
        if li + 1 < len(lines):
            last = line.words[-1][0]
            nxt = lines[li + 1].words[0][0]
            if last.endswith("-") and len(last) > 1 and (
                _dehyphenate(last, nxt, vocab) or _keeps_hyphen_join(last, nxt)
            ):
                continue
            b.insert(" ")


def _keeps_hyphen_join(prev_word: str, next_word: str) -> bool:
    """'KA2-' + 'projecten' joins without a space but keeps its hyphen."""
    return next_word[:1].islower()


def _is_residue(text: str, next_text: str = "") -> bool:
    """Chart labels and axis ticks left by PDF extraction ('Helemaal', '35%', 'Ja Nee')."""
    words = text.split()
    if len(words) > 6 or text.endswith(_TERMINAL) or _is_caps(text):
        return False
    if _ATTRIBUTION_LINE.match(text) or _NUMBERED_HEADING.match(text):  # '- trekker -', '1.1. Doel'
        return False
    next_text = next_text.lstrip(_BULLET_CHARS + " ")
    if text[:1].isupper() and len(next_text) >= 120 and next_text[:1].isupper():
        return False  # a short heading ('Belemmerende factoren') over a paragraph
    alpha = [w for w in words if re.search(r"[^\W\d_]{2,}", w)]
    capword = re.match(r"^[A-Z][a-z]{4,}$", text) is not None
    return (len(words) <= 2 and not capword) or len(alpha) <= len(words) // 2


def clean(source: SourceText) -> CleanDoc:
    """Clean a document's source text into blocks with an exact offset map."""
    lines, dropped = _to_lines(source)
    vocab: Counter[str] = Counter(
        m.group().lower() for m in _WORD.finditer(_PUA.sub("", source.text))
    )
    for tok in _PUA.sub("", source.text).split():
        fm = _FOOTNOTE_TOKEN.match(tok)
        if fm:  # 'Covid19' counts as itself, not as the bare word 'covid' (_WORD's match)
            vocab[tok.lower().strip(".,;:")] += 1
            vocab[fm.group("word").lower().rstrip("+)")] -= 1
    groups: list[list[_Line]] = []
    for line in lines:
        if groups:
            prev_text = " ".join(ln.text for ln in groups[-1])
            if _should_join(groups[-1][-1], prev_text, line):
                groups[-1].append(line)
                continue
        groups.append([line])

    b = _Builder()
    blocks: list[Block] = []
    for gi, group in enumerate(groups):
        probe = _Builder()
        _build_block(group, probe, vocab)
        text = "".join(probe.parts)
        next_text = " ".join(ln.text for ln in groups[gi + 1]) if gi + 1 < len(groups) else ""
        if _is_residue(text, next_text) and not group[0].bullet:
            dropped += len(group)
            continue
        if blocks:
            b.insert("\n\n")
        start = b.length
        _build_block(group, b, vocab)
        blocks.append(Block(start, b.length, text, bullet=group[0].bullet, n_lines=len(group)))
    return CleanDoc("".join(b.parts), b.offsets, blocks, source, dropped)
