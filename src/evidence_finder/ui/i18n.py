"""Interface text in Dutch (default) and English. Document text is never translated."""

from __future__ import annotations

from typing import Literal

Lang = Literal["nl", "en"]
DEFAULT_LANG: Lang = "nl"
LANG_CHOICES: list[tuple[str, str]] = [("Nederlands", "nl"), ("English", "en")]

EXAMPLES: tuple[str, ...] = (
    "Welke drempels ervaren lerarenopleidingen bij KA2-aanvragen?",
    "Wat levert een stage in het buitenland mbo-studenten op?",
    "What hinders KA2 applications in teacher training?",
    "How do teachers benefit from job shadowing abroad?",
)

_STRINGS: dict[str, tuple[str, str]] = {
    # key: (Dutch, English)
    "subtitle": (
        "Geciteerd bewijs uit onderzoeksrapporten over Erasmus+ in het onderwijs.",
        "Cited evidence from research reports on Erasmus+ in education.",
    ),
    "tab_chat": ("Vragen", "Ask"),
    "tab_sources": ("Bronnen", "Sources"),
    "question": ("Vraag", "Question"),
    "question_ph": (
        "Stel een vraag over Erasmus+ in het onderwijs …",
        "Ask a question about Erasmus+ in education …",
    ),
    "ask": ("Vraag stellen", "Ask"),
    "clear": ("Wissen", "Clear"),
    "mode": ("Modus", "Mode"),
    "mode_answer": ("Antwoord", "Answer"),
    "mode_quotes": ("Citaten zoeken", "Find quotes"),
    "examples": ("Voorbeeldvragen", "Example questions"),
    "filters": ("Filters", "Filters"),
    "f_doc": ("Document", "Document"),
    "f_sector": ("Sector", "Sector"),
    "f_type": ("Type document", "Document type"),
    "f_kind": ("Soort fragment", "Kind of passage"),
    "f_year": ("Jaar", "Year"),
    "f_speaker": ("Spreker (citaten)", "Speaker (quotes)"),
    "evidence": ("Bewijs", "Evidence"),
    "evidence_empty": (
        "Stel een vraag; de geciteerde passages verschijnen hier. Klik op een [n] in het antwoord "
        "om de passage in haar context te openen.",
        "Ask a question; the cited passages appear here. Click an [n] in the answer to open the "
        "passage in its context.",
    ),
    "export": ("Exporteren", "Export"),
    "export_md": ("Markdown (.md)", "Markdown (.md)"),
    "export_csv": ("Bewijstabel (.csv)", "Evidence table (.csv)"),
    "export_ris": ("Referenties (.ris)", "References (.ris)"),
    "export_bib": ("Referenties (.bib)", "References (.bib)"),
    "export_none": ("Nog niets om te exporteren.", "Nothing to export yet."),
    "copy": ("Kopiëren", "Copy"),
    "copied": ("Gekopieerd", "Copied"),
    "you": ("U", "You"),
    "assistant": ("Evidence Finder", "Evidence Finder"),
    "thinking": ("Bezig met zoeken …", "Searching …"),
    "read_as": ("Gelezen als", "Read as"),
    "chat_empty": (
        "Stel hieronder een vraag of kies een voorbeeldvraag. Elk antwoord verwijst met [n] naar "
        "de passages waarop het steunt.",
        "Ask a question below or pick an example. Every answer points with [n] to the passages it "
        "rests on.",
    ),
    "abstained": (
        "De documenten lijken deze vraag niet te beantwoorden.",
        "The documents do not seem to answer this question.",
    ),
    "sources_used": ("bronnen", "sources"),
    "backend": ("antwoord", "answer"),
    "section": ("Hoofdstuk", "Section"),
    "page": ("p.", "p."),
    "page_label": ("Pagina", "Page"),
    "speaker": ("Spreker", "Speaker"),
    "kind_passage": ("passage", "passage"),
    "kind_quote": ("citaat", "quote"),
    "kind_table": ("tabel", "table"),
    "context": ("Context", "Context"),
    "open_context": ("Toon in context", "Show in context"),
    "said_by": ("—", "—"),
    # sources tab
    "docs_heading": ("Documenten in de index", "Documents in the index"),
    "col_file": ("Bestand", "File"),
    "col_title": ("Titel", "Title"),
    "col_publisher": ("Uitgever", "Publisher"),
    "col_year": ("Jaar", "Year"),
    "col_sectors": ("Sectoren", "Sectors"),
    "col_type": ("Type", "Type"),
    "col_lang": ("Taal", "Language"),
    "col_passages": ("Passages", "Passages"),
    "col_quotes": ("Citaten", "Quotes"),
    "col_tables": ("Tabellen", "Tables"),
    "upload_heading": ("Document toevoegen", "Add a document"),
    "upload_files": ("Bestanden", "Files"),
    "upload_drop": ("Sleep bestanden hierheen – of – klik om te kiezen",
                    "Drop files here – or – click to choose"),
    "type_report": ("rapport", "report"),
    "type_factsheet": ("factsheet", "fact sheet"),
    "upload_info": (
        "Toegestaan: {types}; maximaal {mb} MB per bestand.",
        "Allowed: {types}; at most {mb} MB per file.",
    ),
    "upload_title": ("Titel (optioneel)", "Title (optional)"),
    "upload_year": ("Jaar (optioneel)", "Year (optional)"),
    "upload_sectors": ("Sectoren (optioneel)", "Sectors (optional)"),
    "upload_type": ("Type document", "Document type"),
    "upload_go": ("Toevoegen aan de index", "Add to the index"),
    "delete_heading": ("Document verwijderen", "Delete a document"),
    "delete_doc": ("Document", "Document"),
    "delete_go": ("Verwijderen", "Delete"),
    "delete_confirm": (
        "{doc} ({title}) verwijderen uit de index? Dit kan niet ongedaan worden gemaakt.",
        "Delete {doc} ({title}) from the index? This cannot be undone.",
    ),
    "delete_yes": ("Ja, verwijderen", "Yes, delete"),
    "delete_cancel": ("Annuleren", "Cancel"),
    "delete_cancelled": ("Er is niets verwijderd.", "Nothing was deleted."),
    "refresh": ("Vernieuwen", "Refresh"),
    # messages
    "no_index": (
        "Er is nog geen index. Voeg documenten toe op het tabblad Bronnen, of voer "
        "`evidence ingest` uit.",
        "There is no index yet. Add documents on the Sources tab, or run `evidence ingest`.",
    ),
    "building": (
        "Index opbouwen: {done} van {total} passages — de antwoorden worden beter als dit klaar is "
        "(tot dan alleen zoeken op trefwoorden).",
        "Indexing {done} of {total} passages — answers improve when this is done (keyword search "
        "until then).",
    ),
    "build_failed": (
        "Het opbouwen van de index is gestopt ({error}); de antwoorden komen uit zoeken op "
        "trefwoorden. Start opnieuw om verder te gaan.",
        "Building the index stopped ({error}); answers come from keyword search. Restart to go on.",
    ),
    "error": ("Fout", "Error"),
    "unexpected": (
        "Er ging iets onverwachts mis ({name}). Probeer het opnieuw; de details staan in het "
        "serverlogboek.",
        "Something unexpected went wrong ({name}). Try again; details are in the server log.",
    ),
    "upload_none": ("Kies eerst een of meer bestanden.", "Choose one or more files first."),
    "upload_done": (
        "{n} document(en) toegevoegd en doorzoekbaar: {names}.",
        "{n} document(s) added and searchable: {names}.",
    ),
    "upload_skipped": ("Niet toegevoegd: {name}: {reason}", "Not added: {name}: {reason}"),
    "upload_progress": ("Verwerken: {label}", "Processing: {label}"),
    "delete_none": ("Kies eerst een document.", "Choose a document first."),
    "delete_done": (
        "{doc} is verwijderd ({n} passages).",
        "{doc} was deleted ({n} passages).",
    ),
    "delete_corpus_note": (
        "Het bestand staat nog in de corpusmap; een volgende `evidence ingest` voegt het weer toe.",
        "The file is still in the corpus folder; the next `evidence ingest` adds it again.",
    ),
    "question_empty": ("Typ eerst een vraag.", "Type a question first."),
}


def t(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The interface string ``key`` in ``lang`` ("nl" or "en"), formatted with ``fmt``."""
    nl, en = _STRINGS[key]
    text = en if lang == "en" else nl
    return text.format(**fmt) if fmt else text


def all_keys() -> list[str]:
    return list(_STRINGS)
