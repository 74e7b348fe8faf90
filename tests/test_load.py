"""Loading stage: real files built in tmp_path, good and bad."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest

from builders import (
    make_docx,
    make_encrypted_pdf,
    make_html,
    make_pdf,
    make_pdf_table,
    make_pdf_without_text,
    make_zip,
    nested_html,
    pdf_safe,
)
from evidence_finder.errors import (
    BadInputError,
    CorruptFileError,
    EmptyDocumentError,
    EncodingError,
    FileTooLargeError,
    UnsupportedFileError,
)
from evidence_finder.ingest import load as load_mod
from evidence_finder.ingest.load import SUPPORTED_EXTENSIONS, iter_source_files, load_source

HEADER = pdf_safe("Onderzoek naar de impact van Erasmus+ \u2014 pagina {n}")
FOOTER = pdf_safe("Nuffic rapport 2023 \u2014 pagina {n}")
PAGES = [
    "Inhoud van pagina 1. Hogescholen werken steeds vaker aan de interna-\n"
    "tionalisering van het curriculum.\n\nEen tweede alinea op pagina 1.",
    "Inhoud van pagina 2. Studenten die naar het buitenland gaan, rapporteren meer "
    "zelfvertrouwen en interculturele vaardigheden.",
    "Inhoud van pagina 3. Conclusies en aanbevelingen.",
]


def _raises(exc: type[Exception], path: Path, *words: str, **kw: object) -> str:
    with pytest.raises(exc) as info:
        load_source(path, **kw)  # type: ignore[arg-type]
    msg = str(info.value)
    assert path.name in msg, msg
    for word in words:
        assert word.lower() in msg.lower(), f"{word!r} not in {msg!r}"
    return msg


# --- PDF -----------------------------------------------------------------------------------


@pytest.fixture
def report_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "rapport.pdf", PAGES, header=HEADER, footer=FOOTER)


def test_pdf_pages_and_offsets(report_pdf: Path) -> None:
    src = load_source(report_pdf)
    assert src.format == "pdf"
    assert len(src.page_starts) == 3 and src.page_starts[0] == 0
    assert list(src.page_starts) == sorted(src.page_starts)
    for n in (1, 2, 3):
        body = src.text.index(f"Inhoud van pagina {n}")
        assert src.page_at(body) == n
        head = src.text.index(HEADER.format(n=n))
        assert src.page_at(head) == n
        assert src.text.startswith(HEADER.format(n=n), src.page_starts[n - 1])
        assert src.page_at(src.text.index(FOOTER.format(n=n))) == n
    # pages are joined with a single "\n"
    for start in src.page_starts[1:]:
        assert src.text[start - 1] == "\n"


def test_pdf_keeps_raw_lines_headers_and_hyphenation(report_pdf: Path) -> None:
    src = load_source(report_pdf)
    assert "interna-\ntionalisering" in src.text  # repaired by the cleaner, not here
    assert src.text.count("Onderzoek naar de impact van Erasmus+") == 3  # removed later
    # the header comes first on its page, the footer last
    page2 = src.text[src.page_starts[1]:src.page_starts[2]].strip()
    assert page2.splitlines()[0] == HEADER.format(n=2)
    assert page2.splitlines()[-1] == FOOTER.format(n=2)


def test_pdf_paragraph_gap_becomes_blank_line(report_pdf: Path) -> None:
    text = load_source(report_pdf).text
    assert "curriculum.\n\nEen tweede alinea" in text
    assert "Hogescholen werken" in text and "interna-\ntionalisering van" in text


def test_pdf_two_columns_in_reading_order(tmp_path: Path) -> None:
    left = " ".join(f"links{i}" for i in range(60))
    right = " ".join(f"rechts{i}" for i in range(60))
    path = make_pdf(
        tmp_path / "kolommen.pdf", [(left, right)], header=HEADER, footer=FOOTER,
        title="Samenvatting van het onderzoek naar internationalisering in het mbo",
    )
    text = load_source(path).text
    assert text.index("links59") < text.index("rechts0"), text
    words = [w for w in text.split() if w.startswith(("links", "rechts"))]
    assert words == left.split() + right.split()
    assert text.index("Samenvatting") < text.index("links0")
    assert text.rstrip().endswith(FOOTER.format(n=1))


def test_pdf_flowing_two_column_text(tmp_path: Path) -> None:
    sentence = "Zin {} gaat over de mobiliteit van studenten."
    words = [w for i in range(40) for w in sentence.format(i).split()]
    path = make_pdf(tmp_path / "flow.pdf", [" ".join(words)], two_column=True)
    text = load_source(path).text
    assert text.split() == words


def test_pdf_table_read_row_by_row(tmp_path: Path) -> None:
    rows = [
        ["Sector", "Aantal", "Toelichting"],
        ["Beroepsonderwijs", "1200", "vooral stages in Duitsland"],
        ["Hoger beroepsonderwijs", "3400", "uitwisseling en stages"],
    ]
    path = make_pdf_table(
        tmp_path / "tabel.pdf", rows, before="Een inleidende alinea over de tabel hieronder.",
        after="Een afsluitende alinea na de tabel.",
    )
    lines = load_source(path).text.splitlines()
    assert [" ".join(r) for r in rows] == [ln for ln in lines if ln.startswith(("S", "B", "H"))]
    assert lines[-1] == "Een afsluitende alinea na de tabel."


def test_pdf_password_protected(tmp_path: Path) -> None:
    _raises(CorruptFileError, make_encrypted_pdf(tmp_path / "geheim.pdf"), "password")


def test_pdf_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "kapot.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    _raises(CorruptFileError, path, "damaged")


@pytest.mark.parametrize("fraction", [0.3, 0.7, 0.98])
def test_pdf_truncated(report_pdf: Path, fraction: float) -> None:
    data = report_pdf.read_bytes()
    path = report_pdf.with_name("afgebroken.pdf")
    path.write_bytes(data[: int(len(data) * fraction)])
    _raises(CorruptFileError, path, "truncated")


def test_pdf_without_text_is_scan(tmp_path: Path) -> None:
    _raises(EmptyDocumentError, make_pdf_without_text(tmp_path / "scan.pdf", 2), "OCR", "scan")


# --- extension / content mismatches --------------------------------------------------------


def test_text_named_pdf(tmp_path: Path) -> None:
    path = tmp_path / "notitie.pdf"
    path.write_text("Dit is gewoon tekst, geen PDF.\n", encoding="utf-8")
    _raises(CorruptFileError, path, "is not a PDF", "it starts with", "plain text")


def test_html_named_pdf(tmp_path: Path) -> None:
    path = make_html(tmp_path / "pagina.pdf", "<p>Hallo</p>")
    _raises(CorruptFileError, path, "is not a PDF", "HTML")


def test_docx_named_pdf(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "verslag.pdf", ["Hallo"])
    _raises(CorruptFileError, path, "is not a PDF", "zip")


def test_pdf_named_docx(tmp_path: Path, report_pdf: Path) -> None:
    path = tmp_path / "verslag.docx"
    path.write_bytes(report_pdf.read_bytes())
    _raises(CorruptFileError, path, "not a Word", "%PDF", "looks like a PDF")


def test_old_doc_named_docx(tmp_path: Path) -> None:
    path = tmp_path / "oud.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    _raises(CorruptFileError, path, "not a Word", ".doc")


def test_pdf_named_txt(tmp_path: Path, report_pdf: Path) -> None:
    path = tmp_path / "rapport.txt"
    path.write_bytes(report_pdf.read_bytes())
    _raises(CorruptFileError, path, "looks like a PDF, not text")


def test_pdf_named_html(tmp_path: Path, report_pdf: Path) -> None:
    path = tmp_path / "rapport.html"
    path.write_bytes(report_pdf.read_bytes())
    _raises(CorruptFileError, path, "is not an HTML file", "PDF")


# --- DOCX ----------------------------------------------------------------------------------


def test_docx_structure(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "verslag.docx", [
        ("title", "Evaluatie Erasmus+"),
        ("heading1", "1. Inleiding"),
        "Dit rapport beschrijft de resultaten.",
        "",
        ("table", [["Sector", "Deelnemers"], ["mbo", "1200"], ["hbo", "3400"]]),
        ("heading2", "1.1 Methode"),
        "We spraken met 40 docenten.",
    ])
    src = load_source(path)
    assert src.format == "docx" and src.page_starts == ()
    lines = [ln for ln in src.text.splitlines() if ln.strip()]
    assert lines == [
        "Evaluatie Erasmus+", "1. Inleiding", "Dit rapport beschrijft de resultaten.",
        "Sector | Deelnemers", "mbo | 1200", "hbo | 3400", "1.1 Methode",
        "We spraken met 40 docenten.",
    ]
    assert "\n1. Inleiding\n" in src.text  # a heading is a line of its own


def test_docx_merged_cells_not_repeated(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    table = doc.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Kop over drie kolommen"
    for i, word in enumerate(["a", "b", "c"]):
        table.cell(1, i).text = word
    path = tmp_path / "merged.docx"
    doc.save(str(path))
    assert load_source(path).text.splitlines() == ["Kop over drie kolommen", "a | b | c"]


def test_docx_empty(tmp_path: Path) -> None:
    _raises(EmptyDocumentError, make_docx(tmp_path / "leeg.docx", ["", "  "]), "no text")


def test_docx_zip_bomb_ratio(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bom.docx", {
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b"\0" * (5 * 1024 * 1024),
    })
    _raises(CorruptFileError, path, "zip bomb", "word/document.xml")


def test_docx_zip_bomb_total_size(tmp_path: Path) -> None:
    entries = {"[Content_Types].xml": b"<Types/>"}
    entries |= {f"word/media/part{i}.bin": b"a" * 400_000 for i in range(6)}
    path = make_zip(tmp_path / "groot.docx", entries)
    assert path.stat().st_size < 100_000
    _raises(CorruptFileError, path, "zip bomb", "unpacks to", max_bytes=100_000)


def test_docx_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "stuk.docx"
    path.write_bytes(b"PK\x03\x04" + b"rommel" * 100)
    _raises(CorruptFileError, path, "damaged")


def test_docx_text_file(tmp_path: Path) -> None:
    path = tmp_path / "tekst.docx"
    path.write_text("Gewoon tekst", encoding="utf-8")
    _raises(CorruptFileError, path, "not a Word", "plain text")


def test_docx_other_office_zip(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "tabel.docx", {
        "[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
    })
    _raises(CorruptFileError, path, "not a Word document", "Excel")


def test_docx_zip_without_word_parts_fails_cleanly(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "half.docx", {
        "[Content_Types].xml": b"<Types/>", "word/document.xml": b"<niet-af",
    })
    _raises(CorruptFileError, path, "damaged or unsupported")


# --- HTML ----------------------------------------------------------------------------------


def test_html_structure(tmp_path: Path) -> None:
    body = (
        "<script>document.write('<p>geheim</p>')</script><style>p{color:red}</style>"
        "<noscript>zet javascript aan</noscript><template><p>sjabloon</p></template>"
        "<h1>Resultaten &amp; conclusies</h1>"
        "<p>Een <b>vetgedrukt</b> woord &ndash; en caf&eacute;.<br>Nieuwe regel.</p>"
        "<ul><li>Eerste punt<ul><li>Genest punt</li><li>Nog een</li></ul></li>"
        "<li>Tweede punt</li></ul>"
        "<table><tr><th>Land</th><th>Aantal</th></tr><tr><td>NL</td><td><p>12</p></td></tr>"
        "</table><div hidden>verborgen</div><div>Slot</div>"
    )
    src = load_source(make_html(tmp_path / "pagina.html", body, head="<title>T</title>"))
    assert src.format == "html"
    text = src.text
    for gone in ("geheim", "color", "javascript", "sjabloon", "verborgen", "document.write"):
        assert gone not in text
    assert text.splitlines() == [
        "Resultaten & conclusies", "",
        "Een vetgedrukt woord \u2013 en café.", "Nieuwe regel.", "",
        "- Eerste punt", "- Genest punt", "- Nog een", "- Tweede punt", "",
        "Land | Aantal", "NL | 12", "",
        "Slot",
    ]


def test_html_deeply_nested_divs(tmp_path: Path) -> None:
    path = tmp_path / "diep.htm"
    path.write_text(f"<html><body>{nested_html(100_000)}<p>daarna</p></body></html>")
    start = time.perf_counter()
    src = load_source(path)
    assert src.text.split() == ["diep", "genest", "daarna"]
    assert time.perf_counter() - start < 10


def test_html_deeply_nested_inline_and_lists(tmp_path: Path) -> None:
    html = nested_html(50_000, "span", "kern") + nested_html(20_000, "ul", "<li>item</li>")
    path = make_html(tmp_path / "inline.html", html)
    assert load_source(path).text.split() == ["kern", "-", "item"]


def test_html_declared_latin1(tmp_path: Path) -> None:
    path = make_html(tmp_path / "latijn.html", "<p>Caf\u00e9 \u2013 cr\u00e8me</p>",
                     charset="windows-1252")
    assert load_source(path).text == "Caf\u00e9 \u2013 cr\u00e8me"
    path.write_bytes(b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
                     b"<p>Caf\xe9</p>")
    assert load_source(path).text == "Caf\u00e9"


def test_html_undeclared_latin1(tmp_path: Path) -> None:
    path = tmp_path / "oud.html"
    path.write_bytes(b"<p>Caf\xe9</p>")
    _raises(EncodingError, path, "UTF-8", "byte offset 6", "charset", "re-save")


def test_html_utf16_bom(tmp_path: Path) -> None:
    path = tmp_path / "breed.html"
    path.write_bytes(codecs.BOM_UTF16_LE + "<p>Hallo wereld</p>".encode("utf-16-le"))
    assert load_source(path).text == "Hallo wereld"


def test_html_only_markup(tmp_path: Path) -> None:
    path = make_html(tmp_path / "leeg.html", "<div><script>x()</script></div>")
    _raises(EmptyDocumentError, path, "no text")


# --- text and markdown ---------------------------------------------------------------------


def test_txt_utf8_bom_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "notities.txt"
    path.write_bytes(codecs.BOM_UTF8 + "Regel één\r\nRegel twee\rRegel drie\n".encode())
    src = load_source(path)
    assert src.text == "Regel één\nRegel twee\nRegel drie\n"
    assert src.format == "txt" and src.page_at(3) is None


@pytest.mark.parametrize("codec, bom", [
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
])
def test_txt_utf16_with_bom(tmp_path: Path, codec: str, bom: bytes) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes(bom + "Internationalisering \u2013 één".encode(codec))
    assert load_source(path).text == "Internationalisering \u2013 één"


def test_md_kept_verbatim(tmp_path: Path) -> None:
    md = "# Titel\n\n- **punt** een\n- [link](http://x.nl)\n\n| a | b |\n|---|---|\n"
    path = tmp_path / "lees.md"
    path.write_text(md, encoding="utf-8")
    src = load_source(path)
    assert src.text == md and src.format == "md"


def test_txt_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latijn.txt"
    path.write_bytes("Het café is open".encode("latin-1"))
    msg = _raises(EncodingError, path, "not valid UTF-8", "byte offset 7", "re-save", "UTF-8")
    assert "0xE9" in msg
    path.write_bytes(codecs.BOM_UTF8 + "Het café is open".encode("latin-1"))
    _raises(EncodingError, path, "byte offset 10")  # offsets count the BOM


def test_txt_binary(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(256)) * 8)
    _raises(CorruptFileError, path, "looks like binary data, not text")


def test_txt_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "nul.md"
    path.write_bytes(b"Tekst\x00met nul\x00bytes")
    _raises(CorruptFileError, path, "binary data")


def test_txt_utf16_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "zonderbom.txt"
    path.write_bytes(("Hallo wereld, dit is tekst. " * 10).encode("utf-16-le"))
    _raises(CorruptFileError, path, "binary data", "UTF-16", "UTF-8")


# --- paths, sizes, emptiness ---------------------------------------------------------------


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "cijfers.xlsx"
    path.write_bytes(b"x")
    msg = _raises(UnsupportedFileError, path, ".xlsx", "not supported")
    assert all(ext in msg for ext in SUPPORTED_EXTENSIONS)


def test_missing_file(tmp_path: Path) -> None:
    msg = _raises(BadInputError, tmp_path / "weg.pdf", "does not exist")
    assert "Supported" not in msg


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "map.txt"
    folder.mkdir()
    _raises(BadInputError, folder, "directory")


@pytest.mark.parametrize("name", ["leeg.txt", "leeg.md", "leeg.pdf", "leeg.docx", "leeg.html"])
def test_zero_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    _raises(EmptyDocumentError, path, "empty", "0 bytes")


def test_whitespace_only(tmp_path: Path) -> None:
    path = tmp_path / "spaties.txt"
    path.write_text(" \n\t\n   \n")
    _raises(EmptyDocumentError, path, "no text")


def test_too_large_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "groot.txt"
    path.write_text("woord " * 100)

    def no_read(*_: object) -> bytes:
        raise AssertionError("file was read before its size was checked")

    monkeypatch.setattr(load_mod, "_read_bytes", no_read)
    _raises(FileTooLargeError, path, "limit", max_bytes=100)


def test_uppercase_extension(tmp_path: Path) -> None:
    path = tmp_path / "HOOFD.TXT"
    path.write_text("Hallo")
    assert load_source(path).text == "Hallo"


# --- iter_source_files ---------------------------------------------------------------------


def test_iter_source_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / ".git").mkdir()
    for rel in ["b.pdf", "a.txt", "sub/c.md", "sub/d.HTML", ".verborgen.txt", "manifest.toml",
                "README.md", "~$slot.docx", "cijfers.xlsx", ".git/x.txt", "zonder"]:
        (corpus / rel).write_text("x")
    single = tmp_path / "los.docx"
    single.write_text("x")
    missing = tmp_path / "weg.txt"
    files, skipped = iter_source_files([corpus, single, missing, corpus / "a.txt"])
    assert files == [corpus / "a.txt", corpus / "b.pdf", corpus / "sub/c.md",
                     corpus / "sub/d.HTML", single]
    reasons = {p.name: why for p, why in skipped}
    assert set(reasons) == {"cijfers.xlsx", "zonder", "weg.txt"}
    assert reasons["weg.txt"] == "does not exist"
    assert ".xlsx" in reasons["cijfers.xlsx"] and ".pdf" in reasons["cijfers.xlsx"]


def test_iter_source_files_explicit_readme_kept(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("x")
    assert iter_source_files([readme]) == ([readme], [])


def test_a_new_format_is_one_registered_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_finder.ingest import load as loader
    from evidence_finder.types import SourceText

    monkeypatch.setattr(loader, "READERS", dict(loader.READERS))
    doc = tmp_path / "notes.rst"
    doc.write_text("Titel\n=====\n\nDe administratie is een drempel.\n", encoding="utf-8")
    with pytest.raises(BadInputError, match="notes.rst"):
        loader.load_source(doc)
    loader.register_reader("rst", lambda path, data, max_bytes, limits: SourceText(
        data.decode("utf-8").replace("=====\n", ""), format="rst"))
    got = loader.load_source(doc)
    assert (got.text, got.format) == ("Titel\n\nDe administratie is een drempel.\n", "rst")
