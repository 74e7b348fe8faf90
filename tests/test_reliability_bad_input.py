"""Bad input, end to end: every kind gives a clear error and loses nothing.

One table of bad files goes through the real entry points — the ingest pipeline (each bad
file ingested next to an already-indexed corpus) and the web chat's upload — and each must
(1) raise/report the exact error class with a message naming the file and the reason and
(2) leave SQLite, Chroma and BM25 exactly as they were. Questions (empty, 100 kB, control
characters) go through AnswerService, the web backend and the CLI; malformed
``--queries-file`` lines through ``evidence search`` and ``evidence ask``.

The loader's own unit tests (tests/test_load.py) and the mixed-directory ingest test in
tests/test_ingest_pipeline.py cover the same kinds at a lower level; this module is the
end-to-end table of the reliability issue.
"""

from __future__ import annotations

import codecs
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from builders import (
    make_encrypted_pdf,
    make_html,
    make_pdf,
    make_pdf_without_text,
    make_zip,
    nested_html,
)
from evidence_finder.answer.service import AnswerService
from evidence_finder.cli import app as cli_app
from evidence_finder.errors import (
    BadInputError,
    CorruptFileError,
    EmptyDocumentError,
    EncodingError,
    FileTooLargeError,
    UnsupportedFileError,
)
from evidence_finder.index import build as pipeline
from evidence_finder.index.build import chunk_file, ingest
from evidence_finder.retrieval.search import MAX_QUESTION_CHARS, Filters, Searcher
from evidence_finder.settings import Settings
from evidence_finder.ui import app as ui_app
from evidence_finder.ui.backend import Backend
from helpers.fakes import FIXTURE_CORPUS, HashEmbedder
from helpers.index_state import assert_consistent, index_state

KA2 = "Welke drempels zijn er bij een KA2-aanvraag?"
FIXTURE_DOCS = {"english_note.md", "factsheet_mbo.txt", "rapport_pabo.txt"}
GOOD_PDF_PAGES = ["Rapport over uitwisseling. Leerlingen gingen naar Spanje en leerden veel.",
                  "Tweede pagina met conclusies over de uitwisseling en de docenten."]


# ------------------------------------------------------------------------------ the table
@dataclass(frozen=True)
class BadFile:
    """One kind of bad file: how to make it, and what the user must be told."""

    kind: str
    make: Callable[[Path], Path]
    error: type[Exception]
    words: tuple[str, ...]  # all must appear in the message (case-insensitive)
    loader_sees_it: bool = True  # False: the pipeline refuses it before loading (type, existence)


def _corrupt_pdf(d: Path) -> Path:
    p = d / "kapot.pdf"
    p.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    return p


def _truncated_pdf(d: Path) -> Path:
    whole = make_pdf(d / "heel.pdf", GOOD_PDF_PAGES)
    p = d / "afgebroken.pdf"
    p.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    return p


def _zero_bytes(d: Path) -> Path:
    p = d / "leeg.txt"
    p.write_bytes(b"")
    return p


def _binary_txt(d: Path) -> Path:
    p = d / "data.txt"
    p.write_bytes(bytes(range(256)) * 16)
    return p


def _latin1_txt(d: Path) -> Path:
    p = d / "latijn.txt"
    p.write_bytes("Het café en de crèche werken samen in een Erasmus+-project.\n".encode("latin-1"))
    return p


def _utf16_without_bom(d: Path) -> Path:
    p = d / "breed.txt"
    p.write_bytes(("Scholen werken samen met partners in Europa. " * 20).encode("utf-16-le"))
    return p


def _huge_sparse(d: Path) -> Path:
    p = d / "enorm.txt"
    with open(p, "wb") as fh:  # sparse: 200 MB long, no blocks written, nothing to read
        fh.truncate(200 * 1024 * 1024)
    return p


def _zip_bomb_docx(d: Path) -> Path:
    return make_zip(d / "bom.docx", {"[Content_Types].xml": b"<Types/>",
                                     "word/document.xml": b"\0" * (8 * 1024 * 1024)})


