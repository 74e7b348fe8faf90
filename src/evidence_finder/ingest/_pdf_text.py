"""PDF text in reading order (used by :mod:`evidence_finder.ingest.load`).

PyMuPDF returns lines in content-stream order, which for many producers interleaves the
columns of a multi-column page. Here the lines of a page are grouped into *bands* (lines
sharing a baseline), consecutive bands that share a vertical gutter form a *region*, and a
multi-column region is read column by column; everything else is read top to bottom.
Line breaks are kept; a blank line marks a vertical gap wider than the page's usual line gap
(a paragraph break). Text a reader cannot see (white on a white page, 2 pt or smaller) is
dropped. Hyphenation, running headers and footers are left to the cleaner.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import pymupdf

from evidence_finder.errors import CorruptFileError, EmptyDocumentError, ParseLimitError
from evidence_finder.ingest._hidden import MAX_INVISIBLE_PT, near_white
from evidence_finder.ingest.titles import pdf_title
from evidence_finder.settings import ParseSettings

_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP  # ligatures expanded
MIN_GUTTER_FRAC = 0.025  # of the page's text width
MIN_COLUMN_FRAC = 0.15  # a text column is at least this wide (narrower: a table column)
MIN_COLUMN_WORDS = 4  # median words per line in a text column (fewer: table cells)
REGION_BREAK_LINES = 2.5  # a vertical gap of this many line heights ends a region


@dataclass(frozen=True)
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def h(self) -> float:
        return max(self.y1 - self.y0, 1.0)


@dataclass
class _Band:
    lines: list[Line]
    y0: float
    y1: float

    def add(self, line: Line) -> None:
        self.lines.append(line)
        self.y0, self.y1 = min(self.y0, line.y0), max(self.y1, line.y1)


@dataclass
class _Region:
    bands: list[_Band]
    gutters: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    """One output line: text and vertical extent; ``flow`` changes where a column starts."""

    text: str
    y0: float
    y1: float
    flow: int


def page_lines(page: pymupdf.Page) -> tuple[list[Line], list[Line]]:
    """(horizontal lines, other lines) of a page, whitespace-only lines and invisible spans dropped."""
    flat: list[Line] = []
    rotated: list[Line] = []
    backdrop = _Backdrop(page)
    for block in page.get_text("dict", flags=_FLAGS)["blocks"]:
        for ln in block.get("lines", ()):
            spans = [sp for sp in ln["spans"] if not _invisible(sp, backdrop)]
            text = "".join(span["text"] for span in spans)
            if not text.strip():
                continue
            if len(spans) == len(ln["spans"]):
                x0, y0, x1, y1 = ln["bbox"]
            else:
                x0, y0 = min(sp["bbox"][0] for sp in spans), min(sp["bbox"][1] for sp in spans)
                x1, y1 = max(sp["bbox"][2] for sp in spans), max(sp["bbox"][3] for sp in spans)
            line = Line(x0, y0, x1, y1, text)
            (flat if abs(ln["dir"][1]) < 0.1 and ln["dir"][0] > 0 else rotated).append(line)
    return flat, rotated


class _Backdrop:
    """Filled shapes and images of a page, looked up only when white text needs a background."""

    def __init__(self, page: pymupdf.Page) -> None:
        self.page = page
        self._dark: list[pymupdf.Rect] | None = None

    def dark_under(self, bbox: tuple[float, float, float, float]) -> bool:
        if self._dark is None:
            self._dark = [pymupdf.Rect(info["bbox"]) for info in self.page.get_image_info()]
            for d in self.page.get_drawings():
                fill = d.get("fill")
                if fill and not near_white(_rgb(fill)) and d.get("fill_opacity", 1) > 0.2:
                    self._dark.append(pymupdf.Rect(d["rect"]))
        r = pymupdf.Rect(bbox)
        centre = pymupdf.Point((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2)
        return any(centre in rect for rect in self._dark)


def _rgb(colour: tuple[float, ...]) -> int:
    if len(colour) == 1:  # grey
        colour = (colour[0],) * 3
    elif len(colour) == 4:  # CMYK
        c, m, y, k = colour
        colour = ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    r, g, b = (max(0, min(255, round(v * 255))) for v in colour[:3])
    return (r << 16) | (g << 8) | b


def _invisible(span: dict, backdrop: _Backdrop) -> bool:
    """Text 2 pt or smaller, or white where nothing dark is drawn behind it."""
    if not span["text"].strip():
        return False
    if span.get("size", 12) <= MAX_INVISIBLE_PT:
        return True
    return near_white(int(span.get("color", 0))) and not backdrop.dark_under(span["bbox"])


def _bands(lines: list[Line]) -> list[_Band]:
    bands: list[_Band] = []
    for line in sorted(lines, key=lambda ln: (ln.y0, ln.x0)):
        if bands:
            band = bands[-1]
            overlap = min(band.y1, line.y1) - max(band.y0, line.y0)
            if overlap > 0.5 * min(line.h, band.y1 - band.y0):
                band.add(line)
                continue
        bands.append(_Band([line], line.y0, line.y1))
    return bands


def _subtract(gaps: list[tuple[float, float]], lines: list[Line]) -> list[tuple[float, float]]:
    for line in lines:
        rest: list[tuple[float, float]] = []
        for g0, g1 in gaps:
            if line.x1 <= g0 or line.x0 >= g1:
                rest.append((g0, g1))
                continue
            rest.extend(p for p in ((g0, line.x0), (line.x1, g1)) if p[1] > p[0])
        gaps = rest
    return gaps


def _interior_gaps(band: _Band, min_gutter: float) -> list[tuple[float, float]]:
    lo = min(ln.x0 for ln in band.lines)
    hi = max(ln.x1 for ln in band.lines)
    gaps = _subtract([(lo, hi)], band.lines)
    return [g for g in gaps if g[1] - g[0] >= min_gutter]


def _narrow(
    gutters: list[tuple[float, float]], band: _Band, min_gutter: float
) -> list[tuple[float, float]] | None:
    """The gutters left once ``band`` is added, or None if the band closes any of them."""
    out: list[tuple[float, float]] = []
    for gutter in gutters:
        pieces = _subtract([gutter], band.lines)
        best = max(pieces, key=lambda g: g[1] - g[0], default=None)
        if best is None or best[1] - best[0] < min_gutter:
            return None
        out.append(best)
    return out


def _regions(bands: list[_Band], min_gutter: float, line_h: float) -> list[_Region]:
    regions: list[_Region] = []
    for band in bands:
        cur = regions[-1] if regions else None
        if cur and cur.gutters and band.y0 - cur.bands[-1].y1 < REGION_BREAK_LINES * line_h:
            narrowed = _narrow(cur.gutters, band, min_gutter)
            if narrowed:
                cur.bands.append(band)
                cur.gutters = narrowed
                continue
        regions.append(_Region([band], _interior_gaps(band, min_gutter)))
    return regions


def _join(lines: list[Line]) -> str:
    """Lines sharing a baseline, left to right, as one line of text."""
    lines = sorted(lines, key=lambda ln: ln.x0)
    out = lines[0].text
    for prev, line in pairwise(lines):
        tight = line.x0 - prev.x1 < 0.15 * min(prev.h, line.h)
        sep = "" if tight or out.endswith(" ") or line.text.startswith(" ") else " "
        out += sep + line.text
    return out.rstrip()


def _band_rows(bands: list[_Band], flow: int) -> list[_Row]:
    return [_Row(_join(b.lines), b.y0, b.y1, flow) for b in bands]


def _columns(region: _Region, text_w: float) -> list[list[_Band]] | None:
    """The region's columns (each a list of bands), or None if it is not multi-column."""
    if len(region.bands) < 2 or not region.gutters:
        return None
    cuts = sorted((g0 + g1) / 2 for g0, g1 in region.gutters)
    cols: list[list[_Band]] = [[] for _ in range(len(cuts) + 1)]
    for band in region.bands:
        parts: dict[int, list[Line]] = {}
        for line in band.lines:
            mid = (line.x0 + line.x1) / 2
            parts.setdefault(sum(mid > c for c in cuts), []).append(line)
        for i, lines in parts.items():
            cols[i].append(_Band(lines, min(ln.y0 for ln in lines), max(ln.y1 for ln in lines)))
    for col in cols:
        if not col:
            return None
        xs = [x for b in col for ln in b.lines for x in (ln.x0, ln.x1)]
        if max(xs) - min(xs) < MIN_COLUMN_FRAC * text_w:
            return None  # too narrow for running text: a table column
        if statistics.median(len(_join(b.lines).split()) for b in col) < MIN_COLUMN_WORDS:
            return None  # short cells, not lines of running text
    return cols


