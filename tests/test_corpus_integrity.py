"""The real corpus, end to end without embedding: every unit is exactly where it says it is.

For each of the five documents: load → clean → structure → chunk (``pipeline.chunk_file``),
then check each unit against the cleaned text and, through the offset map, against the raw
file: the cleaned text is verbatim source pieces joined by inserted whitespace, and the raw
text between two pieces of one unit holds only what cleaning may drop (whitespace, a
line-end hyphen, glyphs, footnote digits, or whole dropped lines such as running headers).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache
from pathlib import Path

import pytest

from evidence_finder.index.build import chunk_file
from evidence_finder.ingest.chunk import chunk_document
from evidence_finder.ingest.clean import CleanDoc, clean
from evidence_finder.ingest.load import load_source
from evidence_finder.ingest.structure import analyse
from evidence_finder.settings import ChunkSettings, Settings
from evidence_finder.types import Passage, content_hash

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DOCS = sorted(p.name for p in CORPUS.glob("*.txt"))
# what the cleaner may drop between two verbatim pieces on the same line or across a line end
_TRIVIAL_GAP = re.compile("[\\s\\-\u00ad\u200b\ufeff\ue000-\uf8ff\u00b9\u00b2\u00b3\u2070-\u2079\\d]*")


def test_the_corpus_has_five_documents() -> None:
    assert DOCS == [
        "000_2b43d59693978616.txt", "001_9e6643b173374e99.txt", "002_4373956739f79cbc.txt",
        "003_c295de2c50fe28f1.txt", "004_94de75039e8654d2.txt",
    ]


@cache
def _processed(name: str) -> tuple[str, CleanDoc, tuple[Passage, ...]]:
    path = CORPUS / name
    raw = path.read_bytes().decode("utf-8")
    doc = clean(load_source(path))
    text, passages = chunk_file(path, Settings())
    assert text == doc.text
    again = chunk_document(name, doc, analyse(doc), Settings().chunking)
    assert [p.id for p in again] == [p.id for p in passages]  # deterministic
    return raw, doc, tuple(passages)


def _doc(prefix: str) -> tuple[str, CleanDoc, tuple[Passage, ...]]:
    return _processed(next(d for d in DOCS if d.startswith(prefix)))


def _segments(doc: CleanDoc, start: int, end: int) -> list[tuple[int, int, int]]:
    """(clean start, source start, length) of the verbatim pieces inside cleaned [start, end)."""
    m = doc.offsets
    out = []
    for k in range(max(bisect_right(m.clean_starts, start) - 1, 0), len(m.clean_starts)):
        cs, ss, n = m.clean_starts[k], m.src_starts[k], m.lengths[k]
        if cs >= end:
            break
        lo, hi = max(cs, start), min(cs + n, end)
        if lo < hi:
            out.append((lo, ss + lo - cs, hi - lo))
    return out


def _gap_is_droppable(gap: str) -> bool:
    """Raw text between two pieces of a unit: trivial, or trivial ends around whole lines."""
    if _TRIVIAL_GAP.fullmatch(gap):
        return True
    lines = gap.split("\n")
    # letters may only sit on lines that the cleaner dropped as a whole (headers, labels)
    return len(lines) >= 3 and bool(_TRIVIAL_GAP.fullmatch(lines[0])) and bool(
        _TRIVIAL_GAP.fullmatch(lines[-1]))


@pytest.mark.parametrize("name", DOCS)
def test_source_offsets_refer_to_the_raw_file(name: str) -> None:
    raw, doc, _ = _processed(name)
    assert doc.source.text == raw.lstrip("\ufeff").replace("\r\n", "\n")
    assert doc.source.text == raw  # the corpus files are plain LF UTF-8: offsets are raw offsets


@pytest.mark.parametrize("name", DOCS)
def test_every_unit_equals_cleaned_text_and_maps_back_to_raw(name: str) -> None:
    raw, doc, passages = _processed(name)
    assert passages
    for p in passages:
        assert p.doc_id == name
        assert p.kind in ("passage", "quote", "table")
        assert p.text == doc.text[p.clean_start:p.clean_end], p.id
        assert p.text.strip() == p.text and p.text
        assert p.hash == content_hash(p.text)
        assert (p.char_start, p.char_end) == doc.source_span(p.clean_start, p.clean_end)
        segs = _segments(doc, p.clean_start, p.clean_end)
        assert segs, p.id
        covered = [False] * len(p.text)
        for k, (cs, ss, n) in enumerate(segs):
            rel = cs - p.clean_start
            assert raw[ss:ss + n] == p.text[rel:rel + n], (p.id, p.text[rel:rel + n])  # verbatim
            covered[rel:rel + n] = [True] * n
            if k:
                _, prev_ss, prev_n = segs[k - 1]
                assert prev_ss + prev_n <= ss  # reading order
                gap = raw[prev_ss + prev_n:ss]
                assert _gap_is_droppable(gap), (p.id, gap[:200])
        # what the segments do not cover is whitespace inserted by the cleaner
        assert {c for c, cov in zip(p.text, covered) if not cov} <= {" ", "\n"}, p.id
        assert segs[0][1] == p.char_start and segs[-1][1] + segs[-1][2] == p.char_end


@pytest.mark.parametrize("name", DOCS)
def test_size_limits_and_unique_ids(name: str) -> None:
    _, _, passages = _processed(name)
    cfg = ChunkSettings()
    assert max(len(p.text) for p in passages) <= cfg.max_chars
    ids = [p.id for p in passages]
    assert len(set(ids)) == len(ids)
    for p in passages:
        if p.kind == "passage" and len(p.text.split()) > cfg.max_words:
            # only a passage holding a whole quote (atomic) may exceed max_words
            assert any(q.kind == "quote" and p.clean_start <= q.clean_start and q.clean_end <= p.clean_end
                       for q in passages), p.id


@pytest.mark.parametrize("prefix", ["001", "003", "004"])
def test_every_unit_has_a_section(prefix: str) -> None:
    _, _, passages = _doc(prefix)
    assert [p.id for p in passages if not p.section] == []


@pytest.mark.parametrize("name", DOCS)
def test_quotes_are_whole_and_inside_one_passage(name: str) -> None:
    _, doc, passages = _processed(name)
    cfg = ChunkSettings()
    running = [p for p in passages if p.kind == "passage"]
    for q in (p for p in passages if p.kind == "quote"):
        assert q.text[0] in "“„\"‘", q.text[:60]
        if len(q.text) < cfg.max_chars - 100:  # not cut to its opening for being too long
            # closed by ” (or the source's stray “ / ’ / ‘), maybe '(role)' or an elision '[…]'
            assert re.search("[”\"’“‘](?:\\s*\\([^()]+\\)|\\s*\\[…\\])?\\s*\\.?$", q.text), q.text[-80:]
        holders = [p for p in running if p.clean_start <= q.clean_start and q.clean_end <= p.clean_end]
        assert holders, f"quote cut by a passage boundary: {q.text[:80]!r}"
        assert q.page is None  # text files have no pages
        assert q.section or name.startswith(("000", "002")), q.text[:60]  # factsheets: no headings


def test_counts_of_quotes_and_tables() -> None:
    q001 = [p for p in _doc("001")[2] if p.kind == "quote"]
    t004 = [p for p in _doc("004")[2] if p.kind == "table"]
    assert len(q001) > 100
    assert len(t004) > 20
    assert all(re.match(r"(Tabel|Table) \d+", t.text) for t in t004)


def test_trekker_attribution_on_001_quotes() -> None:
    raw, doc, passages = _doc("001")
    quotes = [p for p in passages if p.kind == "quote"]
    trekker = [q for q in quotes if q.attribution == "trekker"]
    assert len(trekker) >= 50  # the raw text has 52 '- trekker -' lines (+ dash variants)
    roles = {q.attribution for q in quotes}
    assert {"trekker", "directeur", "betrokken leerkracht", "niet-betrokken leerkracht"} <= roles
    attributed = sum(1 for q in quotes if q.attribution)
    assert attributed / len(quotes) > 0.9
    # the attribution line follows the quote in the raw text
    for q in trekker:
        after = raw[q.char_end:q.char_end + 40]
        assert re.match(r"\s*[-–]\s+trekker\s+[-–]", after), after


def test_quote_in_004_is_one_whole_unit() -> None:
    _, doc, passages = _doc("004")
    hits = [p for p in passages if p.kind == "quote"
            and p.text.startswith("“Nou, voor mij zou het heel handig zijn als ik beter wist hoe zo’n KA2")]
    assert len(hits) == 2  # the report quotes it twice (summary and chapter)
    for q in hits:
        assert q.text.endswith("want het is echt wel heel erg divers en ingewikkeld.’")
        assert "‘Joh, waar kan ik nou weten hoe het werkt?’" in q.text
        assert q.context  # the paragraph before it
        assert len(q.text) < 800


def test_000_quotes_attributed_to_the_source_report() -> None:
    quotes = [p for p in _doc("000")[2] if p.kind == "quote"]
    assert len(quotes) == 3
    assert {q.attribution for q in quotes} == {
        "UIT: ONDERZOEKSRAPPORT IMPACT VAN ERASMUS+ EN ETWINNING OP SCHOLEN"}


def test_001_first_sections_and_footnote_repair() -> None:
    _, doc, passages = _doc("001")
    assert doc.text.startswith("1 / Onderzoek naar de impact van Erasmus+ en eTwinning op scholen\n\n"
                               "1.1. Doelstellingen\n\nErasmus+ is het EU-programma")
    sections = [p.section for p in passages if p.kind == "passage"][:3]
    assert sections == [
        "1 / Onderzoek naar de impact van Erasmus+ en eTwinning op scholen",
        "1 / Onderzoek naar de impact van Erasmus+ en eTwinning op scholen > 1.1. Doelstellingen",
        "1 / Onderzoek naar de impact van Erasmus+ en eTwinning op scholen > 1.2. Kernacties 1 en 2 "
        "van Erasmus+ en eTwinning",
    ]
    # the footer 'Impact van … | IDEA Consult | 18 februari 2022 30' never reaches the text
    assert "IDEA Consult |" not in doc.text
