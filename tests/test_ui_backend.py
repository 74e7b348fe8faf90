"""The web chat's backend (no browser): asking, uploads, deletes, errors, binding rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from evidence_finder.errors import BadInputError, EvidenceError, NoIndexError, UnsupportedFileError
from evidence_finder.retrieval.search import Filters
from evidence_finder.settings import Settings
from evidence_finder.ui import app
from evidence_finder.ui.backend import Backend, _trim_overlap, _trim_overlap_start, safe_filename
from evidence_finder.ui.i18n import t

KA2 = "what hinders KA2 applications in teacher training"
SAIL = ("Uitwisseling met zeilschepen\n\nLeerlingen van een school op Texel zeilden met een zeilschip "
        "naar Noorwegen. De zeilreis versterkte hun samenwerking aanzienlijk.\n")


@pytest.mark.parametrize(("name", "safe"), [
    ("rapport.pdf", "rapport.pdf"),
    ("../../etc/evil.txt", "evil.txt"),
    ("C:\\Users\\x\\Nieuw rapport (v2).DOCX", "Nieuw_rapport_v2.docx"),
    ("Coördinatie één.md", "Coordinatie_een.md"),
    (".verborgen.txt", "verborgen.txt"),
    ("<script>.html", "script.html"),
    ("???.txt", "document.txt"),
])
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


@pytest.mark.parametrize("name", ["virus.exe", "manifest.toml", "geen_extensie", ""])
def test_safe_filename_refuses_unsupported_types(name: str) -> None:
    with pytest.raises(UnsupportedFileError, match="Supported: .txt, .md, .pdf"):
        safe_filename(name)


def test_ask_streams_then_answers_with_cited_evidence(built_index: Settings, hash_embedder) -> None:
    backend = Backend(built_index, embedder=hash_embedder)
    turns = list(backend.ask(KA2, Filters(), "answer"))
    assert turns[0].answer is None and turns[0].partial  # the streamed text comes first
    final = turns[-1]
    assert final.answer is not None and final.answer.citations and not final.partial
    assert "administratie" in final.answer.text
    assert [e.citation.n for e in final.evidence] == [c.n for c in final.answer.citations]
    pabo = [e for e in final.evidence if e.citation.passage.doc_id == "rapport_pabo.txt"]
    assert pabo and pabo[0].meta is not None and pabo[0].meta.year == 2021


def test_quote_mode_and_filters_reach_the_answer_service(built_index: Settings, hash_embedder) -> None:
    backend = Backend(built_index, embedder=hash_embedder)
    quotes = list(backend.ask(KA2, Filters(), "quotes"))[-1]
    assert quotes.answer and {c.passage.kind for c in quotes.answer.citations} == {"quote"}
    mbo = list(backend.ask(KA2, Filters(sectors=["MBO"]), "answer"))[-1]
    assert mbo.answer and {c.passage.doc_id for c in mbo.answer.citations} == {"factsheet_mbo.txt"}


def test_upload_saves_a_sanitised_copy_and_makes_it_searchable(built_index: Settings, hash_embedder,
                                                                tmp_path: Path) -> None:
    backend = Backend(built_index, embedder=hash_embedder)
    src = tmp_path / "Zeil rapport (concept).txt"
    src.write_text(SAIL, encoding="utf-8")
    seen: list[float] = []
    result = backend.upload([str(src)], title="Zeilen <b>naar</b> Noorwegen", year=2024,
                            sectors=["VO"], doc_type="factsheet", progress=lambda f, label: seen.append(f))
    assert result.added == ["Zeil_rapport_concept.txt"] and result.skipped == []
    assert (built_index.data_dir / "uploads" / "Zeil_rapport_concept.txt").read_text(encoding="utf-8") == SAIL
    assert seen and seen[-1] == 1.0
    row = next(r for r in backend.documents() if r.doc_id == "Zeil_rapport_concept.txt")
    assert (row.title, row.year, row.sectors, row.type, row.passages, row.uploaded) == (
        "Zeilen <b>naar</b> Noorwegen", 2024, ["VO"], "factsheet", 1, True)
    hits = backend.searcher().search("zeilreis zeilschip Texel", k=3).hits
    assert hits[0].passage.doc_id == "Zeil_rapport_concept.txt"
    assert "Zeil_rapport_concept.txt" in [d for _, d in backend.filter_choices()["docs"]]


def test_bad_uploads_are_reported_and_not_kept(built_index: Settings, hash_embedder, tmp_path: Path) -> None:
    backend = Backend(built_index, embedder=hash_embedder)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    empty = tmp_path / "leeg.txt"
    empty.write_text("  \n", encoding="utf-8")
    result = backend.upload([str(exe), str(empty)])
    assert result.added == []
    reasons = dict(result.skipped)
    assert "unsupported file type '.exe'" in reasons["tool.exe"]
    assert "leeg.txt" in reasons
    assert not (built_index.data_dir / "uploads" / "leeg.txt").exists()
    assert not (built_index.data_dir / "uploads" / "tool.exe").exists()


def test_upload_size_limit(built_index: Settings, hash_embedder, tmp_path: Path) -> None:
    server = built_index.server.model_copy(update={"max_upload_mb": 0})
    small = built_index.model_copy(update={"server": server})
    src = tmp_path / "a.txt"
    src.write_text(SAIL, encoding="utf-8")
    result = Backend(small, embedder=hash_embedder).upload([str(src)])
    assert result.added == [] and result.skipped == [("a.txt", "'a.txt' is 0.0 MB; the limit is 0 MB")]


def test_delete_removes_passages_and_the_uploaded_file(built_index: Settings, hash_embedder,
                                                       tmp_path: Path) -> None:
    backend = Backend(built_index, embedder=hash_embedder)
    src = tmp_path / "zeil.txt"
    src.write_text(SAIL, encoding="utf-8")
    backend.upload([str(src)])
    assert backend.delete("zeil.txt") == (1, True)
    assert not (built_index.data_dir / "uploads" / "zeil.txt").exists()
    s = backend.searcher()
    assert all(p.doc_id != "zeil.txt" for p in s.snapshot().passages)
    assert all(h.passage.doc_id != "zeil.txt" for h in s.search("zeilreis zeilschip Texel", k=5).hits)
    assert s.store.vector_ids("zeil.txt") == set()
    # a corpus document can be removed from the index too; its file stays where it is
    assert backend.delete("english_note.md") == (1, False)
    assert "english_note.md" not in s.snapshot().metas
    with pytest.raises(BadInputError, match="'nope.txt' is not in the index"):
        backend.delete("nope.txt")


def test_no_index_yet_is_a_message_and_an_upload_creates_one(settings: Settings, hash_embedder,
                                                            tmp_path: Path) -> None:
    backend = Backend(settings, embedder=hash_embedder)
    assert not backend.has_index()
    assert backend.filter_choices()["docs"] == []
    with pytest.raises(NoIndexError) as exc:
        list(backend.ask(KA2, Filters(), "answer"))
    assert app._message(exc.value, "nl") == t("no_index", "nl")
    assert app.build(settings, embedder=hash_embedder) is not None  # the app starts without an index
    src = tmp_path / "zeil.txt"
    src.write_text(SAIL, encoding="utf-8")
    assert backend.upload([str(src)]).added == ["zeil.txt"]
    assert backend.has_index() and [r.doc_id for r in backend.documents()] == ["zeil.txt"]


def test_llm_endpoint_down_falls_back_to_the_extractive_answer_with_a_notice(
        built_index: Settings, hash_embedder) -> None:
    llm = built_index.llm.model_copy(update={"backend": "openai", "base_url": "http://127.0.0.1:9/v1",
                                             "model": "test", "timeout_s": 2.0})
    down = built_index.model_copy(update={"llm": llm})
    final = list(Backend(down, embedder=hash_embedder).ask(KA2, Filters(), "answer"))[-1]
    assert final.answer is not None and final.answer.backend == "extractive"
    assert final.answer.citations
    assert any("extractieve antwoord" in n or "extractive answer" in n for n in final.answer.notices)


def test_unexpected_errors_become_a_short_message_without_traceback() -> None:
    msg = app._message(ZeroDivisionError("boom"), "en")
    assert msg == t("unexpected", "en", name="ZeroDivisionError") and "Traceback" not in msg


def test_overlap_between_neighbouring_passages_is_shown_once() -> None:
    prev = "Eerste zin hier. Gedeelde zin over de drempel."
    cur = "Gedeelde zin over de drempel. Nieuwe zin."
    assert _trim_overlap(prev, cur) == "Eerste zin hier."
    assert _trim_overlap_start(cur, "Nieuwe zin. Daarna meer.") == "Daarna meer."
    assert _trim_overlap("Los.", "Ander begin.") == "Los."


# ---------------------------------------------------------------------------- serving
def test_binding_beyond_localhost_needs_a_login(settings: Settings) -> None:
    s = settings
    app.check_binding(s, "127.0.0.1")
    with pytest.raises(EvidenceError, match="refusing to serve on '0.0.0.0' without a login"):
        app.check_binding(s, "0.0.0.0")
    half = s.model_copy(update={"server": s.server.model_copy(update={"username": "ana"})})
    with pytest.raises(EvidenceError, match="set both EVIDENCE_SERVER__USERNAME"):
        app.check_binding(half, "127.0.0.1")
    full = s.model_copy(update={"server": s.server.model_copy(
        update={"username": "ana", "password": SecretStr("geheim-Zeilschip-77")})})
    app.check_binding(full, "0.0.0.0")
    assert app.launch_options(full)["auth"] == ("ana", "geheim-Zeilschip-77")
    assert "auth" not in app.launch_options(s)
    assert app.launch_options(s)["max_file_size"] == "50mb"


def test_launch_refuses_before_starting_a_server(settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def no_build(*a: object, **k: object) -> None:
        raise AssertionError("must not build")

    monkeypatch.setattr(app, "build", no_build)
    with pytest.raises(EvidenceError, match="without a login"):
        app.launch(settings, "192.168.1.10", 7860)


def test_neighbours_are_running_text_not_nested_quotes(built_index: Settings, hash_embedder) -> None:
    backend = Backend(built_index, embedder=hash_embedder)
    s = backend.searcher()
    pabo = [p for p in s.snapshot().passages if p.doc_id == "rapport_pabo.txt"]
    assert [p.kind for p in pabo] == ["passage", "quote", "table"]  # one passage holds the quote
    assert backend._neighbours(s.snapshot(), pabo[0]) == ("", "")
    assert backend._neighbours(s.snapshot(), pabo[1]) == ("", "")  # a quote is shown in its paragraph


def test_a_passage_is_shown_between_its_neighbours(built_index: Settings, hash_embedder,
                                                   tmp_path: Path) -> None:
    backend = Backend(built_index, embedder=hash_embedder)
    sections = []
    for n, topic in enumerate(["aanvragen", "mobiliteit", "begeleiding"], start=1):
        body = " ".join(f"Zin {k} van deel {n} gaat over {topic} in het onderwijs." for k in range(1, 25))
        sections.append(f"{n}. Deel over {topic}\n\n{body}")
    src = tmp_path / "lang.txt"
    src.write_text("Lang rapport\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    backend.upload([str(src)])
    s = backend.searcher()
    units = [p for p in s.snapshot().passages if p.doc_id == "lang.txt" and p.kind == "passage"]
    assert len(units) >= 3
    mid = next(u for u in units if u.text.startswith("Zin 16 van deel 2"))
    before, after = backend._neighbours(s.snapshot(), mid)
    # the sentence the chunker repeats at the start of `mid` is not shown twice
    assert before.startswith("… ")
    assert before.endswith("Zin 15 van deel 2 gaat over mobiliteit in het onderwijs.")
    assert "Zin 16 van deel 2" not in before
    assert after.startswith("3. Deel over begeleiding\n\nZin 1 van deel 3") and after.endswith(" …")
