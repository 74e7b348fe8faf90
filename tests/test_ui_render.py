"""Pure rendering of the web chat: escaping, citation links, highlighting, exports, i18n."""

from __future__ import annotations

import re

from evidence_finder.types import Answer, Citation, DocumentMeta, Passage
from evidence_finder.ui import i18n, render
from evidence_finder.ui.render import EvidenceItem, Turn

SCRIPT = "<script>alert('x')</script>"


def passage(text: str, **kw: object) -> Passage:
    base: dict[str, object] = dict(id="p1", doc_id="doc.txt", kind="passage", text=text, char_start=0,
                                   char_end=len(text), clean_start=0, clean_end=len(text),
                                   section="1 Rapport > 1.2 Belemmeringen", page=4)
    base.update(kw)
    return Passage(**base)  # type: ignore[arg-type]


def item(text: str, span: str, n: int = 1, **kw: object) -> EvidenceItem:
    p = passage(text, **kw)
    meta = DocumentMeta(doc_id="doc.txt", title="Rapport <i>pabo</i>", year=2021)
    return EvidenceItem(Citation(n, p, meta.title, span), meta)


def answer(text: str, items: list[EvidenceItem], **kw: object) -> Answer:
    return Answer("vraag", text, [i.citation for i in items], **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- answer html
def test_markers_of_known_citations_become_links_and_text_is_escaped() -> None:
    out = render.answer_html(f"Drempel {SCRIPT} is hoog [1]. Onbekend [7].", turn=2, known={1})
    assert "<script>" not in out and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in out
    assert out.count('class="ef-cite"') == 1
    assert '<a href="#" class="ef-cite" data-turn="2" data-n="1" title="[1]">1</a>' in out
    assert '<span class="ef-cites">[7]</span>' in out  # no citation 7: plain text


def test_grouped_markers_lists_and_bold() -> None:
    out = render.answer_html("Kop **vet** [1, 2]\n\n- een [1]\n- twee [2]", turn=0, known={1, 2})
    assert out.startswith("<p>Kop <strong>vet</strong> ")
    assert out.count('class="ef-cite"') == 4
    assert "<ul><li>een " in out and out.endswith("</li></ul>")


def test_transcript_shows_error_notice_and_streaming_text_escaped() -> None:
    it = item("De administratie is omvangrijk.", "De administratie is omvangrijk.")
    turns = [
        Turn("eerste <b>vraag</b>", error="Er is nog geen index <x>"),
        Turn("tweede", answer=answer("Omvangrijk [1].", [it], notices=["LLM <down>"]), evidence=[it]),
        Turn("derde", partial="Bezig <em>"),
    ]
    out = render.render_transcript(turns, "nl")
    assert "eerste &lt;b&gt;vraag&lt;/b&gt;" in out
    assert '<div class="ef-error" role="alert">Er is nog geen index &lt;x&gt;</div>' in out
    assert '<div class="ef-notice" role="status">LLM &lt;down&gt;</div>' in out
    assert 'data-turn="1" data-n="1"' in out
    assert '<div class="ef-answer ef-streaming"><p>Bezig &lt;em&gt;</p></div>' in out
    assert "<b>" not in out and "<em>" not in out


def test_empty_transcript_and_evidence_explain_themselves_in_both_languages() -> None:
    assert i18n.t("chat_empty", "nl") in render.render_transcript([], "nl")
    assert i18n.t("evidence_empty", "en") in render.render_evidence(None, 0, None, "en")


# ---------------------------------------------------------------------------- evidence
def test_find_span_ignores_whitespace_differences() -> None:
    assert render.find_span("een  grote\n drempel hier", "grote drempel") == (5, 19)
    assert render.find_span("abc", "xyz") is None
    assert render.find_span("abc", "  ") is None


def test_highlight_marks_the_span_and_escapes_around_it() -> None:
    out = render.highlight("voor <b> de drempel & na", "de drempel")
    assert out == 'voor &lt;b&gt; <mark class="ef-span">de drempel</mark> &amp; na'


def test_quote_opens_in_its_paragraph_with_the_quote_marked() -> None:
    quote = "“Ik wist niet hoe een KA2-aanvraag ging.”"
    it = item(quote, quote, kind="quote",
              context=f"Docenten vinden het lastig.\n\n{quote}\n\n- coördinator -",
              attribution="coördinator")
    html_out = render.context_html(it)
    assert html_out == ('<div class="ef-context">Docenten vinden het lastig.\n<mark class="ef-span">'
                        "“Ik wist niet hoe een KA2-aanvraag ging.”</mark>\n- coördinator -</div>")


def test_neighbour_text_is_shown_around_the_passage() -> None:
    it = item("Midden.", "Midden.")
    it.before, it.after = "Ervoor <script>", "Erna"
    out = render.context_html(it)
    assert out == ('<div class="ef-context"><span class="ef-around">Ervoor &lt;script&gt; </span>'
                   '<mark class="ef-span">Midden.</mark><span class="ef-around"> Erna</span></div>')


def test_evidence_panel_opens_the_selected_citation_and_escapes_everything() -> None:
    a = item(f"Tekst met {SCRIPT} en de drempel.", "de drempel", n=1)
    b = item("Tweede passage over kosten.", "kosten", n=2, id="p2", section="", page=None)
    turn = Turn("q", answer=answer("x [1] y [2]", [a, b]), evidence=[a, b])
    out = render.render_evidence(turn, 3, 2, "nl")
    assert "<script" not in out and "<i>" not in out
    assert 'id="ef-ev-3-1" data-n="1" data-kind="passage">' in out  # closed
    assert 'class="ef-card ef-selected" id="ef-ev-3-2" data-n="2" data-kind="passage" open>' in out
    meta = re.search(r'data-n="1".*?<span class="ef-meta">(.*?)</span>', out)
    assert meta and meta.group(1) == "1.2 Belemmeringen · p. 4 · passage · 2021"
    assert 'data-copy="“de drempel” (Rapport &lt;i&gt;pabo&lt;/i&gt;, 2021, 1.2 Belemmeringen, p. 4)"' in out
    # no selection: the first citation is open
    first_open = render.render_evidence(turn, 3, None, "nl")
    assert 'id="ef-ev-3-1" data-n="1" data-kind="passage" open>' in first_open


def test_copy_text_keeps_existing_quote_marks_and_names_the_speaker() -> None:
    it = item("“Nou, dat was lastig.”", "“Nou, dat was lastig.”", kind="quote", attribution="docent")
    assert render.copy_text(it) == "“Nou, dat was lastig.” — docent (Rapport <i>pabo</i>, 2021, " \
                                   "1.2 Belemmeringen, p. 4)"


# ---------------------------------------------------------------------------- exports
def test_markdown_export_lists_sources_and_keeps_html_as_text() -> None:
    a = item("De drempel <script>.", "De drempel <script>.", n=1)
    ans = answer("Drempel [1].", [a], notices=["let op"])
    md = render.answer_markdown("Wat hindert KA2?", ans, [a], "nl")
    assert md == (
        "# Wat hindert KA2?\n\n> let op\n\nDrempel [1].\n\n## Bronnen\n\n"
        "[1] **Rapport \\<i\\>pabo\\</i\\>** — 1.2 Belemmeringen · p. 4 · passage · 2021 (`doc.txt`)\n\n"
        "> “De drempel \\<script\\>.”\n"
    )
    assert "## Sources" in render.answer_markdown("q", answer("x [1]", [a]), [a], "en")


# ---------------------------------------------------------------------------- i18n
def test_every_interface_string_exists_in_both_languages_with_the_same_placeholders() -> None:
    for key in i18n.all_keys():
        nl, en = i18n.t(key, "nl"), i18n.t(key, "en")
        assert nl and en, key
        assert set(re.findall(r"{(\w+)}", nl)) == set(re.findall(r"{(\w+)}", en)), key
    assert i18n.t("ask") == "Vraag stellen" and i18n.t("ask", "en") == "Ask"
    assert any("KA2" in q for q in i18n.EXAMPLES)


def test_quote_after_its_lead_in_paragraph_with_speaker_section_and_page() -> None:
    """Quotes carry the paragraph *before* them as context (#16.3): the card shows that
    paragraph, the quote marked, the printed attribution line, and speaker/section/page."""
    quote = "“Ik wist niet hoe een <b>KA2-aanvraag</b> ging.”"
    it = item(quote, quote, kind="quote", context="Docenten vinden het lastig.",
              attribution="coördinator internationalisering", speaker="coördinator",
              speaker_org="Pabo Noord")
    assert render.context_html(it) == (
        '<div class="ef-context"><span class="ef-around">Docenten vinden het lastig.</span>\n'
        '<mark class="ef-span">“Ik wist niet hoe een &lt;b&gt;KA2-aanvraag&lt;/b&gt; ging.”</mark>\n'
        '<span class="ef-around">– coördinator internationalisering –</span></div>')
    assert render.where_html(it, "en") == (
        '<dl class="ef-where"><div class="ef-where-speaker"><dt>Speaker</dt><dd>coördinator, Pabo Noord</dd>'
        '</div><div class="ef-where-section"><dt>Section</dt><dd>1 Rapport › 1.2 Belemmeringen</dd></div>'
        '<div class="ef-where-page_label"><dt>Page</dt><dd>4</dd></div></dl>')
    lead_in = "Een leerkracht geeft het volgende voorbeeld:"
    it = item(quote, quote, kind="quote", context=f"Er waren resultaten. {lead_in}", attribution=lead_in,
              speaker="leerkracht", page=None)
    out = render.context_html(it)
    assert out.count(lead_in) == 1 and "–" not in out  # the lead-in is shown once, in its paragraph
    assert "<dd>leerkracht</dd>" in render.where_html(it, "nl") and "Pagina" not in render.where_html(it, "nl")


def test_quote_mode_answer_items_open_their_citation() -> None:
    quote = "“Ik wist het niet.”"
    it = item(quote, quote, kind="quote", speaker="docent")
    turn = Turn("q", mode="quotes", answer=answer(f"Respondenten:\n\n- {quote} (docent) [1]", [it]), evidence=[it])
    assert '<div class="ef-answer ef-quotes">' in render.render_transcript([turn], "nl")
    assert "<dd>docent</dd>" in render.render_evidence(turn, 0, 1, "nl")


def test_sources_tab_helpers_follow_the_language_and_escape() -> None:
    from evidence_finder.ui import sources

    assert sources.type_choices("nl") == [("rapport", "report"), ("factsheet", "factsheet")]
    assert sources.type_label("report", "en") == "report" and sources.type_label("memo", "nl") == "memo"
    assert sources.interface_style("nl") == (
        '<style>:root { --ef-upload-drop: "Sleep bestanden hierheen – of – klik om te kiezen"; }</style>')
    assert sources.delete_question(None, {}, "nl") == ""
    assert sources.delete_question("x.txt", {"x.txt": "Rapport <b>X</b>"}, "en") == (
        '<p class="ef-confirm" role="alertdialog">Delete x.txt (Rapport &lt;b&gt;X&lt;/b&gt;) from the index? '
        "This cannot be undone.</p>")


def test_only_a_card_the_user_opened_is_marked_for_scrolling_into_view() -> None:
    """A new answer's evidence must not pull a phone's page away from the answer (#16.6)."""
    a = item("De drempel.", "De drempel.")
    turn = Turn("q", answer=answer("x [1]", [a]), evidence=[a])
    assert "data-opened" not in render.render_evidence(turn, 0, None, "nl")
    assert '<div class="ef-evidence" data-turn="0" data-opened>' in render.render_evidence(turn, 0, 1, "nl")
