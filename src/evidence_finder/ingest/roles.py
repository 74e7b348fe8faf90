"""Evidence roles: what a sentence is evidence *of* (a barrier, an outcome, a figure, …).

Pure heuristics (stdlib ``re`` only) from Dutch and English cue words that any reader of a
policy report would use, plus the section heading as a prior that sentence cues can
override. Scores are summed per role; the best role wins when it reaches ``_THRESHOLD``,
otherwise the sentence is ``description``. Order of decisions:

1. boilerplate (questionnaire/interview-guide items, answer scales, TOC lines, references,
   colophons) — structural, decided first;
2. figure (percentages, n=, counts, table/figure captions) — a numeric statement is a figure
   even when it is about an outcome;
3. barrier / enabler / outcome / recommendation from cue words, with cheap negation
   ("geen drempel" is no barrier, "geen ondersteuning" is one) and contrast ("mooi, maar
   niet toereikend": the clause after "maar" weighs more).

Measured on the hand-labelled sample in ``evals/roles`` (see ``evals/roles/score.py``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Literal, get_args

Role = Literal["barrier", "enabler", "outcome", "recommendation", "figure", "description", "boilerplate"]
ROLES: tuple[Role, ...] = get_args(Role)

_THRESHOLD = 1.0
_HEADING_WEIGHT = 1.0


def _rx(cues: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern from cue words; a trailing ``*`` means 'any ending'."""
    parts = []
    for cue in cues:
        stem = re.escape(cue.rstrip("*")).replace(r"\ ", r"\s+")
        parts.append(stem + (r"\w*" if cue.endswith("*") else r"\b"))
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + ")", re.I)


# --- sentence cues -----------------------------------------------------------------------

