"""Numbered citations: build them from verified spans, renumber them, turn them into JSON."""

from __future__ import annotations

from typing import Any

from evidence_finder.answer.verify import locate_span, verify_citation_span
from evidence_finder.types import Answer, Citation, Hit, Passage


class CitationBook:
    """Hands out citation numbers 1..N in order of first use; one number per (passage, span)."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[str, int, int], int] = {}

    def cite(self, hit: Hit, start: int, end: int) -> int | None:
        """Number of the citation of ``hit.passage.text[start:end]``; None if it fails to verify."""
        p = hit.passage
        text = p.text[start:end]
        if not verify_citation_span(text, p.text):
            return None
        key = (p.id, start, end)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[key] = n
            self.citations.append(Citation(n, p, hit.title, text, start, end))
        return self._numbers[key]

    def cite_text(self, hit: Hit, text: str) -> int | None:
        span = locate_span(text, hit.passage.text)
        return self.cite(hit, *span) if span else None


def span_location(p: Passage, start: int, end: int) -> dict[str, Any]:
    """Location of ``p.text[start:end]``: exact source offsets when the passage maps 1:1 onto
    its source, else the passage's own source span (which always contains the citation)."""
    exact = (p.char_end - p.char_start) == (p.clean_end - p.clean_start) == len(p.text)
    if exact:
        cs, ce = p.char_start + start, p.char_start + end
    else:
        cs, ce = p.char_start, p.char_end
    return {
        "section": p.section, "page": p.page, "char_start": cs, "char_end": ce,
        "span_exact": exact,
        "clean_start": p.clean_start + start, "clean_end": p.clean_start + end,
        "passage_char_start": p.char_start, "passage_char_end": p.char_end,
    }


def citation_json(c: Citation) -> dict[str, Any]:
    """A citation as in docs/cli-contract.md, plus passage text, title, kind and attribution."""
    p = c.passage
    start, end = (c.start, c.end) if c.end > c.start else (0, len(p.text))
    return {
        "n": c.n, "doc": p.doc_id, "text": c.text, "location": span_location(p, start, end),
        "title": c.title, "kind": p.kind, "passage_id": p.id, "passage_text": p.text,
        "attribution": p.attribution, "speaker": p.speaker, "speaker_org": p.speaker_org,
        "roles": list(p.roles),
    }


def answer_json(answer: Answer, qid: str) -> dict[str, Any]:
    """One line of ``evidence ask --format jsonl``."""
    return {
        "id": qid, "question": answer.question, "abstained": answer.abstained,
        "answer": answer.text, "backend": answer.backend,
        "citations": [citation_json(c) for c in answer.citations],
        "elapsed_ms": round(answer.elapsed_ms, 2),
        "lang": answer.lang, "mode": answer.mode, "notices": answer.notices,
        "search_question": answer.search_question, "reading": answer.reading,
    }


def render_text(answer: Answer) -> str:
    """The answer for a terminal: text, notices, then the numbered evidence with locations."""
    from evidence_finder.answer.messages import msg
    from evidence_finder.ingest.speakers import speaker_label

    lines = [answer.text]
    lines += [f"! {notice}" for notice in answer.notices]
    if answer.citations:
        lines += ["", msg("evidence", answer.lang) + ":"]
        for c in answer.citations:
            p = c.passage
            where = " · ".join(x for x in (p.section.split(" > ")[-1] if p.section else "",
                                           f"p. {p.page}" if p.page else "") if x and x != c.title)
            lines.append(f"[{c.n}] {c.title}" + (f" — {where}" if where else ""))
            lines.append(f"    {' '.join(c.text.split())}")
            who = speaker_label(p.speaker, p.speaker_org, p.attribution) if p.kind == "quote" else ""
            if who:
                lines.append(f"    — {who}")
    lines.append(f"({answer.backend}, {answer.elapsed_ms:.0f} ms)")
    return "\n".join(lines)
