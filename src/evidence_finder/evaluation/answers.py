"""Answer-level checks for ``evidence ask``: markers ↔ citations, verbatim citation spans, and
how much of the gold evidence the citations cover."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evidence_finder.evaluation.metrics import matches, normalise

_MARKER = re.compile(r"\[(\d+)\]")


def check_answer(answer: dict[str, Any], gold: list[dict[str, str]], docs: dict[str, str],
                 sources: dict[str, str]) -> dict[str, Any]:
    """Check one ``ask`` JSON line. ``docs``: normalised cleaned text per document id (what the
    index holds); ``sources``: normalised source text per document id (the files)."""
    markers = {int(m) for m in _MARKER.findall(answer["answer"])}
    cited = {c["n"] for c in answer["citations"]}
    cites = answer["citations"]
    in_doc = [normalise(c["text"]) in docs.get(c["doc"], "") for c in cites]
    in_source = [normalise(c["text"]) in sources.get(c["doc"], "") for c in cites]
    covered = sum(
        1 for g in gold
        if any(matches(g["doc"], g["text"], c["doc"], c.get("passage_text") or c["text"]) for c in cites)
    )
    return {
        "dangling_markers": len(markers - cited),
        "unused_citations": len(cited - markers),
        "citations": len(cites),
        "verbatim_in_document": sum(in_doc),
        "verbatim_in_source": sum(in_source),
        "gold": len(gold),
        "gold_covered": covered,
        "abstained": answer["abstained"],
    }


def summarise_checks(rows: list[dict[str, Any]]) -> dict[str, float]:
    cites = sum(r["citations"] for r in rows) or 1
    gold = sum(r["gold"] for r in rows) or 1
    return {
        "answers": float(len(rows)),
        "dangling_markers": float(sum(r["dangling_markers"] for r in rows)),
        "citations": float(sum(r["citations"] for r in rows)),
        "verbatim_in_document": sum(r["verbatim_in_document"] for r in rows) / cites,
        "verbatim_in_source_file": sum(r["verbatim_in_source"] for r in rows) / cites,
        "gold_coverage": sum(r["gold_covered"] for r in rows) / gold,
    }


def document_texts(store: Any) -> dict[str, str]:
    """Normalised cleaned text of every indexed document, rebuilt from its passages."""
    out: dict[str, list[str]] = {}
    for p in store.passages():
        out.setdefault(p.doc_id, []).append(p.text)
    return {d: normalise("\n".join(parts)) for d, parts in out.items()}


def source_texts(store: Any) -> dict[str, str]:
    from evidence_finder.ingest.load import load_source

    out = {}
    for doc_id, row in store.documents().items():
        try:
            out[doc_id] = normalise(load_source(Path(row["source_path"])).text)
        except Exception:  # noqa: BLE001 - a moved file only lowers the reported share
            out[doc_id] = ""
    return out