_BARRIER = _rx([
    "belemmer*", "drempel*", "knelpunt*", "obstakel*", "hindernis*", "hinder*", "struikelblok*",
    "probleem", "problemen", "problematisch*", "moeilijk*", "lastig*", "uitdaging*", "gebrek aan",
    "te weinig", "te veel", "teveel", "tekort*", "tijdgebrek", "geen tijd", "gebrek aan tijd",
    "werkdruk", "werkbelasting", "taakbelasting", "administratieve*", "veel administratie",
    "administratie die", "administratie rond", "rompslomp", "bureaucrat*", "niet toereikend", "ontoereikend",
    "onvoldoende", "ontbreekt", "ontbreken", "ontbrak", "weerstand", "terughoudend*", "bezorgd*",
    "zorgen over", "angst*", "bang", "niet betalen", "te duur", "kostbaar", "onbekend*",
    "onduidelijk*", "ingewikkeld*", "complex*", "tegenaan lopen", "lopen tegen", "loopt tegen",
    "tegenvallen", "tegenvaller*", "overvraagd", "niet flexibel", "inflexibel*", "schiet tekort",
    "schieten tekort", "valkuil*", "nadeel", "nadelen", "wedijveren", "concurreren", "risico*",
    "blijft liggen", "niet enthousiast", "twijfel*", "beperkingen", "eenrichtingsverkeer",
    "moeite", "zwaar", "niet haalbaar", "beperkt aantal",
    "barrier*", "obstacle*", "hinder*", "difficult*", "challenge*", "lack of", "shortage*",
    "problem*", "burden*", "constraint*", "too few", "too little", "insufficient", "resistance",
])
_ENABLER = _rx([
    "succes*", "sleutel*", "randvoorwaarde*", "voorwaarde*", "bevorder*",
    "helpt", "helpen", "hielp", "hielpen", "behulpzaam", "ondersteuning", "ondersteunen",
    "ondersteund", "ondersteunt", "steun", "facilit*", "cruciaal", "essentieel", "van belang",
    "belangrijk dat", "belangrijk om", "het belangrijkste is", "draagvlak", "gedragen door",
    "goede voorbereiding", "voorbereiding", "goede selectie", "laagdrempelig*", "werkt goed",
    "werkt als", "werkt aanstekelijk", "aanstekelijk", "slaagt erin", "slagen erin", "gunstig*",
    "waardevol*", "motiveren", "enthousiasmeren", "inspireren", "stimuleren", "stimuleert",
    "maakt het mogelijk", "mogelijk maken", "verlichten", "ontlasten", "helpend*", "commitment",
    "betrokkenheid van", "vertrouwen in", "investeren in", "tijd en ruimte", "hulp",
    "anders lukt", "noodzakelijk*", "vereist*", "goed contact", "goede communicatie",
    "korte lijnen", "vast aanspreekpunt", "vaste contactpersoon",
    "success factor*", "enabler*", "enabling", "precondition*", "prerequisite*", "helps",
    "helped", "support*", "key to", "facilitat*", "conducive",
])
_OUTCOME = _rx([
    "effect", "effecten", "impact", "resultaat", "resultaten", "opbrengst*", "leidt tot",
    "leidde tot", "leiden tot", "geleid tot", "verbeter*", "versterk*", "vergroot*", "vergroting",
    "toegenomen", "toename", "neemt toe", "groei*", "groeien", "zorgt voor", "zorgde voor",
    "zorgen voor", "draagt bij", "dragen bij", "droeg bij", "bijgedragen", "bijdrage aan",
    "teweeggebracht", "levert op", "oplevert", "opgeleverd", "levert veel", "profiteren",
    "profiteert", "eye-opener", "zelfvertrouwen", "enthousiaster", "enthousiast geraakt",
    "bewustzijn", "geïnspireerd", "geleerd", "leren ze", "opgedaan", "ingevoerd", "ingebed",
    "inbedding", "neveneffect*", "beter in staat", "veranderd", "verandering*", "meerwaarde",
    "verrijk*", "verbreed*", "breder perspectief", "kansen voor", "trots", "zelfstandig*", "kansen op",
    "interesse voor", "gaan werken", "vaardigheden opgedaan", "impuls*", "kwaliteitsimpuls",
    "leerrijk*", "invloed*", "voortkomen", "komt voort", "komen voort", "effect op", "effect heeft",
    "effect", "effects", "impact*", "result in", "resulted", "led to", "leads to", "improv*",
    "increas*", "benefit*", "outcome*", "strengthen*",
])
_RECOMMEND = _rx([
    "aanbeveling*", "aanbevolen", "bevelen aan", "beveel aan", "raden aan", "raad aan",
    "aanraden", "aan te raden", "aan te bevelen", "zou moeten", "zouden moeten", "moet meer",
    "moeten meer", "kan en moet", "zou goed zijn", "advies", "adviseren", "adviseert",
    "verdient aanbeveling", "pleiten voor", "pleit voor", "stellen voor", "liggen kansen",
    "liggen dus kansen", "liever", "is het raadzaam", "doe dit", "zorg dat", "zorg ervoor",
    "recommend*", "should", "ought to", "advise*", "we suggest",
])
_DESCRIPTION = _rx([
    "onderzoek*", "onderzocht", "in kaart", "hoofdvraag", "onderzoeksvra*", "vragenlijst*",
    "enquête*", "interview*", "casestud*", "methode", "met als doel", "is erop gericht",
    "bedoeling", "worden gebruikt om", "deelgenomen aan dit", "study", "survey*", "method*",
])
# a negator right before a cue: "geen drempel", "niet moeilijk", "zonder problemen"
_NEGATOR = re.compile(r"(?:\b(?:geen|niet|nooit|zonder|nauwelijks|no|not|without|hardly)\s+(?:\w+\s+){0,2})$", re.I)
# lowering a barrier is an enabler: "verlaagt de drempel", "neemt belemmeringen weg"
_LOWERS = re.compile(
    r"\b(?:minder|less|fewer|verlaag\w*|verminder\w*|wegnem\w*|neemt\s+\w+\s+weg|overwin\w*|ondervang\w*|"
    r"reduce\w*|lower\w*|remove\w*|overcom\w*)\b", re.I)
