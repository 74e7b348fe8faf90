"""Uploads as good as the corpus (#16.5): a DOCX or PDF is named by its own title or first
heading, never by a quote paragraph; quotes in a typed DOCX (Word's Quote style, a lead-in
and the quote in one paragraph, '“…,” zegt een directeur.') become quote units with speakers."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from builders import find_ttf_font, make_docx
from evidence_finder.index.build import _guess_title
from evidence_finder.ingest.load import load_source
from evidence_finder.ingest.titles import usable_title
from evidence_finder.settings import Settings
from evidence_finder.ui.backend import Backend

COVER_QUOTE = "“Meelopen met een collega was voor mij het mooiste deel van het hele project.”"
BODY = ("De school nam deel aan een KA1-project voor job shadowing. Leerkrachten liepen een week mee "
        "op scholen in Finland en Spanje en brachten nieuwe ideeën mee terug naar het team.")


def typed_docx(path: Path, *, core_title: str = "", title_style: bool = True) -> Path:
    d = docx.Document()
    d.core_properties.title = core_title
    d.add_paragraph(COVER_QUOTE)
    if title_style:
        d.add_heading("Job shadowing op De Regenboog", level=0)
    d.add_heading("1. Ervaringen van het team", level=1)
    d.add_paragraph(BODY)
    d.add_paragraph("Door de job shadowing in Finland ben ik anders naar mijn eigen lessen gaan kijken.",
                    style="Quote")
    d.add_paragraph("- leerkracht -")
    d.add_paragraph("“Het was een mooie ervaring voor het hele team en voor de leerlingen,” zegt een directeur.")
    d.add_paragraph("Een docent: “Ik heb veel geleerd van de collega’s in Spanje over klassenmanagement.”")
    d.save(str(path))
    return path


@pytest.mark.parametrize(("core", "title_style", "title"), [
    ("Job shadowing in het po (eindrapport)", True, "Job shadowing in het po (eindrapport)"),
    ("Microsoft Word - rapport_v3.docx", True, "Job shadowing op De Regenboog"),  # tool-made metadata
    ("", False, "1. Ervaringen van het team"),  # no Title paragraph: the first Heading 1
])
def test_docx_title_comes_from_metadata_title_style_or_first_heading(tmp_path: Path, core: str,
                                                                     title_style: bool, title: str) -> None:
    src = load_source(typed_docx(tmp_path / "r.docx", core_title=core, title_style=title_style))
    assert src.title == title


def test_docx_without_styles_is_named_by_its_first_heading_not_a_quote(
        built_index: Settings, hash_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = make_docx(tmp_path / "plain.docx", [COVER_QUOTE, "2. Resultaten van de uitwisseling", BODY])
    backend = Backend(built_index, embedder=hash_embedder)
    assert backend.upload([str(path)]).added == ["plain.docx"]
    row = next(r for r in backend.documents() if r.doc_id == "plain.docx")
    assert row.title == "2. Resultaten van de uitwisseling"


NL = {"new_x": "LMARGIN", "new_y": "NEXT"}


def _pdf(path: Path, *, meta_title: str = "", big: str = "") -> Path:
    pdf = FPDF()
    font = find_ttf_font()
    if font:
        pdf.add_font("Body", "", font)
    name = "Body" if font else "Helvetica"
    if meta_title:
        pdf.set_title(meta_title)
    pdf.add_page()
    pdf.set_font(name, size=11)
    pdf.multi_cell(0, 6, COVER_QUOTE if font else "'Meelopen was het mooiste deel van het project.'", **NL)
    if big:
        pdf.set_font(name, size=24)
        pdf.multi_cell(0, 12, big, **NL)
    pdf.set_font(name, size=11)
    pdf.multi_cell(0, 6, BODY, **NL)
    pdf.multi_cell(0, 6, BODY, **NL)
    pdf.output(str(path))
    return path


def test_pdf_title_from_metadata_else_its_largest_type(tmp_path: Path) -> None:
    assert load_source(_pdf(tmp_path / "a.pdf", meta_title="Eindrapport job shadowing", big="Groot")).title == \
        "Eindrapport job shadowing"
    assert load_source(_pdf(tmp_path / "b.pdf", big="Job shadowing in Finland")).title == "Job shadowing in Finland"
    assert load_source(_pdf(tmp_path / "c.pdf", meta_title="Microsoft Word - c.docx")).title == ""


@pytest.mark.parametrize(("raw", "ok"), [
    ("Job shadowing in het po", True), ("Microsoft Word - x.docx", False), ("Document1", False),
    ("rapport.pdf", False), ("“Een quote als titel.”", False), ("  ", False), ("12 34", False),
])
def test_usable_title(raw: str, ok: bool) -> None:
    assert bool(usable_title(raw)) is ok


def test_plain_text_title_guess_skips_a_quote_and_a_lead_in() -> None:
    assert _guess_title(f"{COVER_QUOTE}\nEen leerkracht zegt:\nRapport over meelopen\n") == "Rapport over meelopen"


def test_quotes_in_an_uploaded_docx_become_quote_units_with_speakers(
        built_index: Settings, hash_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backend = Backend(built_index, embedder=hash_embedder)
    assert backend.upload([str(typed_docx(tmp_path / "typed.docx"))]).added == ["typed.docx"]
    quotes = [p for p in backend.searcher().snapshot().passages if p.doc_id == "typed.docx" and p.kind == "quote"]
    assert [(q.text[:30], q.speaker) for q in quotes] == [
        ("“Meelopen met een collega was ", ""),  # the cover quote names no one
        ("“Door de job shadowing in Finl", "leerkracht"),  # Word's Quote style
        ("“Het was een mooie ervaring vo", "directeur"),  # '…,” zegt een directeur.'
        ("“Ik heb veel geleerd van de co", "docent"),  # 'Een docent: “…”'
    ]
    row = next(r for r in backend.documents() if r.doc_id == "typed.docx")
    assert (row.title, row.quotes) == ("Job shadowing op De Regenboog", 4)