def _missing(d: Path) -> Path:
    return d / "bestaat_niet.pdf"


def _exe(d: Path) -> Path:
    p = d / "tool.exe"
    p.write_bytes(b"MZ\x90\x00" + b"\x00" * 60)
    return p


def _pdf_named_docx(d: Path) -> Path:
    p = d / "verslag.docx"
    p.write_bytes(make_pdf(d / "verslag_src.pdf", GOOD_PDF_PAGES).read_bytes())
    (d / "verslag_src.pdf").unlink()
    return p


def _whitespace_md(d: Path) -> Path:
    p = d / "spaties.md"
    p.write_text(" \n\t\n   \n", encoding="utf-8")
    return p


def _script_only_html(d: Path) -> Path:
    return make_html(d / "alleen_script.html", "<div><script>alert(1)</script><style>p{}</style></div>")


def _scan_pdf(d: Path) -> Path:
    return make_pdf_without_text(d / "scan.pdf", 1)


def _docx_not_a_zip(d: Path) -> Path:
    p = d / "stuk.docx"
    p.write_bytes(b"PK\x03\x04" + b"rommel" * 200)
    return p


BAD_FILES = [
    BadFile("corrupt_pdf", _corrupt_pdf, CorruptFileError, ("damaged",)),
    BadFile("truncated_pdf", _truncated_pdf, CorruptFileError, ("truncated",)),
    BadFile("encrypted_pdf", lambda d: make_encrypted_pdf(d / "geheim.pdf"), CorruptFileError,
            ("password",)),
    BadFile("zero_byte", _zero_bytes, EmptyDocumentError, ("empty (0 bytes)",)),
    BadFile("binary_named_txt", _binary_txt, CorruptFileError, ("looks like binary data, not text",)),
    BadFile("latin1_text", _latin1_txt, EncodingError,
            ("not valid UTF-8", "byte 0xE9", "Latin-1", "Re-save the file as UTF-8")),
    BadFile("utf16_without_bom", _utf16_without_bom, CorruptFileError, ("binary data", "UTF-16", "UTF-8")),
    BadFile("200MB_file", _huge_sparse, FileTooLargeError, ("200.0 MB", "over the 50.0 MB limit")),
    BadFile("docx_zip_bomb", _zip_bomb_docx, CorruptFileError, ("zip bomb", "word/document.xml")),
    BadFile("missing_path", _missing, BadInputError, ("does not exist",), loader_sees_it=False),
    BadFile("unsupported_type", _exe, UnsupportedFileError, (".exe",), loader_sees_it=False),
    BadFile("pdf_named_docx", _pdf_named_docx, CorruptFileError, ("not a Word", "looks like a PDF")),
    BadFile("docx_not_a_zip", _docx_not_a_zip, CorruptFileError, ("damaged",)),
    BadFile("whitespace_only", _whitespace_md, EmptyDocumentError, ("no text",)),
    BadFile("script_only_html", _script_only_html, EmptyDocumentError, ("no text",)),
    BadFile("scanned_pdf", _scan_pdf, EmptyDocumentError, ("OCR",)),
]
BAD_IDS = [b.kind for b in BAD_FILES]


def _has_words(message: str, words: tuple[str, ...]) -> None:
    for w in words:
        assert w.lower() in message.lower(), f"{w!r} not in {message!r}"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, HashEmbedder, dict[str, Any]]:
    """The fixture corpus, indexed once for the module, and its state (the baseline)."""
    root = tmp_path_factory.mktemp("indexed")
    corpus = root / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    settings = Settings(data_dir=root / "data", corpus_dir=corpus)
    embedder = HashEmbedder()
    report = ingest([corpus], settings, embedder=embedder)
    assert report.documents == 3 and not report.skipped
    state = index_state(settings)
    assert_consistent(state)
    assert set(state["docs"]) == FIXTURE_DOCS
    return settings, embedder, state


@pytest.fixture(scope="module")
def service(indexed: tuple[Settings, HashEmbedder, dict[str, Any]]) -> AnswerService:
    settings, embedder, _ = indexed
    return AnswerService(Searcher(settings, embedder=embedder), settings)


