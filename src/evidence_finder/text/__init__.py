"""Shared language helpers: tokenise + stem, sentences, headings, citation markers, the
English-Dutch glossary and language detection. Plain Python, cheap to import."""

from evidence_finder.text.glossary import expand_english, glossary_matches
from evidence_finder.text.headings import heading_level
from evidence_finder.text.lang import detect_language
from evidence_finder.text.markers import MARKER, marker_numbers
from evidence_finder.text.sentences import split_sentences
from evidence_finder.text.tokens import tokenize

__all__ = [
    "MARKER",
    "detect_language",
    "expand_english",
    "glossary_matches",
    "heading_level",
    "marker_numbers",
    "split_sentences",
    "tokenize",
]
