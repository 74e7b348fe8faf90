"""Findings answers for 'what hinders / what helps / what did it bring' and questions across
reports: one finding per idea, grouped by theme (its evidence role), strongest first
(stated in more passages and reports), figures only when asked, and a closing line naming
the reports that say nothing on it. English questions get a short English label per finding
(its role and the glossary terms it uses) before the verbatim Dutch sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidence_finder.answer.citations import CitationBook
from evidence_finder.answer.messages import msg
from evidence_finder.answer.verify import normalise_ws, same_idea
from evidence_finder.ingest.roles import sentence_role
from evidence_finder.types import Answer, SearchResult

if TYPE_CHECKING:
    from evidence_finder.answer.extractive import Candidate, ExtractiveComposer

FINDING_ROLES = ("barrier", "enabler", "outcome", "recommendation")
ROLE_ORDER = ("barrier", "enabler", "outcome", "recommendation", "figure", "description")


@dataclass
class FindingOptions:
    max_findings: int = 12
    min_findings: int = 6  # fewer stated findings: top up with other evidence, shown apart
    per_passage: int = 2  # findings from one passage at most (one paragraph, one idea)
    asked_role_factor: float = 1.6  # a sentence in the role the question asks for
    other_role_factor: float = 1.2  # a sentence stating another kind of finding
    description_factor: float = 0.8  # context and method text
    support_overlap: float = 0.2  # content-token Jaccard at which another passage says the same
    support_bonus: float = 0.15  # per supporting passage (at most 3)
    per_doc_decay: float = 0.85  # spread over reports
    max_redundancy: float = 0.5
    same_idea: float = 0.8  # content-token containment at which another passage states the same finding
    max_also: int = 2  # passages cited beside a finding's own for the same idea
    lead_passages: int = 3  # the best-ranked passages each give a finding, whatever its role


def wants_findings(intents: tuple[str, ...] | set[str] | frozenset[str]) -> bool:
    """Questions answered as grouped findings rather than a lead sentence and bullets."""
    return bool(set(intents) & set(FINDING_ROLES)) or "comparison" in intents


def wanted_roles(intents: tuple[str, ...] | set[str] | frozenset[str]) -> set[str]:
    wanted = set(intents) & set(FINDING_ROLES)
    if wanted & {"barrier", "enabler"}:
        wanted |= {"barrier", "enabler"}  # reports state a success factor as a barrier's absence
    return wanted or set(FINDING_ROLES)


@dataclass
class _Finding:
    cand: Candidate
    role: str
    score: float
    tokens: frozenset[str]
    support: int = 0
    docs: int = 1


def compose_findings(composer: ExtractiveComposer, question: str, result: SearchResult,
                     opts: FindingOptions | None = None) -> Answer | None:
    """A findings answer, or None when no sentence qualifies (the caller falls back)."""
    from evidence_finder.answer.extractive import _overlaps  # here: extractive imports this module

    c_opts = composer.options
    opts = opts or FindingOptions(max_findings=c_opts.max_findings, min_findings=c_opts.min_findings,
                                  per_passage=c_opts.findings_per_passage, same_idea=c_opts.same_idea,
                                  max_also=c_opts.max_also, lead_passages=c_opts.lead_passages)
    intents = set(result.intents)
    wanted = wanted_roles(intents)
    cands = composer.candidates(question, result)
    if cands and max(c.lexical for c in cands) > 0:
        cands = [c for c in cands if c.lexical > 0]
    findings: list[_Finding] = []
    for c in cands:
        role = sentence_role(c.text, c.hit.passage.section)
        if role == "boilerplate" or (role == "figure" and "figure" not in intents):
            continue  # figures only when asked for
        factor = (opts.asked_role_factor if role in wanted and role in intents else
                  opts.asked_role_factor if role in wanted else
                  opts.other_role_factor if role in FINDING_ROLES else opts.description_factor)
        findings.append(_Finding(c, role, c.score * factor, c.idea))
    if not any(f.role in FINDING_ROLES or f.role == "figure" for f in findings):
        return None  # no sentence states a finding: the plain composer answers
    _count_support(findings, opts)
    stated = [f for f in findings if f.role != "description"]
    chosen = _select(stated, opts, _overlaps)
    floor = min(opts.min_findings, opts.max_findings)
    if len(chosen) < floor:  # top up with the best other evidence, shown apart
        rest = [f for f in findings if f.role == "description"]
        chosen = _select(rest, opts, _overlaps, chosen, floor)
    chosen = _lead(findings, result, chosen, opts, _overlaps)
    if not chosen:
        return None
    return _render(question, result, chosen, composer, wanted)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _count_support(findings: list[_Finding], opts: FindingOptions) -> None:
    """How many other passages (and reports) say the same: the strength of a finding."""
    for f in findings:
        passages, docs = set(), set()
        for g in findings:
            if g.cand.hit.passage.id == f.cand.hit.passage.id:
                continue
            if _jaccard(f.tokens, g.tokens) >= opts.support_overlap:
                passages.add(g.cand.hit.passage.id)
                docs.add(g.cand.hit.passage.doc_id)
        f.support = len(passages)
        f.docs = 1 + len(docs - {f.cand.hit.passage.doc_id})
        f.score *= 1.0 + opts.support_bonus * min(f.support, 3)


def _select(findings: list[_Finding], opts: FindingOptions, overlaps: Callable[[Candidate, Candidate], bool],
            chosen: list[_Finding] | None = None, limit: int | None = None) -> list[_Finding]:
    """Greedy: best first, at most ``per_passage`` findings from one passage, none repeating
    a chosen one, damped per report."""
    pool = sorted(findings, key=lambda f: -f.score)
    chosen = list(chosen or [])
    limit = limit or opts.max_findings
    used_passages: Counter[str] = Counter(f.cand.hit.passage.id for f in chosen)
    while pool and len(chosen) < limit:
        per_doc = Counter(f.cand.hit.passage.doc_id for f in chosen)
        pick = max(pool, key=lambda f: f.score * opts.per_doc_decay ** per_doc[f.cand.hit.passage.doc_id])
        pool.remove(pick)
        pid = pick.cand.hit.passage.id
        if used_passages[pid] >= opts.per_passage:
            continue
        same = next((f for f in chosen if f.cand.hit.passage.id != pid and not overlaps(pick.cand, f.cand)
                     and same_idea(pick.tokens, f.tokens, opts.same_idea)), None)
        if same is not None:  # one finding per idea, cited from every passage that states it
            same.cand.add_support(pick.cand, opts.max_also)
            continue
        if any(overlaps(pick.cand, f.cand) or _jaccard(pick.tokens, f.tokens) > opts.max_redundancy
               for f in chosen):
            continue
        chosen.append(pick)
        used_passages[pid] += 1
    return chosen


def _lead(findings: list[_Finding], result: SearchResult, chosen: list[_Finding], opts: FindingOptions,
          overlaps: Callable[[Candidate, Candidate], bool]) -> list[_Finding]:
    """The search's best passages are in the answer: each of the top ``lead_passages`` that no
    finding cites yet gives its best sentence (in whatever role); when the answer is full, in
    place of the weakest finding that is not the last of a top passage."""
    chosen = list(chosen)
    top = {h.passage.id for h in result.hits[: opts.lead_passages]}
    for hit in result.hits[: opts.lead_passages]:
        pid = hit.passage.id
        if any(f.cand.hit.passage.id == pid or any(a.hit.passage.id == pid for a in f.cand.also) for f in chosen):
            continue
        own = [f for f in findings if f.cand.hit.passage.id == pid
               and not any(overlaps(f.cand, g.cand) for g in chosen)]
        if not own:
            continue
        if len(chosen) >= opts.max_findings:
            per_passage = Counter(f.cand.hit.passage.id for f in chosen)
            replaceable = [f for f in chosen  # never the last finding of a top passage
                           if f.cand.hit.passage.id not in top or per_passage[f.cand.hit.passage.id] > 1]
            if not replaceable:
                break  # top passages fill the answer already
            chosen.remove(min(replaceable, key=lambda f: f.score))
        chosen.append(max(own, key=lambda f: f.score))
    return chosen


def _render(question: str, result: SearchResult, chosen: list[_Finding], composer: ExtractiveComposer,
            wanted: set[str]) -> Answer:
    lang = result.lang
    book = CitationBook()
    groups: dict[str, list[_Finding]] = {}
    for f in chosen:
        groups.setdefault(f.role, []).append(f)
    lines: list[str] = []
    for role in sorted(groups, key=lambda r: (r not in wanted, ROLE_ORDER.index(r))):
        items = sorted(groups[role], key=lambda f: (-f.docs, -f.support, -f.score))
        lines.append(f"**{msg('role_' + role, lang)}**")
        for f in items:
            c = f.cand
            n = book.cite(c.hit, c.start, c.end)
            if n is None:
                continue
            more = [m for m in (book.cite(a.hit, a.start, a.end) for a in c.also) if m is not None]
            short = (c.hit.meta.short_title if c.hit.meta and c.hit.meta.short_title else c.hit.title)
            label = short
            if lang == "en":
                terms = composer.english_terms(c.text)
                gist = msg("role_label_" + role, lang) + (f" — {', '.join(terms)}" if terms else "")
                label = f"{gist} ({short})"
            markers = " ".join(f"[{k}]" for k in [n, *more])
            lines.append(f"- {label}: {normalise_ws(c.text)} {markers}")
        lines.append("")
    silent = _silent_reports(result, chosen)
    if silent:
        lines.append(msg("silent_reports", lang, reports="; ".join(silent)))
    text = "\n".join(lines).strip()
    return Answer(question, text, book.citations, backend="extractive", lang=lang, hits=result.hits)


def _silent_reports(result: SearchResult, chosen: list[_Finding]) -> list[str]:
    """Reports in the index of which nothing was found on the question (not merely not chosen)."""
    view = result.view
    if view is None or not view.metas:
        return []
    metas = view.metas
    found = {h.passage.doc_id for h in result.hits} | {f.cand.hit.passage.doc_id for f in chosen}
    return sorted((m.short_title or m.title) for d, m in metas.items() if d not in found)
