"""Chunking: pack structural units into citable passages, plus quote and table units.

Passages are contiguous spans of the cleaned text (so a citation is exactly what the
reader sees), cut on sentence boundaries, about ``target_words`` long, never over
``max_words`` / ``max_chars``, with ``overlap_sentences`` carried into the next passage,
and never cutting a respondent quote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from evidence_finder.ingest.clean import CleanDoc
from evidence_finder.ingest.facets import chapter_sectors, section_sectors, unit_groups
from evidence_finder.ingest.roles import ROLES, passage_role_shares
from evidence_finder.ingest.structure import Unit
from evidence_finder.settings import ChunkSettings
from evidence_finder.text.sentences import split_sentences
from evidence_finder.types import Passage, content_hash

CHUNKER_VERSION = "6"  # 6: a table row over a paragraph is no section title (sections, window heads)
# What ingest adds to a unit besides its text and vectors (evidence roles, section sectors,
# quote speakers). A change re-analyses every document on the next ingest; vectors are
# reused because unit texts and ids do not change.
ANNOTATION_VERSION = "4"  # 4: target groups per unit; 3  # 3: DOCX quote styles, inline lead-in quotes, "…,” zegt een X."

@dataclass
class _Item:
    start: int
    end: int
    words: int
    atomic: bool = False  # quotes: never split, never used as overlap
    sticky: bool = False  # headings: never end a passage
    section: str = ""


def _n_words(text: str) -> int:
    return len(text.split())


def _hard_split(doc: CleanDoc, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split an over-long sentence at spaces so no piece exceeds ``max_chars``."""
    pieces, s = [], start
    while end - s > max_chars:
        cut = doc.text.rfind(" ", s, s + max_chars)
        cut = cut if cut > s else s + max_chars
        pieces.append((s, cut))
        s = cut + 1
    pieces.append((s, end))
    return pieces


def _items(doc: CleanDoc, units: list[Unit], cfg: ChunkSettings) -> list[list[_Item]]:
    """Units → items, grouped by section (a heading starts a group)."""
    groups: list[list[_Item]] = [[]]
    for k, u in enumerate(units):
        text = doc.text[u.start:u.end]
        if u.kind == "heading":
            if groups[-1] and not all(it.sticky for it in groups[-1]):
                groups.append([])
            groups[-1].append(_Item(u.start, u.end, _n_words(text), sticky=True, section=u.section))
        elif u.kind == "quote" and u.end - u.start <= cfg.max_chars:
            end = u.end
            nxt = units[k + 1] if k + 1 < len(units) else None
            if nxt is not None and nxt.kind == "attribution":
                end = nxt.end
            groups[-1].append(_Item(u.start, end, _n_words(doc.text[u.start:end]), atomic=True,
                                    section=u.section))
        elif u.kind == "attribution" and groups[-1] and groups[-1][-1].end == u.end:
            continue  # already glued to its quote
        else:
            for s, e in split_sentences(text, u.start):
                for ps, pe in _hard_split(doc, s, e, cfg.max_chars):
                    groups[-1].append(_Item(ps, pe, _n_words(doc.text[ps:pe]), section=u.section))
    return [g for g in groups if g]


def _merge_small_groups(groups: list[list[_Item]], min_words: int) -> list[list[_Item]]:
    merged: list[list[_Item]] = []
    carry: list[_Item] = []
    for g in groups:
        g = carry + g
        if sum(it.words for it in g) < min_words:
            carry = g
            continue
        merged.append(g)
        carry = []
    if carry:
        if merged:
            merged[-1].extend(carry)
        else:
            merged.append(carry)
    return merged


def _fits(items: list[_Item], extra: _Item, cfg: ChunkSettings) -> bool:
    if not items:
        return True
    words = sum(it.words for it in items) + extra.words
    return words <= cfg.max_words and extra.end - items[0].start <= cfg.max_chars


def _pack(group: list[_Item], cfg: ChunkSettings) -> list[list[_Item]]:
    out: list[list[_Item]] = []
    cur: list[_Item] = []
    for it in group:
        if cur and not _fits(cur, it, cfg) and not cur[-1].sticky:
            out.append(cur)
            cur = _overlap(cur, it, cfg)
        elif cur and not _fits(cur, it, cfg):
            out.append(cur)  # a heading that cannot precede the next item stays on its own
            cur = []
        cur.append(it)
        if sum(x.words for x in cur) >= cfg.target_words and not cur[-1].sticky:
            out.append(cur)
            cur = _overlap(cur, None, cfg)
    if cur and not (len(cur) <= cfg.overlap_sentences and out and cur[0] in out[-1]):
        if out and sum(x.words for x in cur) < cfg.min_words and _fits(out[-1], cur[-1], cfg):
            out[-1] = out[-1] + [x for x in cur if x not in out[-1]]
        else:
            out.append(cur)
    return out


