"""`evidence ask` as in docs/cli-contract.md (JSONL fields, exit codes, queries-file errors)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from evidence_finder.answer.verify import marker_numbers, verify_citation_span
from evidence_finder.cli import app

KA2 = "Welke drempels zijn er bij een KA2-aanvraag?"


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["ask", *args])


def test_ask_jsonl_follows_the_contract(built_index, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    res = _run(KA2, "--format", "jsonl")
    assert res.exit_code == 0, res.output
    line = json.loads(res.stdout.strip())
    assert {"id", "question", "abstained", "answer", "backend", "citations", "elapsed_ms"} <= set(line)
    assert (line["id"], line["question"], line["abstained"], line["backend"]) == (
        "1", KA2, False, "extractive")
    assert sorted(set(marker_numbers(line["answer"]))) == [c["n"] for c in line["citations"]] == [1, 2, 3]
    first = line["citations"][0]
    assert {"n", "doc", "text", "location"} <= set(first)
    assert set(first["location"]) >= {"section", "page", "char_start", "char_end"}
    assert first["doc"] == "rapport_pabo.txt" and first["title"] == "Internationalisering op de pabo"
    assert first["text"].startswith("Specifiek voor KA2 geldt als grote drempel")
    assert first["location"]["section"].endswith("Belemmeringen bij KA2-aanvragen") or \
        first["location"]["section"].startswith("1 / Internationalisering")
    for c in line["citations"]:
        assert verify_citation_span(c["text"], c["passage_text"])
        loc = c["location"]
        assert loc["passage_char_start"] <= loc["char_start"] < loc["char_end"] <= loc["passage_char_end"]
    source = (Path(__file__).parent / "data" / "corpus" / "rapport_pabo.txt").read_text(encoding="utf-8")
    loc = first["location"]
    assert " ".join(first["text"].split()) in " ".join(source[loc["char_start"]:loc["char_end"]].split())


def test_ask_queries_file_reports_bad_lines_and_runs_the_rest(  # type: ignore[no-untyped-def]
        built_index, hash_embedder, tmp_path: Path) -> None:
    qf = tmp_path / "q.jsonl"
    qf.write_text("\n".join([
        json.dumps({"id": "a", "question": KA2, "expected": "ignored"}),
        "{not json",
        json.dumps({"id": "c"}),
        json.dumps({"id": 4, "question": "What hinders teacher mobility?"}),
    ]) + "\n", encoding="utf-8")
    res = _run("--queries-file", str(qf), "--format", "jsonl", "--top-k", "5")
    assert res.exit_code == 2
    lines = [json.loads(x) for x in res.stdout.strip().splitlines()]
    assert [x["id"] for x in lines] == ["a", "4"]
    assert "q.jsonl:2: not valid JSON" in res.stderr
    assert "q.jsonl:3: each line needs a string field 'question'" in res.stderr
    assert lines[1]["lang"] == "en"


def test_ask_text_format_and_quote_mode(built_index, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    res = _run(KA2)
    assert res.exit_code == 0
    assert "\nBewijs:\n[1] Internationalisering op de pabo" in res.stdout
    res = _run("Quotes about internships abroad (stage)?", "--mode", "quotes", "--format", "jsonl")
    line = json.loads(res.stdout)
    assert line["mode"] == "quotes" and line["citations"][0]["kind"] == "quote"
    assert line["citations"][0]["attribution"] == "UIT: ONDERZOEKSRAPPORT ERASMUS+ IN HET MBO"


def test_ask_usage_errors_and_missing_index(tmp_path: Path, built_index, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    assert _run().exit_code == 2
    bad = _run(KA2, "--mode", "poem")
    assert bad.exit_code == 2 and "--mode must be answer or quotes, not 'poem'" in bad.stderr
    missing = _run(KA2, "--index-dir", str(tmp_path / "nowhere"))
    assert missing.exit_code == 3 and "error:" in missing.stderr
    nofile = _run("--queries-file", str(tmp_path / "none.jsonl"))
    assert nofile.exit_code == 2 and "does not exist" in nofile.stderr
