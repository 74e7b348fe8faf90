"""Structure (headings, sections, quotes, tables) and chunking, on hand-built text."""

from __future__ import annotations

import pytest

from evidence_finder.ingest.chunk import CHUNKER_VERSION, chunk_document, split_sentences
from evidence_finder.ingest.clean import CleanDoc, clean
from evidence_finder.ingest.structure import Unit, analyse, heading_level
from evidence_finder.settings import ChunkSettings
from evidence_finder.types import Passage, SourceText, content_hash

LONG = (
    "Scholen die deelnemen aan Erasmus+ zien vaak een positieve invloed op de schoolcultuur en op "
    "de motivatie van leerkrachten, die nieuwe ideeën meenemen naar hun eigen klas."
)
QUOTE_1 = (
    "“Mensen denken dat wij conservatief zijn op het platteland. Maar zo trekken wij \n\n"
    "de school open. De school mag geen eiland zijn, we brengen de wereld zo \n\n"
    "binnen.” \n\n"
)
QUOTE_1_CLEAN = (
    "“Mensen denken dat wij conservatief zijn op het platteland. Maar zo trekken wij de school "
    "open. De school mag geen eiland zijn, we brengen de wereld zo binnen.”"
)
QUOTE_2 = "“Door de stage in Finland durfde ik veel meer. Ik kwam terug als een ander mens.”"
REPORT = f"""1 / Impact op organisatieontwikkeling

1.2. Kernacties 1 en 2 van Erasmus+ en eTwinning

{LONG}

3 Wat is de impact van Erasmus+ op de kwaliteit van het onderwijs?

{LONG}

MET INTERNATIONALISERING DE VISIE OP DIVERSITEIT VERSTERKEN

Aanleiding

{LONG} Dat geldt zeker voor scholen die al langer deelnemen aan het programma.

{QUOTE_1}- coördinator internationalisering -{" "}

Tabel 43: Aantal deelnemende scholen per provincie (2019-2020)

2 / Impact op de leerlingen

{QUOTE_2}

UIT: ONDERZOEKSRAPPORT ERASMUS+ IN HET MBO
"""
CH1 = "1 / Impact op organisatieontwikkeling"
RQ3 = "3 Wat is de impact van Erasmus+ op de kwaliteit van het onderwijs?"
CAPS = "MET INTERNATIONALISERING DE VISIE OP DIVERSITEIT VERSTERKEN"


def _doc(text: str) -> tuple[CleanDoc, list[Unit]]:
    doc = clean(SourceText(text))
    return doc, analyse(doc)


def _units(doc: CleanDoc, units: list[Unit], kind: str) -> list[tuple[str, Unit]]:
    return [(doc.text[u.start:u.end], u) for u in units if u.kind == kind]


# --- headings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("1 / Onderzoek naar de impact van Erasmus+ en eTwinning op scholen", 1),
        ("1.2. Kernacties 1 en 2 van Erasmus+ en eTwinning", 2),
        ("2.3.1 Visie en strategie", 3),
        ("3 Wat is de impact van Erasmus+ op de kwaliteit van het onderwijs?", 1),
        ("4 Impact op leerlingen", 1),
        ("Scholen werken samen met partners in het buitenland.", 0),  # a sentence
        ("2 scholen deden mee", 0),  # a number, not a heading
        ("1. Zie Jansen (2019) voor een overzicht van de literatuur", 0),  # a reference
        ("3. De volgende aspecten komen aan bod:", 0),  # a lead-in
        ("45 Onderzoek naar de impact", 0),  # numbers above 20 are page numbers or counts
    ],
)
def test_heading_level(text: str, level: int) -> None:
    assert heading_level(text) == level


