"""Records that pass between pipeline stages.

A :class:`Passage` is born in ``ingest.chunk``, gets its vector in ``retrieval.index``, is
returned as a :class:`Hit` by ``retrieval.search`` and cited as a :class:`Citation` by
``answer``. Offsets are character offsets into the document's *source text* (the decoded
file for text formats, the extracted text for PDF/DOCX/HTML), so a citation can always be
traced back to where it came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["passage", "quote", "table"]
KINDS: tuple[str, ...] = ("passage", "quote", "table")


def content_hash(text: str) -> str:
    """Stable hash of a unit's text; a re-ingest re-embeds a unit only when this changes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class SourceText:
    """What a loader extracted from a file: the text and, for paged formats, page starts."""

    text: str
    page_starts: tuple[int, ...] = ()  # offset in `text` where page i+1 begins
    format: str = "txt"
    title: str = ""  # the file's own title (DOCX/PDF metadata, Title style), if it has one

    def page_at(self, offset: int) -> int | None:
        """1-based page number of a source offset, or None for formats without pages."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class DocumentMeta:
    """Corpus-manifest metadata of one document (all optional except the id)."""

    doc_id: str
    title: str
    publisher: str = ""
    commissioned_by: str = ""
    year: int | None = None
    region: str = ""
    sectors: tuple[str, ...] = ()
    type: str = "report"
    language: str = "nl"
    short_title: str = ""
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sectors"] = list(self.sectors)
        return d


@dataclass(frozen=True)
class Passage:
    """A citable unit: a passage of running text, a respondent quote, or a table caption."""

    id: str
    doc_id: str
    kind: str
    text: str
    char_start: int  # source offsets (see module docstring)
    char_end: int
    clean_start: int  # offsets into the cleaned text of the document
    clean_end: int
    section: str = ""
    page: int | None = None
    attribution: str = ""  # quotes: who said it, when the text says so
    context: str = ""  # quotes/tables: the surrounding paragraph, shown but not cited
    hash: str = ""
    # Spans (relative to ``text``) that get their own vectors: dense retrieval scores a
    # passage by its best window, so a 200-word passage is found by the one sentence
    # pair that answers the question (small-to-big retrieval).
    windows: tuple[tuple[int, int], ...] = ()
    # Evidence roles of the unit's sentences, most frequent first ('barrier', 'outcome', …;
    # see ``ingest.roles``), and their shares of its sentences.
    roles: tuple[str, ...] = ()
    role_shares: tuple[tuple[str, float], ...] = ()
    # Sectors of the unit's section where a chapter is about another sector than its
    # document (003 has a chapter per sector); empty = the document's sectors apply.
    sectors: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # target groups the unit is about ('students', 'teachers' …)
    speaker: str = ""  # quotes: the speaker's normalised role ('leerkracht'), if the text says
    speaker_org: str = ""  # quotes: the speaker's school or organisation, if the text says

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def role_share(self, role: str) -> float:
        """Share of the unit's sentences that have ``role`` (0 when unlabelled)."""
        return dict(self.role_shares).get(role, 0.0)

    def window_texts(self) -> list[str]:
        return [self.text[s:e] for s, e in self.windows] or [self.text]

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Passage:
        fields = {k: d[k] for k in Passage.__dataclass_fields__ if k in d}
        fields["windows"] = tuple(tuple(w) for w in fields.get("windows", ()))
        fields["roles"] = tuple(fields.get("roles", ()))
        fields["role_shares"] = tuple((str(r), float(x)) for r, x in fields.get("role_shares", ()))
        fields["sectors"] = tuple(fields.get("sectors", ()))
        fields["groups"] = tuple(fields.get("groups", ()))
        return Passage(**fields)


@dataclass
class Filters:
    """Restrict results; an empty list means no restriction on that field.

    Sectors apply per unit: a unit whose section is about another sector than its document
    carries its own ``Passage.sectors``, which then replace the document's."""

    docs: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)  # quote speakers' roles
    regions: list[str] = field(default_factory=list)  # documents' regions ('NL', 'Flanders')
    groups: list[str] = field(default_factory=list)  # target groups a unit is about ('students')

    def is_empty(self) -> bool:
        return not (self.docs or self.sectors or self.types or self.kinds or self.years
                    or self.speakers or self.regions or self.groups)

    def allows(self, p: Passage, meta: DocumentMeta | None) -> bool:
        if self.docs and p.doc_id not in self.docs:
            return False
        if self.kinds and p.kind not in self.kinds:
            return False
        if self.speakers and p.speaker not in self.speakers:
            return False
        if self.groups and not set(self.groups) & set(p.groups):
            return False
        if meta is None:
            return not (self.sectors or self.types or self.years or self.regions)
        if self.regions and meta.region not in self.regions:
            return False
        if self.types and meta.type not in self.types:
            return False
        if self.years and (meta.year or 0) not in self.years:
            return False
        sectors = p.sectors or meta.sectors
        return not self.sectors or any(s in sectors for s in self.sectors)

    def describe(self) -> str:
        """'sector: MBO; year: 2021' — what a user should see is on."""
        parts = [(name, values) for name, values in (
            ("document", self.docs), ("sector", self.sectors), ("type", self.types),
            ("kind", self.kinds), ("year", [str(y) for y in self.years]),
            ("speaker", self.speakers), ("region", self.regions), ("group", self.groups)) if values]
        return "; ".join(f"{name}: {', '.join(map(str, values))}" for name, values in parts)


class IndexView(Protocol):
    """The index state one search read, for everything that search returns (e.g. the text
    around a cited passage in the UI), so a reload in between cannot mix two states."""

    @property
    def metas(self) -> dict[str, DocumentMeta]: ...  # every indexed document, by id

    def meta(self, doc_id: str) -> DocumentMeta | None: ...

    def neighbours(self, passage: Passage) -> tuple[Passage | None, Passage | None]: ...


@dataclass
class Hit:
    """A passage returned by retrieval with its score and the scores behind it."""

    passage: Passage
    score: float
    title: str = ""
    meta: DocumentMeta | None = None
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class SearchResult:
    """Ranked hits for one question, and whether the system abstains."""

    question: str
    hits: list[Hit]
    abstain: bool = False
    lang: str = "nl"
    elapsed_ms: float = 0.0
    confidence: float = 0.0
    intents: tuple[str, ...] = ()  # what the question asks for ('barrier', 'comparison', …)
    gap: str = ""  # what the reports do not cover that the question asks about ('adult education — Flanders')
    notices: list[str] = field(default_factory=list)  # e.g. a filter that matched nothing
    view: IndexView | None = field(default=None, repr=False, compare=False)


@dataclass
class Citation:
    """A numbered reference from an answer to the passage it rests on."""

    n: int
    passage: Passage
    title: str
    text: str  # the cited span (verbatim from the passage)
    start: int = 0  # offsets of ``text`` inside ``passage.text``
    end: int = 0


@dataclass
class Answer:
    """A grounded answer: text with [n] markers, and the citations they point to."""

    question: str
    text: str
    citations: list[Citation]
    backend: str = "extractive"
    abstained: bool = False
    lang: str = "nl"
    notices: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    mode: str = "answer"  # "answer" | "quotes"
    search_question: str = ""  # what was searched (a follow-up, condensed with its history)
    reading: str = ""  # how the question was read: 'what hinders KA2 applications — sector: MBO'
    unsupported: list[str] = field(default_factory=list)  # generated sentences no passage backs
    hits: list[Hit] = field(default_factory=list)  # the retrieved passages behind the answer
    view: IndexView | None = field(default=None, repr=False, compare=False)  # the search's index state