# ------------------------------------------------------------------------------ files: ingest
@pytest.mark.parametrize("bad", BAD_FILES, ids=BAD_IDS)
def test_bad_file_ingested_next_to_an_index_is_reported_and_loses_nothing(
        bad: BadFile, indexed: tuple[Settings, HashEmbedder, dict[str, Any]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings, embedder, before = indexed
    path = bad.make(tmp_path)
    if bad.kind == "200MB_file":
        assert path.stat().st_size == 200 * 1024 * 1024
        real_hash = pipeline._file_hash

        def no_reading(p: Path) -> str:  # the size is checked before a single byte is read
            assert Path(p) != path, "the 200 MB file was read (hashed) before its size was checked"
            return real_hash(p)

        monkeypatch.setattr(pipeline, "_file_hash", no_reading)

    # the exact class, with a message naming the file and the reason
    with pytest.raises(bad.error) as info:
        chunk_file(path, settings)
    assert type(info.value) is bad.error
    message = str(info.value)
    assert path.name in message, message
    _has_words(message, bad.words)
    assert "Traceback" not in message

    calls_before = embedder.calls
    start = time.perf_counter()
    report = ingest([path], settings, embedder=embedder)
    elapsed = time.perf_counter() - start

    assert [Path(p).name for p, _ in report.skipped] == [path.name]
    reason = report.skipped[0][1]
    if bad.loader_sees_it:
        assert reason == message  # the user reads the same clear message the loader raised
    else:  # refused while listing the inputs: the path is reported next to the reason
        _has_words(reason, bad.words)
    assert (report.documents, report.processed, report.embedded) == (3, 0, 0)
    assert embedder.calls == calls_before
    assert f"{path}: {reason}" in report.summary()
    after = index_state(settings)
    assert after == before  # SQLite passages + hashes, Chroma ids + hashes, BM25: unchanged
    assert elapsed < 10, f"refusing {bad.kind} took {elapsed:.1f} s"


def test_all_bad_kinds_in_one_folder_with_one_good_file(
        indexed: tuple[Settings, HashEmbedder, dict[str, Any]], tmp_path: Path) -> None:
    """A folder of every bad kind plus one good report: the good one is added, each bad one
    reported once, and the documents indexed earlier keep every passage."""
    base, embedder, before = indexed
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=base.corpus_dir)
    ingest([base.corpus_dir], settings, embedder=embedder)
    assert index_state(settings) == before
    folder = tmp_path / "upload_batch"
    folder.mkdir()
    made = [b.make(folder) for b in BAD_FILES]
    (folder / "goed.txt").write_text("Nieuwe notitie\n\nScholen in Limburg werken met Duitse partners "
                                     "aan een KA2-project over techniekonderwijs.\n", encoding="utf-8")
    report = ingest([folder], settings, embedder=embedder)
    skipped = {Path(p).name for p, _ in report.skipped}
    assert skipped == {p.name for p in made if p.exists()}  # a missing path is not in the folder
    assert (report.documents, report.processed) == (4, 1)
    after = index_state(settings)
    assert_consistent(after)
    assert set(before["sqlite"]) < set(after["sqlite"])
    assert set(after["docs"]) == FIXTURE_DOCS | {"goed.txt"}


@pytest.mark.parametrize(("kind", "make", "expect"), [
    ("utf16_with_bom", lambda d: _write(d / "breed_bom.txt", codecs.BOM_UTF16_LE + (
        "Leerlingen uit Zeeland liepen stage in België – één week lang.\n").encode("utf-16-le")),
     "liepen stage in België"),
    ("latin1_html_declared", lambda d: make_html(
        d / "oud.html", "<p>Het café van de school ontving Erasmus+-docenten uit Portugal.</p>",
        charset="iso-8859-1"), "Het café van de school"),
    ("deeply_nested_html", lambda d: _write(d / "diep.html", (
        f"<html><body>{nested_html(60_000, inner='Diep genest verslag over uitwisseling met Finland.')}"
        "</body></html>").encode()), "Diep genest verslag over uitwisseling met Finland."),
], ids=["utf16_with_bom", "latin1_html_declared", "deeply_nested_html"])
def test_unusual_but_valid_files_are_read_correctly_and_keep_the_rest(
        kind: str, make: Callable[[Path], Path], expect: str,
        indexed: tuple[Settings, HashEmbedder, dict[str, Any]], tmp_path: Path) -> None:
    """UTF-16 with a BOM, declared Latin-1 and 60 000 nested elements are not errors: they
    are read (in bounded time) and added, and nothing stored earlier changes."""
    base, embedder, before = indexed
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=base.corpus_dir)
    ingest([base.corpus_dir], settings, embedder=embedder)
    path = make(tmp_path)
    start = time.perf_counter()
    report = ingest([path], settings, embedder=embedder)
    assert time.perf_counter() - start < 15
    assert not report.skipped and report.documents == 4
    after = index_state(settings)
    assert_consistent(after)
    assert set(before["sqlite"]) < set(after["sqlite"])
    s = Searcher(settings, embedder=embedder)
    texts = " ".join(p.text for p in s.snapshot().passages if p.doc_id == path.name)
    assert expect in " ".join(texts.split())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------ files: web upload
