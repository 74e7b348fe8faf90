"""Abstention on the fixture corpus: the 'unknown names' signal, the fit, and `evidence calibrate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence_finder.cli import app as cli_app
from evidence_finder.retrieval import abstain
from evidence_finder.retrieval.abstain import AbstentionModel, fit
from evidence_finder.retrieval.search import Searcher
from evidence_finder.retrieval.signals import unknown_names
from evidence_finder.settings import Settings, get_settings
from helpers.fakes import HashEmbedder


def test_unknown_names_are_names_and_numbers_the_corpus_never_mentions(
    built_index: Settings, hash_embedder: HashEmbedder
) -> None:
    s = Searcher(built_index, embedder=hash_embedder)
    assert unknown_names("Wat zijn de effecten van Erasmus+ op scholen in Zwitserland?", "nl", s.snapshot()) == ["Zwitserland"]
    assert unknown_names("Hoeveel subsidie ontving het mbo in 2031?", "nl", s.snapshot()) == ["2031"]
    assert unknown_names("Did Erasmus+ improve PISA scores?", "en", s.snapshot()) == ["PISA"]
    # mentioned in the corpus: as written, in another form, or through the glossary
    assert unknown_names("Welke drempels zijn er bij een KA2-aanvraag?", "nl", s.snapshot()) == []
    assert unknown_names("Hoe helpt de stage in Finland studenten?", "nl", s.snapshot()) == []
    assert unknown_names("How do Flemish schools use eTwinning?", "en", s.snapshot()) == []  # → Vlaamse/Flanders
    assert unknown_names("what hinders applications", "en", s.snapshot()) == []  # no names at all
    # capitals that mark no names: Title Case and ALL CAPS questions
    assert unknown_names("What Motivates Teachers To Join Exchanges?", "en", s.snapshot()) == []
    assert unknown_names("WAT MOTIVEERT DOCENTEN OM MEE TE DOEN?", "nl", s.snapshot()) == []
    assert unknown_names("What Did PISA Show In 2031?", "en", s.snapshot()) == ["PISA", "2031"]
    # a name joined to a known word, and a question naming several places, still count
    assert unknown_names("Wat doen Zwitserland-uitwisselingen voor scholen?", "nl", s.snapshot()) == ["Zwitserland"]
    caribbean = unknown_names("Welke ervaringen hebben scholen in Caribisch Nederland (Bonaire, Sint Eustatius, "
                              "Saba) met KA2?", "nl", s.snapshot())
    assert {"Bonaire", "Eustatius", "Saba"} <= set(caribbean)


def test_fit_abstains_on_unanswerable_within_the_false_abstention_cap() -> None:
    answerable = [({"bm25_per_term": 2.0 + i / 10, "unknown_names": 0.0}, True) for i in range(20)]
    answerable.append(({"bm25_per_term": 0.4, "unknown_names": 1.0}, True))  # a hard answerable one
    unanswerable = [({"bm25_per_term": 0.5 + i / 20, "unknown_names": 1.0}, False) for i in range(6)]
    unanswerable += [({"bm25_per_term": 2.5, "unknown_names": 0.0}, False)]  # looks answerable
    model = fit(answerable + unanswerable, max_false_abstention=0.05)
    assert model.calibrated and model.weights["unknown_names"] < 0 < model.weights["bm25_per_term"]
    wrongly = sum(model.abstains(f) for f, _ in answerable)
    assert wrongly / len(answerable) <= 0.05
    assert sum(model.abstains(f) for f, _ in unanswerable) >= 5
    # the threshold lies midway between the probabilities it separates, so a question kept
    # at fitting time is still kept when re-ingesting moves its confidence by a little
    probs = sorted(model.confidence(f) for f, _ in answerable + unanswerable)
    above = min(p for p in probs if p >= model.threshold)
    below = max(p for p in probs if p < model.threshold)
    assert model.threshold - below > 0.25 * (above - below) and above - model.threshold > 0.25 * (above - below)
    # uncalibrated: never abstains, full confidence
    assert not AbstentionModel().abstains({"bm25_per_term": 0.0, "unknown_names": 3.0})


def test_calibrate_fits_on_a_question_file_and_search_then_abstains(
    built_index: Settings, hash_embedder: HashEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = tmp_path / "packaged.json"
    monkeypatch.setattr(abstain, "PARAMS_PATH", packaged)  # never touch the shipped parameters
    params = built_index.data_dir / "calibration" / "abstention.json"
    gold = [{"doc": "rapport_pabo.txt", "text": "x"}]
    questions = [
        ("Welke drempels zijn er bij een KA2-aanvraag?", gold),
        ("Wat doet het Nationaal Agentschap bij een aanvraag?", gold),
        ("Worden studenten zelfstandiger door een stage in het buitenland?", gold),
        ("Wat helpt een opleiding om internationale projecten in te bedden?", gold),
        ("Hoe vaak gaan docenten naar het buitenland?", gold),
        ("Wat betekent deelname aan CoVE voor het mbo?", gold),
        ("Wat zijn de effecten van Erasmus+ in Zwitserland?", []),
        ("Hoeveel Brexit-studenten gingen naar Wallonië?", []),
        ("Wat vond het onderzoek over PISA-scores in Portugal?", []),
    ]
    qfile = tmp_path / "dev.jsonl"
    qfile.write_text("\n".join(json.dumps({"id": f"q{i}", "question": q, "gold": g})
                               for i, (q, g) in enumerate(questions)) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["calibrate", "--questions", str(qfile)])
    assert result.exit_code == 0, result.output
    stored = json.loads(params.read_text())[HashEmbedder.id]
    assert stored["fitted_on"] == ["dev.jsonl"] and stored["n"] == len(questions)
    assert not packaged.exists()  # calibrate writes to the data directory, not the package

    s = Searcher(built_index, embedder=hash_embedder)
    assert s.abstention.calibrated
    assert s.search("Welke effecten heeft Erasmus+ op scholen in Oostenrijk?").abstain
    assert not s.search("Welke drempels zijn er bij een KA2-aanvraag?").abstain


def test_a_calibration_in_the_data_dir_wins_over_the_packaged_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = tmp_path / "packaged.json"
    monkeypatch.setattr(abstain, "PARAMS_PATH", packaged)
    AbstentionModel({"unknown_names": -1.0}, 0.5, 0.2, True).save("emb-a", packaged)
    AbstentionModel({"unknown_names": -2.0}, 0.5, 0.3, True).save("emb-b", packaged)
    data_dir = tmp_path / "data"
    assert AbstentionModel.load("emb-a", data_dir=data_dir).threshold == 0.2  # no calibration yet

    local = abstain.calibration_path(data_dir)
    assert local == data_dir / "calibration" / "abstention.json"
    AbstentionModel({"unknown_names": -3.0}, 0.5, 0.4, True).save("emb-a", local)
    assert AbstentionModel.load("emb-a", data_dir=data_dir).threshold == 0.4
    assert AbstentionModel.load("emb-b", data_dir=data_dir).threshold == 0.3  # other embedders: packaged
    assert not AbstentionModel.load("emb-c", data_dir=data_dir).calibrated
    # without data_dir: the configured one (EVIDENCE_DATA_DIR, set per test by conftest)
    monkeypatch.setenv("EVIDENCE_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    assert AbstentionModel.load("emb-a").threshold == 0.4
