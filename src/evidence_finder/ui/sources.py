"""Sources tab helpers: document-type choices, the upload box's text in the interface
language, and the question that confirms a delete. Pure functions (no Gradio)."""

from __future__ import annotations

from evidence_finder.ui.i18n import t
from evidence_finder.ui.render import esc

DOC_TYPES = ("report", "factsheet")


def type_choices(lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs: the label follows the language, the value is what is stored."""
    return [(t(f"type_{v}", lang), v) for v in DOC_TYPES]


def type_label(doc_type: str, lang: str) -> str:
    return t(f"type_{doc_type}", lang) if doc_type in DOC_TYPES else doc_type


def interface_style(lang: str) -> str:
    """A <style> with the interface texts that only CSS can reach: Gradio's upload box
    prints its own 'Drop File Here' in the *browser's* language, so ours replaces it (see
    assets.CSS, #ef-upload)."""
    drop = t("upload_drop", lang).replace("\\", "").replace('"', "'")
    return f'<style>:root {{ --ef-upload-drop: "{esc(drop)}"; }}</style>'


def delete_question(doc_id: str | None, titles: dict[str, str], lang: str) -> str:
    """The confirmation asked before a delete ('' when no document is chosen)."""
    if not doc_id:
        return ""
    question = t("delete_confirm", lang, doc=doc_id, title=titles.get(doc_id, doc_id))
    return f'<p class="ef-confirm" role="alertdialog">{esc(question)}</p>'
