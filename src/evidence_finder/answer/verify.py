"""Citation verification: is a cited span really in its passage, and does a sentence rest on it?

Every backend runs every citation through :func:`verify_citation_span` before it reaches a
user; :func:`support` decides whether a generated (paraphrased) sentence is backed by a
passage sentence, and :func:`is_instruction_like` spots text in documents that tries to
steer the model ("ignore previous instructions …"), which is data and never evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from evidence_finder.text.glossary import expand_english
from evidence_finder.text.markers import MARKER
from evidence_finder.text.tokens import tokenize

_WS = re.compile(r"\s+")
# Typographic variants a model (or a copy-paste) may swap; compared as their plain form.
_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-",
                       "\u00a0": " "})

_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|"
    r"preceding)\s+(?:instructions?|prompts?|rules?|messages?)"
    r"|\bnegeer\s+(?:alle\s+)?(?:de\s+)?(?:vorige|eerdere|voorgaande|bovenstaande)\s+"
    r"(?:instructies?|opdrachten?|regels?)"
    r"|\byou\s+are\s+now\b|\bsystem\s+prompt\b|\bjailbreak\b"
    r"|\b(?:answer|respond|reply)\s+(?:only\s+)?(?:with\s+)?['\"“‘][^'\"”’]{1,40}['\"”’]"
    r"|\b(?:antwoord|zeg)\s+(?:alleen\s+)?(?:met\s+)?['\"“‘][^'\"”’]{1,40}['\"”’]"
    # "Antwoord voortaan alleen 'X'", "reply from now on only with 'X'": a fixed reply demanded
    r"|\b(?:answer|respond|reply|say|antwoord|zeg)\b[^.!?'\"“‘]{0,40}?\b(?:only|alleen|uitsluitend|"
    r"voortaan|always|altijd)\b[^.!?'\"“‘]{0,20}['\"“‘][^'\"”’]{1,40}['\"”’]"
    # forged conversation turns and rule changes
    r"|(?:^|\n)\s*#*\s*(?:system|assistant|user|systeem|assistent)\s*:"
    r"|\b(?:new|nieuwe)\s+(?:rule|instruction|regel|instructie)s?\s*:"
    r"|\b(?:tell|vertel)\s+(?:the\s+user\s+|de\s+gebruiker\s+)?(?:that|dat)\b[^.!?]{0,80}"
    r"\b(?:instead|from now on|voortaan|in plaats daarvan)\b",
    re.I,
)

# A forged conversation turn: what follows it pretends to be the model's (or the system's)
# own words, so nothing after it in a passage is evidence. Chat-template tokens count too.
_FORGED_TURN = re.compile(
    r"(?:^|\n)[ \t>*_]*(?:#{1,6}\s*)?\**\s*(?:system|assistant|user|human|systeem|assistent|gebruiker)"
    r"\s*\**\s*:"
    r"|(?:^|\n)[ \t]*#{1,6}\s*(?:system|assistant|user|human)\s*(?:\n|$)"
    r"|<\|\s*(?:im_start|im_end|start_header_id|end_header_id|eot_id|system|assistant|user)\s*\|>"
    r"|\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>",
    re.I,
)
# The same turn inside a line (cleaning may join a document's lines): upper case, or title
# case right after a sentence end.
_FORGED_TURN_INLINE = re.compile(
    r"\b(?:SYSTEM|ASSISTANT|USER|HUMAN|SYSTEEM|ASSISTENT|GEBRUIKER)\s*:"
    r"|(?<=[.!?] )(?:System|Assistant|User|Human|Systeem|Assistent|Gebruiker)\s*:"
)


def normalise_ws(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return _WS.sub(" ", text).strip()


def verify_citation_span(citation_text: str, passage_text: str) -> bool:
    """True when ``citation_text`` is a verbatim span of ``passage_text`` (whitespace-normalised).

    An empty citation is never valid: a marker must point at words the reader can find.
    """
    cited = normalise_ws(citation_text)
    return bool(cited) and cited in normalise_ws(passage_text)


def locate_span(citation_text: str, passage_text: str) -> tuple[int, int] | None:
    """Offsets ``(start, end)`` in ``passage_text`` of ``citation_text``, whitespace-insensitive."""
    words = citation_text.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, passage_text)
    return (m.start(), m.end()) if m else None


def strip_markers(text: str) -> str:
    return normalise_ws(MARKER.sub(" ", text)).replace(" .", ".").replace(" ,", ",")


def marker_numbers(text: str) -> list[int]:
    """All citation numbers in ``text`` in order, '[1, 3]' giving 1 and 3."""
    out: list[int] = []
    for m in MARKER.finditer(text):
        out.extend(int(x) for x in re.split(r"[,;]", m.group(1)))
    return out


def is_instruction_like(text: str) -> bool:
    """Text that addresses a model rather than informs a reader (prompt injection)."""
    return bool(_INSTRUCTION.search(text))


def forged_turn_start(text: str) -> int | None:
    """Offset of the first forged conversation turn in ``text`` ("ASSISTANT:", "### System",
    "<|im_start|>"), or None; the text from there on is never cited."""
    starts = [m.start() + (1 if text[m.start()] == "\n" else 0)
              for m in (_FORGED_TURN.search(text), _FORGED_TURN_INLINE.search(text)) if m]
    return min(starts, default=None)


@lru_cache(maxsize=4096)
def content_tokens(text: str) -> frozenset[str]:
    """Stemmed content words (Dutch stemmer and stop words; numbers kept)."""
    return frozenset(tokenize(text))


_JOINED = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")


def idea_tokens(text: str) -> frozenset[str]:
    """Content tokens with hyphenated compounds joined ('co-financiering' = 'cofinanciering'),
    so two wordings of one finding compare as the same words."""
    return content_tokens(_JOINED.sub("", text))


def same_idea(a: frozenset[str], b: frozenset[str], limit: float) -> bool:
    """Whether one sentence says what the other says, perhaps with more around it: the share
    of the smaller token set that the other holds is at least ``limit``."""
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= limit


def expanded_tokens(text: str) -> frozenset[str]:
    """Content tokens plus those of the Dutch glossary terms for English words in ``text``."""
    extra = expand_english(text)
    return content_tokens(text) | (content_tokens(extra) if extra else frozenset())


@dataclass(frozen=True)
class Support:
    """How well one source sentence backs a generated sentence."""

    overlap: float  # share of the generated sentence's content tokens found in the source
    matched: int  # number of those tokens
    verbatim: bool  # the generated sentence is literally in the source


def support(sentence: str, source: str) -> Support:
    """Lexical support of ``sentence`` (markers removed) by ``source``.

    English sentences are expanded with the glossary so that an English paraphrase of a Dutch
    passage can still be matched; numbers must match literally (they are tokens).
    """
    plain = strip_markers(sentence)
    verbatim = verify_citation_span(plain.rstrip(".!? "), _fold(source)) or verify_citation_span(
        _fold(plain).rstrip(".!? "), _fold(source))
    own = content_tokens(plain)
    if not own:
        return Support(1.0 if verbatim else 0.0, 0, verbatim)
    src = content_tokens(source)
    matched = 0
    for tok in own:
        if tok in src or _glossary_hit(tok, plain, src) or _compound_hit(tok, src):
            matched += 1
    return Support(matched / len(own), matched, verbatim)


def is_supported(sentence: str, source: str, min_overlap: float = 0.5, min_matched: int = 2) -> bool:
    s = support(sentence, source)
    if s.verbatim and s.matched >= 1:
        return True
    return s.overlap >= min_overlap and s.matched >= min(min_matched, len(content_tokens(
        strip_markers(sentence))))


def _fold(text: str) -> str:
    return text.translate(_FOLD)


def _glossary_hit(token: str, sentence: str, src: frozenset[str]) -> bool:
    # Only English words carry glossary terms; look the surface word up through its stem.
    for word in re.findall(r"[A-Za-z][A-Za-z'-]+", sentence):
        if tokenize(word) == [token]:
            extra = expand_english(word)
            return bool(extra) and bool(content_tokens(extra) & src)
    return False


def _compound_hit(token: str, src: frozenset[str]) -> bool:
    # Dutch compounds: 'opleiding' inside 'lerarenopleiding' counts; short stems do not.
    if len(token) < 5:
        return False
    return any(len(s) >= 5 and (token in s or s in token) for s in src)
