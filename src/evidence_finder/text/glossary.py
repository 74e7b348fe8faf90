"""Bilingual glossary: English education and Erasmus+ terms → Dutch (NL and Flemish) terms.

BM25 cannot match 'teacher training' to 'lerarenopleiding'; expanding English questions
with these Dutch terms lets the lexical side contribute for English questions too. The
entries are general vocabulary of the field, not phrases taken from evaluation questions.
"""

from __future__ import annotations

import re

GLOSSARY: dict[str, str] = {
    # programme and actions
    "key action 1": "KA1 kernactie mobiliteit",
    "key action 2": "KA2 kernactie partnerschappen samenwerking",
    "ka1": "KA1 mobiliteit",
    "ka2": "KA2 partnerschappen",
    "mobility": "mobiliteit uitwisseling",
    "exchange": "uitwisseling",
    "exchanges": "uitwisseling uitwisselingen",
    "partnership": "partnerschap samenwerking",
    "partnerships": "partnerschappen samenwerking",
    "strategic partnership": "strategisch partnerschap",
    "cooperation": "samenwerking",
    "collaboration": "samenwerking",
    "project": "project projecten",
    "projects": "projecten",
    "application": "aanvraag aanvragen",
    "applications": "aanvragen aanvraag",
    "apply": "aanvragen aanvraag",
    "grant": "subsidie beurs",
    "grants": "subsidies beurzen",
    "funding": "financiering subsidie middelen",
    "budget": "budget middelen",
    "money": "geld middelen financiering",
    "cost": "kosten",
    "costs": "kosten",
    "national agency": "Nationaal Agentschap NA",
    "agency": "agentschap",
    "job shadowing": "job shadowing jobshadowing",
    "study visit": "studiereis studiebezoek",
    "study trip": "studiereis",
    "course": "cursus scholing",
    "courses": "cursussen scholing",
    "internship": "stage",
    "internships": "stages stage",
    "placement": "stage",
    "abroad": "buitenland buitenlandse",
    "foreign": "buitenlandse",
    "international": "internationale internationaal",
    "internationalisation": "internationalisering",
    "internationalization": "internationalisering",
    "virtual": "virtuele online",
    "online": "online digitaal",
    "etwinning": "eTwinning",
    # people
    "teacher": "leraar docent leerkracht",
    "teachers": "leraren docenten leerkrachten",
    "teacher educator": "lerarenopleider opleider",
    "teacher educators": "lerarenopleiders opleiders",
    "student teachers": "studenten aanstaande leraren",
    "pupil": "leerling",
    "pupils": "leerlingen",
    "student": "student leerling",
    "students": "studenten leerlingen",
    "learners": "lerenden leerlingen studenten",
    "staff": "personeel medewerkers",
    "school leader": "schoolleider directeur",
    "school leaders": "schoolleiders directie",
    "principal": "directeur schoolleider",
    "management": "management directie leidinggevende",
    "coordinator": "coördinator",
    "coordinators": "coördinatoren",
    "parents": "ouders",
    "colleagues": "collega's",
    "respondents": "respondenten",
    "interviewees": "geïnterviewden respondenten",
    # sectors and institutions
    "teacher training": "lerarenopleiding lerarenopleidingen pabo",
    "teacher education": "lerarenopleiding lerarenopleidingen pabo",
    "primary education": "primair onderwijs basisonderwijs po",
    "primary school": "basisschool primair onderwijs",
    "primary schools": "basisscholen primair onderwijs",
    "secondary education": "voortgezet onderwijs secundair onderwijs vo",
    "secondary school": "middelbare school voortgezet onderwijs",
    "secondary schools": "middelbare scholen voortgezet onderwijs",
    "vocational": "beroepsonderwijs mbo",
    "vocational education": "beroepsonderwijs mbo",
    "vet": "mbo beroepsonderwijs",
    "higher education": "hoger onderwijs ho",
    "university": "universiteit hogeschool",
    "universities": "universiteiten hogescholen",
    "adult education": "volwasseneneducatie volwassenenonderwijs",
    "school": "school scholen",
    "schools": "scholen",
    "flanders": "Vlaanderen Vlaamse",
    "flemish": "Vlaamse Vlaanderen",
    "netherlands": "Nederland Nederlandse",
    "dutch": "Nederlandse Nederland",
    "europe": "Europa Europese",
    # countries and regions whose Dutch names differ (English adjective forms too)
    "belgium": "België Belgische", "belgian": "Belgische België",
    "wallonia": "Wallonië Waalse", "walloon": "Waalse Wallonië", "brussels": "Brussel Brusselse",
    "germany": "Duitsland Duitse", "german": "Duitse Duits Duitsland",
    "france": "Frankrijk Franse", "french": "Frans Franse Frankrijk",
    "spain": "Spanje Spaanse", "spanish": "Spaans Spaanse Spanje",
    "italy": "Italië Italiaanse", "italian": "Italiaans Italiaanse Italië",
    "sweden": "Zweden Zweedse", "swedish": "Zweeds Zweedse Zweden",
    "norway": "Noorwegen Noorse", "norwegian": "Noors Noorse Noorwegen",
    "denmark": "Denemarken Deense", "danish": "Deens Deense Denemarken",
    "finland": "Finland Finse", "finnish": "Fins Finse Finland",
    "iceland": "IJsland IJslandse", "icelandic": "IJslands IJslandse IJsland",
    "ireland": "Ierland Ierse", "irish": "Iers Ierse Ierland",
    "england": "Engeland Engelse", "britain": "Groot-Brittannië Britse",
    "british": "Britse Brits Groot-Brittannië", "united kingdom": "Verenigd Koninkrijk VK",
    "scotland": "Schotland Schotse", "scottish": "Schots Schotse Schotland",
    "switzerland": "Zwitserland Zwitserse", "swiss": "Zwitserse Zwitserland",
    "austria": "Oostenrijk Oostenrijkse", "austrian": "Oostenrijkse Oostenrijk",
    "poland": "Polen Poolse", "polish": "Pools Poolse Polen",
    "czech": "Tsjechië Tsjechische", "hungary": "Hongarije Hongaarse",
    "greece": "Griekenland Griekse", "greek": "Grieks Griekse Griekenland",
    "portugal": "Portugal Portugese", "portuguese": "Portugees Portugese Portugal",
    "turkey": "Turkije Turkse", "turkish": "Turks Turkse Turkije",
    "lithuania": "Litouwen Litouwse", "latvia": "Letland Letse", "estonia": "Estland Estse",
    "romania": "Roemenië Roemeense", "bulgaria": "Bulgarije Bulgaarse",
    "croatia": "Kroatië Kroatische", "slovenia": "Slovenië Sloveense",
    "slovakia": "Slowakije Slowaakse", "cyprus": "Cyprus Cypriotische",
    "the hague": "Den Haag Haagse", "hague": "Den Haag Haagse",
    "ghent": "Gent Gentse", "bruges": "Brugge Brugse", "antwerp": "Antwerpen Antwerpse",
    "louvain": "Leuven Leuvense", "liège": "Luik Luikse", "liege": "Luik Luikse",
    "mechlin": "Mechelen Mechelse", "courtrai": "Kortrijk Kortrijkse",
    "european": "Europese",
    "curriculum": "curriculum onderwijsprogramma",
    "centres of vocational excellence": "CoVE",
    # impact vocabulary
    "barrier": "belemmering drempel knelpunt",
    "barriers": "belemmeringen drempels knelpunten",
    "obstacle": "belemmering drempel obstakel",
    "obstacles": "belemmeringen drempels obstakels",
    "hinder": "belemmeren belemmerende drempel",
    "hinders": "belemmert belemmerende belemmeringen drempel drempels",
    "hindering": "belemmerende drempel",
    "prevent": "belemmeren tegenhouden drempel", "prevents": "belemmert tegenhoudt drempel",
    "stand in the way": "belemmeren in de weg drempel", "keeps": "weerhoudt",
    "problem": "probleem knelpunt",
    "problems": "problemen knelpunten",
    "challenge": "uitdaging",
    "challenges": "uitdagingen",
    "difficult": "moeilijk lastig",
    "success factor": "succesfactor bevorderende factor",
    "success factors": "succesfactoren bevorderende factoren",
    "enabler": "bevorderende factor succesfactor",
    "enablers": "bevorderende factoren succesfactoren",
    "helps": "helpt bevordert",
    "support": "ondersteuning steun",
    "impact": "impact effect opbrengsten",
    "effect": "effect impact",
    "effects": "effecten impact",
    "outcomes": "opbrengsten resultaten",
    "results": "resultaten opbrengsten",
    "benefits": "meerwaarde opbrengsten voordelen",
    "benefit": "meerwaarde opbrengst voordeel profiteren", "gain": "opbrengst winst opdoen",
    "advantages": "voordelen meerwaarde", "disadvantages": "nadelen", "drawbacks": "nadelen",
    "motivation": "motivatie",
    "skills": "vaardigheden competenties",
    "competences": "competenties",
    "competencies": "competenties",
    "language": "taal",
    "language skills": "taalvaardigheid talenkennis",
    "english": "Engels",
    "professional development": "professionalisering professionele ontwikkeling",
    "professionalisation": "professionalisering",
    "innovation": "innovatie vernieuwing",
    "quality": "kwaliteit",
    "inclusion": "inclusie",
    "diversity": "diversiteit",
    "sustainability": "duurzaamheid",
    "digitalisation": "digitalisering",
    "digital": "digitale digitalisering",
    "citizenship": "burgerschap wereldburgerschap",
    "policy": "beleid",
    "vision": "visie",
    "strategy": "strategie",
    "workload": "werkdruk tijd",
    "time": "tijd",
    "administration": "administratie administratieve",
    "paperwork": "administratie administratieve last",
    "bureaucracy": "administratieve last bureaucratie",
    "survey": "enquête vragenlijst",
    "questionnaire": "vragenlijst enquête",
    "interview": "interview gesprek",
    "interviews": "interviews gesprekken",
    "case study": "casus casestudie",
    "case studies": "casussen casestudies",
    "recommendation": "aanbeveling",
    "recommendations": "aanbevelingen",
    "conclusion": "conclusie",
    "conclusions": "conclusies",
    "covid": "corona covid pandemie",
    "pandemic": "corona pandemie",
    "corona": "corona",
    "percentage": "procent percentage",
    "how many": "aantal",
    "number": "aantal",
    "quote": "citaat",
    "experience": "ervaring ervaringen",
    "experiences": "ervaringen",
    "organisation": "organisatie",
    "organisational": "organisatie organisatorische",
    "embedding": "inbedding verankering",
    "network": "netwerk",
    "networks": "netwerken",
    # research and reporting vocabulary
    "study": "onderzoek studie", "studies": "onderzoeken studies",
    "research": "onderzoek", "researchers": "onderzoekers",
    "report": "rapport rapportage verslag", "reports": "rapporten rapportages",
    "finding": "bevinding resultaat", "findings": "bevindingen resultaten",
    "comparative": "vergelijkend vergelijkende", "compared": "vergeleken vergelijking",
    "country": "land", "countries": "landen", "abroad country": "buitenland",
    "participants": "deelnemers", "participant": "deelnemer",
    "participation": "deelname participatie", "participate": "deelnemen meedoen",
    "taking part": "deelname deelnemen", "take part": "deelnemen meedoen",
    "extent": "mate", "to what extent": "in welke mate",
    "majority": "meerderheid", "half": "helft", "share": "aandeel", "proportion": "aandeel",
    "increase": "toename stijging groei", "decrease": "afname daling", "decline": "afname daling",
    "reason": "reden", "reasons": "redenen", "why": "waarom reden",
    "often": "vaak", "how often": "hoe vaak", "rarely": "zelden",
    "year": "jaar", "years": "jaren", "annually": "jaarlijks", "every year": "elk jaar jaarlijks",
    # learning, attitudes and outcomes
    "develop": "ontwikkelen", "development": "ontwikkeling", "learn": "leren", "learning": "leren",
    "confidence": "zelfvertrouwen", "self-confidence": "zelfvertrouwen",
    "independence": "zelfstandigheid zelfstandiger", "independent": "zelfstandig zelfstandiger",
    "awareness": "bewustzijn bewustwording", "attitude": "houding", "attitudes": "houding",
    "intercultural": "interculturele intercultureel", "culture": "cultuur", "cultural": "culturele",
    "citizenship education": "burgerschapsvorming burgerschap", "open-minded": "open blik",
    "perspective": "perspectief blik", "horizon": "horizon blik",
    "value": "waarde meerwaarde", "added value": "meerwaarde", "valuable": "waardevol",
    "appreciation": "waardering", "pride": "trots", "proud": "trots",
    "motivated": "gemotiveerd", "enthusiasm": "enthousiasme", "enthusiastic": "enthousiast",
    "technology": "technologie technologisch", "technological": "technologisch",
    "teaching": "lesgeven onderwijs lessen", "lessons": "lessen", "classroom": "klas klaslokaal",
    "teaching methods": "didactiek werkvormen lesmethoden", "didactics": "didactiek",
    # organising mobility
    "trip": "reis", "trips": "reizen", "travel": "reizen reis reiskosten", "visit": "bezoek",
    "visits": "bezoeken", "stay": "verblijf", "accommodation": "huisvesting accommodatie verblijf",
    "allowance": "vergoeding toelage", "daily allowance": "dagvergoeding", "fee": "vergoeding",
    "host": "ontvangend gastschool", "hosting": "ontvangend ontvangen", "receiving": "ontvangend",
    "sending": "uitzendend uitgaande", "outgoing": "uitgaande", "incoming": "inkomende",
    "partner school": "partnerschool", "partner schools": "partnerscholen",
    "partner": "partner", "partners": "partners", "school board": "schoolbestuur",
    "school-wide": "schoolbreed", "whole school": "schoolbreed hele school", "team": "team",
    "training": "training scholing opleiding", "trainers": "trainers", "trainer": "trainer",
    "volunteer": "vrijwilliger vrijwilligers", "volunteers": "vrijwilligers",
    "preparation": "voorbereiding", "prepare": "voorbereiden", "follow-up": "nazorg vervolg",
    "selection": "selectie", "select": "selecteren",
    "information": "informatie voorlichting", "promotion": "promotie voorlichting",
    "basic grant": "basisbeurs", "student grant": "studiebeurs basisbeurs",
    "student finance": "studiefinanciering", "co-financing": "cofinanciering",
    "substitute": "vervanging invaller",
    "replacement": "vervanging", "timetable": "rooster", "schedule": "planning rooster",
}

