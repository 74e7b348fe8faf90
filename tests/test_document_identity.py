"""Two different files never replace each other; one document under two names is indexed once (#17.3)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from evidence_finder.index.build import ingest
from evidence_finder.index.store import IndexStore
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import Settings
from evidence_finder.ui.backend import Backend

A = "Verslag A\n\nDocenten uit Groningen liepen stage op scholen in Finland en Estland.\n"
B = "Verslag B\n\nStudenten uit Zeeland volgden een uitwisseling met scholen in Portugal.\n"


def _store(searcher: Searcher) -> IndexStore:
    return searcher.store


def test_same_name_in_two_folders_is_refused_not_overwritten(
        tmp_path: Path, settings: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    for sub, text in (("a", A), ("b", B)):
        (tmp_path / "map" / sub).mkdir(parents=True)
        (tmp_path / "map" / sub / "verslag.txt").write_text(text, encoding="utf-8")
    report = ingest([tmp_path / "map"], settings, embedder=hash_embedder)
    assert report.processed == 1 and report.documents == 1
    assert report.skipped == [(str(tmp_path / "map" / "b" / "verslag.txt"),
                               f"'verslag.txt': another file with the same name, "
                               f"{str(tmp_path / 'map' / 'a' / 'verslag.txt')!r}, is in this ingest and "
                               "was indexed; the file name is the document id, so rename one of them")]
    store = _store(Searcher(settings, embedder=hash_embedder))
    assert store.documents()["verslag.txt"]["source_path"] == str(tmp_path / "map" / "a" / "verslag.txt")


def test_names_that_differ_only_in_unicode_form_are_one_id(
        tmp_path: Path, settings: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    nfc = unicodedata.normalize("NFC", "verslag é.txt")
    nfd = unicodedata.normalize("NFD", "verslag é.txt")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / nfd).write_text(A, encoding="utf-8")
    (tmp_path / "b" / nfc).write_text(B, encoding="utf-8")
    report = ingest([tmp_path / "a", tmp_path / "b"], settings, embedder=hash_embedder)
    assert report.processed == 1 and len(report.skipped) == 1
    assert "another file with the same name" in report.skipped[0][1]
    assert list(_store(Searcher(settings, embedder=hash_embedder)).documents()) == [nfc]


def test_identical_content_under_two_names_is_indexed_once(
        tmp_path: Path, settings: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "origineel.txt").write_text(A, encoding="utf-8")
    (tmp_path / "map" / "kopie.txt").write_text(A, encoding="utf-8")
    report = ingest([tmp_path / "map"], settings, embedder=hash_embedder)
    assert report.documents == 1
    assert report.skipped == [(str(tmp_path / "map" / "origineel.txt"),
                               "'origineel.txt' has exactly the same content as 'kopie.txt', which is "
                               "indexed; it is not indexed twice (remove one of the copies to silence "
                               "this notice)")]
    hits = Searcher(settings, embedder=hash_embedder).search("stage Finland Estland", k=5).hits
    assert [h.passage.doc_id for h in hits].count("kopie.txt") == len(hits) == 1


def test_uploads_whose_names_sanitise_alike_both_stay(
        built_index: Settings, hash_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backend = Backend(built_index, embedder=hash_embedder)
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    first = tmp_path / "1" / "verslag é.txt"
    second = tmp_path / "2" / "verslag e.txt"
    first.write_text(A, encoding="utf-8")
    second.write_text(B, encoding="utf-8")
    assert backend.upload([str(first)]).added == ["verslag_e.txt"]
    assert backend.upload([str(second)]).added == ["verslag_e-2.txt"]
    docs = backend.searcher().store.documents()
    assert {"verslag_e.txt", "verslag_e-2.txt"} <= set(docs)
    # the same file name again is a new version of that upload, not a third document
    first.write_text(A.replace("Estland", "Letland"), encoding="utf-8")
    assert backend.upload([str(first)]).added == ["verslag_e.txt"]
    assert "Letland" in (built_index.data_dir / "uploads" / "verslag_e.txt").read_text(encoding="utf-8")
