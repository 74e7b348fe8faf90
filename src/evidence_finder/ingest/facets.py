"""Facets of a section: which education sector a chapter is about.

A report about several sectors often has a chapter per sector ("1 Casus po - …",
"Impact in het mbo"); a unit in such a chapter belongs to that sector, not to every sector
of its document. Sector names are the manifest's canonical ones.
"""

from __future__ import annotations

import re


def _named(cues: dict[str, re.Pattern[str]], text: str) -> tuple[str, ...]:
    """The names in ``cues`` whose pattern ``text`` matches, in table order."""
    return tuple(name for name, rx in cues.items() if rx.search(text))


SECTOR_CUES: dict[str, re.Pattern[str]] = {
    "PO": re.compile(r"\b(?:po|primair\s+onderwijs|basisonderwijs|basisscho\w*|primary\s+(?:education|schools?))\b", re.I),
    "VO": re.compile(r"\b(?:vo|voortgezet\s+onderwijs|middelbare\s+scho\w*|secondary\s+(?:education|schools?))\b", re.I),
    "MBO": re.compile(r"\b(?:mbo|middelbaar\s+beroepsonderwijs|vocational\s+education|vet)\b", re.I),
    "HO": re.compile(r"\b(?:ho|hbo|wo|hoger\s+onderwijs|higher\s+education|universit\w*|hogeschol\w*)\b", re.I),
    "adult education": re.compile(r"\b(?:ve|volwassenen(?:educatie|onderwijs)|adult\s+education)\b", re.I),
    "teacher training": re.compile(r"\b(?:pabo'?s?|lerarenopleiding\w*|teacher\s+(?:training|education))\b", re.I),
    # sectors a report may not cover, so that a question about them is recognised as such
    "early childhood": re.compile(r"\b(?:kinderopvang|voorschool\w*|vve|peuter\w*|kleuteropvang|early\s+childhood|"
                                  r"day\s?care|pre-?school\w*|nursery)\b", re.I),
    "special education": re.compile(r"\b(?:speciaal\s+(?:basis)?onderwijs|special\s+(?:needs\s+)?education)\b", re.I),
    "youth work": re.compile(r"\b(?:jongerenwerk|jeugdwerk|youth\s+work)\b", re.I),
}


def sectors_named(text: str) -> tuple[str, ...]:
    """Canonical sectors a heading or question names, in ``SECTOR_CUES`` order."""
    return _named(SECTOR_CUES, text)


_CHAPTER_LINE = re.compile(r"^\s{0,2}(\d{1,2})\s+([A-ZÀ-Ý].{2,110})$", re.M)
_QUESTION_WORD = re.compile(r"(?:wat|welke?|hoe|waarom|wie|waar|wanneer|what|which|how|why|who)\b", re.I)
_SECTION_NUMBER = re.compile(r"^\s*(\d{1,2})(?:\.\d{1,2})*\.?\s")


def chapter_sectors(text: str) -> dict[str, tuple[str, ...]]:
    """Chapter number → sectors, from chapter title lines that name a sector
    ('1 Casus po - Daltonschool …', '3 Impact in het mbo'): a title line is short, starts
    with its number and a capital, and is no sentence."""
    out: dict[str, tuple[str, ...]] = {}
    for m in _CHAPTER_LINE.finditer(text):
        title = m.group(2).strip()
        if title.endswith((".", ",", ";", "?")) or len(title.split()) > 16 or _QUESTION_WORD.match(title):
            continue  # a sentence, a list item or a research question, not a chapter title
        named = sectors_named(title)
        has_sections = re.search(rf"^\s{{0,2}}{m.group(1)}\.1\.?\s", text, re.M)
        if named and has_sections and m.group(1) not in out:  # a chapter with numbered sections
            out[m.group(1)] = named
    return out