_KEYS = sorted(GLOSSARY, key=len, reverse=True)
_PATTERN = re.compile(r"\b(" + "|".join(re.escape(k) for k in _KEYS) + r")\b", re.I)


_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")


def _base_forms(word: str) -> list[str]:
    """Candidate dictionary forms of an inflected English word ('substitutes' → 'substitute',
    'surveyed' → 'survey', 'preparing' → 'prepare'), so the glossary need not list every form."""
    w = word.lower()
    out = []
    if w.endswith("ies") and len(w) > 4:
        out.append(w[:-3] + "y")
    if w.endswith("es") and len(w) > 4:
        out.append(w[:-2])
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        out.append(w[:-1])
    if w.endswith("ing") and len(w) > 5:
        out += [w[:-3], w[:-3] + "e"]
    if w.endswith("ed") and len(w) > 4:
        out += [w[:-2], w[:-1]]
    return out


def glossary_matches(question: str) -> list[tuple[str, str]]:
    """(English phrase as written, its Dutch terms) for each glossary entry in ``question``,
    longest match first; then words outside those phrases whose base form is an entry."""
    found = [(m.group(1), GLOSSARY[m.group(1).lower()], m.span()) for m in _PATTERN.finditer(question)]
    taken = [span for *_, span in found]
    for m in _WORD.finditer(question):
        if any(a <= m.start() < b for a, b in taken):
            continue
        base = next((b for b in _base_forms(m.group()) if b in GLOSSARY), None)
        if base:
            found.append((m.group(), GLOSSARY[base], m.span()))
    return [(phrase, dutch) for phrase, dutch, _ in found]


