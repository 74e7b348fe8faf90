"""Pure rendering: answers and evidence as escaped HTML, the answer as Markdown.

Every piece of document or answer text goes through :func:`esc` before any tag of ours is
wrapped around it, so HTML or script inside a document shows as text and never runs.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from evidence_finder.ingest.speakers import speaker_label
from evidence_finder.text.markers import MARKER, marker_numbers
from evidence_finder.types import Answer, Citation, DocumentMeta, Passage
from evidence_finder.ui.i18n import t

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass
class EvidenceItem:
    """A citation with what the panel shows around it: document metadata and neighbours."""

    citation: Citation
    meta: DocumentMeta | None = None
    before: str = ""  # text just before the passage in its document
    after: str = ""  # text just after it


@dataclass
class Turn:
    """One question and its answer (or the text streamed so far, or an error)."""

    question: str
    mode: str = "answer"
    answer: Answer | None = None
    evidence: list[EvidenceItem] = field(default_factory=list)
    partial: str = ""
    error: str = ""


def esc(text: object) -> str:
    """Escape text for HTML content and attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


# ---------------------------------------------------------------------------- answer text
def _inline(text: str, turn: int, known: set[int]) -> str:
    """Escape one line of answer text; [n] markers of known citations become links."""

    def link(m: re.Match[str]) -> str:
        parts = []
        for n in marker_numbers(m.group(1)):
            if n in known:
                parts.append(f'<a href="#" class="ef-cite" data-turn="{turn}" data-n="{n}" '
                             f'title="[{n}]">{n}</a>')
            else:
                parts.append(esc(str(n)))
        return '<span class="ef-cites">[' + ", ".join(parts) + "]</span>"

    out, pos = [], 0
    for m in MARKER.finditer(text):
        out.append(_BOLD.sub(r"<strong>\1</strong>", esc(text[pos:m.start()])))
        out.append(link(m))
        pos = m.end()
    out.append(_BOLD.sub(r"<strong>\1</strong>", esc(text[pos:])))
    return "".join(out)


def answer_html(text: str, turn: int, known: set[int]) -> str:
    """Answer text as HTML: paragraphs, simple lists, **bold**, clickable [n] markers."""
    blocks = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in para.splitlines() if ln.strip()]
        if not lines:
            continue
        if all(_LIST_ITEM.match(ln) for ln in lines):
            items = "".join(f"<li>{_inline(_LIST_ITEM.sub('', ln), turn, known)}</li>" for ln in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append("<p>" + "<br>".join(_inline(ln, turn, known) for ln in lines) + "</p>")
    return "".join(blocks)


def _meta_bits(item: EvidenceItem, lang: str) -> list[str]:
    p = item.citation.passage
    bits = []
    if p.section:
        bits.append(p.section.split(" > ")[-1])
    if p.page:
        bits.append(f"{t('page', lang)} {p.page}")
    bits.append(t(f"kind_{p.kind}", lang) if p.kind in ("passage", "quote", "table") else p.kind)
    if item.meta and item.meta.year:
        bits.append(str(item.meta.year))
    return bits


def render_transcript(turns: list[Turn], lang: str) -> str:
    """The whole conversation as HTML (newest last)."""
    if not turns:
        return f'<div class="ef-chat ef-empty"><p>{esc(t("chat_empty", lang))}</p></div>'
    parts = ['<div class="ef-chat">']
    for i, turn in enumerate(turns):
        parts.append(f'<div class="ef-turn" data-turn="{i}">')
        parts.append(f'<div class="ef-msg ef-user"><div class="ef-who">{esc(t("you", lang))}</div>'
                     f"<p>{esc(turn.question)}</p></div>")
        parts.append(f'<div class="ef-msg ef-bot"><div class="ef-who">{esc(t("assistant", lang))}</div>')
        parts.append(_turn_body(turn, i, lang))
        parts.append("</div></div>")
    parts.append("</div>")
    return "".join(parts)


def _turn_body(turn: Turn, i: int, lang: str) -> str:
    if turn.error:
        return f'<div class="ef-error" role="alert">{esc(turn.error)}</div>'
    a = turn.answer
    if a is None:
        if turn.partial:
            return f'<div class="ef-answer ef-streaming">{answer_html(turn.partial, i, set())}</div>'
        return f'<div class="ef-thinking">{esc(t("thinking", lang))}</div>'
    out = []
    if a.reading and a.reading != turn.question:  # a follow-up or a filter: say how it was read
        out.append(f'<div class="ef-reading" role="status">{esc(t("read_as", lang))}: '
                   f"<em>{esc(a.reading)}</em></div>")
    for notice in a.notices:
        out.append(f'<div class="ef-notice" role="status">{esc(notice)}</div>')
    if a.abstained:
        out.append(f'<div class="ef-abstain">{esc(t("abstained", lang))}</div>')
    known = {c.n for c in a.citations}
    quotes = " ef-quotes" if turn.mode == "quotes" else ""
    out.append(f'<div class="ef-answer{quotes}">{answer_html(a.text, i, known)}</div>')
    if a.citations:
        chips = "".join(
            f'<a href="#" class="ef-cite ef-chip" data-turn="{i}" data-n="{c.n}">[{c.n}] '
            f"{esc(_short(c.title, 48))}</a>" for c in a.citations
        )
        out.append(f'<div class="ef-chips">{chips}</div>')
    mode = t("mode_quotes" if turn.mode == "quotes" else "mode_answer", lang)
    secs = f" · {a.elapsed_ms / 1000:.{1 if a.elapsed_ms >= 1000 else 2}f} s" if a.elapsed_ms else ""
    out.append(f'<div class="ef-foot">{esc(mode)} · {esc(a.backend)} · {len(a.citations)} '
               f"{esc(t('sources_used', lang))}{esc(secs)}</div>")
    return "".join(out)


def quoted(text: str) -> str:
    """Text in curly quotes, unless it already is a quotation."""
    text = " ".join(text.split())
    if text[:1] in "“\"„‘'" and text[-1:] in "”\"’'…":
        return text
    return f"“{text}”"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# ---------------------------------------------------------------------------- evidence panel
def find_span(haystack: str, span: str) -> tuple[int, int] | None:
    """Where ``span`` occurs in ``haystack``, ignoring differences in whitespace."""
    span = span.strip()
    if not span:
        return None
    i = haystack.find(span)
    if i >= 0:
        return i, i + len(span)
    words = span.split()
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, haystack)
    return (m.start(), m.end()) if m else None