def _overlap(prev: list[_Item], nxt: _Item | None, cfg: ChunkSettings) -> list[_Item]:
    if cfg.overlap_sentences <= 0:
        return []
    tail = [x for x in prev[-cfg.overlap_sentences:] if not x.atomic and not x.sticky]
    if len(tail) != cfg.overlap_sentences or sum(x.words for x in tail) > cfg.target_words // 3:
        return []
    if nxt is not None and not _fits(tail, nxt, cfg):
        return []
    return tail


def _passage_id(doc_id: str, kind: str, text: str, seen: dict[str, int]) -> str:
    base = hashlib.sha1(f"{doc_id}\x1f{kind}\x1f{text}".encode()).hexdigest()[:20]
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


def windows(text: str, target_words: int) -> tuple[tuple[int, int], ...]:
    """Consecutive sentence groups of about ``target_words`` covering ``text``."""
    if target_words <= 0:
        return ()
    out: list[tuple[int, int]] = []
    cur_start, cur_words = -1, 0
    cur_end = 0
    for s, e in split_sentences(text):
        n = _n_words(text[s:e])
        if cur_start >= 0 and cur_words + n > target_words * 1.5:
            out.append((cur_start, cur_end))
            cur_start, cur_words = -1, 0
        if cur_start < 0:
            cur_start = s
        cur_end, cur_words = e, cur_words + n
        if cur_words >= target_words:
            out.append((cur_start, cur_end))
            cur_start, cur_words = -1, 0
    if cur_start >= 0:
        if out and cur_words < target_words // 3:
            out[-1] = (out[-1][0], cur_end)  # a short tail joins the previous window
        else:
            out.append((cur_start, cur_end))
    return tuple(out)


def _make(doc_id: str, doc: CleanDoc, kind: str, start: int, end: int, section: str,
          seen: dict[str, int], attribution: str = "", context: str = "",
          window_words: int = 0, speaker: str = "", speaker_org: str = "",
          chapters: dict[str, tuple[str, ...]] | None = None) -> Passage:
    text = doc.text[start:end]
    src_start, src_end = doc.source_span(start, end)
    sentences = [text[s:e] for s, e in split_sentences(text)]
    shares = passage_role_shares(sentences, section)
    return Passage(
        id=_passage_id(doc_id, kind, text, seen), doc_id=doc_id, kind=kind, text=text,
        char_start=src_start, char_end=src_end, clean_start=start, clean_end=end,
        section=section, page=doc.page_of(start), attribution=attribution, context=context,
        hash=content_hash(text), windows=windows(text, window_words),
        roles=tuple(sorted(shares, key=lambda r: (-shares[r], ROLES.index(r)))),  # type: ignore[arg-type]
        role_shares=tuple((r, round(x, 3)) for r, x in shares.items()),
        sectors=section_sectors(section, chapters), groups=unit_groups(section, text),
        speaker=speaker, speaker_org=speaker_org,
    )


def chunk_document(doc_id: str, doc: CleanDoc, units: list[Unit], cfg: ChunkSettings) -> list[Passage]:
    """All citable units of one document: passages, then quotes and tables, in order."""
    seen: dict[str, int] = {}
    out: list[Passage] = []
    chapters = chapter_sectors(doc.text)
    groups = _merge_small_groups(_items(doc, units, cfg), cfg.min_words)
    for group in groups:
        for items in _pack(group, cfg):
            first = next((x for x in items if not x.sticky), items[0])
            section = items[0].section if items[0].sticky else first.section
            out.append(_make(doc_id, doc, "passage", items[0].start, items[-1].end, section, seen,
                             window_words=cfg.window_words, chapters=chapters))
    out.extend(_special_units(doc_id, doc, units, seen, cfg, chapters))
    return out


def _special_units(doc_id: str, doc: CleanDoc, units: Iterable[Unit], seen: dict[str, int],
                   cfg: ChunkSettings, chapters: dict[str, tuple[str, ...]]) -> list[Passage]:
    out = []
    for u in units:
        if u.kind == "quote" and _n_words(doc.text[u.start:u.end]) >= 6:
            end = u.end
            if end - u.start > cfg.max_chars:  # a rare, very long quote: cite its opening
                ends = [e for _, e in split_sentences(doc.text[u.start:end], u.start)
                        if e - u.start <= cfg.max_chars]
                end = max(ends) if ends else _hard_split(doc, u.start, end, cfg.max_chars)[0][1]
            out.append(_make(doc_id, doc, "quote", u.start, end, u.section, seen,
                             attribution=u.attribution, context=u.context,
                             speaker=u.speaker, speaker_org=u.speaker_org, chapters=chapters))
        elif u.kind == "table":
            out.append(_make(doc_id, doc, "table", u.start, u.end, u.section, seen, context=u.context,
                             chapters=chapters))
    return out