def test_headings_and_section_paths() -> None:
    doc, units = _doc(REPORT)
    headings = [(t, u.level, u.section) for t, u in _units(doc, units, "heading")]
    assert headings == [
        (CH1, 1, CH1),
        ("1.2. Kernacties 1 en 2 van Erasmus+ en eTwinning", 2,
         f"{CH1} > 1.2. Kernacties 1 en 2 van Erasmus+ en eTwinning"),
        (RQ3, 1, RQ3),  # a research-question heading replaces chapter 1
        (CAPS, 8, f"{RQ3} > {CAPS}"),
        ("Aanleiding", 9, f"{RQ3} > {CAPS} > Aanleiding"),
        ("2 / Impact op de leerlingen", 1, "2 / Impact op de leerlingen"),
    ]
    texts = [u.section for t, u in _units(doc, units, "text")]
    assert texts == [
        f"{CH1} > 1.2. Kernacties 1 en 2 van Erasmus+ en eTwinning",
        RQ3,
        f"{RQ3} > {CAPS} > Aanleiding",
    ]


def test_short_plain_line_is_a_heading_only_before_a_long_paragraph() -> None:
    doc, units = _doc(f"Aanleiding\n\n{LONG}\n\nEen korte tussenkop hier\n\nNog een korte regel.\n")
    kinds = [(doc.text[u.start:u.end], u.kind) for u in units]
    assert kinds == [("Aanleiding", "heading"), (LONG, "text"), ("Een korte tussenkop hier", "text"),
                     ("Nog een korte regel.", "text")]


def test_a_table_row_before_a_paragraph_is_no_section_title() -> None:
    # regression (corpus 004): 'Pabo (n=27) 7 3 7 10' over a long paragraph became the
    # section of the passages after it; it still starts a new unit, as before
    doc, units = _doc(f"Aanleiding\n\n{LONG}\n\nPabo (n=27) 7 3 7 10\n\n{LONG}\n")
    assert [(doc.text[u.start:u.end][:20], u.kind, u.section) for u in units] == [
        ("Aanleiding", "heading", "Aanleiding"), (LONG[:20], "text", "Aanleiding"),
        ("Pabo (n=27) 7 3 7 10", "heading", "Aanleiding"), (LONG[:20], "text", "Aanleiding")]


def test_one_word_title_over_a_paragraph_that_lost_its_drop_cap() -> None:
    # regression (corpus 003): 'Inleiding' + 'it rapport …' (the 'D' was a drop cap) was
    # joined into one paragraph, so the report's first passages had no section
    body = ("it rapport is het verslag van een onderzoek door het Nationaal Agentschap Erasmus+ voor "
            "onderwijs en \n\ntraining waarin we op zoek zijn gegaan naar de impact van projecten.")
    doc, units = _doc(f" Inleiding \n\n{body}\n")
    assert [(doc.text[u.start:u.end][:12], u.kind, u.section) for u in units] == [
        ("Inleiding", "heading", "Inleiding"), ("it rapport i", "text", "Inleiding")]
    # a short lower-case continuation is still joined ('Helemaal' + 'niet akkoord')
    doc, units = _doc(f"{LONG}\n\nHelemaal \n\nniet akkoord met de stelling\n")
    assert doc.blocks[-1].text == "Helemaal niet akkoord met de stelling"


def test_bullet_is_never_a_heading() -> None:
    doc, units = _doc(f"Drie kernacties:\n\n\uf0b7 1.2. Kernactie 2 en samenwerking\n\n{LONG}\n")
    assert [u.kind for u in units] == ["text", "text", "text"]
    assert [u.bullet for u in units] == [False, True, False]


# --- quotes, attributions, tables ------------------------------------------------------------


def test_quote_across_lines_is_one_unit_with_role_attribution_and_context() -> None:
    doc, units = _doc(REPORT)
    quotes = _units(doc, units, "quote")
    assert [t for t, _ in quotes] == [QUOTE_1_CLEAN, QUOTE_2]
    q1, q2 = quotes[0][1], quotes[1][1]
    assert q1.attribution == "coördinator internationalisering"
    assert q1.context == LONG + " Dat geldt zeker voor scholen die al langer deelnemen aan het programma."
    assert q1.section == f"{RQ3} > {CAPS} > Aanleiding"
    assert q2.attribution == "UIT: ONDERZOEKSRAPPORT ERASMUS+ IN HET MBO"
    assert [t for t, _ in _units(doc, units, "attribution")] == [
        "- coördinator internationalisering -", "UIT: ONDERZOEKSRAPPORT ERASMUS+ IN HET MBO"]


