"""Question language (nl/en) from function words: fast, offline, good enough for routing."""

from __future__ import annotations

import re

_NL = set(
    ["de", "het", "een", "en", "van", "in", "op", "te", "dat", "die", "voor", "met", "zijn", "is", "er", "niet", "aan", "ook", "als", "bij", "of", "hoe", "wat", "wie", "welke", "waarom", "waar", "wordt", "worden", "door", "over", "naar", "om", "uit", "kan", "kunnen", "hebben", "heeft", "was", "zijn", "scholen", "leraren", "onderwijs", "welk", "zij", "ze", "je", "we", "wij", "hun", "deze", "dit", "nog", "meer", "dan", "tot", "wel", "geen", "belemmert", "belemmeringen", "zeggen", "docenten", "lerarenopleiding", "leerlingen", "studenten"]
)
_EN = set(
    ["the", "a", "an", "and", "of", "in", "on", "to", "that", "for", "with", "is", "are", "be", "it", "not", "as", "by", "or", "how", "what", "who", "which", "why", "where", "does", "do", "did", "was", "were", "has", "have", "had", "can", "could", "from", "about", "into", "their", "they", "this", "these", "there", "than", "schools", "teachers", "teacher", "students", "pupils", "education", "training", "find", "quote", "quotes", "say", "says", "said", "barriers", "hinder", "hinders", "help", "helps", "impact"]
)
_WORD = re.compile(r"[a-zà-ÿ']+")


def detect_language(text: str) -> str:
    """'nl' or 'en'; ties and unknown go to Dutch, the corpus language."""
    words = _WORD.findall(text.lower())
    nl = sum(w in _NL for w in words)
    en = sum(w in _EN for w in words)
    return "en" if en > nl else "nl"