@pytest.mark.parametrize("bad", [b for b in BAD_FILES if b.kind != "missing_path"],
                         ids=[b.kind for b in BAD_FILES if b.kind != "missing_path"])
def test_bad_upload_in_the_web_chat_is_a_message_and_loses_nothing(
        bad: BadFile, indexed: tuple[Settings, HashEmbedder, dict[str, Any]], tmp_path: Path,
        upload_handler: Callable[..., str]) -> None:
    settings, embedder, before = indexed
    backend = Backend(settings, embedder=embedder)
    path = bad.make(tmp_path)
    result = backend.upload([str(path)])
    assert result.added == []
    assert len(result.skipped) == 1
    name, reason = result.skipped[0]
    assert name == path.name  # sanitising keeps these names as they are
    if bad.kind == "200MB_file":  # the upload limit is checked first, on the size alone
        assert reason == f"{path.name!r} is 209.7 MB; the limit is 50 MB"
    elif bad.kind == "unsupported_type":
        assert "unsupported file type '.exe'" in reason and "Supported:" in reason
    else:
        assert path.name in reason
        _has_words(reason, bad.words)
    assert "Traceback" not in reason
    assert not (backend.uploads_dir / path.name).exists()  # a refused file is not kept
    assert index_state(settings) == before
    # the message the sources tab shows (escaped HTML, role=alert)
    html = upload_handler([str(path)], "", None, [], "report", "nl", progress=lambda *a, **k: None)
    assert '<p class="ef-status-err" role="alert">' in html and "Traceback" not in html
    assert "ef-status-ok" not in html
    assert index_state(settings) == before


@pytest.fixture(scope="module")
def upload_handler(indexed: tuple[Settings, HashEmbedder, dict[str, Any]]) -> Callable[..., str]:
    """The Gradio upload handler of a built app (what a click on 'upload' runs)."""
    settings, embedder, _ = indexed
    demo = ui_app.build(settings, embedder=embedder)
    return next(b.fn for b in demo.fns.values() if getattr(b, "name", "") == "upload")


def test_bad_upload_with_the_name_of_an_uploaded_document_keeps_the_good_one(
        indexed: tuple[Settings, HashEmbedder, dict[str, Any]], tmp_path: Path) -> None:
    """Re-uploading a broken file under the name of a good upload must not destroy the good
    one (its file is the source the next `evidence ingest` reads)."""
    base, embedder, _ = indexed
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=base.corpus_dir)
    ingest([base.corpus_dir], settings, embedder=embedder)
    backend = Backend(settings, embedder=embedder)
    good = tmp_path / "good" / "notitie.txt"
    good.parent.mkdir()
    text = "Notitie over Erasmus+\n\nDocenten uit Drenthe bezochten scholen in Estland.\n"
    good.write_text(text, encoding="utf-8")
    assert backend.upload([str(good)]).added == ["notitie.txt"]
    before = index_state(settings)
    bad = tmp_path / "bad" / "notitie.txt"
    bad.parent.mkdir()
    bad.write_bytes("Caf\u00e9 kapot\n".encode("latin-1"))
    result = backend.upload([str(bad)])
    assert result.added == [] and "not valid UTF-8" in dict(result.skipped)["notitie.txt"]
    stored = backend.uploads_dir / "notitie.txt"
    assert stored.is_file() and stored.read_text(encoding="utf-8") == text
    assert index_state(settings) == before
    # and a later full ingest (corpus + uploads) still has it
    report = ingest(pipeline.default_targets(settings), settings, embedder=embedder)
    assert "notitie.txt" in index_state(settings)["docs"] and report.removed == 0


