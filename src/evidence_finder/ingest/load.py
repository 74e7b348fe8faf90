"""Loading stage: turn a file into :class:`SourceText` (raw extracted text, page starts).

Supported: plain text and Markdown (UTF-8, or UTF-16/32 with a BOM), PDF (PyMuPDF, reading
order, page starts kept), DOCX (python-docx) and HTML (selectolax). Nothing is cleaned here:
line breaks, hyphenation and running headers/footers are left to the cleaning stage. Text
files get their newlines normalised to "\\n"; offsets refer to the returned text.

Every failure raises a :class:`~evidence_finder.errors.BadInputError` subclass whose message
names the file, the reason and, where there is one, the fix.
"""

from __future__ import annotations

import codecs
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from evidence_finder.errors import (
    BadInputError,
    CorruptFileError,
    EmptyDocumentError,
    EncodingError,
    FileTooLargeError,
    ParseLimitError,
    UnsupportedFileError,
)
from evidence_finder.ingest._hidden import drop_hidden_docx_runs
from evidence_finder.ingest.paths import name_problem, outside_link, resolve_problem, walk_errors
from evidence_finder.ingest.titles import docx_title
from evidence_finder.settings import ParseSettings
from evidence_finder.types import SourceText

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
ZIP_MAX_EXPANSION = 20  # a .docx may unpack to at most this many times max_bytes
ZIP_MAX_RATIO = 200  # compression ratio above which a (large) zip entry is a bomb
ZIP_RATIO_MIN_SIZE = 1024 * 1024  # entries smaller than this are not ratio-checked
ZIP_MAX_ENTRIES = 10_000
DOCX_XML_BYTES_PER_CHAR = 30  # WordprocessingML markup per character of text, generously
IGNORED_NAMES = frozenset({"manifest.toml", "readme", "readme.md", "readme.txt", "license"})

