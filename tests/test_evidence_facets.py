"""Evidence roles on units, section sectors, filters per unit, facet follow-ups and findings
answers (#14), on the fixture corpus and hand-built inputs."""

from __future__ import annotations

import re

import pytest

from answer_fixtures import searcher_fixture, service_fixture  # noqa: F401 - fixtures
from evidence_finder.answer.followup import facet_follow_up
from evidence_finder.answer.service import AnswerService
from evidence_finder.errors import BadInputError
from evidence_finder.index.snapshot import Snapshot
from evidence_finder.ingest.facets import chapter_sectors, section_sectors, sectors_named, strip_facets
from evidence_finder.retrieval.intent import question_intent
from evidence_finder.retrieval.query import Query
from evidence_finder.retrieval.search import Searcher
from evidence_finder.retrieval.steps import ReportSpread, RoleWeight
from evidence_finder.settings import Settings
from evidence_finder.text.glossary import english_labels
from evidence_finder.types import Filters, Passage
from helpers.fakes import HashEmbedder

KA2 = "Welke drempels zijn er bij een KA2-aanvraag?"


# ---------------------------------------------------------------- sectors per section
def test_sector_words_in_headings_and_questions() -> None:
    assert sectors_named("1 Casus po - Daltonschool Koningin Emma") == ("PO",)
    assert sectors_named("Impact in het middelbaar beroepsonderwijs") == ("MBO",)
    assert sectors_named("what hinders KA2 applications in teacher training") == ("teacher training",)
    assert sectors_named("Erasmus+ en eTwinning op scholen") == ()


def test_a_section_takes_its_chapters_sector_when_its_own_heading_names_none() -> None:
    text = ("Inleiding\n 1 Casus po - Daltonschool: Werken aan een profiel\n1.1 De projecten\n"
            " 2 Casus mbo - ROC: Studiereis\n2.1 Het project\n3 Wat is de impact in het vo?\n3.1 x\n")
    chapters = chapter_sectors(text)
    assert chapters == {"1": ("PO",), "2": ("MBO",)}  # a research question is no chapter title
    assert section_sectors("2.3 Ervaringen en impact", chapters) == ("MBO",)
    assert section_sectors("2.3 Ervaringen > Studenten in het hbo", chapters) == ("HO",)  # innermost decides
    assert section_sectors("6.1 Conclusies", chapters) == ()  # the document's sectors apply


def test_strip_facets_keeps_the_topic() -> None:
    assert strip_facets("what hinders KA2 applications in teacher training?") == "what hinders KA2 applications?"
    assert strip_facets("Welke drempels ervaren pabo's bij KA2 in het mbo?") == "Welke drempels ervaren bij KA2?"


# ---------------------------------------------------------------- units carry roles and sectors
def test_units_carry_roles_shares_and_speakers(built_index: Settings, hash_embedder: HashEmbedder) -> None:
    snap = Searcher(built_index, embedder=hash_embedder).snapshot()
    ka2 = next(p for p in snap.passages if "grote drempel" in p.text and p.kind == "passage")
    assert "barrier" in ka2.roles and 0 < ka2.role_share("barrier") < 1
    assert abs(sum(x for _, x in ka2.role_shares) - 1.0) < 0.01
    assert all(p.roles for p in snap.passages if p.text.strip())


# ---------------------------------------------------------------- filters
def test_filter_values_match_case_insensitively(built_index: Settings, hash_embedder: HashEmbedder) -> None:
    s = Searcher(built_index, embedder=hash_embedder)
    hits = s.search("stage buitenland", k=5, filters=Filters(sectors=["mbo"])).hits
    assert hits and {h.passage.doc_id for h in hits} == {"factsheet_mbo.txt"}
    assert s.search("stage", k=5, filters=Filters(regions=["flanders"])).hits[0].passage.doc_id == "english_note.md"


