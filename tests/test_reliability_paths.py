"""One bad path never stops an ingest; an index that cannot be written fails with one message (#17.4).

Permission cases need a process that file permissions apply to. Tests run as root here, so
those run in a child without CAP_DAC_OVERRIDE (``capsh --drop``); as another user they run
directly.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evidence_finder.errors import IndexWriteError
from evidence_finder.index.build import ingest
from evidence_finder.index.store import IndexStore
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import Settings

REPO = Path(__file__).resolve().parents[1]
FIXTURE_CORPUS = REPO / "tests" / "data" / "corpus"
GOOD = "Goed verslag\n\nDocenten leren veel van een uitwisseling met scholen in Finland.\n"
_DROP = "cap_dac_override,cap_dac_read_search"


def _unprivileged(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python child to which file permissions apply."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(REPO / 'src')!r}, {str(REPO / 'tests')!r}]
    """) + textwrap.dedent(code), encoding="utf-8")
    cmd = [sys.executable, str(script)]
    if os.geteuid() == 0:
        capsh = shutil.which("capsh")
        if capsh is None:
            reason = "running as root without capsh (libcap2-bin): cannot drop the permission override"
            if os.environ.get("CI"):
                pytest.fail(reason)  # in CI these tests must run, never pass by skipping
            pytest.skip(reason)
        cmd = [capsh, f"--drop={_DROP}", "--", "-c", shlex.join(cmd)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)


def _folder(tmp_path: Path) -> Path:
    corpus = tmp_path / "map"
    corpus.mkdir()
    (corpus / "goed.txt").write_text(GOOD, encoding="utf-8")
    return corpus


