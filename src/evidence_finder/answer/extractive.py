"""Extractive composer (the default, offline backend): answer with sentences the passages say.

Sentences are ranked *without new embeddings* — lexical overlap with the question (Dutch
stemming, the English→Dutch glossary for English questions, IDF weights over the whole
index), the rank of the passage they come from, and their position in their paragraph —
then chosen greedily with diversity across documents. The embedder can add a signal for
the few best candidates (``ComposerOptions.use_embedder``); it is off by default because
embedding is the cost on a CPU. Every sentence of the answer is a verbatim span of a
passage and ends with its marker ``[n]``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from evidence_finder.answer.citations import CitationBook
from evidence_finder.answer.findings import wants_findings
from evidence_finder.answer.messages import msg
from evidence_finder.answer.sentences import Sentence, passage_sentences
from evidence_finder.answer.verify import content_tokens, idea_tokens, normalise_ws, same_idea
from evidence_finder.models.embedders import Embedder
from evidence_finder.settings import ComposerSettings
from evidence_finder.text.glossary import english_labels, glossary_matches
from evidence_finder.text.tokens import tokenize
from evidence_finder.types import Answer, Hit, SearchResult

# Words that frame a question rather than name its topic.
QUESTION_FRAME = frozenset(tokenize(
    "welke welk wat hoe waarom waar wanneer wie which what how why where when who whom whose does "
    "do did say says said zeggen zegt rapport rapporten report reports document documenten documents "
    "vraag question tell describe beschrijf noem geef give list there er find vind"
))
_ANAPHORA = frozenset(
    [
        "dat", "dit", "deze", "die", "daardoor", "daarom", "hierdoor", "hiermee", "daarbij",
        "daarmee", "hij", "zij", "ze", "this", "that", "these", "those", "they", "it", "thus",
        "therefore", "such",
    ]
)


# The options are a settings section (answer.composer: EVIDENCE_ANSWER__COMPOSER__*), so
# every tunable has one default and one description; this name stays for callers.
ComposerOptions = ComposerSettings


@dataclass
class TermStats:
    """Document frequencies of stemmed tokens over all indexed units (for IDF weights)."""

    n: int = 0
    df: Counter[str] = field(default_factory=Counter)

    @staticmethod
    def build(texts: Iterable[str]) -> TermStats:
        stats = TermStats()
        for text in texts:
            stats.n += 1
            stats.df.update(set(tokenize(text)))  # not content_tokens: keep its cache for sentences
        return stats

    def idf(self, token: str) -> float:
        return math.log(1.0 + (self.n + 1) / (self.df.get(token, 0) + 0.5))


@dataclass
class Candidate:
    hit: Hit
    rank: int
    start: int  # span in hit.passage.text
    end: int
    sentence: Sentence
    score: float = 0.0
    lexical: float = 0.0
    also: list[Candidate] = field(default_factory=list)  # other passages stating the same idea

    @cached_property
    def idea(self) -> frozenset[str]:
        """The sentence's content words as ideas compare (``answer.verify.idea_tokens``)."""
        return idea_tokens(self.text)

    def add_support(self, other: Candidate, limit: int) -> None:
        """Cite ``other`` beside this sentence: another passage says the same (at most
        ``limit`` such passages, one sentence each)."""
        if len(self.also) < limit and other.hit.passage.id != self.hit.passage.id and all(
                a.hit.passage.id != other.hit.passage.id for a in self.also):
            self.also.append(other)

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start:self.end]

    @property
    def clean_span(self) -> tuple[int, int]:
        cs = self.hit.passage.clean_start
        return cs + self.start, cs + self.end


Concept = tuple[float, tuple[str, ...]]  # (weight, stems any one of which expresses it)


def question_terms(question: str, lang: str) -> list[Concept]:
    """The question's topic concepts. A question word is one concept. An English phrase the
    glossary knows ('hinders', 'teacher training') becomes one concept met by the phrase
    itself or any of its Dutch terms: counted apart, its Dutch synonyms would let one idea
    outweigh the rest of the question, and its rare English stems would swamp the scale."""
    concepts: list[Concept] = []
    covered: set[str] = set()
    if lang == "en":
        for english, dutch in glossary_matches(question):
            stems = tuple(dict.fromkeys(t for t in tokenize(f"{english} {dutch}") if t not in QUESTION_FRAME))
            if stems:
                concepts.append((1.0, stems))
                covered.update(tokenize(english))
    for t in dict.fromkeys(tokenize(question)):
        if t not in QUESTION_FRAME and t not in covered:
            concepts.append((1.0, (t,)))
    return concepts


def token_match(term: str, tokens: frozenset[str]) -> float:
    """1 for the same stem, 0.7 for a near stem ('aanvraag'/'aanvrag'), 0.5 inside a compound."""
    if term in tokens:
        return 1.0
    best = 0.0
    for tok in tokens:
        short, long_ = sorted((term, tok), key=len)
        if len(short) >= 5:
            prefix = len(_common_prefix(short, long_))
            if prefix >= 5 and prefix >= 0.8 * len(short) and len(long_) - len(short) <= 2:
                best = max(best, 0.7)
            elif short in long_:
                best = max(best, 0.5)
    return best


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]