@pytest.mark.parametrize(("filters", "message"), [
    (Filters(sectors=["ZZZ"]), "no documents for sector 'ZZZ'; known sectors: HO, MBO, PO, VO, teacher training"),
    (Filters(years=[1999]), "no documents for year '1999'; known years: 2020, 2021, 2023"),
    (Filters(types=["thesis"]), "no documents for type 'thesis'; known types: factsheet, report"),
])
def test_a_filter_no_document_matches_is_named_with_the_known_values(
        built_index: Settings, hash_embedder: HashEmbedder, filters: Filters, message: str) -> None:
    s = Searcher(built_index, embedder=hash_embedder)
    with pytest.raises(BadInputError) as exc:
        s.search("stage", filters=filters)
    assert str(exc.value) == message


def test_sector_filter_applies_per_unit() -> None:
    p = Passage("a", "d.txt", "passage", "x", 0, 1, 0, 1, section="3.1 x", sectors=("MBO",))
    from evidence_finder.types import DocumentMeta

    meta = DocumentMeta("d.txt", "D", sectors=("PO", "MBO", "HO"))
    assert Filters(sectors=["MBO"]).allows(p, meta)
    assert not Filters(sectors=["PO"]).allows(p, meta)  # the chapter is about MBO only
    plain = Passage("b", "d.txt", "passage", "x", 0, 1, 0, 1)
    assert Filters(sectors=["PO"]).allows(plain, meta)


# ---------------------------------------------------------------- intents and post-steps
@pytest.mark.parametrize(("question", "intent"), [
    ("what hinders KA2 applications in teacher training", "barrier"),
    ("Welke drempels ervaren pabo's bij KA2-aanvragen?", "barrier"),
    ("What keeps teacher educators from going abroad?", "barrier"),
    ("Welke succesfactoren noemen de scholen?", "enabler"),
    ("What needs to be in place before teachers go abroad?", "enabler"),
    ("Wat zeggen de verschillende onderzoeken over de impact op leerlingen?", "comparison"),
    ("Hoeveel procent van de scholen doet mee?", "figure"),
])
def test_question_intents(question: str, intent: str) -> None:
    assert intent in question_intent(question)


def _snap(passages: list[Passage]) -> Snapshot:
    import numpy as np

    from evidence_finder.index.bm25 import BM25Index

    return Snapshot(passages, {p.id: i for i, p in enumerate(passages)}, {},
                    BM25Index.build([p.text for p in passages], [p.id for p in passages]),
                    np.arange(len(passages)), len(passages))


def _p(pid: str, doc: str, roles: dict[str, float]) -> Passage:
    return Passage(pid, doc, "passage", pid, 0, 1, 0, 1, roles=tuple(roles), role_shares=tuple(roles.items()))


def test_role_weight_lifts_units_in_the_asked_role_only_for_such_questions() -> None:
    snap = _snap([_p("desc", "a", {"description": 1.0}), _p("bar", "a", {"barrier": 0.5, "description": 0.5})])
    fused = {0: 1.0, 1: 0.9}
    step = RoleWeight(boost=2.0, demote=0.0)
    asked = Query("wat belemmert", "nl", "wat belemmert", intents=frozenset({"barrier"}))
    assert step(asked, fused, snap) == {0: 1.0, 1: pytest.approx(1.8)}
    plain = Query("wat is KA2", "nl", "wat is KA2")
    assert step(plain, fused, snap) == fused


def test_report_spread_lets_every_report_with_evidence_contribute() -> None:
    snap = _snap([_p("a1", "A", {}), _p("a2", "A", {}), _p("a3", "A", {}), _p("b1", "B", {}), _p("c1", "C", {})])
    fused = {0: 1.0, 1: 0.95, 2: 0.9, 3: 0.8, 4: 0.1}
    q = Query("vergelijk de rapporten", "nl", "x", intents=frozenset({"comparison"}))
    out = ReportSpread(floor=0.5)(q, fused, snap)
    assert sorted(out, key=lambda i: -out[i]) == [0, 3, 1, 2, 4]  # C's best is far below: it stays out
    assert ReportSpread(floor=0.5)(Query("x", "nl", "x"), fused, snap) == fused