_LACK = re.compile(r"\b(?:gebrek\s+aan|te\s+weinig|onvoldoende|tekort\s+aan|geen|lack\s+of|no)\s+(?:\w+\s+)?$", re.I)
_CONTRAST = re.compile(r"(?:,\s*|\s+)(?:maar|echter|alleen|however|but)\s+", re.I)
_ONDANKS = re.compile(r"^\s*(?:ondanks|hoewel|al\s+is|despite|although)\b[^,]*,", re.I)

# --- figures ---------------------------------------------------------------------------

_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|procent\b|percent\b)", re.I)
_N_EQ = re.compile(r"\(?\bn\s*=\s*\d+", re.I)
_X_OF_Y = re.compile(r"\b(?:\d+|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf)\s+(?:van\s+de|op\s+de|out\s+of|of\s+the)\s+\d+", re.I)
_SHARE = re.compile(
    r"\b(?:de\s+helft|meerderheid|merendeel|minderheid|een\s+derde|twee\s+derde|een\s+kwart|"
    r"drie\s+kwart|half\s+of|majority|minority|a\s+third|a\s+quarter)\b", re.I)
_COUNTED = re.compile(
    r"\b(?:\d+|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|"
    r"vijftien|twintig)\s+(?:respondent\w*|deelnemers|scholen|opleidingen|instellingen|"
    r"docenten|leraren|leerkrachten|studenten|medewerkers|keer|projecten|participants|schools)\b", re.I)
_TIMES = re.compile(r"\(\d+\s*x\)|\b\d+\s*x\s+genoemd", re.I)
_CAPTION = re.compile(r"\b(?:Tabel|Figuur|Grafiek|Table|Figure)\s+\d+", re.I)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")

# --- boilerplate -----------------------------------------------------------------------

_SCALE = re.compile(
    r"\b(?:helemaal\s+(?:niet\s+)?(?:mee\s+)?(?:eens|akkoord)|eerder\s+(?:niet\s+)?akkoord|"
    r"meer\s+wel\s+dan\s+niet|meer\s+niet\s+dan\s+wel|ik\s+weet\s+het\s+niet|weet\s+niet|"
    r"neutraal|strongly\s+agree|strongly\s+disagree)\b", re.I)
_TOC = re.compile(r"(?:\.\s?){5,}\s*\d+|…{2,}\s*\d+")
_REFERENCE = re.compile(
    r"(?:\b[A-Z][\w-]+,\s+[A-Z]\.(?:\s?[A-Z]\.)*\s*(?:&|en|and|,|\()|\bet\s+al\.|\bISBN\b|"
    r"https?://|www\.|\bdoi:|\bgeraadpleegd\s+op\b|\bretrieved\s+from\b)")
_COLOPHON = re.compile(
    r"(?:\bmeer\s+informatie\b|@\w+\.\w+|\bis\s+onderdeel\s+van\s+Nuffic\b|©|\bcolofon\b|"
    r"\bvoert\s+namens\b|\bvul\s+hier\b|\bs\.v\.p\.)", re.I)
_FORMAL_YOU = re.compile(r"\b(?:u|uw|uzelf|jij|je|jouw|jullie|you|your)\b", re.I)
_QUESTION_START = re.compile(
    r"^\s*(?:\d{1,2}[.)]?\s*|[a-h][.)]\s+)?(?:vraag\b|wat|welke?|hoe|hoeveel|waarom|wanneer|waar|"
    r"wie|kan|kunt|kunnen|heeft|hebt|hebben|had|is|zijn|wordt|worden|zou|sluit|staat|staan|"
    r"what|which|how|why|when|where|who|can|could|do|does|did|is|are|have|has|would)\b", re.I)
_GUIDE_CUES = re.compile(
    r"(?:^\s*deel\s+\d+\s*:|\b(?:doorvragen|open\s+vraag|interviewleidraad|topiclijst|"
    r"introductie\s+van\s+de\s+geïnterviewde|meerdere\s+antwoorden\s+mogelijk|"
    r"interview\s+guide|questionnaire)\b)", re.I)

# --- heading priors (section paths) -------------------------------------------------------

