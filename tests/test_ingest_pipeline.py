"""Ingest end to end with the fake embedder: incremental re-ingest, bad input, identity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from builders import make_encrypted_pdf, make_pdf
from evidence_finder.errors import IndexMismatchError
from evidence_finder.index.build import IngestReport, chunk_file, ingest, vector_units
from evidence_finder.index.store import IndexIdentity, IndexStore
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import ChunkSettings, Settings
from evidence_finder.types import Passage
from helpers.fakes import HashEmbedder

FIXTURE_DOCS = ["english_note.md", "factsheet_mbo.txt", "rapport_pabo.txt"]


def index_state(settings: Settings, embedder_id: str = HashEmbedder.id) -> dict[str, object]:
    """Everything an ingest leaves behind, per store."""
    store = IndexStore(settings.resolved_index_dir, IndexIdentity.from_settings(settings, embedder_id),
                       create=False)
    try:
        passages = store.passages()
        got = store.collection.get(include=["metadatas"])
        bm25 = json.loads((store.dir / "bm25" / "ids.json").read_text())
        return {
            "sqlite": {p.id: p.hash for p in passages},
            "owned": {vid: p.hash for p in passages for vid, _ in vector_units(p)},
            "sqlite_ids": [p.id for p in passages],
            "docs": sorted(store.documents()),
            "chroma": sorted(got["ids"]),
            "chroma_hash": {i: m["hash"] for i, m in zip(got["ids"], got["metadatas"], strict=True)},
            "bm25": bm25["ids"],
            "bm25_fp": bm25["fingerprint"],
            "fingerprint": store.fingerprint(),
            "collections": sorted(c if isinstance(c, str) else c.name
                                  for c in store._chroma.list_collections()),
            "identity": store.stored_identity(),
        }
    finally:
        store.close()


def assert_consistent(state: dict[str, object]) -> None:
    sqlite: dict[str, str] = state["sqlite"]  # type: ignore[assignment]
    ids = state["sqlite_ids"]
    assert len(set(ids)) == len(ids)  # type: ignore[arg-type]
    assert sqlite == {pid.split("#")[0]: h for pid, h in state["owned"].items()}  # type: ignore[attr-defined]
    assert state["chroma"] == sorted(state["owned"])  # type: ignore[call-overload]  # no orphans, nothing missing
    assert state["chroma_hash"] == state["owned"]
    assert state["bm25"] == ids  # same rows, same order as SQLite
    assert state["bm25_fp"] == state["fingerprint"]
    assert len(state["collections"]) == 1  # type: ignore[arg-type]


def _vectors(passages: list[Passage]) -> set[str]:
    return {vid for p in passages for vid, _ in vector_units(p)}


def _units(path: Path, settings: Settings) -> int:
    """How many vectors the file's units get (one per window of each unit)."""
    return len(_vectors(chunk_file(path, settings)[1]))


# --- incremental re-ingest -------------------------------------------------------------------


def test_first_ingest_embeds_everything_second_embeds_nothing(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder
) -> None:
    expected = sum(_units(corpus_copy / d, settings) for d in FIXTURE_DOCS)
    first = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert (first.documents, first.processed, first.unchanged, first.removed) == (3, 3, 0, 0)
    assert first.embedded == expected >= first.passages + first.quotes + first.tables
    assert first.skipped == []
    assert (first.quotes, first.tables) == (2, 1)  # pabo + mbo quote; the pabo table caption
    calls = hash_embedder.calls
    assert calls >= 3  # one batch per document at least
    state = index_state(settings)
    assert_consistent(state)
    assert state["docs"] == FIXTURE_DOCS
    assert state["identity"]["embedder_id"] == HashEmbedder.id  # type: ignore[index]
    assert state["identity"]["dim"] == 256  # type: ignore[index]

    second = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert (second.documents, second.processed, second.unchanged, second.removed) == (3, 0, 3, 0)
    assert second.embedded == 0
    assert hash_embedder.calls == calls
    assert (second.passages, second.quotes, second.tables) == (first.passages, first.quotes, first.tables)
    assert index_state(settings) == state


