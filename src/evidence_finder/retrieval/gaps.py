"""What the reports do not say: a question about a sector, or a sector in a region, that no
report covers; about a year no report mentions; or about an Erasmus+ programme strand no
report mentions. The answer then says so and shows the nearest evidence, marked as such.

(A check for figure questions whose subject no passage gives a number for was tried: on
dev its coverage score did not separate answerable from unanswerable figure questions,
so it is not used; see docs/retrieval-experiments.md.)
"""

from __future__ import annotations

from evidence_finder.index.snapshot import Snapshot
from evidence_finder.ingest.facets import (
    STRAND_CUES,
    regions_named,
    sectors_named,
    strands_named,
    year_pattern,
    years_named,
)


def facet_gap(question: str, snap: Snapshot) -> str:
    """'adult education — Flanders' when the question names a sector no report covers, or a
    sector and a region that no report covers together; '2023' or 'Jean Monnet' when it names
    a year or a programme strand that no passage mentions; '' when the reports cover them."""
    named = [*((y, year_pattern(y)) for y in years_named(question)),
             *((s, STRAND_CUES[s]) for s in strands_named(question))]
    unmentioned = [v for v, rx in named if not any(rx.search(p.text) for p in snap.passages)]
    return " / ".join(unmentioned) or _sector_gap(question, snap)


def _sector_gap(question: str, snap: Snapshot) -> str:
    sectors, regions = sectors_named(question), regions_named(question)
    if not sectors:
        return ""
    known = {s for m in snap.metas.values() for s in m.sectors} | {s for p in snap.passages for s in p.sectors}
    missing = [s for s in sectors if s not in known]
    if missing:
        return " / ".join(missing)
    if not regions:
        return ""
    covered = set()
    for m in snap.metas.values():
        if m.region in regions:
            covered |= set(m.sectors)
    for p in snap.passages:
        meta = snap.metas.get(p.doc_id)
        if meta is not None and meta.region in regions:
            covered |= set(p.sectors)
    if any(s in covered for s in sectors):
        return ""
    return f"{' / '.join(sectors)} — {' / '.join(regions)}"