_HEADING_PRIORS: tuple[tuple[Role, float, re.Pattern[str]], ...] = (
    ("boilerplate", 2.0, _rx(["inhoudsopgave", "inhoud", "topiclijst*", "interviewleidraad*",
                              "interviewguide", "gespreksleidraad", "literatuurlijst", "literatuur",
                              "referenties", "bronnenlijst", "colofon", "table of contents",
                              "contents", "references", "bibliography", "interview guide"])),
    ("barrier", 1.0, _rx(["belemmer*", "knelpunt*", "drempel*", "obstakel*", "aandachtspunt*",
                          "uitdaging*", "problemen", "barrières", "barriers", "obstacles",
                          "challenges", "bottlenecks"])),
    ("enabler", 1.0, _rx(["succesfactor*", "bevorder*", "randvoorwaarde*", "voorwaarden",
                          "wat werkt", "ondersteuning", "success factors", "enablers",
                          "preconditions", "what works"])),
    ("recommendation", 1.0, _rx(["aanbeveling*", "adviezen", "advies", "recommendation*",
                                 "tot slot"])),
    ("outcome", 0.6, _rx(["impact*", "effect*", "resultaten", "opbrengst*", "ervaringen en impact",
                          "conclusie*", "outcome*", "results", "findings"])),
    ("description", 1.0, _rx(["methode", "methodologie", "onderzoeksopzet", "onderzoeksontwerp",
                              "aanpak", "inleiding", "aanleiding", "leeswijzer", "instrumenten",
                              "doelstelling*", "achtergrond", "context", "method*", "introduction",
                              "background", "research design"])),
    ("figure", 1.0, re.compile(r"\b(?:tabel|figuur|grafiek|table|figure)\s+\d+|\(?\bn\s*=\s*\d+", re.I)),
)
_QUESTIONNAIRE_HEADING = re.compile(
    r"\?\s*$|^\s*\d{1,2}[a-z]?\.\s+(?:wat|welke?|hoe|hoeveel|waarom|staan|staat|is|zijn|heeft|wordt|worden)\b|\bvragenlijst\b(?!en\b)|\bbijlage\b|\bappendix\b|\benquête\b", re.I)
_OPEN_QUOTES = ("“", "„", '"', "‘", "'")
_RESEARCH_Q = re.compile(r"\b(?:hoofdvraag|onderzoeksvra\w*|deelvra\w*|de\s+vraag\s+(?:is|was)|research\s+question)", re.I)
_RESULTS_HEADING = re.compile(r"\bresultat\w*|\bresults?\b", re.I)


def _cue_score(pattern: re.Pattern[str], text: str, *, negatable: bool) -> float:
    """Number of cue hits in ``text``; a hit preceded by a negator does not count."""
    score = 0.0
    for m in pattern.finditer(text):
        if negatable and _NEGATOR.search(text[max(0, m.start() - 40):m.start()]):
            continue
        score += 1.0
    return score


Scores = defaultdict[str, float]


def _add(into: Scores, more: Scores, weight: float = 1.0) -> None:
    for role, value in more.items():
        into[role] += weight * value


# Costs and chances stated as too high or too low, effort stated as large: barriers in any
# funding report ('de co-financiering is hoog en de dagvergoeding laag', 'de kans op
# honorering wordt klein genoemd', 'vraagt erg veel inzet').
_COST_OR_CHANCE = re.compile(
    r"\b(?:kosten|(?:co-?)?financiering|eigen\s+(?:bijdrage|geld)|\w*vergoeding|beurs|beurzen|"
    r"subsidie\w*|budget|kans\w*|slaagkans|honorering)\b[^.;]{0,50}?\b(?:te\s+)?"
    r"(?:hoog|laag|klein|gering|beperkt|onvoldoende|ontoereikend)\b", re.I)
