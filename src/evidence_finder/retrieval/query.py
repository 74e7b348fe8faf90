"""A question as retrieval reads it: cleaned text, language, BM25 text, filters and intents."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evidence_finder.errors import BadInputError
from evidence_finder.text.glossary import expand_english
from evidence_finder.types import Filters

MAX_QUESTION_CHARS = 2000

_ASKS_FOR_QUOTES = re.compile(
    r"\b(quotes?|quotations?|quoted?|citaat|citaten|citeer\w*|uitspra(?:ak|ken)|says?|said|"
    r"zegt|zeggen|zei|zeiden|verbatim|letterlijk|respondents?|geïnterviewde\w*|interviewee\w*)\b",
    re.IGNORECASE,
)


def clean_question(question: str) -> str:
    """Strip control characters and bound the length; an empty question is bad input."""
    q = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question)
    q = " ".join(q.split())
    if not q:
        raise BadInputError("the question is empty: type a question")
    return q[:MAX_QUESTION_CHARS]


def asks_for_quotes(question: str) -> bool:
    """Whether a question asks for what someone said (researchers look for quotes)."""
    return bool(_ASKS_FOR_QUOTES.search(question))


def lexical_text(question: str, lang: str, glossary: bool) -> str:
    """What BM25 searches: an English question also as its Dutch glossary terms."""
    if lang == "en" and glossary:
        return f"{question} {expand_english(question)}"
    return question


@dataclass(frozen=True)
class Query:
    """One search request, read once and handed to every retrieval part."""

    text: str
    lang: str
    lexical: str
    filters: Filters = field(default_factory=Filters)
    mode: str = "hybrid"  # "hybrid" | "dense" | "bm25"
    intents: frozenset[str] = frozenset()

    @property
    def wants_quotes(self) -> bool:
        return asks_for_quotes(self.text)