def lexical_score(terms: list[Concept], text: str, stats: TermStats) -> float:
    """IDF-weighted share of the question's topic concepts that ``text`` expresses."""
    if not terms:
        return 0.0
    tokens = content_tokens(text)
    # A concept weighs the mean IDF of its expressions and is met by its best-matching one.
    weights = [w * sum(stats.idf(t) for t in stems) / len(stems) for w, stems in terms]
    total = sum(weights)
    got = sum(wt * max(token_match(t, tokens) for t in stems) for wt, (_, stems) in zip(weights, terms))
    return got / total if total else 0.0


class ExtractiveComposer:
    """Composes an answer from verbatim passage sentences."""

    name = "extractive"

    def __init__(self, stats: TermStats | None = None, options: ComposerOptions | None = None,
                 embedder: Embedder | None = None,
                 query_vector: Callable[[str], np.ndarray] | None = None) -> None:
        self.stats = stats or TermStats()
        self.options = options or ComposerOptions()
        self.embedder = embedder
        self.query_vector = query_vector  # the searcher's cached question vector, when it has one
        self._idf: dict[str, float] | None = None

    # ------------------------------------------------------------------ candidates
    def candidates(self, question: str, result: SearchResult) -> list[Candidate]:
        opts = self.options
        terms = question_terms(question, result.lang)
        out: list[Candidate] = []
        for rank, hit in enumerate(result.hits):
            if hit.passage.kind == "table":
                continue  # a caption names a table; it does not state a finding
            sentences = passage_sentences(hit.passage.text)
            block_lex: dict[int, float] = {}
            for b in {s.block for s in sentences}:
                block_text = " ".join(s.text for s in sentences if s.block == b and not s.instruction_like)
                block_lex[b] = lexical_score(terms, block_text, self.stats)
            for i, s in enumerate(sentences):
                if s.instruction_like:
                    continue  # text that addresses a model is data, never an answer
                if s.kind != "quote" and not states_a_finding(s.text):
                    continue
                start = s.start
                if _is_anaphoric(s.text) and i > 0 and sentences[i - 1].block == s.block \
                        and not sentences[i - 1].instruction_like:
                    start = sentences[i - 1].start  # 'Dat ontmoedigt …' needs what 'dat' is
                c = Candidate(hit, rank, start, s.end, s)
                c.lexical = lexical_score(terms, c.text, self.stats)
                prior = 1.0 / (1.0 + 0.25 * rank)
                position = 1.0 if s.position == 0 else 0.0
                # The paragraph's relevance lifts a sentence that explains its neighbour.
                score = 0.5 * c.lexical + 0.2 * block_lex[s.block] + 0.2 * prior + 0.1 * position
                if s.kind == "quote":
                    score *= opts.quote_factor
                if s.words < 6:
                    score *= 0.7
                elif s.words > 50:
                    score *= 0.8
                c.score = score
                out.append(c)
        if opts.use_embedder and self.embedder is not None and out:
            self._add_embedding_signal(question, out)
        return out

    def _add_embedding_signal(self, question: str, cands: list[Candidate]) -> None:
        assert self.embedder is not None
        top = sorted(cands, key=lambda c: -c.score)[: self.options.embed_candidates]
        qv = self.query_vector(question) if self.query_vector else self.embedder.embed_query(question)
        vecs = self.embedder.embed_passages([normalise_ws(c.text) for c in top])
        for c, sim in zip(top, np.asarray(vecs) @ qv):
            c.score += self.options.embed_weight * float(sim)

    # ------------------------------------------------------------------ selection
    def select(self, cands: list[Candidate], lang: str = "nl", limit: int | None = None
               ) -> list[Candidate]:
        opts = self.options
        limit = limit or opts.max_sentences
        if not cands:
            return []
        pool = sorted(cands, key=lambda c: (-c.score, c.rank, c.start))
        if max(c.lexical for c in pool) > 0:
            pool = [c for c in pool if c.lexical > 0]
        elif lang == "en" and opts.cross_lingual_fallback:
            # An English question may share no word with Dutch passages the glossary misses:
            # trust the (multilingual) ranking for a short answer from the top passages.
            limit = min(limit, 2)
        else:
            return []  # no sentence shares a word with the question: nothing shows it answers it
        chosen: list[Candidate] = []
        best = pool[0].score
        pool = [c for c in pool if c.score >= opts.min_relative_score * best]
        while pool and len(chosen) < limit:
            # Diversity: each sentence already taken from a document damps that document.
            per_doc = Counter(c.hit.passage.doc_id for c in chosen)
            per_passage = Counter(c.hit.passage.id for c in chosen)
            _adjusted, pick = max(
                ((c.score * opts.per_doc_decay ** per_doc[c.hit.passage.doc_id]
                  * opts.per_passage_decay ** per_passage[c.hit.passage.id], c) for c in pool),
                key=lambda x: (x[0], -x[1].rank, -x[1].start))
            pool.remove(pick)
            if any(_overlaps(pick, c) for c in chosen):
                continue
            same = next((c for c in chosen if c.hit.passage.id != pick.hit.passage.id
                         and same_idea(pick.idea, c.idea, opts.same_idea)), None)
            if same is not None:  # one statement per idea, cited from every passage that makes it
                same.add_support(pick, opts.max_also)
                continue
            if any(_redundant(pick, c, opts.max_redundancy) for c in chosen):
                continue
            chosen.append(pick)
        return chosen

    # ------------------------------------------------------------------ compose
    def compose(self, question: str, result: SearchResult) -> Answer:
        if result.abstain or not result.hits:
            return abstained_answer(question, result)
        if self.options.findings and wants_findings(result.intents):
            from evidence_finder.answer.findings import compose_findings

            grouped = compose_findings(self, question, result)
            if grouped is not None:
                return grouped
        chosen = self.select(self.candidates(question, result), result.lang)
        book = CitationBook()
        lines: list[str] = []
        for c in chosen:
            n = book.cite(c.hit, c.start, c.end)
            if n is None:  # cannot happen for a span cut from the passage; never cite unverified
                continue
            more = [m for m in (book.cite(a.hit, a.start, a.end) for a in c.also) if m is not None]
            gist = self.english_gist(c.text) if result.lang == "en" else ""
            lines.append(f"{gist}{normalise_ws(c.text)} " + " ".join(f"[{k}]" for k in [n, *more]))
        if not lines:
            answer = abstained_answer(question, result)
            answer.notices.append(msg("no_match", result.lang))
            return answer
        text = lines[0] + ("\n\n" + "\n".join(f"- {line}" for line in lines[1:]) if len(lines) > 1 else "")
        return Answer(question, text, book.citations, backend=self.name, lang=result.lang,
                      hits=result.hits)

    def idf_weights(self) -> dict[str, float]:
        """IDF of every indexed stem (for English labels: the most telling terms first)."""
        if self._idf is None:
            self._idf = {t: self.stats.idf(t) for t in self.stats.df} if self.stats.n else {}
        return self._idf

    def english_terms(self, dutch_text: str) -> list[str]:
        """The English glossary terms a Dutch sentence uses, most telling first (at most 3)."""
        return english_labels(dutch_text, self.idf_weights(), limit=3)

    def english_gist(self, dutch_text: str) -> str:
        """'(co-financing, daily allowance) ' before a Dutch sentence in an English answer, so
        an English reader sees what it is about; '' when it uses no glossary term."""
        terms = self.english_terms(dutch_text)
        return f"({', '.join(terms)}) " if terms else ""

    def compose_quotes(self, question: str, result: SearchResult) -> Answer:
        """Quote mode: respondent quotes, verbatim, ranked by topic and by the speaker asked
        for, each with its speaker (see ``answer.quotes``)."""
        if result.abstain and result.hits:  # no hits at all is reported as 'no quotes' there
            return abstained_answer(question, result, mode="quotes")
        from evidence_finder.answer.quotes import compose_quotes

        return compose_quotes(self, question, result)


