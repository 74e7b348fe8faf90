"""Answer service: the one entry point of the answer stage (CLI, web chat and evals use it).

``ask`` returns a finished :class:`Answer`; ``stream`` yields :class:`AnswerEvent` s —
``delta`` pieces of text as they come, ``notice`` s, and one final ``answer`` event whose
Answer is the verified, definitive version (a UI replaces the streamed text with it).

Backends: the extractive composer (default, offline) or an LLM (settings.llm.backend).
When retrieval abstains no backend is asked; when the LLM fails or its answer cannot be
verified, the extractive answer is returned with a notice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from typing import Literal

from evidence_finder.answer.extractive import (
    ComposerOptions,
    ExtractiveComposer,
    TermStats,
    abstained_answer,
)
from evidence_finder.answer.followup import carry_over_topic, facet_follow_up, is_follow_up
from evidence_finder.answer.messages import msg
from evidence_finder.answer.postprocess import postprocess
from evidence_finder.answer.prompts import answer_prompt, condense_prompt
from evidence_finder.errors import BadInputError, EvidenceError
from evidence_finder.ingest.facets import groups_named
from evidence_finder.models.llm import LLMBackend
from evidence_finder.retrieval.search import Filters, Searcher, clean_question
from evidence_finder.settings import Settings
from evidence_finder.text.lang import detect_language
from evidence_finder.types import Answer, SearchResult

log = logging.getLogger(__name__)
Mode = Literal["answer", "quotes"]
MODES = ("answer", "quotes")


@dataclass
class AnswerEvent:
    """One streamed event: ``delta`` (text piece), ``notice`` (a message) or ``answer`` (final)."""

    type: Literal["delta", "notice", "answer"]
    text: str = ""
    answer: Answer | None = None


class AnswerService:
    """Grounded answers with verified citations over one index."""

    def __init__(self, searcher: Searcher, settings: Settings, *,
                 options: ComposerOptions | None = None,
                 unsupported: Literal["remove", "flag"] = "remove") -> None:
        self.searcher = searcher
        self.settings = settings
        self.options = options or settings.answer.composer
        self.unsupported = unsupported
        self.llm: LLMBackend | None = (
            LLMBackend(settings.llm) if settings.llm.backend != "none" else None)
        self._stats: TermStats | None = None
        self._stats_of: tuple[int, int] = (0, -1)

    # ------------------------------------------------------------------ public
    def ask(self, question: str, *, filters: Filters | None = None, mode: Mode = "answer",
            history: list[tuple[str, str]] | None = None, k: int | None = None) -> Answer:
        final: Answer | None = None
        for event in self.stream(question, filters=filters, mode=mode, history=history, k=k):
            if event.type == "answer":
                final = event.answer
        assert final is not None
        return final

    def stream(self, question: str, *, filters: Filters | None = None, mode: Mode = "answer",
               history: list[tuple[str, str]] | None = None, k: int | None = None
               ) -> Iterator[AnswerEvent]:
        t0 = time.perf_counter()
        k = self.settings.answer.passages if k is None else k
        if mode not in MODES:
            raise BadInputError(f"answer mode {mode!r} is unknown: use 'answer' or 'quotes'")
        q = clean_question(question)
        lang = detect_language(q)
        notices: list[str] = []
        search_q, filters = self._read(q, history, filters, lang, notices)
        if mode == "quotes":
            quote_filters = replace(filters or Filters(), kinds=["quote"])
            result = self.searcher.search(search_q, k=max(k, 12), filters=quote_filters)
            answer = self.composer().compose_quotes(search_q, result)
        else:
            result = self.searcher.search(search_q, k=k, filters=filters)
            if result.gap and result.hits:  # say what the reports do not cover, then the nearest
                answer = self._nearest(search_q, result)
            elif result.abstain or not result.hits:
                answer = abstained_answer(q, result)  # no backend may answer from its own knowledge
            elif self.llm is not None:
                answer = yield from self._llm_answer(search_q, result, lang)
            else:
                answer = self.composer().compose(search_q, result)
        answer.question = q
        answer.search_question = search_q
        on = (filters or Filters()).describe()
        answer.reading = f"{search_q} — {on}" if on else search_q
        answer.view = result.view  # the UI reads the text around citations from the same state
        answer.notices = notices + answer.notices
        answer.elapsed_ms = (time.perf_counter() - t0) * 1000
        if answer.backend == "extractive" or answer.abstained or mode == "quotes":
            yield AnswerEvent("delta", answer.text)
        for notice in answer.notices:
            yield AnswerEvent("notice", notice)
        yield AnswerEvent("answer", answer.text, answer)

    def _nearest(self, question: str, result: SearchResult) -> Answer:
        """'The reports give no evidence on X', then the nearest evidence, marked as such."""
        nearest = self.composer().compose(question, replace(result, abstain=False))
        lead = msg("gap", result.lang, gap=result.gap)
        if nearest.citations:
            nearest.text = f"{lead} {msg('nearest', result.lang)}\n\n{nearest.text}"
        else:
            nearest.text = lead
        nearest.abstained = True
        return nearest

    def composer(self) -> ExtractiveComposer:
        return ExtractiveComposer(self._term_stats(), self.options, self.searcher.embedder,
                                  getattr(self.searcher, "query_vector", None))

    # ------------------------------------------------------------------ internals
    def _term_stats(self) -> TermStats:
        passages = self.searcher.snapshot().passages
        key = (id(passages), len(passages))
        if self._stats is None or key != self._stats_of:  # rebuilt after a reload()
            self._stats = TermStats.build(p.text for p in passages)
            self._stats_of = key
        return self._stats

    def _read(self, q: str, history: list[tuple[str, str]] | None, filters: Filters | None,
              lang: str, notices: list[str]) -> tuple[str, Filters | None]:
        """What to search, and with which filters: a facet follow-up ('and in MBO?') is the
        earlier question with that facet as a filter; other follow-ups are made standalone."""
        facet = facet_follow_up(q, history)
        if facet is not None and not (facet.sectors or facet.regions) and self.llm is not None:
            facet = None  # only a new group ('en voor studenten?'): the model rewrites it better
        if facet is None:
            return self._standalone(q, history, lang, notices), filters
        base = filters or Filters()
        return facet.question, replace(base, sectors=list(facet.sectors) or base.sectors,
                                       regions=list(facet.regions) or base.regions,
                                       groups=list(groups_named(facet.group)) or base.groups)

    def _standalone(self, q: str, history: list[tuple[str, str]] | None, lang: str,
                    notices: list[str]) -> str:
        if not history:
            return q
        if self.llm is None:
            return carry_over_topic(q, history)
        if not is_follow_up(q):
            return q
        try:
            system, user = condense_prompt(q, history)
            text = " ".join(self.llm.complete(system, user).split())
            text = text.removeprefix("Standalone question:").strip().strip('"“”')
            if 3 <= len(text) <= 400:
                return text
            raise EvidenceError("empty or overlong rewrite")
        except EvidenceError as exc:
            notices.append(msg("condense_failed", lang, reason=str(exc)))
            return carry_over_topic(q, history)

    def _llm_answer(self, question: str, result: SearchResult, lang: str
                    ) -> Generator[AnswerEvent, None, Answer]:
        assert self.llm is not None
        hits = result.hits
        system, user = answer_prompt(question, hits, lang)
        parts: list[str] = []
        try:
            for delta in self.llm.stream_chat(system, user):
                parts.append(delta)
                yield AnswerEvent("delta", delta)
        except EvidenceError as exc:
            log.warning("LLM backend failed: %s", exc)  # the message is key-free (LLMBackend.scrub)
            return self._fallback(question, result, msg("llm_failed", lang, reason=str(exc)))
        if not "".join(parts).strip():
            return self._fallback(question, result, msg("llm_failed", lang, reason="empty reply"))
        done = postprocess("".join(parts), hits, lang, unsupported=self.unsupported)
        if done.no_evidence:
            return Answer(question, done.text, [], backend=self.llm.name, abstained=True, lang=lang,
                          hits=hits)
        if not done.text:
            return self._fallback(question, result, msg("llm_unverified", lang))
        notices = []
        if done.dropped_markers:
            notices.append(msg("dropped_markers", lang, n=done.dropped_markers))
        if done.unsupported:
            key = "flagged_unsupported" if self.unsupported == "flag" else "removed_unsupported"
            notices.append(msg(key, lang, n=len(done.unsupported)))
        return Answer(question, done.text, done.citations, backend=self.llm.name, lang=lang,
                      notices=notices, unsupported=done.unsupported, hits=hits)

    def _fallback(self, question: str, result: SearchResult, notice: str) -> Answer:
        answer = self.composer().compose(question, result)
        answer.notices.append(notice)
        return answer