def test_quote_spanning_blocks_closed_by_a_single_closing_mark() -> None:
    # the source closes a “-quote with ’ ; inner ‘…’ and apostrophes (zo’n) do not close it
    text = (
        f"{LONG}\n\n"
        "“Nou, voor mij zou het heel handig zijn als ik beter wist hoe zo’n KA2-aanvraag ging. Ik heb \n"
        "ontzettend gezocht en gevraagd van: ‘Joh, waar kan ik nou weten hoe het werkt?’ En ik heb \n"
        "ook de penhouder gebeld.\n\n"
        "Het zou heel erg helpen als er een handzame handleiding is, want het is echt divers.’ \n\n"
        f"{LONG}\n\n"
        "Tot slot nog een alinea met een citaat van een docent: “Dat was echt geweldig.”\n"
    )
    doc, units = _doc(text)
    quotes = _units(doc, units, "quote")
    assert len(quotes) == 1
    q = quotes[0][0]
    assert q.startswith("“Nou, voor mij") and q.endswith("want het is echt divers.’")
    assert LONG not in q


def test_attribution_with_en_dashes() -> None:
    # regression: '– directeur -' was dropped by the cleaner as a chart label and not matched
    doc, units = _doc(f"{LONG}\n\n“Onze leerlingen kwamen enthousiast terug uit Spanje.”\n\n– directeur - \n")
    quotes = _units(doc, units, "quote")
    assert [u.attribution for _, u in quotes] == ["directeur"]
    assert [t for t, _ in _units(doc, units, "attribution")] == ["– directeur -"]


def test_attribution_in_parentheses_after_the_quote() -> None:
    quote = "“We leerden enorm veel van onze partners in Spanje.” (directeur basisschool)"
    doc, units = _doc(f"{LONG}\n\n{quote}\n")
    quotes = _units(doc, units, "quote")
    assert [u.attribution for _, u in quotes] == ["directeur basisschool"]


def test_attribution_from_a_lead_in_sentence() -> None:
    lead = "Een leerkracht vertelt hierover het volgende:"
    doc, units = _doc(f"{lead}\n\n“Ik heb in Finland gezien hoe je leerlingen zelfstandiger maakt.”\n")
    quotes = _units(doc, units, "quote")
    assert [(u.attribution, u.context) for _, u in quotes] == [(lead, lead)]


def test_a_sentence_with_geeft_aan_is_not_an_attribution() -> None:
    # regression (corpus 004): the last sentence of the paragraph before a quote was taken as
    # its attribution whenever it held a 'says' verb, even without a speaker or a colon
    prev = "Meer dan de helft van de opleidingen geeft aan dat ze Erasmus+ vaker willen inzetten."
    doc, units = _doc(f"{prev}\n\n“Dan ontbreekt het hen vaak aan tijd en mogelijkheden.”\n")
    assert [(u.attribution, u.context) for _, u in _units(doc, units, "quote")] == [("", prev)]


def test_quote_block_ends_at_its_closing_mark() -> None:
    # regression (corpus 004): a heading on the line after a closed quote was glued to the quote
    doc, units = _doc(
        f"{LONG}\n\n“Maar goed, dat blijven wel drempels soms.” \n Gekoppeld aan professionalisering\n"
        f"{LONG}\n\n“Dan kan dat.” […] \n\n{LONG}\n"
    )
    assert [t for t, _ in _units(doc, units, "quote")] == [
        "“Maar goed, dat blijven wel drempels soms.”", "“Dan kan dat.” […]"]
    assert "Gekoppeld aan professionalisering" in [b.text for b in doc.blocks]