def section_sectors(section_path: str, chapters: dict[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """Sectors of a unit from its section path ('A > B > C'): the innermost heading that
    names a sector decides; else the chapter its numbered section ('3.4 …') belongs to, when
    that chapter's title names a sector; empty when neither does (the document's sectors apply)."""
    headings = [h for h in section_path.split(" > ") if h.strip()]
    for heading in reversed(headings):
        named = sectors_named(heading)
        if named:
            return named
    for heading in headings:
        m = _SECTION_NUMBER.match(heading)
        if m and chapters and m.group(1) in chapters:
            return chapters[m.group(1)]
    return ()


# Erasmus+ programme strands (the programme guide's names, Dutch and English): a question about
# a strand no report mentions is one the reports cannot answer.
STRAND_CUES: dict[str, re.Pattern[str]] = {
    "KA3": re.compile(r"\b(?:ka\s?3|key\s+action\s+3|kernactie\s+3)\b", re.I),
    "Erasmus Mundus": re.compile(r"\berasmus\s+mundus\b", re.I),
    "Jean Monnet": re.compile(r"\bjean[\s-]+monnet\b", re.I),
    "Erasmus+ Sport": re.compile(r"\berasmus\+?\s*[-–]?\s*sport\b", re.I),
    "Erasmus+ Youth": re.compile(r"\b(?:erasmus\+?\s*[-–]?\s*(?:youth|jeugd)|youth\s+exchanges?|"
                                 r"jongerenuitwisseling\w*)\b", re.I),
    "DiscoverEU": re.compile(r"\bdiscover\s?eu\b", re.I),
    "European Solidarity Corps": re.compile(r"\b(?:european\s+solidarity\s+corps|europees\s+"
                                            r"solidariteitskorps)\b", re.I),
    "Centres of Vocational Excellence": re.compile(r"\b(?:centres?\s+of\s+vocational\s+excellence|"
                                                   r"centra\s+voor\s+beroepsexcellentie)\b", re.I),
    "European Universities": re.compile(r"\b(?:european\s+universities\s+(?:initiative|alliances?)|"
                                        r"europese\s+universiteitsallianties?)\b", re.I),
    "Erasmus+ Teacher Academies": re.compile(r"\b(?:erasmus\+?\s+)?teacher\s+academ(?:y|ies)\b", re.I),
    "Virtual Exchange": re.compile(r"\b(?:virtual\s+exchanges?|virtuele\s+uitwisseling\w*)\b", re.I),
}


def strands_named(text: str) -> tuple[str, ...]:
    """Erasmus+ programme strands a question or text names."""
    return _named(STRAND_CUES, text)


_YEAR_AT = r"(?<!\d){}(?!\d)"  # a year not inside a longer number
_YEAR = re.compile(_YEAR_AT.format(r"(19[5-9]\d|20[0-4]\d)"))


def years_named(text: str) -> tuple[str, ...]:
    """Years (1950–2049) a question or text names, in order, each once ('2014-2020' gives both)."""
    return tuple(dict.fromkeys(_YEAR.findall(text)))


def year_pattern(year: str) -> re.Pattern[str]:
    """Finds ``year`` where ``years_named`` would."""
    return re.compile(_YEAR_AT.format(re.escape(year)))


REGION_CUES: dict[str, re.Pattern[str]] = {
    "Flanders": re.compile(r"\b(?:vlaanderen|vlaams\w*|flanders|flemish|belgi\w*)\b", re.I),
    "NL": re.compile(r"\b(?:nederland|netherlands)\b", re.I),
}


def regions_named(text: str) -> tuple[str, ...]:
    """Canonical regions (the manifest's ``region`` values) a question names."""
    return _named(REGION_CUES, text)


GROUP_CUES: dict[str, re.Pattern[str]] = {
    "students": re.compile(r"\b(?:studenten|student|students?|cursisten)\b", re.I),
    "pupils": re.compile(r"\b(?:leerlingen|leerling|pupils?|kinderen|children)\b", re.I),
    "teachers": re.compile(r"\b(?:leraren|leraar|docenten|docent|leerkrachten|leerkracht|teachers?|"
                           r"staff|personeel|medewerkers)\b", re.I),
    "school leaders": re.compile(r"\b(?:schoolleiders?|directeuren|directeur|directie|school\s+leaders?|"
                                 r"principals?|head\s+teachers?)\b", re.I),
}


def groups_named(text: str) -> tuple[str, ...]:
    """Target groups (students, pupils, teachers, school leaders) a question names."""
    return _named(GROUP_CUES, text)


def unit_groups(section_path: str, text: str) -> tuple[str, ...]:
    """Target groups a unit is about: those its innermost section heading names ('Impact op
    leerlingen'), else those its own text names."""
    for heading in reversed([h for h in section_path.split(" > ") if h.strip()]):
        named = groups_named(heading)
        if named:
            return named
    return groups_named(text)


_LEAD = r"(?:\b(?:in|at|for|within|bij|in\s+het|in\s+de|voor|van|het|de|the)\s+)*"


def strip_facets(text: str, groups: bool = False) -> str:
    """``text`` without its sector and region words (and target-group words when asked), with
    the preposition before them: 'what hinders KA2 applications in teacher training' →
    'what hinders KA2 applications'."""
    cues = [*SECTOR_CUES.values(), *REGION_CUES.values(), *(GROUP_CUES.values() if groups else ())]
    for rx in cues:
        text = re.sub(_LEAD + rx.pattern, " ", text, flags=re.I)
    text = re.sub(r"\s+([?.!,])", r"\1", text)
    return " ".join(text.split())