_EFFORT = re.compile(
    r"\b(?:(?:erg|heel|zeer|te|veel)\s+)?(?:veel|grote?|forse?)\s+(?:tijd|inzet|werk|moeite|investering|"
    r"tijdsinvestering|administratie)\b|\bniet\s+(?:altijd\s+)?(?:happig|enthousiast|bereid)\b|"
    r"\b(?:vraag|vergt|kost)\w*\s+(?:erg\s+|heel\s+|zeer\s+|te\s+)?veel\b|"
    r"\b(?:high|low)\s+(?:costs?|co-?financing|allowance|chance)\b|\b(?:takes|requires|demands)\s+a\s+lot\b", re.I)


def _semantic_scores(text: str) -> Scores:
    """Barrier / enabler / outcome / recommendation scores of one clause."""
    scores: Scores = defaultdict(float)
    scores["barrier"] += _cue_score(_BARRIER, text, negatable=True)
    scores["barrier"] += len(_COST_OR_CHANCE.findall(text)) + len(_EFFORT.findall(text))
    for m in _BARRIER.finditer(text):
        before = text[max(0, m.start() - 40):m.start()]
        if _LOWERS.search(before) or _LOWERS.search(text[m.end():m.end() + 25]):
            scores["barrier"] -= 1.0
            scores["enabler"] += 1.0
    for m in _ENABLER.finditer(text):
        before = text[max(0, m.start() - 30):m.start()]
        if _LACK.search(before) or _NEGATOR.search(before):
            scores["barrier"] += 1.0  # "geen ondersteuning", "gebrek aan draagvlak"
        else:
            scores["enabler"] += 1.0
    scores["outcome"] += _cue_score(_OUTCOME, text, negatable=False)
    scores["description"] += 0.5 * _cue_score(_DESCRIPTION, text, negatable=False)
    if _RESEARCH_Q.search(text):
        scores["description"] += 2.0  # 'De hoofdvraag was: wat is de impact …' states no impact
    scores["recommendation"] += 1.5 * _cue_score(_RECOMMEND, text, negatable=False)
    return scores


def _clause_scores(sentence: str) -> Scores:
    """Semantic scores, weighting a 'maar'-clause over what it contrasts with and ignoring
    a concessive opening ('Ondanks dat …, ')."""
    m = _ONDANKS.match(sentence)
    if m:
        sentence = sentence[m.end():]
    parts = _CONTRAST.split(sentence, maxsplit=1)
    if len(parts) == 1:
        return _semantic_scores(sentence)
    total: Scores = defaultdict(float)
    _add(total, _semantic_scores(parts[0]), 0.5)
    _add(total, _semantic_scores(parts[1]), 1.25)
    return total


def figure_score(sentence: str) -> float:
    """How much of a sentence is numbers: percentages, n=, counts, shares, captions."""
    numbers = [n for n in _NUMBER.findall(sentence) if not re.fullmatch(r"(?:19|20)\d\d", n)]
    score = 2.0 * len(_PERCENT.findall(sentence)) + 2.0 * len(_N_EQ.findall(sentence))
    score += 2.0 * len(_X_OF_Y.findall(sentence)) + 2.0 * len(_SHARE.findall(sentence))
    score += 2.0 * len(_COUNTED.findall(sentence)) + 1.0 * len(_TIMES.findall(sentence))
    score += 1.5 * len(_CAPTION.findall(sentence))
    if len(numbers) >= 3:
        score += 0.5 * len(numbers)
    return score


def is_boilerplate(sentence: str, heading_path: str = "") -> bool:
    """Questionnaire or interview-guide items, answer scales, TOC lines, references, colophons."""
    s = sentence.strip()
    if _TOC.search(s) or _COLOPHON.search(s) or _GUIDE_CUES.search(s):
        return True
    if len(_SCALE.findall(s)) >= 2 and figure_score(s) < 2:
        return True
    if _REFERENCE.search(s) and len(s.split()) < 60:
        return True
    if len(s.split()) <= 15 and re.search(r"\b(?:[Uu]w|u)\b", s) and not s.startswith(_OPEN_QUOTES):
        return True  # reports do not address the reader as 'u'; questionnaires do
    question = s.rstrip("”’\"' )").endswith("?")
    if question and len(s.split()) <= 12 and not s.startswith(_OPEN_QUOTES) and not _RESEARCH_Q.search(s):
        return True  # a short bare question in report text is a questionnaire or guide item
    if question:
        in_guide = bool(_QUESTIONNAIRE_HEADING.search(heading_path)) or _heading_role(heading_path) == "boilerplate"
        if _FORMAL_YOU.search(s) and _QUESTION_START.match(s):
            return True  # 'Kan u een voorbeeld geven …?', 'Welke impact heeft dit op uzelf?'
        if in_guide and not _RESULTS_HEADING.search(heading_path):
            return True
        if re.match(r"^\s*(?:vraag|question)\s*\d*\s*[:.]", s, re.I):
            return True
    # a heading-less fragment of a guide: 'Hoe, wanneer, bij wie?'
    return question and len(s.split()) <= 5 and bool(_QUESTION_START.match(s))