def test_symlink_loop_and_undecodable_name_are_skipped_rest_ingested(
        tmp_path: Path, settings: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = _folder(tmp_path)
    os.symlink("lus_b.txt", corpus / "lus_a.txt")
    os.symlink("lus_a.txt", corpus / "lus_b.txt")
    bad = os.fsencode(str(corpus)) + b"/verslag \xe9t\xe9.txt"
    with open(bad, "wb") as fh:
        fh.write(GOOD.replace("Finland", "Zweden").encode())
    report = ingest([corpus], settings, embedder=hash_embedder)
    assert report.documents == 1 and report.processed == 1
    reasons = dict(report.skipped)
    assert reasons[str(corpus / "lus_a.txt")] == "is a symbolic link loop"
    assert reasons[str(corpus / "lus_b.txt")] == "is a symbolic link loop"
    shown = str(corpus) + "/verslag \\xe9t\\xe9.txt"
    assert reasons[shown].startswith("its name is not valid UTF-8 (b'verslag \\xe9t\\xe9.txt'); rename")
    report.summary().encode("utf-8")  # printable: no lone surrogates reach the terminal


def test_links_out_of_the_folder_are_not_followed_unless_asked(
        tmp_path: Path, settings: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = _folder(tmp_path)
    outside = tmp_path / "geheim.txt"
    outside.write_text("Geheim\n\nDit wachtwoordbestand hoort niet in de index te komen.\n", encoding="utf-8")
    os.symlink(outside, corpus / "passwd.txt")
    os.symlink(corpus / "goed.txt", corpus / "intern.txt")  # inside the folder: same file, once
    report = ingest([corpus], settings, embedder=hash_embedder)
    assert report.documents == 1
    assert dict(report.skipped)[str(corpus / "passwd.txt")] == (
        f"is a link to {str(outside)!r}, outside the folder being ingested; not followed "
        "(pass --follow-links to include such files)")
    assert ingest([corpus], settings, embedder=hash_embedder, follow_links=True).documents == 2


def test_unreadable_file_is_reported_rest_ingested(tmp_path: Path) -> None:
    corpus = _folder(tmp_path)
    locked = corpus / "dicht.txt"
    locked.write_text(GOOD.replace("Finland", "Noorwegen"), encoding="utf-8")
    locked.chmod(0)
    out = _unprivileged(f"""
        from pathlib import Path
        from helpers.fakes import HashEmbedder
        from evidence_finder.settings import Settings
        from evidence_finder.index.build import ingest
        s = Settings(data_dir=Path({str(tmp_path / 'data')!r}), corpus_dir=Path({str(corpus)!r}))
        print(ingest([Path({str(corpus)!r})], s, embedder=HashEmbedder()).summary())
    """, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "documents: 1 in index (1 ingested" in out.stdout
    assert f"  - {locked}: {str(locked)!r} cannot be read: Permission denied. Check its permissions." \
        in out.stdout


@pytest.fixture(params=["mirror", "chroma"])
def read_only_index(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings,  # type: ignore[no-untyped-def]
                    hash_embedder) -> Path:
    """Searched through the NumPy mirror of the vectors, or (without one) through Chroma."""
    ingest([FIXTURE_CORPUS], settings, embedder=hash_embedder)
    index = settings.resolved_index_dir
    if request.param == "chroma":
        (index / "vectors.npz").unlink()
    for dirpath, _, filenames in os.walk(index):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o444)
        os.chmod(dirpath, 0o555)
    yield index
    for dirpath, _, _ in os.walk(index):
        os.chmod(dirpath, 0o755)


def test_read_only_index_is_searchable_and_ingest_says_so(
        read_only_index: Path, tmp_path: Path) -> None:
    new = tmp_path / "nieuw"
    new.mkdir()
    (new / "nieuw.txt").write_text(GOOD, encoding="utf-8")
    before = sorted(p.name + str(p.stat().st_mtime_ns) for p in read_only_index.rglob("*"))
    out = _unprivileged(f"""
        from pathlib import Path
        from helpers.fakes import HashEmbedder
        from evidence_finder.errors import EvidenceError
        from evidence_finder.settings import Settings
        from evidence_finder.index.build import ingest
        from evidence_finder.retrieval.search import Searcher
        s = Settings(data_dir=Path({str(read_only_index.parent)!r}), corpus_dir=Path({str(new)!r}))
        searcher = Searcher(s, embedder=HashEmbedder())
        hits = searcher.search("stage in Finland").hits
        print("HITS", len(hits), hits[0].passage.doc_id)
        print("SNAPSHOT", searcher.store._snapshot)  # the private copy of chroma/
        try:
            ingest([Path({str(new)!r})], s, embedder=HashEmbedder())
        except EvidenceError as exc:
            print("ERROR", exc)
    """, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HITS" in out.stdout and "Traceback" not in out.stderr
    assert (f"ERROR cannot write the index at {str(read_only_index)!r}: it is read-only or not "
            "writable by this user") in out.stdout
    assert sorted(p.name + str(p.stat().st_mtime_ns) for p in read_only_index.rglob("*")) == before
    snapshot = out.stdout.split("SNAPSHOT ", 1)[1].split()[0]
    if (read_only_index / "vectors.npz").exists():
        assert snapshot == "None"  # the mirror is read as it is: Chroma is not opened, nor copied
    else:
        assert Path(snapshot).name.startswith("evidence-ro-index-") and not Path(snapshot).exists()  # removed at exit


def test_disk_full_during_ingest_gives_one_message_and_keeps_the_index(
        tmp_path: Path, settings: Settings, corpus_copy: Path, hash_embedder,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder)
    (corpus_copy / "nieuw.txt").write_text(GOOD, encoding="utf-8")

    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(IndexStore, "replace_document", full)
    with pytest.raises(IndexWriteError) as err:
        ingest([corpus_copy], settings, embedder=hash_embedder)
    assert str(err.value).startswith(
        f"cannot write the index at {str(settings.resolved_index_dir)!r}: the disk is full (")
    monkeypatch.undo()
    searcher = Searcher(settings, embedder=hash_embedder)
    assert sorted(searcher.store.documents()) == ["english_note.md", "factsheet_mbo.txt", "rapport_pabo.txt"]


def test_newline_in_a_file_name_cannot_forge_summary_lines(
        tmp_path: Path, settings: Settings, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = _folder(tmp_path)
    (corpus / "x.txt\nskipped: 0\n  - alles.txt: goed.txt").write_text("", encoding="utf-8")
    summary = ingest([corpus], settings, embedder=hash_embedder).summary()
    lines = summary.splitlines()
    assert lines[3] == "skipped: 1" and len(lines) == 6
    assert lines[4].startswith("  - " + str(corpus) + "/x.txt\\nskipped: 0\\n  - alles.txt: goed.txt: ")