def test_report_spread_by_default_reaches_a_report_ranked_below_the_others_30th() -> None:
    """Per-report lists come from all fused candidates: a report whose best unit ranks 41st
    (one long report fills the top) still contributes to a question across reports."""
    from evidence_finder.settings import RetrievalSettings

    snap = _snap([_p(f"a{k}", "A", {}) for k in range(40)] + [_p("b1", "B", {})])
    fused = {k: 1.0 - 0.01 * k for k in range(41)}
    cfg = RetrievalSettings()
    step = ReportSpread(cfg.report_spread, cfg.report_spread_depth)
    out = step(Query("wat zeggen de rapporten over werkdruk", "nl", "x", intents=frozenset({"comparison"})),
               fused, snap)
    assert sorted(out, key=lambda i: -out[i])[:2] == [0, 40]


# ---------------------------------------------------------------- answers and follow-ups
def test_facet_follow_up_reads_the_earlier_question_for_the_new_sector() -> None:
    history = [("what hinders KA2 applications in teacher training", "…")]
    fu = facet_follow_up("and in MBO?", history)
    assert fu is not None and (fu.question, fu.sectors) == ("what hinders KA2 applications", ("MBO",))
    assert facet_follow_up("en voor het hoger onderwijs?", history + [("and in MBO?", "…")]).sectors == ("HO",)  # type: ignore[union-attr]
    assert facet_follow_up("what about Flanders?", history).regions == ("Flanders",)  # type: ignore[union-attr]
    assert facet_follow_up("and the costs in MBO?", history) is None  # a new topic word
    students = facet_follow_up("en voor studenten?", [("Welke drempels ervaren docenten bij een stage?", "…")])
    assert students is not None and students.question == "Welke drempels ervaren bij een stage studenten?"
    assert facet_follow_up("and in MBO?", None) is None


def test_and_in_mbo_answers_the_same_question_with_mbo_evidence(service: AnswerService) -> None:
    first = service.ask(KA2)
    second = service.ask("En in het mbo?", history=[(KA2, first.text)])
    assert second.reading == f"{KA2} — sector: MBO"
    assert second.citations and all(c.passage.doc_id == "factsheet_mbo.txt" for c in second.citations)
    assert {c.passage.doc_id for c in first.citations} != {c.passage.doc_id for c in second.citations}


def test_english_findings_carry_an_english_label_and_the_dutch_sentence(service: AnswerService) -> None:
    a = service.ask("What hinders KA2 applications?")
    first = next(line for line in a.text.splitlines() if line.startswith("- "))
    assert first.startswith("- Barrier — ") and "(Pabo-rapport): Specifiek voor KA2 geldt" in first
    assert a.text.splitlines()[0] == "**Barriers**"


def test_english_labels_come_from_the_glossary() -> None:
    labels = english_labels("De omvangrijke administratie bij de aanvraag en de cofinanciering.")
    assert "co-financing" in labels and ("application" in labels or "applications" in labels)
    # a multi-word term is not shown for a word every report uses ('onderwijs' ≠ 'secondary education')
    text = "De instellingen voor hoger onderwijs zien de impact buiten de eigen onderwijsinstelling."
    weights = {"onderwijs": 2.0, "hoger": 3.3, "instel": 2.7, "impact": 2.0}
    labels = english_labels(text, weights, limit=5)
    assert "higher education" in labels and "secondary education" not in labels
    assert "secondary education" in english_labels("Het voortgezet onderwijs.", {"voortzet": 4.6, "onderwijs": 2.0})
    assert "KA2" in english_labels("Scholen met een KA2-project", {"ka2": 2.2, "project": 1.5})  # not 'ka2'


