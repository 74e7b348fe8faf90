"""Quote search by topic and speaker (#16.2) on the fixture corpus plus a report with quotes
by teachers, a volunteer and a principal (tests/data/quotes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence_finder.answer.quotes import quote_source
from evidence_finder.answer.service import AnswerService
from evidence_finder.cli import app
from evidence_finder.errors import BadInputError
from evidence_finder.ingest.speakers import question_topic, speaker_label
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import Settings
from evidence_finder.types import Hit, Passage

QUOTES = Path(__file__).parent / "data" / "quotes"
ASK = "quotes from teachers about job shadowing"
DOC = "rapport_meeloop.txt"


@pytest.fixture
def quotes_index(settings: Settings, corpus_copy: Path, hash_embedder) -> Settings:  # type: ignore[no-untyped-def]
    from evidence_finder.index.build import ingest

    shutil.copy(QUOTES / DOC, corpus_copy / DOC)
    manifest = corpus_copy / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n"
                        + (QUOTES / "manifest.toml").read_text(encoding="utf-8"), encoding="utf-8")
    report = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert report.documents == 4, report.summary()
    return settings


def _speakers(answer) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.passage.speaker for c in answer.citations]


def test_teacher_quotes_about_the_topic_come_first(quotes_index: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    svc = AnswerService(Searcher(quotes_index, embedder=hash_embedder), quotes_index)
    answer = svc.ask(ASK, mode="quotes")
    assert not answer.abstained
    # both teachers' job-shadowing quotes, then the volunteer's; the principal's quote on the
    # budget and a teacher's quote on speaking English are not about job shadowing
    assert _speakers(answer) == ["leerkracht", "docent", "vrijwilliger"]
    assert all("job shadowing" in c.text for c in answer.citations)
    lines = answer.text.splitlines()[2:]
    assert "(docent; Job shadowing in het primair onderwijs, 2.1. Ervaringen van leerkrachten)" in \
        next(line for line in lines if "Spaanse collega" in line)
    assert "vertelt over het meelopen" not in answer.text  # the lead-in sentence is no speaker


def test_without_a_speaker_the_topic_alone_ranks(quotes_index: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    svc = AnswerService(Searcher(quotes_index, embedder=hash_embedder), quotes_index)
    answer = svc.ask("quotes about job shadowing", mode="quotes")
    # the volunteer's quote ranks first on the topic alone: the speaker is what lifts teachers
    assert _speakers(answer) == ["vrijwilliger", "leerkracht", "docent"]


def test_speaker_filter_keeps_only_that_speakers_quotes(quotes_index: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    svc = AnswerService(Searcher(quotes_index, embedder=hash_embedder), quotes_index)
    answer = svc.ask("job shadowing", mode="quotes", filters=Filters(speakers=["vrijwilliger"]))
    assert _speakers(answer) == ["vrijwilliger"]
    teachers = svc.ask("Engels spreken in de klas", mode="quotes", filters=Filters(speakers=["teachers"]))
    assert set(_speakers(teachers)) <= {"leerkracht", "docent"} and "leerkracht" in _speakers(teachers)
    with pytest.raises(BadInputError, match="no quotes by speaker 'astronaut'; known speakers: coördinator"):
        svc.ask("job shadowing", mode="quotes", filters=Filters(speakers=["astronaut"]))


def test_cli_speaker_option_and_text_output(quotes_index: Settings) -> None:
    res = CliRunner().invoke(app, ["search", "job shadowing", "--kind", "quote", "--speaker", "teachers",
                                   "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    results = json.loads(res.stdout)["results"]
    assert {r["speaker"] for r in results} == {"leerkracht", "docent"}
    res = CliRunner().invoke(app, ["ask", ASK, "--mode", "quotes"])
    assert res.exit_code == 0, res.output
    assert "    — docent\n" in res.stdout and "    — leerkracht\n" in res.stdout
    assert "Een docent van de pabo vertelt" not in res.stdout
    res = CliRunner().invoke(app, ["ask", "job shadowing", "--mode", "quotes", "--speaker", "directeur",
                                   "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert [c["speaker"] for c in json.loads(res.stdout)["citations"]] == ["directeur"]


def test_ui_speaker_choices_come_from_the_index(quotes_index: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    from evidence_finder.ui.backend import Backend

    assert Backend(quotes_index, embedder=hash_embedder).filter_choices()["speakers"] == [
        "coördinator", "directeur", "docent", "leerkracht", "vrijwilliger"]


@pytest.mark.parametrize(("question", "topic"), [
    ("quotes from teachers about job shadowing", "job shadowing"),
    ("citaten van directeuren over de subsidieaanvraag?", "de subsidieaanvraag?"),
    ("impact on teachers", "impact on teachers"),  # asks for no one's words
    ("what do teachers say about", "what do teachers say about"),  # no topic after the cut
])
def test_question_topic(question: str, topic: str) -> None:
    assert question_topic(question) == topic


@pytest.mark.parametrize(("role", "org", "attribution", "label"), [
    ("leerkracht", "Basisschool De Regenboog", "Een leerkracht geeft het volgende voorbeeld:",
     "leerkracht, Basisschool De Regenboog"),
    ("", "", "Een leerkracht geeft het volgende voorbeeld van een persoonlijk resultaat:", ""),
    ("", "", "UIT: Onderzoeksrapport Erasmus+ 2020", "UIT: Onderzoeksrapport Erasmus+ 2020"),
    ("", "GO! Basisschool De Driesprong", "", "GO! Basisschool De Driesprong"),
])
def test_speaker_label(role: str, org: str, attribution: str, label: str) -> None:
    assert speaker_label(role, org, attribution) == label


def test_quote_source_without_speaker_drops_the_lead_in() -> None:
    p = Passage("q", "d", "quote", "“Ik durf nu meer.”", 0, 18, 0, 18, section="1 / Rapport > 1.2. Resultaten",
                attribution="Een leerkracht geeft het volgende voorbeeld van een persoonlijk resultaat:")
    assert quote_source(Hit(p, 1.0, title="Rapport")) == "Rapport, 1.2. Resultaten"
