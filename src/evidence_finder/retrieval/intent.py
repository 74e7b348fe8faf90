"""Question intent: what kind of evidence a Dutch or English question asks for.

barrier, enabler, outcome, quote, figure, comparison (across reports), definition,
recommendation — the roles of ``ingest.roles`` seen from the question's side, so retrieval
can weigh units whose role matches.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from evidence_finder.ingest.roles import _rx

# --- question intents ----------------------------------------------------------------------

Intent = Literal["barrier", "enabler", "outcome", "quote", "figure", "comparison", "definition", "recommendation"]
INTENTS: tuple[Intent, ...] = get_args(Intent)

_INTENT_CUES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    ("barrier", _rx([
        "belemmer*", "drempel*", "knelpunt*", "obstakel*", "hinder*", "struikelblok*", "problemen",
        "probleem", "moeilijk*", "lastig*", "uitdaging*", "tegenhoud*", "tegenhouden", "waarom niet",
        "weerstand", "bezwaren", "nadelen", "tegen aan", "tegenaan",
        "barrier*", "obstacle*", "hinders", "hinder", "hindered", "prevent*", "difficult*",
        "challenge*", "problem*", "keeps", "stops", "stand in the way", "why not", "bottleneck*",
        # how people ask about obstacles without naming them
        "risico*", "gevaar", "moeite", "gebrek aan", "tekort*", "zo weinig", "te weinig",
        "niet willen", "afzien", "ziet af", "zien af", "omgaan met", "om met", "twijfel*", "bang",
        "zorgen", "werkdruk", "tijdgebrek", "kost*", "valkuil*",
        "risk*", "hard to", "hard for", "lack of", "shortage*", "so few", "too few", "reluctan*",
        "decide not", "not to go", "not want*", "deal with", "cope with", "afraid", "fear*",
        "worr*", "workload", "pitfall*", "drawback*", "downside*", "concern*",
    ])),
    ("enabler", _rx([
        "succesfactor*", "succes", "wat helpt", "helpt", "helpen", "bevorder*", "randvoorwaarde*",
        "voorwaarde*", "wat werkt", "werkt goed", "faciliteer*", "ondersteun*", "stimuleren",
        "stimuleert", "slagen", "succesvol*", "sleutel*",
        "success factor*", "success", "successful", "what helps", "helps", "enabl*", "facilitat*",
        "what works", "works well", "precondition*", "key to", "drivers", "support*",
        # how people ask about what it takes
        "nodig", "wat maakt*", "hoe krijg je", "hoe zorg je", "tips", "aandachtspunt*", "lessen",
        "geleerd", "goede praktijk*", "begeleiding", "draagvlak", "motiveren", "overhalen",
        "needed", "need to", "needs to", "in place", "what makes", "how do you get", "how to get",
        "lessons", "learned", "good practice*", "guidance", "buy-in", "motivate*", "persuade*",
        "encourage*", "stimulat*", "succeed*",
    ])),
    ("outcome", _rx([
        "effect*", "impact", "resultaat", "resultaten", "opbrengst*", "oplever*", "levert",
        "opleveren", "verander*", "verbeter*", "bijdrage", "draagt bij", "dragen bij", "gevolg*",
        "wat heeft het gebracht", "meerwaarde", "leidt tot", "leiden tot",
        "outcome*", "result*", "benefit*", "what did", "bring", "lead to", "leads to", "changed",
        "change", "improv*", "added value", "contribute*",
    ])),
    ("quote", _rx([
        "citaat", "citaten", "quote*", "quotation*", "uitspraken", "uitspraak", "letterlijk",
        "in hun eigen woorden", "in their own words", "testimonial*", "stemmen van",
    ])),
    ("figure", _rx([
        "hoeveel", "percentage*", "procent", "aantal", "aantallen", "hoe vaak", "cijfers", "cijfer",
        "welk deel", "welk aandeel", "aandeel", "hoe groot", "statistiek*",
        "how many", "how much", "how often", "percent*", "share of", "proportion", "number of",
        "figures", "statistic*", "rate",
    ])),
    ("comparison", _rx([
        "vergelijk*", "verschil*", "verschillende onderzoeken", "verschillende rapporten",
        "alle rapporten", "de rapporten", "beide rapporten", "beide onderzoeken", "in beide",
        "tussen sectoren", "per sector", "overeenkomst*", "versus", "vs", "ten opzichte van",
        "compare*", "comparison", "compared", "across", "in both", "the reports", "all reports",
        "differ*", "similarit*", "between sectors",
    ])),
    ("recommendation", _rx([
        "aanbeveling*", "aanbevelen", "advies", "adviezen", "adviseren", "wat moet*", "wat zou*",
        "zou moeten", "zouden moeten", "wat kan * doen", "wat kunnen * doen", "hoe kan", "hoe kunnen",
        "recommend*", "advice", "advise", "what should", "should", "what can * do", "how can",
    ])),
)
_DEFINITION = re.compile(
    r"(?:\bwat\s+(?:is|zijn|betekent|betekenen)\s+(?:een\s+|het\s+begrip\s+|de\s+term\s+)?"
    r"(?:[\w+/-]+\s*){1,3}\??\s*$|\bwat\s+(?:wordt|worden)\s+(?:er\s+)?(?:bedoeld|verstaan)|"
    r"\bdefinitie\b|\bdefinieer|\bbetekenis\s+van\b|\bwhat\s+(?:is|are)\s+(?:an?\s+|the\s+term\s+)?"
    r"(?:[\w+/-]+\s*){1,3}\??\s*$|\bwhat\s+does\s+.+\s+mean\b|\bwhat\s+is\s+meant\s+by\b|"
    r"\bdefin(?:e|ition)\b)", re.I)


def _intent_rx(cues: re.Pattern[str]) -> re.Pattern[str]:
    """Allow a '*' inside a multi-word cue ('what do * say') to stand for up to three words."""
    return re.compile(cues.pattern.replace(r"\s+\*\s+", r"\s+(?:\S+\s+){1,3}"), cues.flags)


_INTENTS = tuple((intent, _intent_rx(rx)) for intent, rx in _INTENT_CUES)
_PEOPLE = (r"(?:de\s+|the\s+)?(?:docent\w*|leraren|leraar|leerkracht\w*|leerling\w*|student\w*|"
           r"deelnemers|respondent\w*|schoolleiders?|directeur\w*|coördinator\w*|opleiders?|"
           r"teachers?|pupils?|students?|participants?|respondents?|principals?|coordinators?)")
# 'wat zeggen docenten …', 'what do students say …': asking for people's own words
_SAY = re.compile(rf"\b(?:wat\s+(?:zeggen|vertellen|vinden)\s+{_PEOPLE}|{_PEOPLE}\s+(?:zeggen|vertellen)|"
                  rf"what\s+(?:do|did)\s+{_PEOPLE}\s+(?:say|tell|think)|{_PEOPLE}\s+(?:say|said))\b", re.I)


def question_intent(question: str) -> set[str]:
    """What kinds of evidence a Dutch or English question asks for (may be empty).

    >>> sorted(question_intent("what hinders KA2 applications in teacher training"))
    ['barrier']
    """
    q = question.strip()
    intents: set[str] = {intent for intent, rx in _INTENTS if rx.search(q)}
    if _SAY.search(q):
        intents.add("quote")
    if "barrier" in intents and "enabler" in intents and not re.search(
            r"\b(?:en|and|of|or)\b.*\b(?:belemmer|drempel|hinder|barrier|obstacle|succes|helpt|bevorder|enabl)",
            q, re.I):
        # 'hoe helpt men scholen over de drempel' asks for one thing; keep the stronger cue
        intents.discard("enabler" if re.search(r"drempel|belemmer|barrier|obstacle|hinder", q, re.I) else "barrier")
    if "figure" in intents and re.search(r"\b(?:aantal|number of)\s+(?:manieren|ways|redenen|reasons)\b", q, re.I):
        intents.discard("figure")  # 'a number of ways' is no count
    if "recommendation" in intents and re.search(r"\bhoe\s+(?:kan|kunnen)|\bhow\s+can\b", q, re.I) and (
            intents & {"barrier", "enabler", "figure", "outcome"}):
        intents.discard("recommendation")  # 'how can X help' asks for enablers, not advice
    if not intents - {"comparison"} and _DEFINITION.search(q):
        intents.add("definition")
    return intents
