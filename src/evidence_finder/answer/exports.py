"""Exports a researcher can cite from: an evidence table (CSV) with one row per citation, and
reference entries (RIS, BibTeX) for the documents an answer cites, for Zotero or EndNote.

Pure functions on an :class:`Answer` and the cited documents' :class:`DocumentMeta`; the UI
and the CLI write the strings to files.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable

from evidence_finder.answer.citations import span_location
from evidence_finder.ingest.speakers import speaker_label
from evidence_finder.text.markers import MARKER, marker_numbers
from evidence_finder.types import Answer, Citation, DocumentMeta

CSV_COLUMNS = ("n", "doc_id", "title", "publisher", "year", "section", "page", "speaker", "kind",
               "char_start", "char_end", "offsets", "text", "claim", "question")


def answer_metas(answer: Answer) -> dict[str, DocumentMeta]:
    """Metadata of the documents an answer cites, from its hits or the index state it read."""
    metas = {h.passage.doc_id: h.meta for h in answer.hits if h.meta is not None}
    for c in answer.citations:
        doc = c.passage.doc_id
        if doc not in metas and answer.view is not None:
            meta = answer.view.meta(doc)
            if meta is not None:
                metas[doc] = meta
    return metas


def claims_by_marker(answer: Answer) -> dict[int, list[str]]:
    """For each [n], the answer text it closes: from the previous marker (or the start of its
    line) up to it. Quote mode has no claims: the quote is the evidence. Cutting at markers,
    not at guessed sentence ends, never splits a claim inside a quotation."""
    out: dict[int, list[str]] = {}
    if answer.mode == "quotes":
        return out
    for line in answer.text.splitlines():
        pos = 0
        for m in MARKER.finditer(line):
            claim = _tidy(line[pos:m.start()])
            pos = m.end()
            if line[pos:pos + 1] in (".", "!", "?") and line[pos:pos + 1]:  # 'Zwaar [1].'
                claim += line[pos]
                pos += 1
            if not claim:
                continue
            for n in marker_numbers(m.group(1)):
                bucket = out.setdefault(n, [])
                if claim not in bucket:
                    bucket.append(claim)
    return out


def _tidy(text: str) -> str:
    text = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", text.strip())  # a list item's bullet
    text = text.lstrip(".,;:!? ").strip()
    return " ".join(text.split())


def citation_rows(question: str, answer: Answer, metas: dict[str, DocumentMeta]) -> list[dict[str, str]]:
    """One row per citation (one per claim where a citation backs several): where the cited
    text is, who says it, and the text verbatim."""
    claims = claims_by_marker(answer)
    rows = []
    for c in answer.citations:
        p = c.passage
        meta = metas.get(p.doc_id)
        start, end = (c.start, c.end) if c.end > c.start else (0, len(p.text))
        loc = span_location(p, start, end)
        base = {
            "n": str(c.n), "doc_id": p.doc_id, "title": meta.title if meta else c.title,
            "publisher": meta.publisher if meta else "",
            "year": str(meta.year) if meta and meta.year else "",
            "section": p.section.split(" > ")[-1] if p.section else "",
            "page": "" if p.page is None else str(p.page),
            "speaker": speaker_label(p.speaker, p.speaker_org, p.attribution) if p.kind == "quote" else "",
            "kind": p.kind, "char_start": str(loc["char_start"]), "char_end": str(loc["char_end"]),
            # 'exact': the offsets are the cited text's; 'passage': cleaning changed the text
            # (joined hyphenation, page furniture), so they span the passage that holds it
            "offsets": "exact" if loc["span_exact"] else "passage",
            "text": " ".join(c.text.split()), "question": question,
        }
        for claim in claims.get(c.n) or [""]:
            rows.append({**base, "claim": claim})
    return rows


def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @ is data, not code)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def evidence_csv(question: str, answer: Answer, metas: dict[str, DocumentMeta]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in citation_rows(question, answer, metas):
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return buf.getvalue()


# ---------------------------------------------------------------------------- references
def cited_documents(citations: Iterable[Citation], metas: dict[str, DocumentMeta]) -> list[DocumentMeta]:
    """The cited documents, in order of first citation (a title-only entry when the index
    has no metadata for one)."""
    out: dict[str, DocumentMeta] = {}
    for c in citations:
        doc = c.passage.doc_id
        if doc not in out:
            out[doc] = metas.get(doc) or DocumentMeta(doc_id=doc, title=c.title or doc)
    return list(out.values())


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def ris(docs: Iterable[DocumentMeta]) -> str:
    """RIS records (Zotero, EndNote, Mendeley): a report is RPRT, anything else GEN; the
    publishing organisation is the (corporate) author and the publisher."""
    lines: list[str] = []
    for m in docs:
        lines.append(f"TY  - {'RPRT' if m.type == 'report' else 'GEN'}")
        lines.append(f"TI  - {_one_line(m.title)}")
        if m.short_title and m.short_title != m.title[:60]:
            lines.append(f"ST  - {_one_line(m.short_title)}")
        if m.publisher:
            lines += [f"AU  - {_one_line(m.publisher)}", f"PB  - {_one_line(m.publisher)}"]
        if m.commissioned_by:
            lines.append(f"A2  - {_one_line(m.commissioned_by)}")
        if m.year:
            lines.append(f"PY  - {m.year}")
        if m.region:
            lines.append(f"CY  - {_one_line(m.region)}")
        if m.language:
            lines.append(f"LA  - {m.language}")
        lines += [f"KW  - {_one_line(s)}" for s in m.sectors]
        if m.summary:
            lines.append(f"AB  - {_one_line(m.summary)}")
        lines += [f"N1  - Evidence Finder document id: {_one_line(m.doc_id)}", "ER  - ", ""]
    return "\r\n".join(lines)


_BIB_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#",
                "$": r"\$", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bib_escape(text: str) -> str:
    """Text for a braced BibTeX field: LaTeX specials escaped, so braces always balance."""
    return "".join(_BIB_SPECIAL.get(ch, ch) for ch in _one_line(text))


def bib_key(meta: DocumentMeta, taken: set[str]) -> str:
    """'testbureau2021pabo': publisher, year and the title's first long word, ASCII only."""
    def ascii_word(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text.lower())
                      .encode("ascii", "ignore").decode("ascii"))

    words = [ascii_word(w) for w in meta.title.split()]
    head = ascii_word(meta.publisher.split()[0]) if meta.publisher.split() else ""
    title_word = next((w for w in words if len(w) > 4), words[0] if words else "")
    key = f"{head}{meta.year or ''}{title_word}" or ascii_word(meta.doc_id) or "document"
    out, i = key, 0
    while out in taken:  # testbureau2021pabo, testbureau2021pabob, …c
        i += 1
        out = f"{key}{chr(ord('a') + i)}" if i < 26 else f"{key}{i}"
    taken.add(out)
    return out


def bibtex(docs: Iterable[DocumentMeta]) -> str:
    """BibTeX entries: @techreport for reports (the publisher as institution), @misc else."""
    taken: set[str] = set()
    entries = []
    for m in docs:
        fields = [("title", "{" + bib_escape(m.title) + "}")]  # inner braces keep the casing
        if m.publisher:
            fields.append(("author", "{" + bib_escape(m.publisher) + "}"))  # a corporate author
            fields.append(("institution" if m.type == "report" else "publisher", bib_escape(m.publisher)))
        if m.year:
            fields.append(("year", str(m.year)))
        if m.type and m.type != "report":
            fields.append(("type", bib_escape(m.type)))
        if m.language:
            fields.append(("language", bib_escape(m.language)))
        if m.sectors:
            fields.append(("keywords", bib_escape(", ".join(m.sectors))))
        fields.append(("note", bib_escape(f"Evidence Finder document id: {m.doc_id}")))
        kind = "techreport" if m.type == "report" else "misc"
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{kind}{{{bib_key(m, taken)},\n{body}\n}}\n")
    return "\n".join(entries)
