"""Builders that write real PDF, DOCX, HTML and zip files for tests.

Reusable by every test that needs an input file: ``make_pdf`` (fpdf2), ``make_docx``
(python-docx), ``make_zip`` (raw zip archives, e.g. zip bombs) and a few small helpers.
PDFs use a Unicode TTF font when one is installed (DejaVuSans, Liberation, ...) and fall back
to Helvetica with the text reduced to Latin-1 otherwise; check ``pdf_font_is_unicode()``.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

PageContent = str | tuple[str, str]  # one column, or (left column, right column)

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)

FONT_SIZE = 11.0
LINE_H = 6.0  # mm
MARGIN = 20.0  # mm
GUTTER = 12.0  # mm between the columns of a two-column page


@lru_cache(maxsize=1)
def find_ttf_font() -> str | None:
    """Path of a Unicode TTF font on this system, or None (then PDFs use Helvetica)."""
    for cand in _FONT_CANDIDATES:
        if Path(cand).is_file():
            return cand
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}", "DejaVu Sans:style=Book"],
                capture_output=True, text=True, timeout=10, check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out.lower().endswith(".ttf") and Path(out).is_file():
            return out
    for pattern in ("/usr/share/fonts/**/*Sans*.ttf", "/usr/share/fonts/**/*.ttf"):
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    return None


def pdf_font_is_unicode() -> bool:
    return find_ttf_font() is not None


def _new_pdf() -> tuple[FPDF, bool]:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    font = find_ttf_font()
    if font:
        pdf.add_font("Body", "", font)
        pdf.set_font("Body", size=FONT_SIZE)
        return pdf, True
    pdf.set_font("Helvetica", size=FONT_SIZE)
    return pdf, False


def _fit(text: str, unicode_ok: bool) -> str:
    if unicode_ok:
        return text
    text = text.replace("\u2014", "-").replace("\u2013", "-").replace("\u2019", "'")
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf_safe(text: str) -> str:
    """``text`` as it will appear in a PDF from these builders (Latin-1 without a TTF font)."""
    return _fit(text, pdf_font_is_unicode())


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Lines that ``text`` wraps to in a box ``width`` mm wide ("\\n" forces a break)."""
    lines: list[str] = []
    for para in text.split("\n"):
        if not para.strip():
            lines.append("")
            continue
        lines.extend(pdf.multi_cell(width, LINE_H, para, dry_run=True, output="LINES"))
    return lines


def _write_lines(pdf: FPDF, x: float, y: float, lines: Sequence[str]) -> None:
    for i, line in enumerate(lines):
        if line:
            pdf.text(x, y + i * LINE_H, line)


def _write_columns(pdf: FPDF, y: float, left: list[str], right: list[str]) -> None:
    """Two columns, written *interleaved* (left line 1, right line 1, left line 2, ...).

    The content stream order then differs from reading order, so a loader that simply
    follows the stream interleaves the columns; a layout-aware one does not.
    """
    col_w = (pdf.w - 2 * MARGIN - GUTTER) / 2
    right_x = MARGIN + col_w + GUTTER
    for i in range(max(len(left), len(right))):
        if i < len(left) and left[i]:
            pdf.text(MARGIN, y + i * LINE_H, left[i])
        if i < len(right) and right[i]:
            pdf.text(right_x, y + i * LINE_H, right[i])


def make_pdf(
    path: Path,
    pages: Sequence[PageContent],
    *,
    two_column: bool = False,
    header: str | None = None,
    footer: str | None = None,
    title: str | None = None,
) -> Path:
    """Write a text PDF with one entry of ``pages`` per page.

    A page is a string (wrapped to the text width; "\\n" forces a line break, so a test can
    put "interna-" at a line end) or, with ``two_column`` / a ``(left, right)`` tuple, two
    columns. A string on a two-column page flows: left column first, the rest on the right.
    ``header``/``footer`` are drawn on every page; ``{n}`` in them becomes the page number.
    ``title`` is drawn full-width on page 1 above the body.
    """
    pdf, uni = _new_pdf()
    text_w = pdf.w - 2 * MARGIN
    col_w = (text_w - GUTTER) / 2
    for n, content in enumerate(pages, start=1):
        pdf.add_page()
        if header:
            pdf.text(MARGIN, 12, _fit(header.format(n=n), uni))
        y = 35.0
        if title and n == 1:
            pdf.text(MARGIN, y, _fit(title, uni))
            y += 3 * LINE_H
        if isinstance(content, tuple) or two_column:
            if isinstance(content, tuple):
                left = _wrap(pdf, _fit(content[0], uni), col_w)
                right = _wrap(pdf, _fit(content[1], uni), col_w)
            else:
                lines = _wrap(pdf, _fit(content, uni), col_w)
                half = (len(lines) + 1) // 2
                left, right = lines[:half], lines[half:]
            _write_columns(pdf, y, left, right)
        else:
            _write_lines(pdf, MARGIN, y, _wrap(pdf, _fit(content, uni), text_w))
        if footer:
            pdf.text(MARGIN, pdf.h - 12, _fit(footer.format(n=n), uni))
    pdf.output(str(path))
    return path


