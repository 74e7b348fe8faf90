"""The web chat in a real (headless) Chromium: ask, cite, quote, filter, export, upload, escape."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from conftest import ARTIFACTS  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

XSS_TITLE = "Kiwi <b>rapport</b> <script>window.__efPwned = 4</script>"
KA2_QUESTION = "what hinders KA2 applications in teacher training"
DONE = "#ef-transcript .ef-turn:last-of-type :is(.ef-foot, .ef-error)"


def ask(page: Any, question: str) -> Any:
    """Type a question, press Ask, and return the finished last turn."""
    box = page.locator("#ef-question textarea, #ef-question input").first
    box.fill(question)
    before = page.locator("#ef-transcript .ef-turn").count()
    page.click("#ef-ask")
    page.wait_for_function(
        "n => document.querySelectorAll('#ef-transcript .ef-turn').length > n", arg=before)
    page.wait_for_selector(DONE)
    return page.locator("#ef-transcript .ef-turn").last


def evidence_doc_ids(page: Any) -> set[str]:
    return set(page.locator("#ef-evidence .ef-card .ef-docid").all_inner_texts())


def wait_for_text(page: Any, selector: str, text: str, present: bool = True) -> None:
    """Wait until the element's text does (or does not) contain ``text``, whitespace ignored."""
    page.wait_for_function(
        """([sel, text, present]) => {
             const squash = (s) => s.replace(/\\s+/g, '');
             const el = document.querySelector(sel);
             return !!el && squash(el.innerText).includes(squash(text)) === present;
           }""",
        arg=[selector, text, present])


def open_sources(page: Any) -> None:
    page.get_by_role("tab", name="Bronnen").click()
    page.wait_for_selector("#ef-upload-go")


def open_chat(page: Any) -> None:
    page.get_by_role("tab", name="Vragen").click()
    page.wait_for_selector("#ef-ask")


def upload(page: Any, path: Path, title: str = "") -> str:
    open_sources(page)
    page.set_input_files("#ef-upload input[type=file]", str(path))
    if title:
        page.locator("#ef-up-title textarea, #ef-up-title input").first.fill(title)
    wait_for_text(page, "#ef-upload", path.name)
    page.click("#ef-upload-go")
    page.wait_for_selector("#ef-upload-status :is(.ef-status-ok, .ef-status-err)", timeout=60_000)
    return page.inner_text("#ef-upload-status")


def test_answer_with_citations_and_highlighted_span(page: Any) -> None:
    turn = ask(page, KA2_QUESTION)
    assert turn.locator(".ef-error").count() == 0
    answer = turn.locator(".ef-answer").inner_text()
    assert "administratie" in answer
    cites = turn.locator(".ef-answer a.ef-cite")
    assert cites.count() >= 1
    assert "rapport_pabo.txt" in evidence_doc_ids(page)

    # Dutch interface by default
    assert page.locator("#ef-ask").inner_text().strip() == "Vraag stellen"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answer-view.png"), full_page=True)

    # open the last cited passage: its card opens with the cited span highlighted
    last = cites.last
    n = last.get_attribute("data-n")
    last.click()
    card = page.locator(f"#ef-evidence details.ef-card[data-n='{n}']")
    page.wait_for_selector(f"#ef-evidence details.ef-card.ef-selected[data-n='{n}'][open]")
    mark = card.locator("mark.ef-span")
    assert mark.is_visible()
    marked = " ".join(mark.inner_text().split())
    assert len(marked) > 20 and marked in " ".join(answer.split())  # the extractive answer quotes it
    assert card.locator(".ef-context").inner_text().count(marked[:20]) >= 1
    # year and title of the card's document, from the manifest (the findings answer's last
    # citation is not always the pabo report's)
    year, title = {"rapport_pabo.txt": ("2021", "Internationalisering op de pabo"),
                   "factsheet_mbo.txt": ("2023", "Factsheet Erasmus+ in het mbo"),
                   "english_note.md": ("2020", "Teacher mobility in Flanders")}[
        card.locator(".ef-docid").inner_text()]
    assert year in card.locator(".ef-meta").inner_text()
    assert card.locator(".ef-title").inner_text() == title
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evidence-open.png"), full_page=True)
    assert not page.js_errors


