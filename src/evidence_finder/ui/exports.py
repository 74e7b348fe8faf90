"""The downloads of one answer: Markdown memo, evidence table (CSV), references (RIS, BibTeX)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evidence_finder.answer import exports
from evidence_finder.types import DocumentMeta
from evidence_finder.ui import render
from evidence_finder.ui.render import EvidenceItem, Turn


@dataclass(frozen=True)
class ExportFiles:
    markdown: str
    csv: str
    ris: str
    bibtex: str

    def paths(self) -> tuple[str, str, str, str]:
        return self.markdown, self.csv, self.ris, self.bibtex


def turn_metas(turn: Turn) -> dict[str, DocumentMeta]:
    """The cited documents' metadata: from the evidence panel, else from the answer."""
    assert turn.answer is not None
    metas = exports.answer_metas(turn.answer)
    metas.update({e.citation.passage.doc_id: e.meta for e in turn.evidence if e.meta is not None})
    return metas


def write_exports(folder: Path, turn: Turn, lang: str) -> ExportFiles:
    """Write the four files of ``turn``'s answer into ``folder``."""
    assert turn.answer is not None
    slug = re.sub(r"[^a-z0-9]+", "-", turn.question.lower()).strip("-")[:40] or "answer"
    metas = turn_metas(turn)
    docs = exports.cited_documents(turn.answer.citations, metas)
    md = folder / f"evidence-{slug}.md"
    evidence = turn.evidence or [EvidenceItem(c, metas.get(c.passage.doc_id)) for c in turn.answer.citations]
    md.write_text(render.answer_markdown(turn.question, turn.answer, evidence, lang), encoding="utf-8")
    csv_path = folder / f"evidence-{slug}.csv"
    # utf-8-sig: spreadsheet programs then read accents correctly
    csv_path.write_text(exports.evidence_csv(turn.question, turn.answer, metas), encoding="utf-8-sig",
                        newline="")
    ris = folder / f"references-{slug}.ris"
    ris.write_text(exports.ris(docs), encoding="utf-8", newline="")
    bib = folder / f"references-{slug}.bib"
    bib.write_text(exports.bibtex(docs), encoding="utf-8")
    return ExportFiles(str(md), str(csv_path), str(ris), str(bib))