def highlight(text: str, span: str) -> str:
    """``text`` escaped, with ``span`` wrapped in <mark> where it occurs."""
    where = find_span(text, span)
    if where is None:
        return esc(text)
    a, b = where
    return f'{esc(text[:a])}<mark class="ef-span">{esc(text[a:b])}</mark>{esc(text[b:])}'


def context_html(item: EvidenceItem) -> str:
    """The cited passage in its surrounding text, the cited span highlighted."""
    c = item.citation
    p = c.passage
    span = c.text or p.text
    context, text = _compact(p.context), _compact(p.text)
    if context and find_span(context, span):
        body = highlight(context, span)  # a quote or table inside its paragraph
    elif p.kind == "quote" and context:
        body = _quote_in_paragraph(p, context, text, span)
    elif find_span(text, span):
        body = highlight(text, span)
    else:
        body = f'<mark class="ef-span">{esc(span)}</mark>'
    before = f'<span class="ef-around">{esc(_compact(item.before))} </span>' if item.before else ""
    after = f'<span class="ef-around"> {esc(_compact(item.after))}</span>' if item.after else ""
    return f'<div class="ef-context">{before}{body}{after}</div>'


def _quote_in_paragraph(p: Passage, context: str, text: str, span: str) -> str:
    """A quote after the paragraph that leads into it, and the attribution line printed
    after it (a lead-in sentence is already part of that paragraph)."""
    quote = highlight(text, span) if find_span(text, span) else f'<mark class="ef-span">{esc(span)}</mark>'
    attribution = " ".join(p.attribution.split())
    tail = ""
    if attribution and not find_span(context, attribution) and not find_span(text, attribution):
        tail = f'\n<span class="ef-around">– {esc(attribution)} –</span>'
    return f'<span class="ef-around">{esc(context)}</span>\n{quote}{tail}'


def where_html(item: EvidenceItem, lang: str) -> str:
    """Who says a quote, and where the cited text is: speaker, section path, page."""
    p = item.citation.passage
    rows = []
    who = speaker_label(p.speaker, p.speaker_org, p.attribution) if p.kind == "quote" else ""
    if who:
        rows.append(("speaker", who))
    if p.section:
        rows.append(("section", p.section.replace(" > ", " › ")))
    if p.page:
        rows.append(("page_label", str(p.page)))
    if not rows:
        return ""
    cells = "".join(f'<div class="ef-where-{key}"><dt>{esc(t(key, lang))}</dt><dd>{esc(value)}</dd></div>'
                    for key, value in rows)
    return f'<dl class="ef-where">{cells}</dl>'


