"""Upload metadata is validated and written atomically; a failed upload leaves nothing behind (#17.2)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from evidence_finder.errors import BadInputError, EvidenceError
from evidence_finder.index.build import index_lock
from evidence_finder.ingest.manifest import update_manifest
from evidence_finder.settings import Settings
from evidence_finder.ui.backend import Backend

SAIL = "Zeilreis\n\nLeerlingen voeren met een zeilschip naar Texel en leerden samenwerken aan boord.\n"
ROW = "Roeien\n\nStudenten roeiden op de Amstel met leeftijdgenoten uit Gent en Brugge.\n"


def _uploads(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


@pytest.fixture
def with_upload(built_index: Settings, hash_embedder, tmp_path: Path) -> Backend:  # type: ignore[no-untyped-def]
    backend = Backend(built_index, embedder=hash_embedder)
    src = tmp_path / "zeil.txt"
    src.write_text(SAIL, encoding="utf-8")
    assert backend.upload([str(src)], title="Zeilen", year=2023).added == ["zeil.txt"]
    return backend


@pytest.mark.parametrize(("title", "message"), [
    ("Titel \ud800", "the title 'Titel \\ud800' contains a lone surrogate (U+D800) at position 7, "
                     "which is not text; remove it and try again"),
    ("Titel\x7f", "the title 'Titel\\x7f' contains a control character (U+007F) at position 6; "
                  "remove it and try again"),
])
def test_bad_title_is_refused_and_touches_nothing(with_upload: Backend, built_index: Settings,
                                                 tmp_path: Path, title: str, message: str) -> None:
    manifest = _uploads(built_index) / "manifest.toml"
    before = manifest.read_bytes()
    src = tmp_path / "roei.txt"
    src.write_text(ROW, encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        with_upload.upload([str(src)], title=title)
    assert str(err.value) == message
    assert manifest.read_bytes() == before
    assert sorted(p.name for p in _uploads(built_index).iterdir()) == ["manifest.toml", "zeil.txt"]


def test_a_damaged_entry_never_touches_the_others(with_upload: Backend, built_index: Settings,
                                                  tmp_path: Path) -> None:
    manifest = _uploads(built_index) / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + '\n["kapot.txt"]\ntitle = "open\n',
                        encoding="utf-8")
    src = tmp_path / "roei.txt"
    src.write_text(ROW, encoding="utf-8")
    assert with_upload.upload([str(src)], title="Roeien").added == ["roei.txt"]
    entries = tomllib.loads(manifest.read_text(encoding="utf-8"))
    assert entries["zeil.txt"]["title"] == "Zeilen" and entries["zeil.txt"]["year"] == 2023
    assert entries["roei.txt"]["title"] == "Roeien"
    assert '["kapot.txt"]' in (manifest.parent / "manifest.toml.damaged").read_text(encoding="utf-8")


def test_upload_during_another_ingest_is_refused_and_not_left(with_upload: Backend, built_index: Settings,
                                                              tmp_path: Path) -> None:
    manifest = _uploads(built_index) / "manifest.toml"
    before = manifest.read_bytes()
    src = tmp_path / "roei.txt"
    src.write_text(ROW, encoding="utf-8")
    with index_lock(built_index.resolved_index_dir), pytest.raises(EvidenceError, match="another ingest"):
        with_upload.upload([str(src)], title="Roeien")
    assert manifest.read_bytes() == before
    assert not (_uploads(built_index) / "roei.txt").exists()


def test_a_failed_upload_leaves_no_manifest_entry(with_upload: Backend, built_index: Settings,
                                                  tmp_path: Path) -> None:
    empty = tmp_path / "leeg.txt"
    empty.write_text("  \n", encoding="utf-8")
    result = with_upload.upload([str(empty)], title="Leeg")
    assert result.added == [] and [n for n, _ in result.skipped] == ["leeg.txt"]
    entries = tomllib.loads((_uploads(built_index) / "manifest.toml").read_text(encoding="utf-8"))
    assert sorted(entries) == ["zeil.txt"]


def test_manifest_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tmp_path / "manifest.toml"
    update_manifest(manifest, {"a.txt": {"title": "A"}}, "test")
    before = manifest.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        update_manifest(manifest, {"b.txt": {"title": "B"}}, "test")
    assert manifest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.toml"]
