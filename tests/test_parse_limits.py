"""Parsing runs in a worker with hard limits; a document over one is refused by name (#17.1)."""

from __future__ import annotations

import io
import random
import resource
import zipfile
from pathlib import Path

import pymupdf
import pytest

from builders import make_docx, make_pdf_bomb
from evidence_finder.errors import ParseLimitError
from evidence_finder.index.build import ingest
from evidence_finder.ingest.load import load_source
from evidence_finder.settings import ParseSettings, Settings
from evidence_finder.ui.backend import Backend

GOOD = "Goed verslag\n\nDocenten leren veel van een uitwisseling met scholen in Finland.\n"


def _limited(settings: Settings, **limits: object) -> Settings:
    return settings.model_copy(update={"parse": ParseSettings(**limits)})  # type: ignore[arg-type]


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(("limits", "said"), [
    ({"max_memory_mb": 700}, "parsing it needed more than the memory limit of 700 MB (parse.max_memory_mb)"),
    ({"max_memory_mb": 4000, "max_seconds": 1.5},
     "parsing it took longer than the limit of 1.5 s (parse.max_seconds)"),
])
def test_pdf_bomb_is_refused_and_the_rest_ingested(tmp_path: Path, settings: Settings, hash_embedder,  # type: ignore[no-untyped-def]
                                                   limits: dict, said: str) -> None:
    corpus = tmp_path / "map"
    corpus.mkdir()
    bomb = make_pdf_bomb(corpus / "a_bom.pdf", 120)  # 0.4 MB on disk, 120 MB of page content
    (corpus / "b_goed.txt").write_text(GOOD, encoding="utf-8")
    rss = _max_rss_mb()
    report = ingest([corpus], _limited(settings, **limits), embedder=hash_embedder)
    assert report.documents == 1 and report.processed == 1  # the worker was replaced for b_goed.txt
    assert report.skipped == [(str(bomb), f"{str(bomb)!r} was refused: {said}. The file may be built "
                               "to exhaust the parser; if it is genuine, split it or raise the limit.")]
    assert _max_rss_mb() - rss < 150  # the bomb inflated in the worker, not here


def test_page_limit_refuses_a_600_page_pdf_unread(tmp_path: Path) -> None:
    doc = pymupdf.open()
    for i in range(600):
        doc.new_page().insert_text((72, 72), f"Pagina {i + 1} over mobiliteit.")
    path = tmp_path / "dik.pdf"
    doc.save(path)
    with pytest.raises(ParseLimitError) as err:
        load_source(path, limits=ParseSettings(max_pages=100))
    assert str(err.value) == (f"{str(path)!r} was refused: it has 600 pages, over the limit of 100 "
                              "(parse.max_pages). Split the PDF or raise the limit.")
    assert load_source(path, limits=ParseSettings(max_pages=600)).text.startswith("Pagina 1 ")


def test_chars_per_page_limit(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(pymupdf.Rect(20, 20, 580, 820), "woord " * 400, fontsize=5)
    path = tmp_path / "vol.pdf"
    doc.save(path)
    with pytest.raises(ParseLimitError, match=r"page 1 yields 2,\d{3} characters, over the limit of "
                                              r"1,000 per page \(parse.max_page_chars\)"):
        load_source(path, limits=ParseSettings(max_page_chars=1000))


def test_docx_with_huge_xml_is_refused_before_parsing(tmp_path: Path) -> None:
    base = make_docx(tmp_path / "basis.docx", ["Korte alinea."])
    rng = random.Random(7)
    words = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(20000))
    entries = {}
    with zipfile.ZipFile(base) as zf:
        for info in zf.infolist():
            entries[info.filename] = zf.read(info.filename)
    xml = entries["word/document.xml"].decode()
    entries["word/document.xml"] = xml.replace("Korte alinea.", words).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    path = tmp_path / "groot.docx"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ParseLimitError, match=r"its Word XML unpacks to 0\.\d MB, more than the 0\.0 MB that "
                                              r"the limit of 1,000 characters per document allows"):
        load_source(path, limits=ParseSettings(max_chars=1000))
    assert len(load_source(path).text) == len(words)


def test_bomb_upload_is_refused_off_the_server_process(built_index: Settings, hash_embedder,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    backend = Backend(_limited(built_index, max_memory_mb=700), embedder=hash_embedder)
    bomb = make_pdf_bomb(tmp_path / "bom.pdf", 120)
    rss = _max_rss_mb()
    result = backend.upload([str(bomb)])
    assert result.added == [] and "memory limit of 700 MB" in dict(result.skipped)["bom.pdf"]
    assert str(built_index.data_dir) not in dict(result.skipped)["bom.pdf"]  # no server paths shown
    assert dict(result.skipped)["bom.pdf"].startswith("'bom.pdf' was refused")
    assert not (built_index.data_dir / "uploads" / "bom.pdf").exists()
    assert _max_rss_mb() - rss < 150
    assert backend.searcher().search("stage in Finland").hits


def test_a_parser_that_cannot_start_is_a_system_error_not_a_refused_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies before it runs (a broken install, an import error) must not be
    reported as the document needing more than the memory limit."""
    from evidence_finder.errors import BackendError
    from evidence_finder.ingest import worker

    doc = tmp_path / "gewoon.txt"
    doc.write_text("Een gewoon verslag over uitwisseling.\n", encoding="utf-8")
    broken = worker.ParseWorker(memory_mb=512)
    monkeypatch.setattr(worker.sys, "executable", "/bin/false")
    with pytest.raises(BackendError, match="did not start"):
        broken.load(doc, 1 << 20, ParseSettings())
    monkeypatch.undo()
    assert broken.load(doc, 1 << 20, ParseSettings()).text.startswith("Een gewoon verslag")
    broken.stop()