def _compact(text: str) -> str:
    """Blank lines collapse to line breaks, so a passage reads as one block in the panel."""
    return re.sub(r"[ \t]*\n\s*\n\s*", "\n", text.strip())


def copy_text(item: EvidenceItem) -> str:
    """The quote as pasted into a memo: “span” (title, year, section, p. n)."""
    c = item.citation
    p = c.passage
    where = ", ".join(x for x in (
        c.title, str(item.meta.year) if item.meta and item.meta.year else "",
        p.section.split(" > ")[-1] if p.section else "", f"p. {p.page}" if p.page else "",
    ) if x)
    label = speaker_label(p.speaker, p.speaker_org, p.attribution) if p.kind == "quote" else ""
    who = f" — {label}" if label else ""
    return f"{quoted(c.text or p.text)}{who} ({where})"


def render_evidence(turn: Turn | None, turn_index: int, selected: int | None, lang: str) -> str:
    """Evidence panel for one turn; the ``selected`` citation is opened in its context."""
    if turn is None or turn.answer is None or not turn.evidence:
        return f'<div class="ef-evidence ef-empty"><p>{esc(t("evidence_empty", lang))}</p></div>'
    opened = selected is not None  # the user asked for this card (see assets.EVIDENCE_JS)
    if selected is None:
        selected = turn.evidence[0].citation.n
    cards = []
    for item in turn.evidence:
        c = item.citation
        is_open = c.n == selected
        meta = " · ".join(esc(b) for b in _meta_bits(item, lang))
        cards.append(
            f'<details class="ef-card{" ef-selected" if is_open else ""}" id="ef-ev-{turn_index}-{c.n}" '
            f'data-n="{c.n}" data-kind="{esc(c.passage.kind)}"{" open" if is_open else ""}>'
            f'<summary><span class="ef-n">{c.n}</span><span class="ef-title">{esc(c.title)}</span>'
            f'<span class="ef-meta">{meta}</span>'
            f'<span class="ef-quote">{esc(quoted(_short(c.text, 220)))}</span></summary>'
            f"{context_html(item)}{where_html(item, lang)}"
            f'<div class="ef-actions"><button type="button" class="ef-copy" '
            f'data-copy="{esc(copy_text(item))}" data-done="{esc(t("copied", lang))}">'
            f'{esc(t("copy", lang))}</button><span class="ef-docid">{esc(c.passage.doc_id)}</span></div>'
            f"</details>"
        )
    return (f'<div class="ef-evidence" data-turn="{turn_index}"{" data-opened" if opened else ""}>'
            f'{"".join(cards)}</div>')


# ---------------------------------------------------------------------------- exports
def _md_text(text: str) -> str:
    """Document text inside Markdown: HTML-looking text, images and links stay text when the
    memo is rendered."""
    text = text.replace("\\", "\\\\").replace("<", "\\<").replace(">", "\\>")
    # no image or link syntax from a document: a reader that renders the memo must not fetch
    # a remote URL planted in the text
    return text.replace("![", "!\\[").replace("](", "\\](")


def answer_markdown(question: str, answer: Answer, evidence: list[EvidenceItem], lang: str) -> str:
    """The answer with its numbered sources, ready to paste into a memo."""
    lines = [f"# {_md_text(question)}", ""]
    for notice in answer.notices:
        lines += [f"> {_md_text(notice)}", ""]
    lines += [_md_text(answer.text.strip()), "", "## " + ("Sources" if lang == "en" else "Bronnen"), ""]
    for item in evidence:
        c = item.citation
        bits = " · ".join(_meta_bits(item, lang))
        by = f" ({_md_text(item.meta.publisher)})" if item.meta and item.meta.publisher else ""
        lines.append(f"[{c.n}] **{_md_text(c.title)}**{by} — {_md_text(bits)} (`{c.passage.doc_id}`)")
        quote = " ".join(c.text.split())
        p = c.passage
        label = speaker_label(p.speaker, p.speaker_org, p.attribution) if p.kind == "quote" else ""
        who = f" — {_md_text(label)}" if label else ""
        lines += ["", f"> {_md_text(quoted(quote))}{who}", ""]
    return "\n".join(lines).rstrip() + "\n"