def test_quote_mode_gives_a_quote_with_copy_button(page: Any) -> None:
    page.locator("#ef-mode").get_by_text("Citaten zoeken").click()
    turn = ask(page, "Welke drempels ervaren opleidingen bij een KA2-aanvraag?")
    assert "KA2-aanvraag ging" in turn.locator(".ef-answer").inner_text()
    cards = page.locator("#ef-evidence .ef-card")
    assert cards.count() >= 1
    assert {c.get_attribute("data-kind") for c in cards.all()} == {"quote"}
    first = cards.first
    assert "coördinator internationalisering" in first.locator(".ef-context").inner_text()
    assert first.locator(".ef-where-speaker dd").inner_text() == "coördinator"
    first.locator("button.ef-copy").click()
    page.wait_for_selector("#ef-evidence button.ef-copy.ef-done")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("“Nou, voor mij") and "Internationalisering op de pabo" in copied


def test_clicking_a_quote_shows_its_paragraph_speaker_and_section(page: Any) -> None:
    """#16.3: a click on the quote in the chat opens its card with the paragraph around it."""
    page.locator("#ef-mode").get_by_text("Citaten zoeken").click()
    turn = ask(page, "Wat zeggen respondenten over de KA2-aanvraag?")
    page.locator("#ef-evidence details.ef-card").first.locator("summary").click()  # close it first
    page.wait_for_selector("#ef-evidence details.ef-card:not([open])")
    turn.locator(".ef-answer li").first.get_by_text("Ik heb daar eigenlijk geen idee van").click()
    card = page.locator("#ef-evidence details.ef-card.ef-selected[open]")
    card.wait_for()
    context = " ".join(card.locator(".ef-context").inner_text().split())
    assert "Dat ontmoedigt docenten en coördinatoren." in context  # the paragraph before the quote
    assert "– coördinator internationalisering –" in context
    mark = " ".join(card.locator(".ef-context mark.ef-span").inner_text().split())
    assert mark.startswith("“Nou, voor mij") and mark.endswith("kon het mij uitleggen.”")
    assert card.locator(".ef-where-speaker dd").inner_text() == "coördinator"
    assert card.locator(".ef-where-section dd").inner_text().endswith("1.2. Belemmeringen bij KA2-aanvragen")
    assert card.locator(".ef-where-page_label").count() == 0  # a .txt source has no pages
    page.screenshot(path=str(ARTIFACTS / "quote-in-context.png"), full_page=True)
    assert not page.js_errors


def test_sector_filter_changes_the_results(page: Any) -> None:
    ask(page, KA2_QUESTION)
    unfiltered = evidence_doc_ids(page)
    assert "rapport_pabo.txt" in unfiltered
    page.locator("#ef-filters").get_by_text("Filters").first.click()
    page.locator("#ef-f-sector input").click()
    page.get_by_role("option", name="MBO", exact=True).click()
    page.keyboard.press("Escape")
    ask(page, KA2_QUESTION)
    assert evidence_doc_ids(page) == {"factsheet_mbo.txt"}


def test_and_in_mbo_follow_up_cites_mbo_evidence(page: Any) -> None:
    """The brief's example, then a follow-up that changes only the sector: the second answer
    answers the same question for MBO, cites MBO evidence, and says how it read the question."""
    first = ask(page, KA2_QUESTION)
    assert "rapport_pabo.txt" in evidence_doc_ids(page)
    assert first.locator(".ef-answer").inner_text().startswith("Barriers") or \
        "Barrier" in first.locator(".ef-answer").inner_text()
    second = ask(page, "and in MBO?")
    assert evidence_doc_ids(page) == {"factsheet_mbo.txt"}
    reading = second.locator(".ef-reading").inner_text()
    assert "what hinders KA2 applications" in reading and "sector: MBO" in reading
    page.screenshot(path=str(ARTIFACTS / "follow-up-mbo.png"), full_page=True)


def download(page: Any, selector: str) -> str:
    with page.expect_download() as got:
        page.click(selector)
    return Path(got.value.path()).read_text(encoding="utf-8-sig")


