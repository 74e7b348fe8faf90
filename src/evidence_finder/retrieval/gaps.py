"""What the reports do not say: a question that asks for a figure no passage gives.

A figure question ('how many …', 'welk percentage …') is answered only by a sentence that
gives a number *and* is about the question's subject. When none of the top passages has
such a sentence, the reports give no figure for it, however on-topic the passages are; the
answer then says so and shows the nearest evidence, marked as such.
"""

from __future__ import annotations

import re

from evidence_finder.index.snapshot import Snapshot
from evidence_finder.ingest.roles import figure_score
from evidence_finder.text.glossary import glossary_matches
from evidence_finder.text.sentences import split_sentences
from evidence_finder.text.tokens import tokenize
from evidence_finder.types import Hit

# Words that ask for a figure or frame the question; they name no subject.
_FRAME = frozenset(tokenize(
    "hoeveel hoe vaak percentage procent aandeel deel aantal aantallen welk welke wat cijfer cijfers "
    "groot hoog how many much often share percentage percent proportion number numbers rate which what "
    "figure figures did do does were was is are er in de het van op voor met"
))


def _concepts(question: str, lang: str) -> list[tuple[str, ...]]:
    concepts: list[tuple[str, ...]] = []
    covered: set[str] = set()
    if lang == "en":
        for english, dutch in glossary_matches(question):
            stems = tuple(t for t in dict.fromkeys(tokenize(f"{english} {dutch}")) if t not in _FRAME)
            if stems:
                concepts.append(stems)
                covered.update(tokenize(english))
    for t in dict.fromkeys(tokenize(question)):
        if t not in _FRAME and t not in covered and not re.fullmatch(r"(?:19|20)\d\d", t):
            concepts.append((t,))
    return concepts


def _met(stems: tuple[str, ...], tokens: set[str]) -> bool:
    return any(s in tokens or (len(s) >= 5 and any(t.startswith(s[:5]) for t in tokens)) for s in stems)


def figure_coverage(question: str, lang: str, hits: list[Hit], snap: Snapshot) -> float:
    """The best IDF-weighted share of the question's subject that a number-giving sentence
    of the hits covers (0 when no hit gives a number)."""
    concepts = _concepts(question, lang)
    if not concepts:
        return 1.0
    weights = [max(snap.bm25.idf(s) for s in stems) or 1.0 for stems in concepts]
    total = sum(weights)
    best = 0.0
    for hit in hits:
        text = hit.passage.text
        for s, e in split_sentences(text):
            sentence = text[s:e]
            if figure_score(sentence) < 1.0:
                continue
            tokens = set(tokenize(sentence))
            got = sum(w for w, stems in zip(weights, concepts) if _met(stems, tokens))
            best = max(best, got / total)
    return best


def facet_gap(question: str, snap: Snapshot) -> str:
    """'adult education in Flanders' when the question names a sector no report covers, or a
    sector and a region that no report covers together; '' when the reports cover them."""
    from evidence_finder.ingest.facets import regions_named, sectors_named

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
