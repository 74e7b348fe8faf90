"""Follow-up questions: make a question searchable on its own, given the conversation so far.

Without an LLM, :func:`carry_over_topic` appends the topic words of the previous question(s)
when the new question looks like a follow-up ("En in het mbo?", "What about Flanders?"):
short, or opening with a follow-up cue, or leaning on a pronoun. With an LLM, the service
asks it to condense history and question (``prompts.condense_prompt``) and falls back to this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence_finder.answer.extractive import QUESTION_FRAME
from evidence_finder.ingest.facets import groups_named, regions_named, sectors_named, strip_facets
from evidence_finder.text.tokens import tokenize

_WORD = re.compile(r"[^\W_][\w+’'-]*", re.U)
_CUES = re.compile(
    r"^(?:en|ook|maar|dus|and|also|but|so|what about|how about|and what about|hoe zit het met|"
    r"wat geldt voor|wat betekent dat voor|geldt dat ook|en wat|en hoe|and how|and what|same for|"
    r"idem)\b",
    re.I,
)
_PRONOUNS = frozenset(
    [
        "dat", "dit", "die", "deze", "daar", "daarvan", "daarbij", "hun", "zij", "ze", "het",
        "hetzelfde", "that", "this", "these", "those", "there", "it", "its", "they", "them",
        "their", "same",
    ]
)
MAX_TOPIC_TERMS = 3  # new topic words at most for a question to count as a follow-up


def topic_words(question: str) -> list[str]:
    """Surface words of ``question`` that name its topic (not question frame, not stop words)."""
    out: list[str] = []
    for word in _WORD.findall(question):
        stems = [t for t in tokenize(word) if t not in QUESTION_FRAME]
        if stems and word.lower() not in _PRONOUNS:
            out.append(word)
    return out


def is_follow_up(question: str) -> bool:
    words = [w.lower() for w in _WORD.findall(question)]
    if _CUES.match(question.strip()):
        return True
    if any(w in _PRONOUNS for w in words) and len(topic_words(question)) <= MAX_TOPIC_TERMS:
        return True
    return len(topic_words(question)) <= 1


def carry_over_topic(question: str, history: list[tuple[str, str]] | None) -> str:
    """``question`` plus the previous topic words when it is a follow-up; else unchanged.

    Walks back through earlier follow-ups to the question that set the topic, so that
    "Welke drempels bij KA2?" → "En in het mbo?" → "En in Vlaanderen?" keeps "drempels KA2".
    """
    if not history or not is_follow_up(question):
        return question
    have = set(tokenize(question))
    carried: list[str] = []
    for previous, _answer in reversed(history):
        for word in topic_words(previous):
            stems = set(tokenize(word))
            if stems and not stems <= have:
                carried.append(word)
                have |= stems
        if not is_follow_up(previous):
            break
    return f"{question} {' '.join(carried)}".strip() if carried else question


@dataclass(frozen=True)
class FacetFollowUp:
    """A follow-up that only changes a facet: the earlier question, asked again for it."""

    question: str  # the earlier topic question without its own sector / region words
    sectors: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    group: str = ""  # a new target group ('studenten'), asked about in the question's words


_FACET_FILLER = frozenset(
    ["sector", "sectoren", "onderwijs", "education", "schools", "scholen", "school", "case", "geval",
     "about", "regarding", "zit", "geldt", "same", "idem", "hetzelfde"]
)


def facet_follow_up(question: str, history: list[tuple[str, str]] | None) -> FacetFollowUp | None:
    """'and in MBO?', 'en in het hoger onderwijs?', 'what about Flanders?' after a question:
    the question that set the topic, for that sector or region instead.

    Only when the follow-up names a sector or region and no new topic of its own;
    earlier facet follow-ups are walked back to the question that set the topic."""
    if not history or not is_follow_up(question):
        return None
    sectors, regions, groups = sectors_named(question), regions_named(question), groups_named(question)
    if not (sectors or regions or groups):
        return None
    rest = [w for w in topic_words(strip_facets(question, groups=True)) if w.lower() not in _FACET_FILLER]
    if rest:
        return None  # a new topic word: not just another facet
    group = " ".join(w for w in topic_words(question) if groups_named(w))
    for previous, _answer in reversed(history):
        if not is_follow_up(previous):
            base = strip_facets(previous, groups=bool(groups)) or previous
            if group:  # 'en voor studenten?': the same question about that group
                base = f"{base.rstrip('?.! ')} {group}" + ("?" if previous.rstrip().endswith("?") else "")
            return FacetFollowUp(base, sectors, regions, group)
    return None
