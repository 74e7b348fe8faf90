"""Quote mode: respondent quotes, verbatim, ranked by topic first and by the speaker the
question asks for ('quotes from teachers about job shadowing': quotes about job shadowing
spoken by teachers, then other quotes about job shadowing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidence_finder.answer.citations import CitationBook
from evidence_finder.answer.messages import msg
from evidence_finder.answer.verify import is_instruction_like, normalise_ws
from evidence_finder.ingest.speakers import question_speaker, question_topic, speaker_label, speaker_matches
from evidence_finder.types import Answer, Hit, SearchResult

if TYPE_CHECKING:
    from evidence_finder.answer.extractive import ExtractiveComposer


@dataclass
class RankedQuote:
    hit: Hit
    rank: int  # retrieval rank
    topic: float  # lexical match of the quote and its paragraph with the question's topic
    score: float
    by_wanted: bool  # spoken by the speaker the question asks for

    def key(self) -> tuple[int, float, int]:
        on_topic = self.topic > 0
        tier = 0 if on_topic and self.by_wanted else 1 if on_topic else 2 if self.by_wanted else 3
        return tier, -self.score, self.rank


def rank_quotes(composer: ExtractiveComposer, question: str, result: SearchResult) -> list[RankedQuote]:
    """The quote hits of ``result`` in the order quote mode shows them. When some quote is on
    the topic, quotes that are not are dropped."""
    from evidence_finder.answer.extractive import lexical_score, question_terms

    wanted = question_speaker(question)
    terms = question_terms(question_topic(question) if wanted else question, result.lang)
    ranked: list[RankedQuote] = []
    for rank, hit in enumerate(result.hits):
        p = hit.passage
        if p.kind != "quote" or is_instruction_like(p.text):
            continue
        lex = lexical_score(terms, p.text, composer.stats)
        ctx = lexical_score(terms, p.context, composer.stats) if p.context else 0.0
        by_wanted = bool(wanted and p.speaker and speaker_matches(p.speaker, wanted))
        score = 0.5 * lex + 0.2 * ctx + 0.3 / (1.0 + 0.25 * rank)
        ranked.append(RankedQuote(hit, rank, lex + ctx, score, by_wanted))
    if any(r.topic > 0 for r in ranked):
        ranked = [r for r in ranked if r.topic > 0]
    return sorted(ranked, key=RankedQuote.key)


def compose_quotes(composer: ExtractiveComposer, question: str, result: SearchResult) -> Answer:
    book = CitationBook()
    lines = []
    for r in rank_quotes(composer, question, result)[: composer.options.max_quotes]:
        n = book.cite(r.hit, 0, len(r.hit.passage.text))
        if n is not None:
            lines.append(f"- {normalise_ws(r.hit.passage.text)} ({quote_source(r.hit)}) [{n}]")
    name = composer.name
    if not lines:
        return Answer(question, msg("no_quotes", result.lang), [], backend=name,
                      abstained=True, lang=result.lang, mode="quotes", hits=result.hits)
    text = msg("quotes_lead", result.lang) + "\n\n" + "\n".join(lines)
    return Answer(question, text, book.citations, backend=name, lang=result.lang,
                  mode="quotes", hits=result.hits)


def quote_source(hit: Hit) -> str:
    """'speaker; document title, section': the normalised speaker (role, organisation), never
    the lead-in sentence that introduced the quote; parts that are missing are left out."""
    p = hit.passage
    section = p.section.split(" > ")[-1] if p.section else ""
    where = ", ".join(x for x in (hit.title, section if section != hit.title else "") if x)
    who = speaker_label(p.speaker, p.speaker_org, p.attribution)
    return "; ".join(x for x in (who, where) if x)