# ---------------------------------------------------------------- what the reports do not say
@pytest.mark.parametrize(("question", "gap"), [
    ("Wat levert een stage op voor mbo-studenten in Vlaanderen?", "MBO — Flanders"),
    ("What does Erasmus+ bring to daycare and early childhood education?", "early childhood"),
    ("Wat levert een stage op voor mbo-studenten?", ""),
    ("How do Flemish primary schools use eTwinning?", ""),  # the Flemish note covers PO
    # a year or an Erasmus+ programme strand that no passage mentions
    ("Hoeveel pabo-studenten vroegen in 2031 een KA2-project aan?", "2031"),
    ("How many KA2 applications did teacher training programmes file in 2019-2020?", ""),  # table 3
    ("What did Jean Monnet activities bring to Dutch universities?", "Jean Monnet"),
    ("Welke effecten heeft Erasmus+ Sport op sportclubs in 2031?", "2031 / Erasmus+ Sport"),
    ("Welke drempels zien pabo's bij KA2-aanvragen?", ""),
])
def test_a_sector_or_sector_and_region_no_report_covers_is_a_gap(
        built_index: Settings, hash_embedder: HashEmbedder, question: str, gap: str) -> None:
    from evidence_finder.retrieval.gaps import facet_gap

    assert facet_gap(question, Searcher(built_index, embedder=hash_embedder).snapshot()) == gap


def test_years_and_programme_strands_named_in_a_question() -> None:
    from evidence_finder.ingest.facets import strands_named, years_named

    assert years_named("in 2023, and 2014-2020 (KA229-2019) but not 12345 or 1850") == ("2023", "2014", "2020", "2019")
    assert strands_named("Erasmus Mundus-masters, jean monnet, Erasmus+ youth exchanges") == (
        "Erasmus Mundus", "Jean Monnet", "Erasmus+ Youth")
    assert strands_named("Erasmus+ en KA2 in het mbo; sporttalentschool") == ()


def test_a_gap_is_said_and_the_nearest_evidence_marked_as_such(service: AnswerService) -> None:
    a = service.ask("Wat levert een stage op voor mbo-studenten in Vlaanderen?")
    assert a.abstained and a.text.startswith(
        "De rapporten geven geen bewijs over MBO — Flanders. Het dichtstbijzijnde bewijs dat ze geven "
        "(niet daarover):")
    assert a.citations  # the nearest evidence is still cited, verbatim
    a = service.ask("How many teacher training students applied for KA2 in 2031?")
    assert a.abstained and a.text.startswith("The reports give no evidence on 2031.") and a.citations