def test_export_markdown_csv_and_references(page: Any) -> None:
    """#16.4: every export of the answer reads back; after a refused question the last real
    answer can still be exported."""
    ask(page, KA2_QUESTION)
    page.wait_for_selector("#ef-export-md:not([disabled])")
    md = download(page, "#ef-export-md")
    assert md.startswith(f"# {KA2_QUESTION}\n")
    assert "## Bronnen" in md and "[1] **" in md and "rapport_pabo.txt" in md
    rows = list(csv.DictReader(io.StringIO(download(page, "#ef-export-csv"))))
    assert {"doc_id", "title", "publisher", "year", "section", "page", "speaker", "kind", "char_start",
            "char_end", "text"} <= set(rows[0])
    assert ("Internationalisering op de pabo", "Testbureau", "2021") in {
        (r["title"], r["publisher"], r["year"]) for r in rows}
    ris = download(page, "#ef-export-ris")
    assert "TY  - RPRT" in ris and "TI  - Internationalisering op de pabo" in ris and "ER  - " in ris
    bib = download(page, "#ef-export-bib")
    assert bib.startswith("@techreport{testbureau2021internationalisering,")

    refused = ask(page, "Wat is de hoofdstad van Peru?")
    assert refused.locator(".ef-abstain").count() == 1
    for button in ("#ef-export-md", "#ef-export-csv", "#ef-export-ris", "#ef-export-bib"):
        assert page.locator(button).is_enabled()
    assert download(page, "#ef-export-md").startswith(f"# {KA2_QUESTION}\n")  # the last real answer


def test_upload_then_find_then_delete(page: Any, tmp_path: Path) -> None:
    doc = tmp_path / "Nieuw rapport (concept).txt"
    doc.write_text(
        "Uitwisseling met zeilschepen\n\n"
        "Leerlingen van een school op Texel zeilden met een zeilschip naar Noorwegen. "
        "De zeilreis versterkte hun samenwerking en hun Engelse taalvaardigheid aanzienlijk.\n",
        encoding="utf-8")
    status = upload(page, doc)
    assert "Nieuw_rapport_concept.txt" in status, status
    wait_for_text(page, "#ef-docs", "Nieuw_rapport_concept.txt")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sources-tab.png"), full_page=True)

    open_chat(page)
    ask(page, "Wat leverde de zeilreis met het zeilschip op?")
    assert "Nieuw_rapport_concept.txt" in evidence_doc_ids(page)

    open_sources(page)
    page.locator("#ef-del-doc input").click()
    page.get_by_role("option", name="Uitwisseling met zeilschepen").click()
    page.click("#ef-delete-go")  # asks first (#16.5); cancelling deletes nothing
    page.wait_for_selector("#ef-delete-confirm .ef-confirm")
    assert "Nieuw_rapport_concept.txt (Uitwisseling met zeilschepen) verwijderen" in \
        page.inner_text("#ef-delete-confirm")
    page.click("#ef-delete-no")
    page.wait_for_selector("#ef-delete-confirm", state="hidden")
    assert page.inner_text("#ef-delete-status").strip() == "Er is niets verwijderd."
    assert "Nieuw_rapport_concept.txt" in page.inner_text("#ef-docs")
    page.click("#ef-delete-go")
    page.click("#ef-delete-yes")
    page.wait_for_selector("#ef-delete-status .ef-status-ok")
    wait_for_text(page, "#ef-docs", "Nieuw_rapport_concept.txt", present=False)
    open_chat(page)
    ask(page, "Wat leverde de zeilreis met het zeilschip op?")
    assert "Nieuw_rapport_concept.txt" not in evidence_doc_ids(page)


def test_bad_upload_is_a_message(page: Any, tmp_path: Path) -> None:
    bad = tmp_path / "leeg.txt"
    bad.write_text("   \n", encoding="utf-8")
    status = upload(page, bad)
    assert "leeg.txt" in status and "Traceback" not in status
    assert page.locator("#ef-upload-status .ef-status-err").count() == 1