def test_dotdot_in_an_upload_name_lands_inside_the_uploads_folder(
        indexed: tuple[Settings, HashEmbedder, dict[str, Any]], tmp_path: Path) -> None:
    base, embedder, _ = indexed
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=base.corpus_dir)
    ingest([base.corpus_dir], settings, embedder=embedder)
    backend = Backend(settings, embedder=embedder)
    incoming = tmp_path / "incoming" / "deep"
    incoming.mkdir(parents=True)
    # Backslashes are legal in Linux file names: a Windows browser's "..\..\" survives as text.
    evil = incoming / "..\\..\\..\\evil.txt"
    evil.write_text("Ontsnapt\n\nDit bestand probeert buiten de uploadmap te komen.\n", encoding="utf-8")
    # A path with ../ segments, as a careless caller might pass it.
    dotted = incoming / ".." / "deep" / ".. .txt"
    dotted.write_text("Puntjes\n\nEen bestandsnaam van alleen puntjes.\n", encoding="utf-8")
    result = backend.upload([str(evil), str(dotted)])
    assert sorted(result.added) == ["document.txt", "evil.txt"], result
    uploads = backend.uploads_dir.resolve()
    for name in result.added:
        stored = (backend.uploads_dir / name).resolve()
        assert stored.parent == uploads and stored.is_file()
    for outside in (settings.data_dir / "evil.txt", tmp_path / "evil.txt", tmp_path / "incoming" / "evil.txt"):
        assert not outside.exists()
    rows = {r.doc_id: r for r in backend.documents()}
    assert rows["evil.txt"].uploaded and rows["document.txt"].uploaded


# ------------------------------------------------------------------------------ questions
@pytest.mark.parametrize("question", ["", "   ", "\n\t \n", "\x00\x01\x07\x1b\x7f", "\u200b\u200e"],
                         ids=["empty", "spaces", "whitespace", "control_only", "invisible_only"])
def test_empty_question_is_a_bad_input_message(service: AnswerService, question: str) -> None:
    with pytest.raises(BadInputError) as info:
        service.ask(question)
    assert str(info.value) == "the question is empty: type a question"
    with pytest.raises(BadInputError, match="the question is empty"):
        service.searcher.search(question)


def test_empty_question_in_the_web_chat_is_a_message(
        indexed: tuple[Settings, HashEmbedder, dict[str, Any]], service: AnswerService) -> None:
    settings, embedder, _ = indexed
    backend = Backend(settings, service.searcher, service, embedder)
    with pytest.raises(BadInputError) as info:
        list(backend.ask("\x00 \x07", Filters(), "answer"))
    assert ui_app._message(info.value, "nl") == "the question is empty: type a question"


def test_100kb_question_is_truncated_and_answered(service: AnswerService) -> None:
    question = KA2 + " " + ("administratie aanvraag drempel " * 4000)
    assert len(question.encode()) > 100_000
    start = time.perf_counter()
    answer = service.ask(question)
    assert time.perf_counter() - start < 10
    assert len(answer.question) <= MAX_QUESTION_CHARS and answer.question.startswith(KA2)
    assert answer.citations and not answer.abstained
    assert answer.citations[0].passage.doc_id == "rapport_pabo.txt"
    quotes = service.ask(question, mode="quotes")
    assert len(quotes.question) <= MAX_QUESTION_CHARS