def test_cli_sector_filter_is_case_insensitive_and_an_unknown_year_is_named(built_index, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from evidence_finder.cli import app

    res = CliRunner().invoke(app, ["search", "stage buitenland", "--sector", "mbo", "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    line = json.loads(res.output.splitlines()[0])
    assert {r["doc"] for r in line["results"]} == {"factsheet_mbo.txt"}
    assert "roles" in line["results"][0] and "intents" in line
    res = CliRunner().invoke(app, ["search", "stage buitenland", "--year", "1999"])
    assert res.exit_code == 2
    assert "no documents for year '1999'; known years: 2020, 2021, 2023" in res.output


# ---------------------------------------------------------------- target groups per unit
def test_a_units_target_groups_come_from_its_heading_else_its_text() -> None:
    from evidence_finder.ingest.facets import unit_groups

    assert unit_groups("3 Impact > 3.2 Impact op leerlingen", "De docenten merken dat …") == ("pupils",)
    assert unit_groups("3 Impact", "Studenten die op stage gaan worden zelfstandiger.") == ("students",)
    assert unit_groups("", "Het agentschap verstrekt subsidies.") == ()


def test_group_filter_keeps_units_about_that_group(built_index: Settings, hash_embedder: HashEmbedder) -> None:
    s = Searcher(built_index, embedder=hash_embedder)
    hits = s.search("stage buitenland", k=10, filters=Filters(groups=["studenten"])).hits  # Dutch word
    assert hits and all("students" in h.passage.groups for h in hits)
    with pytest.raises(BadInputError, match="no documents for group 'ouders'"):
        s.search("stage", filters=Filters(groups=["ouders"]))


def test_and_for_students_asks_the_same_question_about_students(service: AnswerService) -> None:
    first = "Wat levert een stage in het buitenland op voor docenten?"
    a = service.ask("En voor studenten?", history=[(first, "…")])
    assert a.reading.endswith("— group: students")
    assert a.citations and all("students" in c.passage.groups for c in a.citations)


def test_one_finding_per_idea_cited_from_every_passage_that_states_it() -> None:
    """A report that repeats a finding in its summary and its body gives one bullet citing
    both passages; a related but different finding stays its own bullet."""
    from evidence_finder.answer.extractive import Candidate, _overlaps
    from evidence_finder.answer.findings import FindingOptions, _Finding, _select
    from evidence_finder.answer.sentences import Sentence
    from evidence_finder.answer.verify import idea_tokens
    from evidence_finder.types import Hit

    def finding(pid: str, at: int, text: str, score: float) -> _Finding:
        hit = Hit(Passage(pid, "rapport", "passage", text, at, at + len(text), at, at + len(text)), 1.0)
        c = Candidate(hit, 0, 0, len(text), Sentence(0, len(text), text, 0, 0, "statement"), score=score)
        return _Finding(c, "barrier", score, idea_tokens(text))

    summary = finding("p1", 0, "Daarnaast is ook de gevraagde cofinanciering bij een partnerschap hoog en de "
                      "dagvergoeding laag.", 1.0)
    body = finding("p2", 500, "Daarnaast is ook de gevraagde co-financiering hoog en de dagvergoeding laag. "
                   "Dat betekent ook dat managers niet altijd enthousiast zijn.", 0.9)
    other = finding("p3", 900, "Voor docenten niet zo vaak omdat de gevraagde cofinanciering relatief hoog is.", 0.8)
    chosen = _select([summary, body, other], FindingOptions(), _overlaps)
    assert [f.cand.hit.passage.id for f in chosen] == ["p1", "p3"]
    assert [a.hit.passage.id for a in chosen[0].cand.also] == ["p2"] and not chosen[1].cand.also
    assert idea_tokens("co-financiering") == idea_tokens("cofinanciering")


def test_a_repeated_finding_is_one_bullet_with_two_markers(service: AnswerService) -> None:
    a = service.ask("What hinders KA2 applications?")
    bullets = [line for line in a.text.splitlines() if line.startswith("- ")]
    assert len(bullets) == len({b.split(": ", 1)[1].split(" [")[0] for b in bullets})  # no idea twice
    cited = {int(m) for m in re.findall(r"\[(\d+)\]", a.text)}
    assert cited == {c.n for c in a.citations}  # every marker cited, every citation marked


def test_inflected_english_words_find_their_glossary_entry() -> None:
    from evidence_finder.text.glossary import GLOSSARY, expand_english, glossary_matches

    assert "substitutes" not in GLOSSARY and "substitute" in GLOSSARY
    matches = dict(glossary_matches("Is finding substitutes for surveyed teachers a problem?"))
    assert matches["substitutes"] == GLOSSARY["substitute"] and matches["surveyed"] == GLOSSARY["survey"]
    assert "teachers" in matches  # listed forms still match as phrases
    assert "vervanging" in expand_english("substitutes")
    assert glossary_matches("a glass of unrelated things") == []  # 'glass' is no plural of 'glas'


def test_an_english_label_needs_every_part_of_a_hyphenated_dutch_term() -> None:
    from evidence_finder.text.glossary import english_labels

    assert "britain" not in english_labels("De tijdsinvestering voor een aanvraag is erg groot.")
    assert "britain" in english_labels("Een studiereis naar Groot-Brittannië.")