def test_document_with_script_renders_as_text(page: Any, tmp_path: Path) -> None:
    doc = tmp_path / "xss.md"
    doc.write_text(
        "Kiwi <b>rapport</b> <script>window.__efPwned = 1</script>\n\n"
        "Over de kiwi-uitwisseling met Nieuw-Zeeland schreef een docent "
        "<img src=x onerror=\"window.__efPwned = 2\"> en <script>window.__efPwned = 3</script> "
        "dat de kiwi-uitwisseling leerlingen veel zelfvertrouwen gaf.\n",
        encoding="utf-8")
    status = upload(page, doc, title=XSS_TITLE)
    assert "xss.md" in status, status
    wait_for_text(page, "#ef-docs", XSS_TITLE)  # the title, from the upload form, shown as text
    open_chat(page)
    ask(page, "Wat gaf de kiwi-uitwisseling met Nieuw-Zeeland leerlingen?")
    assert "xss.md" in evidence_doc_ids(page)
    card = page.locator("#ef-evidence .ef-card", has=page.locator(".ef-docid", has_text="xss.md")).first
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    assert card.locator(".ef-title").inner_text() == XSS_TITLE
    context = card.locator(".ef-context").inner_text()
    assert '<img src=x onerror="window.__efPwned = 2">' in context
    assert "<script>window.__efPwned = 3</script>" in context
    for root in ("#ef-evidence", "#ef-transcript", "#ef-docs"):
        assert page.locator(f"{root} script, {root} img, {root} b").count() == 0
    assert page.evaluate("window.__efPwned") is None
    assert not page.js_errors


def test_english_switch(page: Any) -> None:
    page.get_by_text("English", exact=True).click()
    page.wait_for_function("() => document.querySelector('#ef-ask').innerText.trim() === 'Ask'")
    page.get_by_role("tab", name="Sources").wait_for()  # labels update asynchronously
    assert page.get_by_role("tab", name="Sources").count() == 1
    turn = ask(page, KA2_QUESTION)
    assert turn.locator(".ef-who").first.inner_text().strip().lower() == "you"
    page.screenshot(path=str(ARTIFACTS / "answer-view-en.png"), full_page=True)


@pytest.mark.parametrize(("browser_locale", "ui", "drop"), [
    ("en-US", "Nederlands", "Sleep bestanden hierheen – of – klik om te kiezen"),
    ("nl-NL", "English", "Drop files here – or – click to choose"),
])
def test_sources_tab_follows_the_interface_language_not_the_browser(
        browser: Any, app_url: str, browser_locale: str, ui: str, drop: str) -> None:
    """#16.5: every label of the Sources tab, the upload box's own text included, is in the
    language chosen in the app, whatever language the browser has."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale=browser_locale)
    pg = context.new_page()
    try:
        pg.goto(app_url)
        pg.wait_for_selector("#ef-transcript .ef-chat")
        if ui == "English":
            pg.get_by_text("English", exact=True).click()
            pg.get_by_role("tab", name="Sources").wait_for()
        pg.get_by_role("tab", name="Bronnen" if ui == "Nederlands" else "Sources").click()
        pg.wait_for_selector("#ef-upload-go")
        shown = pg.evaluate("""() => getComputedStyle(document.querySelector(
            '#ef-upload [data-testid="upload-text"]'), '::after').content""")
        assert shown == f'"{drop}"'
        pg.wait_for_function("() => document.querySelector('#ef-upload-go').innerText.trim() === arguments[0]"
                             .replace("arguments[0]", "'Toevoegen aan de index'" if ui == "Nederlands"
                                      else "'Add to the index'"))
        text = pg.inner_text("#ef-tab-sources")
        foreign = (["Documents in the index", "Add a document", "Delete a document", "Files", "report"]
                   if ui == "Nederlands" else
                   ["Documenten in de index", "Document toevoegen", "Bestanden", "Verwijderen", "rapport"])
        assert [w for w in foreign if w in text.split("\n")] == []
        visible_drop = pg.locator("#ef-upload [data-testid='upload-text']").inner_text()
        assert "Drop File Here" not in visible_drop or pg.evaluate(
            "() => getComputedStyle(document.querySelector('#ef-upload [data-testid=\"upload-text\"]')).fontSize"
        ) == "0px"
        pg.screenshot(path=str(ARTIFACTS / f"sources-{ui.lower()}-browser-{browser_locale}.png"), full_page=True)
    finally:
        context.close()


def test_no_index_yet_is_explained_not_a_traceback(browser: Any, empty_app_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(empty_app_url)
        page.wait_for_selector("#ef-banner .ef-banner")
        assert "nog geen index" in page.inner_text("#ef-banner")
        turn = ask(page, KA2_QUESTION)
        error = turn.locator(".ef-error").inner_text()
        assert "nog geen index" in error and "Traceback" not in error
    finally:
        context.close()