def _heading_role(heading_path: str) -> Role | None:
    """The role a section heading suggests, judged on its innermost part first."""
    for part in reversed([p for p in re.split(r"\s*>\s*", heading_path) if p.strip()]):
        hits = [(w, role) for role, w, rx in _HEADING_PRIORS if rx.search(part)]
        if hits:
            return max(hits)[1]
    return None


def _heading_priors(heading_path: str) -> Scores:
    """Prior scores from the section path; the innermost heading weighs most, and a heading
    naming two roles ('Bevorderende en belemmerende factoren') gives each half."""
    priors: Scores = defaultdict(float)
    parts = [p for p in re.split(r"\s*>\s*", heading_path) if p.strip()]
    for depth, part in enumerate(reversed(parts)):
        hits = [(role, w) for role, w, rx in _HEADING_PRIORS if rx.search(part)]
        decay = 1.0 if depth == 0 else 0.6
        for role, w in hits:
            priors[role] += _HEADING_WEIGHT * w * decay / len(hits)
        if hits:
            break
    return priors


def role_scores(sentence: str, heading_path: str = "") -> dict[str, float]:
    """Score of every role for a sentence (for inspection and tests); not normalised."""
    scores: Scores = defaultdict(float)
    scores["figure"] = figure_score(sentence)
    _add(scores, _clause_scores(sentence))
    _add(scores, _heading_priors(heading_path))
    return {r: round(scores[r], 3) for r in ROLES}


def sentence_role(sentence: str, heading_path: str = "") -> Role:
    """The evidence role of one sentence, given its section heading path (may be empty)."""
    if is_boilerplate(sentence, heading_path):
        return "boilerplate"
    if figure_score(sentence) >= 2.0:
        return "figure"
    scores = role_scores(sentence, heading_path)
    scores["figure"] = 0.0  # below the figure bar: numbers alone make no figure
    if _heading_role(heading_path) == "boilerplate":
        scores["boilerplate"] = 0.0  # a guide heading alone does not make prose boilerplate
    best: Role = max(ROLES, key=lambda r: (scores[r], -ROLES.index(r)))
    if best == "description" or scores[best] < _THRESHOLD or scores[best] <= scores["description"]:
        return "description"
    return best


def passage_role_shares(sentences: Iterable[str], heading_path: str = "") -> dict[str, float]:
    """Share of each role among a passage's sentences (roles absent from it are left out)."""
    counts = Counter(sentence_role(s, heading_path) for s in sentences if s.strip())
    total = sum(counts.values())
    return {r: counts[r] / total for r in ROLES if counts[r]} if total else {}


def passage_roles(sentences: Iterable[str], heading_path: str = "") -> tuple[Role, ...]:
    """Roles present in a passage, most frequent first (ties in ``ROLES`` order)."""
    shares = passage_role_shares(sentences, heading_path)
    return tuple(sorted((r for r in ROLES if r in shares), key=lambda r: (-shares[r], ROLES.index(r))))


def unit_roles(sentences_with_headings: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Role shares over (sentence, heading path) pairs, for units spanning sections."""
    counts = Counter(sentence_role(s, h) for s, h in sentences_with_headings if s.strip())
    total = sum(counts.values())
    return {r: counts[r] / total for r in ROLES if counts[r]} if total else {}