def abstained_answer(question: str, result: SearchResult, mode: str = "answer",
                     backend: str = "extractive") -> Answer:
    return Answer(question, msg("no_evidence", result.lang), [], backend=backend, abstained=True,
                  lang=result.lang, mode=mode, hits=result.hits)


_NOT_A_FINDING = re.compile(
    r"^(?:Noot|Note|Bron|Source|Toelichting|Legenda|N\s*=|n\s*=)\b|[❑☐□■▪]", re.IGNORECASE)
_NUMBERISH = re.compile(r"^[\d.,%()=/<>+-]+$|^n=\d+\)?$", re.IGNORECASE)


def states_a_finding(text: str) -> bool:
    """Whether a report sentence can stand as an answer: not a table note ('Noot. n = …'),
    a questionnaire item or other question, a checkbox list, or a row of figures."""
    t = text.strip()
    if not t or t.endswith(("?", "...")) or re.search(r"\?[A-Z]", t) or _NOT_A_FINDING.search(t):
        return False
    words = t.split()
    figures = sum(1 for w in words if _NUMBERISH.match(w.strip("();:")))
    return not (len(words) >= 4 and figures / len(words) > 0.4)


def _is_anaphoric(text: str) -> bool:
    first = text.split(None, 1)[0].strip("“”\"'‘’(,").lower() if text.split() else ""
    return first in _ANAPHORA


def _overlaps(a: Candidate, b: Candidate) -> bool:
    if a.hit.passage.doc_id != b.hit.passage.doc_id:
        return False
    (s1, e1), (s2, e2) = a.clean_span, b.clean_span
    return s1 < e2 and s2 < e1


def _redundant(a: Candidate, b: Candidate, limit: float) -> bool:
    ta, tb = content_tokens(a.text), content_tokens(b.text)
    if not ta or not tb:
        return normalise_ws(a.text) == normalise_ws(b.text)
    return len(ta & tb) / len(ta | tb) > limit
