"""Speakers: who says a respondent quote, read from the text around it.

Reports attribute quotes in a few ways, each handled here on plain strings:

- a role line after the quote: "- trekker -", "-trekker –", "- Een niet-betrokken leerkracht -";
- a parenthesis after the closing mark: “…” (docent, mbo-school De Rijn);
- a says-clause after it: “…,” zegt een directeur. / “…”, aldus een leerkracht van X;
- a lead-in sentence before it: "Een leerkracht geeft het volgende voorbeeld …:",
  "Een docente gaf aan dat ze …", "Eén van de vrijwilligers noemt dat …";
- a source line "UIT: …" / "Bron: …", which names a speaker only sometimes.

The speaker is a normalised role (Dutch, lowercase singular: ``leerkracht``, ``directeur``)
and, where the text names it, the school or organisation; never the lead-in sentence itself.
``speaker_matches`` and ``question_speaker`` connect questions ("quotes from teachers about
job shadowing", "citaten van directeuren over …") to those roles. Stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # structure imports this module; the type is only needed for hints
    from evidence_finder.ingest.structure import Unit


@dataclass(frozen=True)
class Speaker:
    """Who speaks: a normalised role, the organisation if named, and the verbatim phrase."""

    role: str
    organisation: str = ""
    text: str = ""  # the attribution phrase as printed ("- betrokken leerkracht -")
    position: str = ""  # where it was found: before | after | inside


# Dutch role words (regex over a lower-cased word) → normalised role. Longer, more specific
# words come first: 'lerarenopleider' before 'leraar', 'beleidsmedewerker' before 'medewerker'.
_ROLE_TABLE: tuple[tuple[str, str], ...] = (
    (r"e-?twinning[- ]?gebruikers?", "etwinning-gebruiker"),
    (r"lerarenopleiders?|opleiders?", "lerarenopleider"),
    (r"\w*leerkrachten|\w*leerkracht", "leerkracht"),
    (r"leraren|leraar|\w+leraar", "leraar"),
    (r"\w*docente?n?s?|\w*docentes", "docent"),
    (r"directeuren|directeurs?|directrices?|directie(?:leden|lid)?", "directeur"),
    (r"schoolleiders?|schoolleiding|rectors?|conrectors?", "schoolleider"),
    (r"\w*co[öo]rdinatoren|\w*co[öo]rdinators?", "coördinator"),
    (r"trekkers?|projecttrekkers?", "trekker"),
    (r"studenten|student(?:e|es)?", "student"),
    (r"leerlingen|leerling", "leerling"),
    (r"\w*vrijwilligers?", "vrijwilliger"),
    (r"beleidsmakers?", "beleidsmaker"),
    (r"bestuurders?|bestuursleden|bestuurslid", "bestuurder"),
    (r"\w*begeleiders?|mentors?|mentoren|coach(?:es)?", "begeleider"),
    (r"\w*medewerkers?|personeelsleden|personeelslid", "medewerker"),
    (r"teamleiders?", "teamleider"),
    (r"projectpartners?|partners?", "projectpartner"),
    (r"trainers?", "trainer"),
    (r"onderzoekers?", "onderzoeker"),
    (r"deelnemers?|participanten|participant", "deelnemer"),
    (r"ouders", "ouder"),
    (r"respondenten|respondent|geïnterviewden?|betrokkenen?|ge[ïi]nterviewde", "respondent"),
)
_ROLE_RE = [(re.compile(rf"(?:{pat})$", re.I), role) for pat, role in _ROLE_TABLE]
_WORD = re.compile(r"[\w][\w'’-]*", re.U)

# English (and a few Dutch) words in questions → the normalised roles they cover.
_TEACHER = frozenset({"leerkracht", "docent", "leraar"})
_HEAD = frozenset({"directeur", "schoolleider"})
_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    (r"teacher educators?|teacher trainers?|lerarenopleiders?", frozenset({"lerarenopleider"})),
    (r"teachers?|lecturers?|instructors?|tutors?|faculty", _TEACHER),
    (r"principals?|head ?teachers?|heads?|headmasters?|headmistress(?:es)?|directors?|school leaders?|"
     r"school heads?|management", _HEAD),
    (r"coordinators?|co-ordinators?", frozenset({"coördinator", "trekker"})),
    (r"project lead(?:er)?s?|project managers?", frozenset({"trekker", "coördinator"})),
    (r"students?", frozenset({"student"})),
    (r"pupils?|learners?|school ?children|kids", frozenset({"leerling"})),
    (r"volunteers?", frozenset({"vrijwilliger"})),
    (r"parents?", frozenset({"ouder"})),
    (r"staff(?: members?)?|employees?|colleagues?", frozenset({"medewerker"})),
    (r"supervisors?|mentors?|coaches?", frozenset({"begeleider"})),
    (r"board members?|trustees?|governors?", frozenset({"bestuurder"})),
    (r"participants?", frozenset({"deelnemer"})),
    (r"respondents?|interviewees?", frozenset({"respondent"})),
    (r"trainers?", frozenset({"trainer"})),
    (r"partners?", frozenset({"projectpartner"})),
    (r"policy ?makers?", frozenset({"beleidsmaker"})),
    (r"researchers?", frozenset({"onderzoeker"})),
)
_GROUP_RE = [(re.compile(rf"^(?:{pat})$", re.I), roles) for pat, roles in _GROUPS]
_GROUP_ANY = re.compile(r"\b(?:" + "|".join(p for p, _ in _GROUPS) + r")\b", re.I)
_WIDER = {"leerkracht": _TEACHER, "docent": _TEACHER, "leraar": _TEACHER,
          "directeur": _HEAD, "schoolleider": _HEAD}

_SAYS = re.compile(
    r"\b(?:zegt|zeggen|zei|zeiden|vertelt|vertellen|vertelde|vertelden|geeft|geven|gaf|gaven|stelt|stellen|"
    r"verwoordt|verwoorden|benadrukt|benadrukken|benadrukte|noemt|noemen|noemde|merkt|merken|merkte|"
    r"licht|vat|beschrijft|beschrijven|ervaart|ervaren|vindt|vinden|vond|vonden|getuigt|aldus|"
    r"vertelt|legt|illustreert|zegt|antwoordt|antwoordde|reageert|reageerde|schrijft|schreef)\b",
    re.I,
)
# words before a role that make it an object ('van de leerlingen', 'voor docenten'), not the speaker
_OBJECT_PREP = frozenset({"van", "voor", "met", "aan", "over", "bij", "naar", "door", "tussen", "onder",
                          "dan", "om", "op", "tot", "uit", "zonder"})
_QUANT = re.compile(r"^(?:[eé][eé]n|twee|drie|vier|vijf|enkele|sommige|meerdere|veel|de meeste|een aantal|"
                    r"geen|elk|elke|ieder|iedere|alle)$", re.I)
_PRONOUN_SUBJECT = re.compile(r"\b(?:zij|ze|hij)\b", re.I)
_ROLE_LINE = re.compile(r"^\s*[-–—]\s*(?P<body>[^-–—\s](?:.{0,90}?\S)?)\s*[-–—](?=\s|$)")
_SOURCE_LINE = re.compile(r"^\s*(?:UIT|Uit|uit|BRON|Bron|bron)\s*:\s*(?P<body>.{3,200})")
_PAREN_AFTER = re.compile(r"^[\s.,]*\((?P<body>[^()]{3,120})\)")
_PAREN_TAIL = re.compile(r"[”\"’]\s*\((?P<body>[^()]{3,120})\)\s*\.?\s*$")
_SAYS_AFTER = re.compile(
    r"^[\s,]*(?:zegt|zei|vertelt|vertelde|stelt|aldus|benadrukt|verwoordt|vindt|merkt|licht)"
    r"(?:\s+(?:op|toe|aan))?\s+(?P<body>[^.!?;“”\"]{3,120})",
    re.I,
)
_SAYS_INSIDE = re.compile(
    r"[”\"’]\s*,?\s*(?:zegt|zei|vertelt|vertelde|stelt|aldus|benadrukt|verwoordt)\s+"
    r"(?P<body>(?:een|de|het|één)\s[^.!?;“”\"]{3,100}?)\s*[.,:]\s*[“\"‘]",
    re.I,
)
# '“…,” zegt een directeur.' closing the quote's own paragraph
_SAYS_TAIL = re.compile(
    r"[”\"’]\s*,?\s*(?:zegt|zei|vertelt|vertelde|stelt|aldus|benadrukt|verwoordt)\s+"
    r"(?P<body>(?:een|de|het|één)\s[^.!?;“”\"]{3,100}?)\s*[.!]?\s*$",
    re.I,
)
_ORG_AFTER_ROLE = re.compile(
    r"^\s*(?:,\s*|\s+(?:van|bij|op|uit|aan)\s+(?:het\s+|de\s+|een\s+)?)"
    r"(?P<org>(?:[A-Z0-9ÀÝ][\w'’&.!+-]*|(?:van|de|het|voor|en|in|aan)\b)(?:\s+(?:[A-Z0-9ÀÝ][\w'’&.!+-]*|"
    r"(?:van|de|het|voor|en|aan|in)\b))*)"
)
_HEADING_ORG = re.compile(
    r"\b(?:IN|VAN|BIJ|OP)\s+(?P<org>(?:(?!\b(?:IN|VAN|BIJ|OP)\b)\S)+(?:\s+(?:(?!\b(?:IN|VAN|BIJ|OP)\b)\S)+)*?)"
    r"\s+IN\s+(?P<place>[A-ZÀ-Ý][A-ZÀ-Ý'-]+)\s*$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-Z“‘\"(À-Ý])")


def role_of_word(word: str) -> str:
    """The normalised role a single Dutch word names ('leerkrachten' → 'leerkracht'), or ''."""
    w = word.strip(" .,;:!?()[]“”‘’\"'").lower()
    if not w or w in {"betrokken", "niet-betrokken"}:
        return ""
    for rx, role in _ROLE_RE:
        if rx.match(w):
            return role
    return ""


def _roles_in(text: str) -> list[tuple[int, int, str]]:
    """(start, end, role) of every role word in ``text``; 'eTwinning gebruiker' spans two words."""
    out: list[tuple[int, int, str]] = []
    for m in re.finditer(r"e-?twinning[- ]gebruikers?", text, re.I):
        out.append((m.start(), m.end(), "etwinning-gebruiker"))
    taken = [(s, e) for s, e, _ in out]
    for m in _WORD.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        role = role_of_word(m.group())
        if role:
            out.append((m.start(), m.end(), role))
    return sorted(out)


def _subject_roles(sentence: str) -> list[tuple[int, int, str]]:
    """Role words that can be the speaker: not the object of a preposition ('van de leerlingen'),
    except in 'één van de vrijwilligers'."""
    keep = []
    found = _roles_in(sentence)
    # 'de geïnterviewde beleidsmaker': an adjective-like respondent word before a real role
    found = [f for i, f in enumerate(found)
             if not (f[2] == "respondent" and i + 1 < len(found) and found[i + 1][0] - f[1] <= 2)]
    dropped_end = -10
    for start, end, role in found:
        before = sentence[:start].lower().split()
        prev = [w.strip(",;:()") for w in before[-3:]]
        if prev and prev[-1] in {"en", "of"} and start - dropped_end <= 8:
            dropped_end = end  # 'met leerlingen en ouders': the object goes on
            continue
        while prev and prev[-1] in {"de", "het", "een", "onze", "hun", "haar", "zijn", "deze", "die",
                                    "andere", "betrokken", "niet-betrokken", "geïnterviewde", "ervaren"}:
            prev.pop()
        if prev and prev[-1] in _OBJECT_PREP:
            if prev[-1] == "van" and len(prev) >= 2 and _QUANT.match(prev[-2]):
                keep.append((start, end, role))
            else:
                dropped_end = end
            continue
        keep.append((start, end, role))
    return keep


def _title(text: str) -> str:
    """'GO! BASISSCHOOL DE DRIESPRONG' → 'GO! Basisschool De Driesprong'; acronyms stay."""
    def word(w: str) -> str:
        core = w.strip("()!.,")
        if core.isupper() and core.isalpha() and (w.startswith("(") and w.endswith(")") or w.endswith("!")):
            return w
        return "-".join(p[:1].upper() + p[1:].lower() for p in w.split("-"))
    return " ".join(word(w) for w in text.split())


def _org_after(text: str) -> str:
    m = _ORG_AFTER_ROLE.match(text)
    if not m:
        return ""
    org = re.sub(r"\s+(?:van|de|het|voor|en|in|aan)$", "", m.group("org").strip()).strip()
    return org if any(c.isupper() for c in org) else ""


def _from_phrase(phrase: str, position: str) -> Speaker | None:
    """Role and organisation from an attribution phrase ('docent, mbo-school De Rijn')."""
    roles = _subject_roles(phrase) or _roles_in(phrase)
    if not roles:
        org = phrase.split(",", 1)[1].strip() if "," in phrase else ""
        return Speaker("", org, phrase.strip(), position) if org else None
    start, end, role = roles[0]
    org = _org_after(phrase[end:])
    if not org and "," in phrase[end:]:
        rest = phrase[end:].split(",", 1)[1].strip()
        org = rest if rest[:1].isupper() or re.match(r"[a-z]+-?school|mbo|hbo|roc|pabo", rest) else ""
    return Speaker(role, org, phrase.strip(), position)


def _last_sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    return [s for s in _SENTENCE_END.split(flat) if s]


def _is_quote_or_label(text: str) -> bool:
    t = text.strip()
    return not t or t[:1] in "“„\"‘’”" or t[-1:] in "”’\"" or _ROLE_LINE.match(t) is not None


def _lead_in(before: str) -> Speaker | None:
    """The speaker named by the sentence just before a quote, if it introduces the quote."""
    if _is_quote_or_label(before):
        return None
    sentences = _last_sentences(before)
    if not sentences:
        return None
    last = sentences[-1]
    says = _SAYS.search(last) is not None
    if last.endswith(":") or says:
        roles = _subject_roles(last)
        if roles:
            start, end, role = roles[0]
            return Speaker(role, _org_after(last[end:]), last, "before")
        # 'Dat horen zij ook van ouders:' / 'Ze vertellen …': the subject is a pronoun; the
        # sentence before names it. (Reaching further back, to any earlier sentence in which a
        # group says something, found 2 more labelled speakers and 7 wrong ones.)
        if _PRONOUN_SUBJECT.search(last) and len(sentences) > 1:
            prev = sentences[-2]
            roles = _subject_roles(prev)
            if roles and _SAYS.search(prev):
                start, end, role = roles[0]
                return Speaker(role, _org_after(prev[end:]), last, "before")
    return None


def find_speaker(before: str, quote: str, after: str) -> Speaker | None:
    """Who speaks the ``quote``, read from the text ``before`` it (the paragraph that precedes),
    the quote itself (a parenthesis or 'zegt een …' inside it) and the text ``after`` it (the
    next line or paragraph). Attributions after the quote win over a lead-in before it;
    ``None`` when the text does not say."""
    first_after = after.strip().split("\n", 1)[0].strip()
    m = _ROLE_LINE.match(first_after)
    if m:
        sp = _from_phrase(m.group("body"), "after")
        if sp is not None:
            return Speaker(sp.role, sp.organisation, m.group(0).strip(), "after")
    for rx, text, pos in ((_PAREN_TAIL, quote.rstrip(), "inside"), (_PAREN_AFTER, first_after, "after")):
        m = rx.search(text) if rx is _PAREN_TAIL else rx.match(text)
        if m and _roles_in(m.group("body")):
            sp = _from_phrase(m.group("body"), pos)
            if sp is not None:
                return sp
    m = _SAYS_AFTER.match(first_after) or _SAYS_INSIDE.search(quote) or _SAYS_TAIL.search(quote)
    if m:
        sp = _from_phrase(m.group("body"), "after" if m.re is _SAYS_AFTER else "inside")
        if sp is not None and sp.role:
            return Speaker(sp.role, sp.organisation, m.group(0).strip(" ,”\"“"), sp.position)
    m = _SOURCE_LINE.match(first_after)
    if m and _roles_in(m.group("body")):
        sp = _from_phrase(m.group("body"), "after")
        if sp is not None:
            return Speaker(sp.role, sp.organisation, m.group(0).strip(), "after")
    return _lead_in(before)


def organisation_from_heading(heading: str) -> str:
    """The school a case-box heading names: 'VAN EEN GESLOTEN NAAR EEN OPEN VISIE OP ZORG IN GO!
    BASISSCHOOL DE DRIESPRONG IN MALDEGEM' → 'GO! Basisschool De Driesprong, Maldegem'. Only
    all-caps headings ending in '… IN <school> IN <place>' count; '' otherwise."""
    h = " ".join(heading.split())
    letters = [c for c in h if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return ""
    m = _HEADING_ORG.search(h)
    if not m:
        return ""
    org = re.sub(r"^(?:HET|DE)\s+", "", m.group("org"))
    return f"{_title(org)}, {_title(m.group('place'))}"


def attach_speakers(text: str, units: list[Unit]) -> None:
    """Set ``speaker`` and ``speaker_org`` on the quote units of one document, in place.

    ``text`` is the cleaned document text the units' offsets point into. A quote without an
    attribution of its own takes the one of its run: the quote after it when both share the
    role line that follows them, or the quote before it when a lead-in introduced the run.
    """
    found: dict[int, Speaker] = {}
    quotes = [k for k, u in enumerate(units) if u.kind == "quote"]
    for k in quotes:
        u = units[k]
        before = text[units[k - 1].start:units[k - 1].end][-800:] if k > 0 else ""
        after = text[units[k + 1].start:units[k + 1].end][:400] if k + 1 < len(units) else ""
        sp = find_speaker(before, text[u.start:u.end], after)
        if sp is not None:
            found[k] = sp
    for k in reversed(quotes):  # two quotes, one role line: '“…” “…” - trekker -'
        nxt = found.get(k + 1)
        if k not in found and nxt is not None and nxt.position == "after" and units[k + 1].kind == "quote":
            found[k] = nxt
    for k in quotes:  # a lead-in followed by several quotes
        prev = found.get(k - 1)
        if k not in found and prev is not None and prev.position == "before" and units[k - 1].kind == "quote":
            found[k] = prev
    for k in quotes:
        u = units[k]
        sp = found.get(k)
        heading_org = organisation_from_heading(u.section.rsplit(" > ", 1)[-1])
        u.speaker = sp.role if sp else ""
        u.speaker_org = (sp.organisation if sp and sp.organisation else "") or heading_org


def speaker_matches(speaker_role: str, wanted: str) -> bool:
    """Whether a quote's normalised ``speaker_role`` is the speaker a question asks for.
    ``wanted`` may be Dutch or English, singular or plural: 'teachers' matches leerkracht,
    docent and leraar; 'principal' / 'head' match directeur and schoolleider; 'leerkrachten'
    matches docent too."""
    role = speaker_role.strip().lower()
    w = " ".join(wanted.strip().lower().split())
    if not role or not w:
        return False
    for rx, roles in _GROUP_RE:
        if rx.match(w):
            return role in roles
    dutch = role_of_word(w) or (w if w in {r for _, r in _ROLE_TABLE} else "")
    if not dutch:
        return False
    return role in _WIDER.get(dutch, frozenset({dutch}))


_SPEECH_CUE = re.compile(
    r"\b(?:quotes?|quotations?|citaten|citaat|uitspraken|uitspraak|say|says|said|saying|tell|told|"
    r"voices?|testimon(?:y|ies)|in (?:their|his|her) own words|according to|zeggen|zegt|zeiden|"
    r"vertellen|vertelt|volgens|aan het woord|stemmen|getuigenissen|ervaringen van|views? of|"
    r"opinions? of|perspective of|mening van|meningen van|vinden|think|thinks)\b",
    re.I,
)
_TOPIC_CUT = re.compile(r"\b(?:about|on|regarding|concerning|over|omtrent|aangaande|met betrekking tot)\b",
                        re.I)


def question_speaker(question: str) -> str | None:
    """The speaker a question asks to hear from, as a normalised role: 'quotes from teachers
    about job shadowing' → 'leerkracht'; 'citaten van directeuren over …' → 'directeur'.
    ``None`` when the question asks for no one's words ('impact on teachers')."""
    q = " ".join(question.split())
    if not _SPEECH_CUE.search(q):
        return None
    cut = _TOPIC_CUT.search(q)
    head = q[:cut.start()] if cut else q
    best: tuple[int, str] | None = None
    m = _GROUP_ANY.search(head)
    if m:
        for rx, roles in _GROUP_RE:
            if rx.match(m.group().lower()):
                best = (m.start(), _primary(roles))
                break
    for start, _end, role in _roles_in(head):
        if best is None or start < best[0]:
            best = (start, role)
        break
    return best[1] if best else None


def _primary(roles: frozenset[str]) -> str:
    for preferred in ("leerkracht", "directeur", "coördinator", "trekker"):
        if preferred in roles:
            return preferred
    return sorted(roles)[0]


def question_topic(question: str) -> str:
    """What a question that asks for someone's words is about: 'quotes from teachers about
    job shadowing' → 'job shadowing'. Other questions are returned whole."""
    q = " ".join(question.split())
    cut = _TOPIC_CUT.search(q)
    if cut is None or not _SPEECH_CUE.search(q[:cut.start()]) or not q[cut.end():].strip(" ?!."):
        return q
    return q[cut.end():].strip()


def speaker_label(role: str, organisation: str = "", attribution: str = "") -> str:
    """How a quote's speaker is shown: 'leerkracht, Basisschool De Regenboog'. Without a
    recognised role, a short attribution line ('UIT: Onderzoeksrapport X') is shown as
    printed; a lead-in sentence ('Een leerkracht geeft het volgende voorbeeld:') never is."""
    if role:
        return ", ".join(x for x in (role, organisation) if x)
    a = " ".join(attribution.split())
    if not a or a.endswith(":") or len(a.split()) > 10 or _SAYS.search(a):
        return organisation
    return a