def make_pdf_table(
    path: Path, rows: Sequence[Sequence[str]], *, before: str = "", after: str = ""
) -> Path:
    """A one-page PDF: a paragraph, a ruled table of ``rows``, another paragraph."""
    pdf, uni = _new_pdf()
    pdf.add_page()
    pdf.set_y(30)
    if before:
        pdf.multi_cell(0, LINE_H, _fit(before, uni))
        pdf.ln(4)
    with pdf.table(headings_style=None, first_row_as_headings=False) as table:
        for row in rows:
            cells = table.row()
            for cell in row:
                cells.cell(_fit(cell, uni))
    if after:
        pdf.ln(4)
        pdf.multi_cell(0, LINE_H, _fit(after, uni))
    pdf.output(str(path))
    return path


def make_pdf_without_text(path: Path, pages: int = 1) -> Path:
    """A PDF whose pages hold only drawings (no text layer), like a scan."""
    pdf, _ = _new_pdf()
    for _ in range(pages):
        pdf.add_page()
        pdf.set_fill_color(90, 90, 90)
        for i in range(12):
            pdf.rect(MARGIN, 30 + i * 15, 120 + (i % 3) * 10, 8, style="F")
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path, text: str = "Geheim rapport", password: str = "geheim") -> Path:
    """A PDF that needs a user password to open (AES-256, written by PyMuPDF)."""
    import pymupdf

    plain = path.with_name(path.stem + ".plain.pdf")
    make_pdf(plain, [text])
    with pymupdf.open(plain) as doc:
        doc.save(
            str(path), encryption=pymupdf.PDF_ENCRYPT_AES_256,
            user_pw=password, owner_pw=password + "-owner",
        )
    plain.unlink()
    return path


DocxBlock = str | tuple[str, object]


def make_docx(path: Path, blocks: Sequence[DocxBlock]) -> Path:
    """Write a .docx from blocks, in order.

    A block is a paragraph string, ``("heading1".."heading9", text)``, ``("title", text)`` or
    ``("table", rows)`` where rows is a list of lists of cell strings (row 0 = header row).
    """
    import docx

    doc = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            doc.add_paragraph(block)
            continue
        kind, value = block
        if kind == "title":
            doc.add_heading(str(value), level=0)
        elif kind.startswith("heading"):
            doc.add_heading(str(value), level=int(kind.removeprefix("heading") or 1))
        elif kind == "table":
            rows = [list(r) for r in value]  # type: ignore[union-attr]
            table = doc.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = str(cell)
        else:
            raise ValueError(f"unknown docx block kind {kind!r}")
    doc.save(str(path))
    return path


def make_zip(path: Path, entries: dict[str, bytes], *, compress: bool = True) -> Path:
    """Write a zip archive with the given entries (deflated unless ``compress`` is False)."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def make_html(path: Path, body: str, *, head: str = "", charset: str | None = "utf-8") -> Path:
    """Write an HTML page; with ``charset`` the file is encoded in it and declares it."""
    meta = f'<meta charset="{charset}">' if charset else ""
    html = f"<!DOCTYPE html><html><head>{meta}{head}</head><body>{body}</body></html>"
    path.write_bytes(html.encode(charset or "utf-8"))
    return path


def nested_html(depth: int, tag: str = "div", inner: str = "diep genest") -> str:
    """HTML with ``depth`` nested ``tag`` elements around ``inner``."""
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


def make_pdf_bomb(path: Path, inflated_mb: int, *, pages: int = 1) -> Path:
    """A small PDF whose page content stream inflates to about ``inflated_mb`` MB of text
    operators, compressed on the fly (the test never holds the inflated stream)."""
    import zlib

    line = b"BT /F1 9 Tf 20 20 Td (Erasmus mobiliteit docenten) Tj ET\n"
    block = line * (1024 * 1024 // len(line))
    comp = zlib.compressobj(9)
    stream = b"".join(comp.compress(block) for _ in range(inflated_mb)) + comp.flush()
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    content_no = 4 + pages
    objs += [f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R "
             f">> >> /Contents {content_no} 0 R >>".encode() for _ in range(pages)]
    objs.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream
                + b"\nendstream")
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path