def test_single_mark_quotes_are_quote_units_but_single_mark_terms_are_not() -> None:
    """Corpus 003 quotes respondents with ‘…’, the mark Dutch also uses for terms."""
    doc, units = _doc(
        f"{LONG}\n\n‘Het is gewoon een stukje waardering. Ik geef al heel lang les en ga over drie jaar met \n"
        "pensioen, maar ik wil altijd wat bijleren. Het kan altijd beter!’ \n\n"
        f"{LONG}\n\n‘De betrokkenheid van de ‘third circle parties’ was heel belangrijk voor ons.’\n\n"
        "‘Ik heb veel literatuur gelezen en op school delen we nu alles met elkaar.’ Ook vonden ze het "
        "heel waardevol om samen op pad te gaan.\n\n"
        "‘Theory of Change’ en het denken in termen van impact staan centraal in dit hoofdstuk.\n\n"
        "‘Leuk!’\n\n"
        "‘Ik ben naar het management gegaan voor die aanvraag. Nou, dat gaan we niet doen… ‘\n"
    )
    quotes = [t for t, _ in _units(doc, units, "quote")]
    assert quotes == [
        "‘Het is gewoon een stukje waardering. Ik geef al heel lang les en ga over drie jaar met "
        "pensioen, maar ik wil altijd wat bijleren. Het kan altijd beter!’",
        "‘De betrokkenheid van de ‘third circle parties’ was heel belangrijk voor ons.’",
        "‘Ik heb veel literatuur gelezen en op school delen we nu alles met elkaar.’",
        "‘Ik ben naar het management gegaan voor die aanvraag. Nou, dat gaan we niet doen… ‘",
    ]
    # the sentence after the quote in the same paragraph stays text; terms and a two-word
    # exclamation are no quotes
    texts = [t for t, _ in _units(doc, units, "text")]
    assert "Ook vonden ze het heel waardevol om samen op pad te gaan." in texts
    assert any(t.startswith("‘Theory of Change’") for t in texts) and "‘Leuk!’" in texts


def test_unclosed_quote_is_plain_text() -> None:
    doc, units = _doc(
        f"“Dit citaat sluit nooit af en loopt door in de tekst\n\n1.3. Volgende sectie\n\n{LONG}\n")
    assert [u.kind for u in units] == ["text", "heading", "text"]


def test_table_caption_unit_with_context() -> None:
    doc, units = _doc(REPORT)
    tables = _units(doc, units, "table")
    assert [t for t, _ in tables] == ["Tabel 43: Aantal deelnemende scholen per provincie (2019-2020)"]
    assert tables[0][1].context == QUOTE_1_CLEAN  # the paragraph before it (> 80 chars)


# --- chunking --------------------------------------------------------------------------------


def _check_passages(doc: CleanDoc, passages: list[Passage]) -> None:
    for p in passages:
        assert p.text == doc.text[p.clean_start:p.clean_end]
        assert (p.char_start, p.char_end) == doc.source_span(p.clean_start, p.clean_end)
        assert p.hash == content_hash(p.text)
        assert p.doc_id == "doc.txt"
    assert len({p.id for p in passages}) == len(passages)


def test_chunk_report_units_sections_and_attributions() -> None:
    doc, units = _doc(REPORT)
    passages = chunk_document("doc.txt", doc, units, ChunkSettings())
    _check_passages(doc, passages)
    assert [(p.kind, p.text[:30], p.section) for p in passages] == [
        ("passage", CH1[:30], CH1),
        ("passage", CAPS[:30], f"{RQ3} > {CAPS}"),
        ("quote", QUOTE_1_CLEAN[:30], f"{RQ3} > {CAPS} > Aanleiding"),
        ("table", "Tabel 43: Aantal deelnemende s", f"{RQ3} > {CAPS} > Aanleiding"),
        ("quote", QUOTE_2[:30], "2 / Impact op de leerlingen"),
    ]
    quote = passages[2]
    assert quote.text == QUOTE_1_CLEAN
    assert quote.attribution == "coördinator internationalisering"
    assert passages[4].attribution == "UIT: ONDERZOEKSRAPPORT ERASMUS+ IN HET MBO"
    # source offsets reach back into the raw text, line breaks and all
    assert REPORT[quote.char_start:quote.char_end].split() == QUOTE_1_CLEAN.split()


