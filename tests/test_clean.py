"""Cleaning stage: PDF-extraction artefacts repaired, words never rewritten, exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import make_pdf, pdf_safe
from evidence_finder.ingest.clean import CleanDoc, OffsetMap, clean
from evidence_finder.ingest.load import load_source
from evidence_finder.types import SourceText


def assert_offsets_exact(doc: CleanDoc) -> None:
    """Every segment is a verbatim copy of the source; everything else is inserted whitespace."""
    m = doc.offsets
    covered = [False] * len(doc.text)
    prev_end = -1
    for cs, ss, n in zip(m.clean_starts, m.src_starts, m.lengths, strict=True):
        assert n > 0
        assert cs >= prev_end, "segments overlap or are out of order"
        prev_end = cs + n
        assert doc.text[cs:cs + n] == doc.source.text[ss:ss + n], (cs, ss, n)
        covered[cs:cs + n] = [True] * n
    inserted = {doc.text[i] for i, c in enumerate(covered) if not c}
    assert inserted <= {" ", "\n"}, inserted
    assert m.src_starts == sorted(m.src_starts)  # cleaning keeps reading order


def _clean(text: str, **kw: object) -> CleanDoc:
    doc = clean(SourceText(text, **kw))  # type: ignore[arg-type]
    assert_offsets_exact(doc)
    return doc


# --- line joining ----------------------------------------------------------------------------

BROKEN = (
    "Erasmus+ is het EU-programma voor onderwijs, opleiding, \n\n"
    "jeugd en sport in Europa. Het budget van 14,7 miljard euro \n\n"
    "biedt meer dan 4 miljoen Europeanen de mogelijkheid om in \n\n"
    "het buitenland te studeren. \n\n"
    "Een nieuwe alinea begint hier.\n"
)


def test_short_lines_with_blank_lines_between_are_joined() -> None:
    doc = _clean(BROKEN)
    assert doc.text == (
        "Erasmus+ is het EU-programma voor onderwijs, opleiding, jeugd en sport in Europa. "
        "Het budget van 14,7 miljard euro biedt meer dan 4 miljoen Europeanen de mogelijkheid "
        "om in het buitenland te studeren.\n\nEen nieuwe alinea begint hier."
    )
    assert [b.n_lines for b in doc.blocks] == [4, 1]
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text


def test_cleaning_only_changes_whitespace_here() -> None:
    doc = _clean(BROKEN)
    assert doc.text.split() == BROKEN.split()


# --- hyphenation -----------------------------------------------------------------------------


def test_hyphen_repair_and_compound_hyphen_kept() -> None:
    doc = _clean(
        "De scholen werken aan de interna-\n\ntionalisering van het curriculum en aan KA2-\n"
        "projecten met partners in het buitenland.\n"
    )
    assert doc.text == (
        "De scholen werken aan de internationalisering van het curriculum en aan "
        "KA2-projecten met partners in het buitenland."
    )
    # the repaired word is two verbatim pieces: "interna" + "tionalisering"
    i = doc.text.index("internationalisering")
    src = doc.source.text
    assert doc.offsets.to_source(i) == src.index("interna-")
    assert doc.offsets.to_source(i + len("interna")) == src.index("tionalisering")
    # the hyphen of a compound is kept and the next part follows without a space
    k = doc.text.index("KA2-projecten")
    assert src[doc.offsets.to_source(k + 4)] == "p"
    assert doc.offsets.to_source(k + 4) == src.index("projecten")


def test_hyphen_kept_when_the_hyphenated_form_is_a_word_of_the_document() -> None:
    doc = _clean(
        "Het Erasmus+-programma kent een out-of-the-box aanpak en ook de school-\n"
        "maken is anders. Het school-maken gebeurt samen.\n"
    )
    assert "school-maken is anders" in doc.text
    assert "schoolmaken" not in doc.text


def test_capitalised_next_line_is_not_glued_to_a_dash() -> None:
    doc = _clean("Nederland werkt samen met Duitsland en België -\nOok Frankrijk doet mee aan het project.\n")
    assert "België - Ook Frankrijk" in doc.text


# --- page furniture --------------------------------------------------------------------------

HEADER = "Onderzoek naar de impact van Erasmus+ en eTwinning op scholen"
FOOTER = "Nuffic rapport 2023 | pagina {n}"
BODIES = [
    "Scholen gebruiken Erasmus+ vooral voor de mobiliteit van leerkrachten.",
    "Leerlingen die naar het buitenland gaan, worden zelfstandiger.",
    "Directeuren zien een positieve invloed op de schoolcultuur.",
    "Het Nationaal Agentschap ondersteunt scholen bij hun aanvraag.",
]


def _paged(bodies: list[str]) -> SourceText:
    text, starts = "", []
    for n, body in enumerate(bodies, 1):
        starts.append(len(text))
        text += f"{HEADER}\n\n{body}\n\n{n}\n{FOOTER.format(n=n)}\n"
    return SourceText(text, tuple(starts), "pdf")


def test_running_headers_footers_and_page_numbers_dropped() -> None:
    doc = clean(_paged(BODIES))
    assert_offsets_exact(doc)
    assert doc.text == "\n\n".join(BODIES)
    assert doc.dropped_lines == 12  # header, page number, footer on each of 4 pages
    assert [doc.page_of(b.start) for b in doc.blocks] == [1, 2, 3, 4]
    assert [b.text for b in doc.blocks] == BODIES


def test_sentence_continues_across_a_page_break() -> None:
    bodies = list(BODIES)
    bodies[1] = "Leerlingen die naar het buitenland gaan, worden volgens de leerkrachten veel"
    bodies[2] = "zelfstandiger. Directeuren zien een positieve invloed op de schoolcultuur."
    doc = clean(_paged(bodies))
    assert_offsets_exact(doc)
    joined = bodies[1] + " " + bodies[2]
    assert joined in doc.text
    block = next(b for b in doc.blocks if b.text == joined)
    assert doc.page_of(block.start) == 2
    assert doc.page_of(block.end - 1) == 3
    assert HEADER not in doc.text


def test_repeated_header_is_kept_in_an_unpaged_text_source() -> None:
    # without page starts a repeated line is not known to be furniture (unless '|'-style)
    text = "".join(f"{HEADER}\n\n{body}\n\n" for body in BODIES[:3])
    doc = _clean(text)
    assert doc.text.count(HEADER) == 3


def test_pipe_footer_repeated_three_times_is_dropped_without_pages() -> None:
    footer = "Impact van Erasmus+ en eTwinning op scholen | IDEA Consult | 18 februari 2022 {n}"
    text = "".join(f"{body}\n\n{footer.format(n=n)}\n\n" for n, body in enumerate(BODIES[:3], 30))
    doc = _clean(text)
    assert doc.text == "\n\n".join(BODIES[:3])


@pytest.mark.parametrize("line", ["12", "- 12 -", "Pagina 7", "3 / 48", "____________"])
def test_page_numbers_and_rules_dropped(line: str) -> None:
    doc = _clean(f"{BODIES[0]}\n\n{line}\n\n{BODIES[1]}\n")
    assert doc.text == f"{BODIES[0]}\n\n{BODIES[1]}"
    assert doc.dropped_lines == 1


# --- chart residue versus short headings -----------------------------------------------------

PARAGRAPH = (
    "Scholen die deelnemen aan Erasmus+ zien vaak een positieve invloed op de schoolcultuur en op "
    "de motivatie van leerkrachten, die nieuwe ideeën meenemen naar hun eigen klas."
)


def test_chart_labels_dropped_but_short_headings_kept() -> None:
    # regression: two-word headings ('1.1. Doelstellingen', '7 / Succesfactoren',
    # 'Belemmerende factoren') and attributions ('- directeur -') were dropped as chart labels
    text = (
        f"1.1. Doelstellingen\n\n{PARAGRAPH}\n\n"
        "Eerder akkoord\n\n35%\n\nNeutraal 12%\n\nJa Nee\n\n"
        f"7 / Succesfactoren\n\n{PARAGRAPH}\n\n"
        f"Belemmerende factoren\n\n• {PARAGRAPH}\n\n"
        "“Wij leerden veel van de scholen in Finland.”\n\n- directeur -\n\n"
        "“En ook van de scholen in Spanje.”\n\n- niet-betrokken leerkracht -\n"
    )
    doc = _clean(text)
    assert [b.text for b in doc.blocks] == [
        "1.1. Doelstellingen", PARAGRAPH, "7 / Succesfactoren", PARAGRAPH,
        "Belemmerende factoren", "• " + PARAGRAPH,
        "“Wij leerden veel van de scholen in Finland.”", "- directeur -",
        "“En ook van de scholen in Spanje.”", "- niet-betrokken leerkracht -",
    ]
    assert doc.dropped_lines == 4


# --- glyphs and footnote markers -------------------------------------------------------------


def test_private_use_bullet_glyphs_removed() -> None:
    doc = _clean(
        "Het programma bestaat uit drie kernacties: \n\n"
        "\uf0b7 Kernactie 1 – individuele leermobiliteit \n\n"
        "\uf0b7 Kernactie 2 – samenwerking met het oog op innovatie \n"
    )
    assert doc.text == (
        "Het programma bestaat uit drie kernacties:\n\n"
        "Kernactie 1 – individuele leermobiliteit\n\n"
        "Kernactie 2 – samenwerking met het oog op innovatie"
    )
    assert [b.bullet for b in doc.blocks] == [False, True, True]
    assert "\uf0b7" not in doc.text


def test_soft_hyphen_inside_a_word_removed() -> None:
    doc = _clean("De leer\u00adkrachten gaan op uitwisseling naar Finland en Spanje.\n")
    assert doc.text == "De leerkrachten gaan op uitwisseling naar Finland en Spanje."


def test_footnote_marker_stripped_when_the_bare_word_is_common() -> None:
    doc = _clean(
        "Erasmus+1 is het EU-programma voor onderwijs. Erasmus+ biedt kansen. "
        "Ook Erasmus+ helpt scholen.\n"
    )
    assert doc.text == (
        "Erasmus+ is het EU-programma voor onderwijs. Erasmus+ biedt kansen. "
        "Ook Erasmus+ helpt scholen."
    )
    # "Erasmus+" maps to source 0..8 and the "1" is simply not copied
    assert doc.offsets.span_to_source(0, 8) == (0, 8)
    assert doc.offsets.to_source(9) == doc.source.text.index(" is") + 1


def test_footnote_marker_before_punctuation() -> None:
    doc = _clean("Zo werkt eTwinning. Scholen gebruiken eTwinning2, en eTwinning groeit.\n")
    assert doc.text == "Zo werkt eTwinning. Scholen gebruiken eTwinning, en eTwinning groeit."


def test_repeated_word_with_digits_is_not_a_footnote() -> None:
    # regression: the numbered form was never counted, so 'Covid19' (twice or more) became 'Covid'
    text = "Tijdens Covid19 ging veel mis. Na Covid19 herstelde het programma. Covid19 was zwaar."
    assert _clean(text + "\n").text == text
    listing = "Scholen " + " ".join(f"werken{i}" for i in range(30)) + "."
    assert _clean(listing + "\n").text == listing


def test_word_with_digits_is_never_rewritten() -> None:
    # 'KA2' and 'ET2020' are words, not footnotes: the bare forms are not in the document
    doc = _clean("Scholen vragen KA2 aan binnen ET2020 en ook KA1 wordt gebruikt.\n")
    assert doc.text == "Scholen vragen KA2 aan binnen ET2020 en ook KA1 wordt gebruikt."


def test_superscript_footnote_digit_removed() -> None:
    doc = _clean("Het programma² is groot en het programma groeit nog elk jaar verder.\n")
    assert doc.text == "Het programma is groot en het programma groeit nog elk jaar verder."


# --- offset map ------------------------------------------------------------------------------


def test_offset_map_span_to_source() -> None:
    m = OffsetMap()
    m.add(0, 0, 8)  # "Erasmus+" at source 0
    m.add(9, 10, 2)  # " is" : source has "Erasmus+1 is"
    m.add(12, 20, 5)  # a later word after a dropped line
    assert m.to_source(0) == 0
    assert m.to_source(7) == 7
    assert m.to_source(8) == 8  # inserted space maps to the gap after the segment
    assert m.to_source(9) == 10
    assert m.to_source(12) == 20
    assert m.span_to_source(0, 11) == (0, 12)
    assert m.span_to_source(9, 17) == (10, 25)
    assert m.span_to_source(12, 12) == (20, 20)
    m.add(17, 30, 0)  # empty segments are ignored
    assert m.lengths == [8, 2, 5]


def test_every_block_maps_back_to_the_source() -> None:
    doc = _clean(BROKEN)
    for b in doc.blocks:
        s, e = doc.source_span(b.start, b.end)
        assert doc.source.text[s:e].split() == b.text.split()


# --- a real PDF ------------------------------------------------------------------------------

PDF_HEADER = pdf_safe("Onderzoek naar de impact van Erasmus+ \u2014 pagina {n}")
PDF_FOOTER = pdf_safe("Nuffic rapport 2023 \u2014 pagina {n}")
LEFT = (
    "De scholen in de regio werken al jaren aan de interna-\ntionalisering van het curriculum. "
    "Veel van de docenten gaan een week naar het buitenland om les te geven. "
    "Dat doen ze in het voorjaar."
)
RIGHT = (
    "Ook de leerlingen gaan mee op reis naar een school in een ander land. "
    "Zij zien hoe het daar gaat en leren veel van de kinderen die ze daar ontmoeten."
)
PAGE2 = "Inhoud van pagina 2. Scholen werken samen in KA2-\nprojecten met partners uit andere landen."
PAGE3 = "Inhoud van pagina 3. Conclusies en aanbevelingen voor het beleid van de scholen."


def test_real_pdf_two_columns_headers_hyphenation(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "rapport.pdf", [(LEFT, RIGHT), PAGE2, PAGE3],
                    header=PDF_HEADER, footer=PDF_FOOTER)
    source = load_source(path)
    assert source.text.count("pagina 2") >= 3  # header + footer + body: furniture is raw here
    doc = clean(source)
    assert_offsets_exact(doc)
    assert "Onderzoek naar de impact" not in doc.text
    assert "Nuffic rapport" not in doc.text
    assert [b.text for b in doc.blocks] == [
        pdf_safe(LEFT.replace("-\n", "")),
        pdf_safe(RIGHT),
        "Inhoud van pagina 2. Scholen werken samen in KA2-projecten met partners uit andere landen.",
        PAGE3,
    ]
    assert [doc.page_of(b.start) for b in doc.blocks] == [1, 1, 2, 3]
    assert [doc.page_of(b.end - 1) for b in doc.blocks] == [1, 1, 2, 3]
    i = doc.text.index("internationalisering")
    assert source.text[doc.offsets.to_source(i):].startswith("interna-\ntionalisering")