def _render(rows: list[_Row], line_h: float) -> str:
    gaps = [b.y0 - a.y1 for a, b in pairwise(rows) if a.flow == b.flow]
    tight = sorted(g for g in gaps if g < 1.5 * line_h)  # line spacing, not region gaps
    usual = tight[len(tight) // 4] if tight else 0.3 * line_h  # lower quartile
    threshold = max(usual, 0.0) + 0.6 * line_h
    out: list[str] = []
    for i, row in enumerate(rows):
        if i:
            prev = rows[i - 1]
            new_para = row.flow == prev.flow and row.y0 - prev.y1 > threshold
            out.append("\n\n" if new_para else "\n")
        out.append(row.text)
    return "".join(out)


def order_page(lines: list[Line]) -> str:
    """Text of a page's horizontal lines in reading order."""
    if not lines:
        return ""
    text_w = max(ln.x1 for ln in lines) - min(ln.x0 for ln in lines)
    line_h = statistics.median(ln.h for ln in lines)
    rows: list[_Row] = []
    flow = 0  # changes where the text jumps up to the top of the next column
    for region in _regions(_bands(lines), max(MIN_GUTTER_FRAC * text_w, 4.0), line_h):
        cols = _columns(region, text_w)
        if cols is None:
            rows.extend(_band_rows(region.bands, flow))
            continue
        for i, col in enumerate(cols):
            flow += 1 if i else 0
            rows.extend(_band_rows(col, flow))
    return _render(rows, line_h)


@contextmanager
def _quiet_mupdf() -> Iterator[None]:
    """Keep MuPDF's own error/warning chatter off stderr while we handle errors ourselves."""
    tools = pymupdf.TOOLS
    errors, warnings = tools.mupdf_display_errors(), tools.mupdf_display_warnings()
    tools.mupdf_display_errors(False)
    tools.mupdf_display_warnings(False)
    try:
        yield
    finally:
        tools.mupdf_display_errors(errors)
        tools.mupdf_display_warnings(warnings)


def _open(path: Path, data: bytes) -> pymupdf.Document:
    name = repr(str(path))
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # MuPDF raises FileDataError, RuntimeError, ValueError, ...
        if _out_of_memory(exc):
            raise MemoryError(str(exc)) from exc
        raise CorruptFileError(
            f"{name} is a damaged PDF that cannot be opened ({exc}). "
            "Re-download or re-export it and try again."
        ) from exc
    if doc.needs_pass:
        doc.close()
        raise CorruptFileError(
            f"{name} is password-protected. Remove the password (e.g. print or export it "
            "to an unprotected PDF) and try again."
        )
    if doc.page_count == 0:
        doc.close()
        raise CorruptFileError(f"{name} is a damaged PDF: it has no readable pages.")
    return doc


def read_pdf(path: Path, data: bytes, limits: ParseSettings | None = None
             ) -> tuple[str, tuple[int, ...], str]:
    """(text, page_starts, title) of a PDF; pages joined with "\\n"; the title from its
    metadata or its largest type on page 1 (``ingest.titles``), '' if neither names one.

    A PDF with more pages than ``limits.max_pages`` is refused before any page is read; one
    whose page or whole text yields more characters than allowed is refused as it is read.
    """
    name = repr(str(path))
    limits = limits or ParseSettings()
    truncated = b"%%EOF" not in data[-2048:]
    with _quiet_mupdf():
        doc = _open(path, data)
        with doc:
            if truncated and doc.is_repaired:
                raise CorruptFileError(
                    f"{name} is truncated (the end of the PDF is missing, e.g. an incomplete "
                    "download). Download or export it again."
                )
            if doc.page_count > limits.max_pages:
                raise ParseLimitError(
                    f"{name} was refused: it has {doc.page_count:,} pages, over the limit of "
                    f"{limits.max_pages:,} (parse.max_pages). Split the PDF or raise the limit."
                )
            pages = _pages(path, doc, limits)
            title = pdf_title(doc)
    if not any(p.strip() for p in pages):
        raise EmptyDocumentError(
            f"{name} contains no extractable text ({len(pages)} page(s)). It may be a "
            "scanned document that needs OCR first (e.g. `ocrmypdf in.pdf out.pdf`)."
        )
    starts: list[int] = []
    pos = 0
    for text in pages:
        starts.append(pos)
        pos += len(text) + 1
    return "\n".join(pages), tuple(starts), title


def _out_of_memory(exc: BaseException) -> bool:
    """MuPDF reports a failed allocation (e.g. under the parse worker's memory limit) as an
    ordinary error: that is the memory limit, not a damaged page."""
    said = str(exc).lower()
    return isinstance(exc, MemoryError) or any(w in said for w in ("calloc", "malloc", "out of memory"))


def _pages(path: Path, doc: pymupdf.Document, limits: ParseSettings) -> list[str]:
    pages: list[str] = []
    total = 0
    for i in range(doc.page_count):
        text = _page_text(path, doc, i)
        if len(text) > limits.max_page_chars:
            raise ParseLimitError(
                f"{str(path)!r} was refused: page {i + 1} yields {len(text):,} characters, over the "
                f"limit of {limits.max_page_chars:,} per page (parse.max_page_chars)."
            )
        total += len(text) + 1
        if total > limits.max_chars:
            raise ParseLimitError(
                f"{str(path)!r} was refused: by page {i + 1} it yields over {limits.max_chars:,} "
                "characters, the limit per document (parse.max_chars). Split the PDF or raise the limit."
            )
        pages.append(text)
    return pages


def _page_text(path: Path, doc: pymupdf.Document, index: int) -> str:
    try:
        flat, rotated = page_lines(doc[index])
    except Exception as exc:  # a broken content stream or font on this page
        if _out_of_memory(exc):
            raise MemoryError(str(exc)) from exc
        raise CorruptFileError(
            f"{str(path)!r}: page {index + 1} of this PDF is damaged and cannot be read "
            f"({exc}). Re-export the PDF and try again."
        ) from exc
    text = order_page(flat)
    if rotated:
        extra = "\n".join(ln.text.rstrip() for ln in rotated)
        text = f"{text}\n{extra}" if text else extra
    return text
