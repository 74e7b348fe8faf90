"""Post-processing of a generated answer: keep only what the passages say.

For each generated sentence: markers that point to no supplied passage are dropped; the
sentence is checked against the passages it cites (or, without a valid marker, all passages)
with instruction-like text removed; a supported sentence is re-cited to the passage sentence
that backs it best (a verbatim span), an unsupported one is removed or flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evidence_finder.answer.citations import CitationBook
from evidence_finder.answer.messages import MESSAGES, msg
from evidence_finder.answer.sentences import Sentence, passage_sentences
from evidence_finder.answer.verify import (
    MARKER,
    is_instruction_like,
    is_supported,
    marker_numbers,
    normalise_ws,
    strip_markers,
    support,
)
from evidence_finder.text.markers import MARKER_BODY
from evidence_finder.text.sentences import split_sentences
from evidence_finder.types import Citation, Hit

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_LIST = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_MARKER_AFTER_STOP = re.compile(rf"([.!?])((?:\s*\[{MARKER_BODY}\])+)")


@dataclass
class Processed:
    text: str
    citations: list[Citation]
    unsupported: list[str] = field(default_factory=list)
    dropped_markers: int = 0
    no_evidence: bool = False  # the model said the passages do not answer the question


def says_no_evidence(text: str) -> bool:
    plain = normalise_ws(strip_markers(text)).lower()
    return any(plain.startswith(m.lower().rstrip(".")) for m in MESSAGES["no_evidence"].values())


def postprocess(raw: str, hits: list[Hit], lang: str, *, unsupported: str = "remove") -> Processed:
    """Verify a generated answer against ``hits`` (passage n is ``hits[n-1]``)."""
    text = _THINK.sub("", raw).strip()
    if says_no_evidence(text) and not any(1 <= n <= len(hits) for n in marker_numbers(text)):
        return Processed(msg("no_evidence", lang), [], no_evidence=True)
    sentences_of = [_evidence(h) for h in hits]
    book = CitationBook()
    out_lines: list[str] = []
    result = Processed("", [])
    for line in text.splitlines():
        bullet = _LIST.match(line)
        body = _MARKER_AFTER_STOP.sub(r"\2\1", line[bullet.end():] if bullet else line).strip()
        kept: list[str] = []
        for s, e in split_sentences(body):
            sent = body[s:e]
            plain = strip_markers(sent)
            if not plain or not any(ch.isalnum() for ch in plain):
                continue
            nums = marker_numbers(sent)
            valid = list(dict.fromkeys(n for n in nums if 1 <= n <= len(hits)))
            result.dropped_markers += len(nums) - len([n for n in nums if 1 <= n <= len(hits)])
            # Without a valid marker, repair by citing the one passage that backs it best.
            cited = _cite(plain, valid, hits, sentences_of, book) if valid else \
                _cite(plain, _best_passage(plain, sentences_of), hits, sentences_of, book)
            if cited:
                kept.append(f"{plain} " + "".join(f"[{n}]" for n in cited))
            else:
                result.unsupported.append(plain)
                if unsupported == "flag":
                    kept.append(f"{plain} {msg('unverified_tag', lang)}")
        if kept:
            out_lines.append(("- " if bullet else "") + " ".join(kept))
    result.text = _join(out_lines)
    result.citations = book.citations
    if not book.citations:
        result.text = ""  # nothing verifiable: the caller falls back to the extractive answer
    return result


def _evidence(hit: Hit) -> list[Sentence]:
    return [s for s in passage_sentences(hit.passage.text) if not s.instruction_like]


def _cite(plain: str, candidates: list[int], hits: list[Hit], sentences_of: list[list[Sentence]],
          book: CitationBook) -> list[int]:
    """New citation numbers for a sentence, one per cited passage that supports it."""
    if is_instruction_like(plain):
        return []
    out: list[int] = []
    for n in candidates:
        sents = sentences_of[n - 1]
        evidence = " ".join(s.text for s in sents)
        if not sents or not is_supported(plain, evidence):
            continue
        best = max(sents, key=lambda s: (support(plain, s.text).overlap, -s.start))
        num = book.cite(hits[n - 1], best.start, best.end)
        if num is not None and num not in out:
            out.append(num)
    return out


def _best_passage(plain: str, sentences_of: list[list[Sentence]]) -> list[int]:
    scored = [(support(plain, " ".join(s.text for s in sents)).overlap, -n, n)
              for n, sents in enumerate(sentences_of, start=1) if sents]
    return [max(scored)[2]] if scored else []


def _join(lines: list[str]) -> str:
    """Lead sentences first, then the bullets, separated by a blank line."""
    lead = [ln for ln in lines if not ln.startswith("- ")]
    bullets = [ln for ln in lines if ln.startswith("- ")]
    parts = [" ".join(lead)] if lead else []
    if bullets:
        parts.append("\n".join(bullets))
    return "\n\n".join(parts)


__all__ = ["MARKER", "Processed", "postprocess", "says_no_evidence"]