def expand_english(question: str) -> str:
    """Dutch glossary terms for the English terms in ``question`` (longest match first)."""
    return " ".join(dict.fromkeys(dutch for _, dutch in glossary_matches(question)))


_TELLING = 2.5  # IDF below which a word alone does not show what a multi-word term is about
_ACRONYM = re.compile(r"[a-z]{2,3}\d")  # programme actions, written upper case in labels


def english_labels(dutch_text: str, weight: dict[str, float] | None = None, limit: int = 3) -> list[str]:
    """English glossary phrases whose Dutch terms ``dutch_text`` uses, most telling first
    (by ``weight`` of the Dutch stem, e.g. its IDF; else by phrase length): a short English
    gist of a Dutch sentence ('administration', 'co-financing')."""
    from evidence_finder.text.tokens import tokenize

    tokens = set(tokenize(dutch_text))
    scored: dict[str, float] = {}
    seen_dutch: set[str] = set()
    for english in _KEYS:
        # a Dutch term counts when all its parts are there: 'groot' alone is no 'Groot-Brittannië'
        terms = [tokenize(term) for term in GLOSSARY[english].split()]
        stems = [t for parts in terms if parts and all(p in tokens for p in parts) for t in parts]
        if not stems or english.isupper() or set(stems) <= seen_dutch:
            continue
        if set(tokenize(english)) == set(tokenize(GLOSSARY[english])):
            continue  # 'project' → 'project': no translation, says nothing new
        if weight and " " in english and max(weight.get(t, 0.0) for t in stems) < _TELLING:
            continue  # 'secondary education' met only by 'onderwijs': a word every report uses
        seen_dutch.update(stems)
        scored[english] = max((weight or {}).get(t, float(len(english))) for t in stems)
    best = sorted(scored, key=lambda e: -scored[e])[:limit]
    return [e.upper() if _ACRONYM.fullmatch(e) else e for e in best]  # "ka1" → "KA1"