_TEXT_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_MAGIC = (
    (b"%PDF-", "a PDF"), (b"PK\x03\x04", "a zip archive (e.g. a .docx)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.doc) or an encrypted one"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"), (b"{\\rtf", "an RTF document"),
)
_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}


def _name(path: Path) -> str:
    return repr(str(path))


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


# --- sniffing ------------------------------------------------------------------------------


def _magic_kind(head: bytes) -> str | None:
    """What the first bytes say the file is ("a PDF", ...), or None if no known signature."""
    if b"%PDF-" in head[:1024]:
        return "a PDF"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in data:
        return True
    return sum(b in _CONTROL for b in sample) > 0.05 * max(len(sample), 1)


def _looks_html(head: bytes) -> bool:
    low = head[:1024].lstrip().lower()
    return low.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in low


def _preview(head: bytes) -> str:
    return "".join(ch if ch.isprintable() else "." for ch in head[:20].decode("latin-1"))


def _describe(head: bytes) -> str:
    """'it starts with '...', which looks like X' for mismatch messages."""
    preview = _preview(head)
    kind = _magic_kind(head)
    if kind is None:
        if _looks_binary(head):
            kind = "binary data"
        elif _looks_html(head):
            kind = "HTML"
        else:
            kind = "plain text"
    return f"it starts with {preview!r}, which looks like {kind}"


def _mismatch(path: Path, expected: str, head: bytes) -> CorruptFileError:
    return CorruptFileError(
        f"{_name(path)} is not {expected} ({_describe(head)}). Check that the file is what "
        "its name says; re-export it or give it the right extension."
    )


# --- text / markdown -----------------------------------------------------------------------


def _decode_error(path: Path, exc: UnicodeDecodeError, codec: str, skip: int) -> EncodingError:
    bad = exc.object[exc.start]
    latin = " (it is probably Latin-1 or Windows-1252)" if codec == "UTF-8" else ""
    return EncodingError(
        f"{_name(path)} is not valid {codec}: byte 0x{bad:02X} at byte offset "
        f"{exc.start + skip} cannot be decoded{latin}. Re-save the file as UTF-8 and try again."
    )


def _decode_text(path: Path, data: bytes) -> str:
    for bom, codec in _TEXT_BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise _decode_error(path, exc, codec.upper(), len(bom)) from exc
    kind = _magic_kind(data[:1024])
    if kind:
        raise CorruptFileError(
            f"{_name(path)} looks like {kind}, not text (it starts with "
            f"{_preview(data)!r}). "
            "Give it the right extension."
        )
    if _looks_binary(data):
        hint = ""
        if data[1:200:2].count(0) > 40 or data[0:200:2].count(0) > 40:
            hint = " (if it is UTF-16 text without a byte-order mark, re-save it as UTF-8)"
        raise CorruptFileError(f"{_name(path)} looks like binary data, not text{hint}.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc, "UTF-8", 0) from exc


def _read_text(path: Path, data: bytes) -> str:
    text = _decode_text(path, data).lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- docx ----------------------------------------------------------------------------------


def _check_docx_zip(path: Path, data: bytes, max_bytes: int) -> None:
    """Reject damaged zips, zip bombs and zips that are not Word documents."""
    name = _name(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise CorruptFileError(
            f"{name} is not a valid .docx: its zip container is damaged ({exc}). "
            "Open it in Word and save it again."
        ) from exc
    total = sum(i.file_size for i in infos)
    bomb = f"{name} was refused: it may be a zip bomb"
    if len(infos) > ZIP_MAX_ENTRIES:
        raise CorruptFileError(f"{bomb} ({len(infos)} entries).")
    if total > ZIP_MAX_EXPANSION * max_bytes:
        raise CorruptFileError(
            f"{bomb} (it unpacks to {_mb(total)}, more than {ZIP_MAX_EXPANSION} x the "
            f"{_mb(max_bytes)} size limit)."
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= ZIP_RATIO_MIN_SIZE and ratio > ZIP_MAX_RATIO:
            raise CorruptFileError(
                f"{bomb} (entry {info.filename!r} is compressed {ratio:.0f}:1)."
            )
    _check_docx_entries(path, infos)


def _check_docx_xml(path: Path, data: bytes, limits: ParseSettings) -> None:
    """Refuse a body XML too large for the character limit before lxml builds a tree of it
    (a 600 MB document.xml took 6.5 GB)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        size = sum(i.file_size for i in zf.infolist() if i.filename.startswith("word/")
                   and i.filename.endswith(".xml"))
    allowed = limits.max_chars * DOCX_XML_BYTES_PER_CHAR
    if size > allowed:
        raise ParseLimitError(
            f"{_name(path)} was refused: its Word XML unpacks to {_mb(size)}, more than the "
            f"{_mb(allowed)} that the limit of {limits.max_chars:,} characters per document "
            "allows (parse.max_chars). Split the document or raise the limit."
        )


def _check_docx_entries(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    names = {i.filename for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise CorruptFileError(
            f"{_name(path)} is password-protected. Save an unprotected copy and try again."
        )
    if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
        return
    others = {"xl/": "an Excel workbook", "ppt/": "a PowerPoint presentation"}
    kind = next((k for p, k in others.items() if any(n.startswith(p) for n in names)), None)
    if kind is None and "mimetype" in names:
        kind = "an OpenDocument file (.odt?)"
    raise CorruptFileError(
        f"{_name(path)} is not a Word document (it is a zip archive, "
        f"{'apparently ' + kind if kind else 'but without Word content'}). "
        "Save it as .docx from Word, or convert it to PDF."
    )


def _docx_blocks(document: object) -> list[str]:
    from docx.table import Table

    blocks: list[str] = []
    for item in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Table):
            rows = [_docx_row(row) for row in item.rows]
            rows = [r for r in rows if r.strip(" |")]
            if rows:
                blocks.append("\n".join(rows))
        else:
            text = item.text.strip()
            if text and _is_quote_style(item) and text[:1] not in "“„\"‘'":
                # Word marks a quotation by its style, not by quote marks: make it read as the
                # quote it is, so structure finds it as in a printed report
                text = f"“{text}”"
            if text:
                blocks.append(text)
    return blocks


_QUOTE_STYLES = frozenset({"quote", "intense quote", "citaat", "duidelijk citaat"})


def _is_quote_style(paragraph: object) -> bool:
    style = getattr(paragraph, "style", None)
    return (getattr(style, "name", "") or "").lower() in _QUOTE_STYLES


def _docx_row(row: object) -> str:
    cells: list[str] = []
    seen: list[object] = []
    for cell in row.cells:  # type: ignore[attr-defined]
        if seen and cell._tc is seen[-1]:  # a merged cell repeats across its grid span
            continue
        seen.append(cell._tc)
        cells.append(" ".join(cell.text.split()))
    return " | ".join(cells)


def _read_docx(path: Path, data: bytes, max_bytes: int, limits: ParseSettings) -> SourceText:
    if not data.startswith(b"PK\x03\x04"):
        raise _mismatch(path, "a Word .docx file", data[:64])
    _check_docx_zip(path, data, max_bytes)
    _check_docx_xml(path, data, limits)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        # hidden and near-invisible runs are what injected text hides in: never evidence
        drop_hidden_docx_runs(document.element.body, document.styles.element)
        blocks = _docx_blocks(document)
        title = docx_title(document)
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors, ...
        raise CorruptFileError(
            f"{_name(path)} is a damaged or unsupported .docx ({type(exc).__name__}: {exc}). "
            "Open it in Word and save it again as .docx."
        ) from exc
    return SourceText(text="\n\n".join(blocks), format="docx", title=title)


# --- pdf / html ----------------------------------------------------------------------------


def _read_pdf(path: Path, data: bytes, limits: ParseSettings) -> SourceText:
    if _magic_kind(data[:1024]) != "a PDF":
        raise _mismatch(path, "a PDF", data[:64])
    from evidence_finder.ingest._pdf_text import read_pdf

    text, starts, title = read_pdf(path, data, limits)
    return SourceText(text=text, page_starts=starts, format="pdf", title=title)


def _read_html(path: Path, data: bytes) -> str:
    kind = _magic_kind(data[:1024])
    if kind or (b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE,
                                                           codecs.BOM_UTF16_BE))):
        raise _mismatch(path, "an HTML file", data[:64])
    from evidence_finder.ingest._html_text import decode_html, html_to_text

    return html_to_text(decode_html(path, data))


# --- entry points --------------------------------------------------------------------------


def _check_path(path: Path, max_bytes: int) -> int:
    """Validate path, extension and size before reading; returns the size in bytes."""
    name = _name(path)
    if path.is_symlink():
        real, why = resolve_problem(path)
        if real is None:
            raise BadInputError(f"{name} {why}.")
    if not path.exists():
        raise BadInputError(f"{name} does not exist. Check the path and try again.")
    if path.is_dir():
        raise BadInputError(f"{name} is a directory, not a file. Pass the files inside it.")
    if not path.is_file():
        raise BadInputError(f"{name} is not a regular file.")
    ext = path.suffix.lower()
    if ext not in READERS:
        shown = f"extension {ext!r}" if ext else "no extension"
        raise UnsupportedFileError(
            f"{name} has {shown}, which is not supported. "
            f"Supported: {', '.join(READERS)}. Convert it to one of these."
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise FileTooLargeError(
            f"{name} is {_mb(size)}, over the {_mb(max_bytes)} limit. Split the file or "
            "raise the size limit."
        )
    if size == 0:
        raise EmptyDocumentError(f"{name} is empty (0 bytes).")
    try:
        with path.open("rb") as fh:  # unreadable: reported now, not as a traceback mid-ingest
            fh.read(1)
    except OSError as exc:
        raise BadInputError(
            f"{name} cannot be read: {exc.strerror or exc}. Check its permissions."
        ) from exc
    return size


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise BadInputError(f"{_name(path)} cannot be read: {exc.strerror or exc}.") from exc
    if len(data) > max_bytes:
        raise FileTooLargeError(f"{_name(path)} is over the {_mb(max_bytes)} limit.")
    return data


def load_source(path: Path, max_bytes: int = DEFAULT_MAX_BYTES,
                limits: ParseSettings | None = None) -> SourceText:
    """Read a supported file and return its text (and page starts for PDFs).

    Raises a :class:`BadInputError` subclass for anything unusable (a
    :class:`ParseLimitError` for a document over a page or character limit); see module
    docstring. Memory and time limits need a worker process: see ``ingest.worker``.
    """
    path = Path(path)
    limits = limits or ParseSettings()
    _check_path(path, max_bytes)
    data = _read_bytes(path, max_bytes)
    source = READERS[path.suffix.lower()](path, data, max_bytes, limits)
    if not source.text.strip():
        raise EmptyDocumentError(f"{_name(path)} contains no text (only whitespace or markup).")
    if len(source.text) > limits.max_chars:
        raise ParseLimitError(
            f"{_name(path)} was refused: it yields {len(source.text):,} characters, over the limit "
            f"of {limits.max_chars:,} per document (parse.max_chars). Split the document or raise "
            "the limit."
        )
    return source


Reader = Callable[[Path, bytes, int, ParseSettings], SourceText]
"""(path, file bytes, size limit, parse limits) → the document's text."""


def _plain(path: Path, data: bytes, max_bytes: int, limits: ParseSettings) -> SourceText:
    return SourceText(text=_read_text(path, data), format=path.suffix.lower().lstrip("."))


def _html(path: Path, data: bytes, max_bytes: int, limits: ParseSettings) -> SourceText:
    return SourceText(text=_read_html(path, data), format="html")


READERS: dict[str, Reader] = {
    ".txt": _plain,
    ".md": _plain,
    ".pdf": lambda path, data, max_bytes, limits: _read_pdf(path, data, limits),
    ".docx": _read_docx,
    ".html": _html,
    ".htm": _html,
}
"""One reader per file extension; a new format is one entry (and one loader function)."""


SUPPORTED_EXTENSIONS = tuple(READERS)  # as registered at import; checks read READERS itself


def register_reader(extension: str, reader: Reader) -> None:
    """Add or replace the reader of ``extension`` ('.odt'): ingest then accepts that format
    (register before the web chat is built for its upload box to list it)."""
    ext = extension.lower() if extension.startswith(".") else f".{extension.lower()}"
    READERS[ext] = reader


def _ignored(name: str) -> bool:
    low = name.lower()
    return low.startswith((".", "~$")) or low in IGNORED_NAMES


def _walk(root: Path, skipped: list[tuple[Path, str]]) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=walk_errors(skipped)):  # type: ignore[arg-type]
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if not _ignored(f))
    return found


def iter_source_files(paths: list[Path], *, follow_links: bool = False
                      ) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and directories into loadable files, and the paths skipped with why.

    Directories are searched recursively in sorted order, skipping hidden entries, Office
    lock files (``~$...``) and names like ``manifest.toml`` / ``README``. Files named
    explicitly are kept even if hidden. Duplicates are dropped. A path that cannot be used
    (symlink loop, broken link, name that is not UTF-8, unreadable directory) is skipped with
    the reason; a link found in a directory that leads outside it is followed only with
    ``follow_links``.
    """
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            skipped.append((path, "does not exist"))
            continue
        real_root, why = resolve_problem(path)
        if real_root is None:
            skipped.append((path, why or "cannot be accessed"))
            continue
        walked = path.is_dir()
        for f in _walk(path, skipped) if walked else [path]:
            why = name_problem(f)
            real, loop = resolve_problem(f)
            why = why or loop
            if real is not None and walked and not follow_links:
                why = why or outside_link(f, real, real_root)
            if why or real is None:
                skipped.append((f, why or "cannot be accessed"))
                continue
            if real in seen:
                continue
            seen.add(real)
            ext = f.suffix.lower()
            if not f.is_file():
                skipped.append((f, "is not a regular file"))
            elif ext not in READERS:
                what = f"file type {ext!r}" if ext else "file without extension"
                supported = ", ".join(READERS)
                skipped.append((f, f"unsupported {what} (supported: {supported})"))
            else:
                files.append(f)
    return files, skipped