def test_model_is_loaded_only_when_a_text_needs_embedding(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`evidence ingest` on an unchanged corpus, or a rebuild whose texts are all in the vector
    cache, must not pay for loading the model: only its id is needed."""
    import evidence_finder.models.embedders as embedders

    loads: list[int] = []

    def counting_factory(_: Settings) -> HashEmbedder:
        loads.append(1)
        return hash_embedder

    monkeypatch.setattr(embedders, "make_embedder", counting_factory)
    ingest([corpus_copy], settings)
    assert len(loads) == 1
    state = index_state(settings)
    assert state["identity"]["dim"] == 256  # type: ignore[index]

    ingest([corpus_copy], settings)  # unchanged
    assert len(loads) == 1
    assert index_state(settings) == state  # the stored dimension survives a run that embeds nothing

    elsewhere = settings.model_copy(update={"index_dir": settings.data_dir / "index-2"})
    rebuilt = ingest([corpus_copy], elsewhere)  # a new index, built from the vector cache
    assert len(loads) == 1 and rebuilt.embedded > 0
    assert index_state(elsewhere)["identity"]["dim"] == 256  # type: ignore[index]
    assert index_state(elsewhere)["owned"] == state["owned"]

    (corpus_copy / "new_note.md").write_text("# Nieuw\n\nEen nieuwe notitie over mobiliteit van docenten.\n")
    ingest([corpus_copy], settings)  # a text never seen: now the model is needed
    assert len(loads) == 2


def test_editing_one_file_reembeds_only_its_changed_passages(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder
) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    before = index_state(settings)
    pabo = corpus_copy / "rapport_pabo.txt"
    old_units = {p.id: p for p in chunk_file(pabo, settings)[1]}
    text = pabo.read_text(encoding="utf-8")
    edited = text.replace(
        "Ook het Nationaal Agentschap biedt ondersteuning bij het \nschrijven van een aanvraag.",
        "Het Nationaal Agentschap organiseert daarnaast workshops over het schrijven van een aanvraag.")
    assert edited != text
    pabo.write_text(edited, encoding="utf-8")
    new_units = {p.id: p for p in chunk_file(pabo, settings)[1]}
    added, stale = set(new_units) - set(old_units), set(old_units) - set(new_units)
    assert added and stale and set(new_units) & set(old_units)  # some units survive the edit

    seen: list[str] = []
    real = hash_embedder.embed_batch

    def spy(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return real(texts)

    hash_embedder.embed_batch = spy  # type: ignore[method-assign]
    report = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert (report.processed, report.unchanged, report.removed) == (1, 2, 0)
    added_vectors = _vectors([new_units[i] for i in added])
    assert report.embedded == len(added_vectors) == len(seen)
    assert any("workshops" in t for t in seen)
    windows = [w for i in added for w in new_units[i].window_texts()]
    assert all(any(t.endswith(w) for w in windows) for t in seen)  # only the edited units
    after = index_state(settings)
    assert_consistent(after)
    assert set(after["sqlite"]) == (set(before["sqlite"]) - stale) | added  # type: ignore[call-overload]
    assert not _vectors([old_units[i] for i in stale]) & set(after["chroma"])  # type: ignore[call-overload]
    assert not stale & set(after["bm25"])  # type: ignore[call-overload]
    # the other documents' rows are untouched
    others = {k: v for k, v in before["sqlite"].items() if k not in old_units}  # type: ignore[union-attr]
    assert all(after["sqlite"][k] == v for k, v in others.items())  # type: ignore[index]


def test_deleting_a_file_removes_its_passages_everywhere(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder
) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    units = chunk_file(corpus_copy / "factsheet_mbo.txt", settings)[1]
    gone = {p.id for p in units} | _vectors(units)
    (corpus_copy / "factsheet_mbo.txt").unlink()
    report = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert (report.documents, report.removed, report.embedded) == (2, 1, 0)
    state = index_state(settings)
    assert_consistent(state)
    assert state["docs"] == ["english_note.md", "rapport_pabo.txt"]
    assert not gone & set(state["sqlite"])  # type: ignore[call-overload]
    assert not gone & set(state["chroma"]) and not gone & set(state["bm25"])  # type: ignore[call-overload]


def test_ingesting_a_single_file_does_not_remove_the_others(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder
) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    report = ingest([corpus_copy / "english_note.md"], settings, embedder=hash_embedder)
    assert (report.documents, report.unchanged, report.removed) == (3, 1, 0)


def test_adding_a_file(settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    new = corpus_copy / "notitie_vo.txt"
    new.write_text("Mobiliteit in het vo\n\nLeerlingen in het voortgezet onderwijs gaan op uitwisseling "
                   "naar Duitsland en leren daar veel over de Duitse taal en cultuur.\n", encoding="utf-8")
    report = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert (report.documents, report.processed, report.unchanged) == (4, 1, 3)
    assert report.embedded == _units(new, settings) > 0
    state = index_state(settings)
    assert_consistent(state)
    assert "notitie_vo.txt" in state["docs"]  # type: ignore[operator]


def test_manifest_metadata_reaches_the_store(built_index: Settings) -> None:
    store = IndexStore(built_index.resolved_index_dir,
                       IndexIdentity.from_settings(built_index, HashEmbedder.id), create=False)
    metas = store.document_meta()
    store.close()
    assert metas["rapport_pabo.txt"].title == "Internationalisering op de pabo"
    assert metas["rapport_pabo.txt"].sectors == ("HO", "teacher training")
    assert metas["factsheet_mbo.txt"].type == "factsheet"


# --- bad input -------------------------------------------------------------------------------


def _bad_files(d: Path) -> dict[str, tuple[str, ...]]:
    """Write one file per bad-input kind into ``d``; returns name → words its message must hold."""
    (d / "cijfers.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (d / "leeg.txt").write_bytes(b"")
    (d / "kapot.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    make_encrypted_pdf(d / "geheim.pdf")
    (d / "latin1.txt").write_bytes("Café en coördinator in het één-op-één gesprek.\n".encode("latin-1"))
    make_pdf(d / "tmp_rapport.pdf", ["Een echte PDF met tekst over Erasmus+ en mobiliteit."])
    (d / "rapport_echt_pdf.docx").write_bytes((d / "tmp_rapport.pdf").read_bytes())
    (d / "tmp_rapport.pdf").unlink()
    (d / "notitie.pdf").write_text("Dit is gewoon tekst, geen PDF.\n", encoding="utf-8")
    return {
        "cijfers.xlsx": ("unsupported", ".xlsx"),
        "leeg.txt": ("empty",),
        "kapot.pdf": ("damaged",),
        "geheim.pdf": ("password",),
        "latin1.txt": ("not valid UTF-8", "Latin-1"),
        "rapport_echt_pdf.docx": ("not a Word", "PDF"),
        "notitie.pdf": ("is not a PDF", "plain text"),
    }


def test_every_bad_input_is_reported_and_skipped_and_the_rest_ingested(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder, tmp_path: Path
) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    before = index_state(settings)
    expected = _bad_files(corpus_copy)
    missing = tmp_path / "bestaat_niet.txt"
    good = corpus_copy / "nieuw_goed.txt"
    good.write_text("Nieuwe notitie\n\nScholen in Limburg werken samen met Duitse partners in een "
                    "KA2-project over techniekonderwijs en duurzaamheid.\n", encoding="utf-8")

    report = ingest([corpus_copy, missing], settings, embedder=hash_embedder)

    skipped = {Path(p).name: reason for p, reason in report.skipped}
    assert set(skipped) == set(expected) | {"bestaat_niet.txt"}
    for name, words in expected.items():
        reason = skipped[name]
        if not name.endswith(".xlsx"):  # loader errors name the file in the message itself
            assert name in reason, reason
        for word in words:
            assert word.lower() in reason.lower(), (name, reason)
    assert "does not exist" in skipped["bestaat_niet.txt"]
    summary = report.summary()
    assert f"skipped: {len(expected) + 1}" in summary
    for name in skipped:
        assert name in summary
    # the good files are all there, old and new; nothing stored earlier was lost
    assert (report.documents, report.processed, report.unchanged) == (4, 1, 3)
    state = index_state(settings)
    assert_consistent(state)
    assert state["docs"] == sorted(FIXTURE_DOCS + ["nieuw_goed.txt"])
    assert set(before["sqlite"]) <= set(state["sqlite"])  # type: ignore[call-overload]


def test_a_stored_document_that_turns_bad_keeps_its_passages(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder
) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    before = index_state(settings)
    (corpus_copy / "factsheet_mbo.txt").write_bytes("Caf\u00e9 in het mbo\n".encode("latin-1"))
    report = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert [Path(p).name for p, _ in report.skipped] == ["factsheet_mbo.txt"]
    assert "not valid UTF-8" in report.skipped[0][1]
    assert (report.documents, report.removed) == (3, 0)
    assert index_state(settings) == before


def test_only_bad_input_into_an_empty_index(
    settings: Settings, tmp_path: Path, hash_embedder: HashEmbedder
) -> None:
    d = tmp_path / "slecht"
    d.mkdir()
    expected = _bad_files(d)
    report = ingest([d], settings, embedder=hash_embedder)
    assert sorted(Path(p).name for p, _ in report.skipped) == sorted(expected)
    assert (report.documents, report.embedded, report.passages) == (0, 0, 0)
    state = index_state(settings)
    assert_consistent(state)
    assert state["sqlite"] == {}


# --- index identity --------------------------------------------------------------------------


class OtherEmbedder(HashEmbedder):
    id = "another-embedder-v2"


def test_opening_the_index_with_another_embedder_is_a_clear_error(built_index: Settings) -> None:
    with pytest.raises(IndexMismatchError) as info:
        Searcher(built_index, embedder=OtherEmbedder())
    msg = str(info.value)
    assert "'test-hash-ngrams-v1'" in msg and "'another-embedder-v2'" in msg
    assert str(built_index.resolved_index_dir) in msg
    assert "evidence ingest" in msg
    assert info.value.exit_code == 3


def test_opening_the_index_with_other_chunk_settings_is_a_clear_error(
    built_index: Settings, hash_embedder: HashEmbedder
) -> None:
    other = built_index.model_copy(update={"chunking": ChunkSettings(max_words=200)})
    with pytest.raises(IndexMismatchError, match="other chunking or embedding settings"):
        Searcher(other, embedder=hash_embedder)


def test_collection_name_follows_embedder_and_chunk_settings(settings: Settings) -> None:
    base = IndexIdentity.from_settings(settings, "emb-a").collection
    assert re.fullmatch(r"ef_[0-9a-f]{16}", base)
    assert IndexIdentity.from_settings(settings, "emb-a").collection == base  # stable
    assert IndexIdentity.from_settings(settings, "emb-b").collection != base
    for change in ({"max_chars": 1200}, {"target_words": 150}, {"overlap_sentences": 0}):
        changed = settings.model_copy(update={"chunking": ChunkSettings(**change)})
        assert IndexIdentity.from_settings(changed, "emb-a").collection != base, change
    no_ctx = settings.retrieval.model_copy(update={"embed_context": False})
    ctx = settings.model_copy(update={"retrieval": no_ctx})
    assert IndexIdentity.from_settings(ctx, "emb-a").collection != base


def test_reingest_with_other_chunk_settings_rebuilds_into_a_new_collection(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder
) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    old = index_state(settings)
    other = settings.model_copy(update={"chunking": ChunkSettings(max_words=120, target_words=60,
                                                                  min_words=20)})
    report = ingest([corpus_copy], other, embedder=hash_embedder)
    assert (report.processed, report.unchanged) == (3, 0)
    new = index_state(other)
    assert report.embedded == len(new["owned"])  # type: ignore[arg-type]
    assert_consistent(new)
    assert new["collections"] != old["collections"]
    assert new["identity"]["collection"] == IndexIdentity.from_settings(other, HashEmbedder.id).collection  # type: ignore[index]


def test_reingest_with_another_embedder_rebuilds(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder
) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    other = OtherEmbedder()
    report = ingest([corpus_copy], settings, embedder=other)
    assert (report.processed, report.unchanged) == (3, 0)
    state = index_state(settings, OtherEmbedder.id)
    assert_consistent(state)
    assert state["identity"]["embedder_id"] == "another-embedder-v2"  # type: ignore[index]
    with pytest.raises(IndexMismatchError):
        Searcher(settings, embedder=hash_embedder)


# --- CLI -------------------------------------------------------------------------------------


def test_cli_ingest_prints_the_summary(
    settings: Settings, corpus_copy: Path, hash_embedder: HashEmbedder, tmp_path: Path
) -> None:
    from evidence_finder.cli import app

    (corpus_copy / "leeg.txt").write_bytes(b"")
    index_dir = tmp_path / "cli_index"
    result = CliRunner().invoke(app, ["ingest", str(corpus_copy), "--index-dir", str(index_dir), "-q"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "documents: 3 in index (3 ingested, 0 unchanged, 0 removed)" in out
    assert re.search(r"^units: \d+ passages, 2 quotes, 1 tables$", out, re.M), out
    assert re.search(r"^embedded: \d+ new or changed units$", out, re.M), out
    assert "skipped: 1" in out and "leeg.txt" in out and "empty" in out
    assert re.search(r"^seconds: \d+\.\d$", out, re.M), out
    assert hash_embedder.calls > 0
    assert (index_dir / "index.json").is_file()

    again = CliRunner().invoke(app, ["ingest", str(corpus_copy), "--index-dir", str(index_dir), "-q"])
    assert again.exit_code == 0, again.output
    assert "documents: 3 in index (0 ingested, 3 unchanged, 0 removed)" in again.stdout
    assert "embedded: 0 new or changed units" in again.stdout


def test_cli_ingest_of_only_bad_files_exits_2(
    settings: Settings, tmp_path: Path, hash_embedder: HashEmbedder
) -> None:
    from evidence_finder.cli import app

    bad = tmp_path / "leeg.txt"
    bad.write_bytes(b"")
    result = CliRunner().invoke(app, ["ingest", str(bad), "--index-dir", str(tmp_path / "idx"), "-q"])
    assert result.exit_code == 2
    assert "skipped: 1" in result.stdout and "leeg.txt" in result.stdout


def test_report_summary_format() -> None:
    r = IngestReport(documents=2, processed=1, unchanged=1, passages=5, quotes=2, tables=1,
                     embedded=4, skipped=[("x.xlsx", "unsupported")], seconds=1.25)
    assert r.summary().splitlines() == [
        "documents: 2 in index (1 ingested, 1 unchanged, 0 removed)",
        "units: 5 passages, 2 quotes, 1 tables",
        "embedded: 4 new or changed units",
        "skipped: 1",
        "  - x.xlsx: unsupported",
        "seconds: 1.2",
    ]