def test_control_characters_are_stripped_from_a_question(service: AnswerService) -> None:
    dirty = "\x00Welke\x07 drempels\x1b[31m zijn er\r\n bij een\u200b KA2-aanvraag?\x7f\x0c"
    answer = service.ask(dirty)
    clean = service.ask(KA2)
    assert answer.question.isprintable() and "\x1b" not in answer.question
    assert answer.question == "Welke drempels [31m zijn er bij een KA2-aanvraag?"
    assert answer.citations and [c.text for c in answer.citations][:1] == [c.text for c in clean.citations][:1]


# ------------------------------------------------------------------------------ CLI
def _queries_file(path: Path) -> Path:
    lines = [
        json.dumps({"id": "a", "question": KA2, "expected": "ignored"}),       # 1 ok
        "{not json",                                                           # 2 bad JSON
        json.dumps({"id": "c"}),                                               # 3 no question
        json.dumps([1, 2, 3]),                                                 # 4 not an object
        json.dumps({"id": "e", "question": ""}),                               # 5 empty question
        json.dumps({"id": "f", "question": 42}),                               # 6 not a string
        json.dumps({"id": "g", "question": "\x00Welke\x07 drempels bij KA2?\x1b"}),  # 7 control chars
        json.dumps({"id": "h", "question": KA2 + " drempel" * 13_000}),        # 8 > 100 kB
        "",                                                                    # 9 blank: ignored
        json.dumps({"id": 10, "question": "What hinders teacher mobility?"}),  # 10 ok
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["search", "ask"])
def test_malformed_queries_file_lines_exit_2_with_line_numbers_and_the_rest_run(
        command: str, built_index: Settings, hash_embedder: HashEmbedder, tmp_path: Path) -> None:
    qf = _queries_file(tmp_path / "q.jsonl")
    res = CliRunner().invoke(cli_app, [command, "--queries-file", str(qf), "--format", "jsonl",
                                       "--top-k", "3"])
    assert res.exit_code == 2, res.output
    out = [json.loads(x) for x in res.stdout.strip().splitlines()]
    assert [x["id"] for x in out] == ["a", "g", "h", "10"]
    err = res.stderr
    assert "q.jsonl:2: not valid JSON" in err
    assert "q.jsonl:3: each line needs a string field 'question'" in err
    assert "q.jsonl:4: each line needs a string field 'question'" in err
    assert "q.jsonl:6: each line needs a string field 'question'" in err
    assert "error: query e: the question is empty: type a question" in err
    assert "Traceback" not in res.output
    results = "results" if command == "search" else "citations"
    assert out[0][results] and out[2][results]  # the good and the 100 kB question are answered


def test_unreadable_or_missing_queries_file_exits_2(built_index: Settings, hash_embedder: HashEmbedder,
                                                     tmp_path: Path) -> None:
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps({"id": "a", "question": "café"}, ensure_ascii=False).encode("utf-8").replace(
        "é".encode(), b"\xe9"))
    for command in ("search", "ask"):
        res = CliRunner().invoke(cli_app, [command, "--queries-file", str(latin), "--format", "jsonl"])
        assert res.exit_code == 2 and "is not UTF-8 text" in res.stderr and "latin.jsonl" in res.stderr
        res = CliRunner().invoke(cli_app, [command, "--queries-file", str(tmp_path / "weg.jsonl")])
        assert res.exit_code == 2 and "'" + str(tmp_path / "weg.jsonl") + "' does not exist" in res.stderr


def test_ingest_cli_with_a_missing_path_and_a_bad_file(built_index: Settings, hash_embedder: HashEmbedder,
                                                       tmp_path: Path) -> None:
    before = index_state(built_index)
    bad = _latin1_txt(tmp_path)
    res = CliRunner().invoke(cli_app, ["ingest", str(tmp_path / "weg"), str(bad), "-q"])
    # (exit code: 2 only when the index ends up empty; see test_ingest_pipeline.py)
    assert f"{tmp_path / 'weg'}: does not exist" in res.stdout
    assert "latijn.txt' is not valid UTF-8" in res.stdout and "Traceback" not in res.output
    assert index_state(built_index) == before