def _sentence(i: int) -> str:
    return (f"Zin {i} beschrijft hoe de scholen in project {i} samenwerken met partners uit "
            "andere landen en wat de leerkrachten daarvan leren.")


def _long_section(n: int = 40, quote: str = "") -> str:
    body = " ".join(_sentence(i) for i in range(n // 2))
    body2 = " ".join(_sentence(i) for i in range(n // 2, n))
    return f"2.1. Samenwerking met partners\n\n{body}\n\n{quote}{body2}\n"


def test_long_section_sizes_sentence_boundaries_and_overlap() -> None:
    cfg = ChunkSettings()
    doc, units = _doc(_long_section())
    passages = [p for p in chunk_document("doc.txt", doc, units, cfg) if p.kind == "passage"]
    _check_passages(doc, passages)
    assert len(passages) >= 3
    for p in passages:
        assert len(p.text) <= cfg.max_chars
        assert len(p.text.split()) <= cfg.max_words
        assert p.section == "2.1. Samenwerking met partners"
        assert p.text.endswith("leren.")  # cut on a sentence boundary
    assert passages[0].text.startswith("2.1. Samenwerking")
    for a, b in zip(passages, passages[1:]):
        assert b.text.startswith("Zin ")
        # exactly overlap_sentences (=1) sentence is repeated: b starts at a's last sentence
        assert a.clean_start < b.clean_start < a.clean_end
        shared = doc.text[b.clean_start:a.clean_end]
        assert len(split_sentences(shared)) == cfg.overlap_sentences
        assert a.text.endswith(shared)
    # together the passages cover the whole section
    assert passages[0].clean_start == 0 and passages[-1].clean_end == len(doc.text)


def test_no_overlap_when_disabled() -> None:
    cfg = ChunkSettings(overlap_sentences=0)
    doc, units = _doc(_long_section())
    passages = chunk_document("doc.txt", doc, units, cfg)
    for a, b in zip(passages, passages[1:]):
        assert b.clean_start > a.clean_end


def test_small_max_chars_is_respected() -> None:
    cfg = ChunkSettings(max_chars=400, target_words=40, max_words=80, min_words=10)
    doc, units = _doc(_long_section())
    passages = chunk_document("doc.txt", doc, units, cfg)
    assert len(passages) > 10
    assert max(len(p.text) for p in passages) <= 400


def test_overlong_sentence_is_hard_split_under_max_chars() -> None:
    cfg = ChunkSettings()
    sentence = "Scholen " + " ".join(("werken", "samen", "met", "partners")[i % 4] for i in range(400)) + "."
    doc, units = _doc(sentence + "\n")
    passages = chunk_document("doc.txt", doc, units, cfg)
    assert all(len(p.text) <= cfg.max_chars for p in passages)
    assert " ".join(p.text for p in passages).split() == sentence.split()


def test_quotes_are_never_split_across_passages() -> None:
    cfg = ChunkSettings()
    sentences = (f"Dit is citaatzin {i} van een leerkracht over de uitwisseling." for i in range(12))
    quote = ("“" + " ".join(sentences) + "”\n\n- leerkracht basisonderwijs -\n\n")
    doc, units = _doc(_long_section(quote=quote))
    out = chunk_document("doc.txt", doc, units, cfg)
    _check_passages(doc, out)
    quotes = [p for p in out if p.kind == "quote"]
    passages = [p for p in out if p.kind == "passage"]
    assert len(quotes) == 1 and quotes[0].attribution == "leerkracht basisonderwijs"
    q = quotes[0]
    assert q.text.startswith("“Dit is citaatzin 0") and q.text.endswith("uitwisseling.”")
    inside = [p for p in passages if p.clean_start <= q.clean_start and q.clean_end <= p.clean_end]
    assert inside, "the quote is cut by a passage boundary"
    for p in passages:  # no passage boundary falls strictly inside the quote
        assert not q.clean_start < p.clean_start < q.clean_end
        assert not q.clean_start < p.clean_end < q.clean_end
    # its attribution stays with it
    assert any("- leerkracht basisonderwijs -" in p.text for p in inside)


def test_long_quote_may_exceed_max_words_but_not_max_chars() -> None:
    cfg = ChunkSettings(max_words=60, target_words=40, min_words=10)
    quote = "“" + " ".join(f"Wij doen {i} dingen." for i in range(30)) + "”\n\n- trekker -\n\n"
    assert len(quote.split()) > 90 and len(quote) < cfg.max_chars
    doc, units = _doc(_long_section(n=10, quote=quote))
    out = chunk_document("doc.txt", doc, units, cfg)
    for p in out:
        assert len(p.text) <= cfg.max_chars
        if len(p.text.split()) > cfg.max_words:
            assert p.kind == "quote" or "“Wij doen 0 dingen." in p.text
    q = next(p for p in out if p.kind == "quote")
    holder = next(p for p in out if p.kind == "passage" and "“Wij doen 0" in p.text)
    assert holder.clean_start <= q.clean_start and q.clean_end <= holder.clean_end


def test_quote_over_max_chars_is_cited_from_its_opening() -> None:
    cfg = ChunkSettings()
    quote = "“" + " ".join(f"Wij leren elke dag weer {i} nieuwe dingen van elkaar." for i in range(40)) + "”"
    assert len(quote) > cfg.max_chars
    doc, units = _doc(f"{LONG}\n\n{quote}\n\n- trekker -\n")
    out = chunk_document("doc.txt", doc, units, cfg)
    assert all(len(p.text) <= cfg.max_chars for p in out)
    q = next(p for p in out if p.kind == "quote")
    assert q.text.startswith("“Wij leren elke dag weer 0 ") and q.text.endswith("elkaar.")
    assert q.attribution == "trekker"


def test_passage_ids_are_stable_and_depend_on_text() -> None:
    doc, units = _doc(REPORT)
    a = chunk_document("doc.txt", doc, units, ChunkSettings())
    b = chunk_document("doc.txt", doc, units, ChunkSettings())
    assert [p.id for p in a] == [p.id for p in b]
    doc2, units2 = _doc(REPORT.replace("Aanleiding", "Achtergrond"))
    c = chunk_document("doc.txt", doc2, units2, ChunkSettings())
    assert c[0].id == a[0].id  # unchanged passage keeps its id
    assert c[1].id != a[1].id  # the edited one gets a new id
    assert CHUNKER_VERSION


# --- sentences -------------------------------------------------------------------------------


def test_split_sentences_knows_dutch_abbreviations() -> None:
    text = ("Dit gaat o.a. over mobiliteit. Scholen werken bijv. samen met partners. Zie p. 12 "
            "voor meer. Dhr. Jansen zegt: “Goed!” Daarna volgen 3 zinnen. Kijk t.o.v. vorig jaar. "
            "In 2020 was het anders… Klaar.")
    spans = split_sentences(text, offset=100)
    assert [text[s - 100:e - 100] for s, e in spans] == [
        "Dit gaat o.a. over mobiliteit.",
        "Scholen werken bijv. samen met partners.",
        "Zie p. 12 voor meer.",
        "Dhr. Jansen zegt: “Goed!”",
        "Daarna volgen 3 zinnen.",
        "Kijk t.o.v. vorig jaar.",
        "In 2020 was het anders…",
        "Klaar.",
    ]
    assert spans[0] == (100, 130)


def test_split_sentences_initials_and_lowercase_continuation() -> None:
    text = "Volgens J. de Vries werkt het. Het programma (bijv. KA1) groeit. het loopt door."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Volgens J. de Vries werkt het.", "Het programma (bijv. KA1) groeit. het loopt door."]
