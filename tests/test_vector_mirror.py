"""The NumPy mirror of the dense vectors (index/mirror.py): written by ingest, equal to
Chroma, never used when stale, and searched with the same results and filters as Chroma."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evidence_finder.index.build import DENSE_PENDING, ingest, remove_document
from evidence_finder.index.mirror import MIRROR_FILE, VectorMirror, mirror_header
from evidence_finder.index.store import IndexIdentity, IndexStore
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import Settings
from helpers.index_state import assert_consistent, index_state, make_generated_corpus

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = ["Welke drempels zijn er bij een KA2-aanvraag?", "stage buitenland", "daily allowance too low",
             "wat leren leraren van job shadowing", "eTwinning voorbereiding"]


def _mirror(settings: Settings) -> Path:
    return settings.resolved_index_dir / MIRROR_FILE


def _chroma_vectors(settings: Settings, embedder_id: str) -> dict[str, np.ndarray]:
    store = IndexStore(settings.resolved_index_dir, IndexIdentity.from_settings(settings, embedder_id),
                       create=False)
    try:
        got = store.collection.get(include=["embeddings"])
        return dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
    finally:
        store.close()


WORDS = [
    "school", "leraar", "student", "stage", "buitenland", "aanvraag", "subsidie", "partner",
    "project", "netwerk", "taal", "cursus", "mobiliteit", "uitwisseling", "begeleiding", "directie",
    "budget", "tijd", "administratie", "ervaring", "collega", "klas", "onderwijs", "kwaliteit",
    "beleid", "regio", "europa", "vaardigheid", "motivatie", "drempel", "succes",
]


@pytest.fixture
def bigger_index(settings: Settings, tmp_path: Path, hash_embedder: Any) -> Settings:
    """The fixture corpus plus generated reports of seeded random words: ~80 windows, so the
    nearest 4 n windows are a real cut as on the real corpus, and (unlike templated text)
    no two units score exactly alike."""
    corpus = make_generated_corpus(tmp_path / "generated", reports=0, sections=0, sentences=0)
    rng = random.Random(15)
    for n in range(5):
        paras = []
        for k in range(6):
            paras.append(f"{k + 1}. {rng.choice(WORDS).capitalize()} en {rng.choice(WORDS)}")
            paras.append(" ".join(" ".join(rng.choices(WORDS, k=12)).capitalize() + "." for _ in range(4)))
            paras.append(f"“{' '.join(rng.choices(WORDS, k=10)).capitalize()}.”")
        (corpus / f"rapport_{n}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    ingest([corpus], settings, embedder=hash_embedder)
    return settings


def _ranked(searcher: Searcher, filters: Filters | None = None, mode: str = "hybrid") -> list[list[tuple[str, float]]]:
    return [[(h.passage.id, h.score) for h in searcher.search(q, k=8, filters=filters, mode=mode).hits]
            for q in QUESTIONS]


def _tiers(ranking: list[tuple[Any, float]]) -> list[tuple[frozenset[Any], float]]:
    """A ranking as tiers of equal scores (to float32 rounding: NumPy's dot product and
    Chroma's distance round differently in the last bits), without the last tier, which the
    cut at k may split. The generated reports tie exactly (templated text, hashed n-grams);
    the order within a tie is the store's own."""
    tiers: list[tuple[set[Any], float]] = []
    for item, score in ranking:
        if tiers and abs(tiers[-1][1] - score) < 1e-5:
            tiers[-1][0].add(item)
        else:
            tiers.append(({item}, score))
    return [(frozenset(items), round(score, 4)) for items, score in tiers[:-1]]


def _same(a: list[list[tuple[Any, float]]], b: list[list[tuple[Any, float]]]) -> bool:
    return [_tiers(r) for r in a] == [_tiers(r) for r in b]


def test_nearest_is_exact_cosine_with_ties_in_stored_order() -> None:
    v = np.array([[1, 0], [0.6, 0.8], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
    mirror = VectorMirror(vectors=v, rows=np.array([0, 1, 2, 3, -1]))
    idx, sims = mirror.nearest(np.array([2.0, 0.0]), 3)  # the query need not be unit length
    assert idx.tolist() == [0, 2, 4] and np.allclose(sims, 1.0)  # equal vectors (repeated text): stored order
    idx, _ = mirror.nearest(np.array([0.0, 1.0]), 10, allowed=np.array([True, True, False, True]))
    assert idx.tolist() == [3, 1, 0]  # row 2 not allowed; a vector without a passage row never
    assert mirror.nearest(np.array([1.0, 0.0]), 0)[0].size == 0
    many = VectorMirror(vectors=np.array([[1, 0] if i % 3 else [0.6, 0.8] for i in range(60)], dtype=np.float32),
                        rows=np.arange(60))
    idx, _ = many.nearest(np.array([1.0, 0.0]), 20)  # a partial sort leaves ties in any order
    assert idx.tolist() == [i for i in range(60) if i % 3][:20]


def test_ingest_writes_a_mirror_equal_to_chromas_vectors(built_index: Settings, hash_embedder: Any) -> None:
    with np.load(_mirror(built_index)) as z:
        header = json.loads(str(z["header"]))
        mirror = dict(zip(z["ids"].tolist(), z["vectors"]))
        owners = dict(zip(z["ids"].tolist(), z["passage_ids"].tolist()))
    chroma = _chroma_vectors(built_index, hash_embedder.id)
    assert mirror.keys() == chroma.keys() and len(chroma) == 7  # 6 units, one of them in 2 windows
    assert all(np.array_equal(mirror[k], chroma[k]) for k in chroma)
    assert all(owners[k] == k.split("#")[0] for k in owners)
    identity = IndexIdentity.from_settings(built_index, hash_embedder.id)
    assert header["collection"] == identity.collection and header["count"] == len(chroma)
    assert index_state(built_index)["mirror"] == "matches"


def test_searches_with_the_mirror_equal_searches_with_chroma(bigger_index: Settings, hash_embedder: Any) -> None:
    with_mirror = Searcher(bigger_index, embedder=hash_embedder)
    snap = with_mirror.snapshot()
    assert snap.mirror is not None and snap.collection is None
    assert snap.vector_count == len(_chroma_vectors(bigger_index, hash_embedder.id)) > 60
    results = {mode: _ranked(with_mirror, mode=mode) for mode in ("hybrid", "dense")}

    _mirror(bigger_index).unlink()  # the fallback: Chroma, as before the mirror
    with_chroma = Searcher(bigger_index, embedder=hash_embedder)
    assert with_chroma.snapshot().mirror is None and with_chroma.snapshot().collection is not None
    for mode, got in results.items():
        assert _same(got, _ranked(with_chroma, mode=mode)), mode
    assert all(len(r) == 8 for r in results["dense"])


@pytest.mark.parametrize("filters", [
    Filters(docs=["rapport_pabo.txt", "rapport_2.txt"]), Filters(kinds=["quote"]), Filters(types=["factsheet"]),
    Filters(years=[2020]), Filters(sectors=["MBO"]), Filters(kinds=["passage"], years=[2021, 2023]),
    Filters(regions=["Flanders"]), Filters(sectors=["teacher training"], kinds=["quote"]),
    Filters(speakers=["coördinator"]), Filters(groups=["students"]),
], ids=lambda f: f.describe())
def test_filters_with_the_mirror_match_chroma(bigger_index: Settings, hash_embedder: Any, filters: Filters) -> None:
    with_mirror = Searcher(bigger_index, embedder=hash_embedder)
    snap = with_mirror.snapshot()
    assert snap.mirror is not None
    rows, sims = snap.query_vectors(hash_embedder.embed_query("stage buitenland"), 5, filters)
    assert rows and all(snap.allows(i, filters) for i in rows)
    got = {mode: _ranked(with_mirror, filters, mode) for mode in ("hybrid", "dense")}
    shutil.move(_mirror(bigger_index), _mirror(bigger_index).with_suffix(".aside"))
    with_chroma = Searcher(bigger_index, embedder=hash_embedder)
    assert with_chroma.snapshot().mirror is None
    chroma_rows, chroma_sims = with_chroma.snapshot().query_vectors(
        hash_embedder.embed_query("stage buitenland"), 5, filters)
    assert _same([list(zip(rows, sims))], [list(zip(chroma_rows, chroma_sims))])
    for mode in got:
        assert _same(got[mode], _ranked(with_chroma, filters, mode)), mode


def test_a_mirror_for_other_passages_is_not_used(built_index: Settings, hash_embedder: Any,
                                                 corpus_copy: Path) -> None:
    old = _mirror(built_index).read_bytes()
    note = corpus_copy / "english_note.md"
    note.write_text(note.read_text(encoding="utf-8") + "\n\nA new paragraph on virtual exchanges.\n",
                    encoding="utf-8")
    ingest([corpus_copy], built_index, embedder=hash_embedder)
    assert _mirror(built_index).read_bytes() != old  # rewritten for the new passages
    _mirror(built_index).write_bytes(old)  # as if a crash had left the old one
    searcher = Searcher(built_index, embedder=hash_embedder)
    assert searcher.snapshot().mirror is None and searcher.snapshot().collection is not None
    assert any("virtual exchanges" in h.passage.text
               for h in searcher.search("virtual exchanges", k=3, mode="dense").hits)
    ingest([corpus_copy], built_index, embedder=hash_embedder)  # nothing to embed: the mirror is renewed
    assert Searcher(built_index, embedder=hash_embedder).snapshot().mirror is not None


def test_no_mirror_is_used_while_the_dense_index_is_pending(built_index: Settings, hash_embedder: Any) -> None:
    (built_index.resolved_index_dir / DENSE_PENDING).touch()
    assert Searcher(built_index, embedder=hash_embedder).snapshot().mirror is None


def test_no_mirror_is_used_when_chromas_files_are_gone(built_index: Settings, hash_embedder: Any) -> None:
    import shutil

    assert Searcher(built_index, embedder=hash_embedder).snapshot().mirror is not None
    shutil.rmtree(built_index.resolved_index_dir / "chroma")  # deleted by hand: the vectors are lost
    from evidence_finder.index.snapshot import IndexReader
    from evidence_finder.index.store import IndexIdentity

    identity = IndexIdentity.from_settings(built_index, hash_embedder.id)
    reader = IndexReader(built_index.resolved_index_dir, identity, built_index.chroma)
    passages = reader.store.passages()
    assert reader._mirror(passages, {p.id: i for i, p in enumerate(passages)}) is None


def test_the_text_only_pass_writes_no_mirror_and_the_dense_pass_does(
        settings: Settings, corpus_copy: Path, hash_embedder: Any) -> None:
    ingest([corpus_copy], settings, embedder=hash_embedder, embed=False)
    assert (settings.resolved_index_dir / DENSE_PENDING).exists() and not _mirror(settings).exists()
    ingest([corpus_copy], settings, embedder=hash_embedder)
    assert not (settings.resolved_index_dir / DENSE_PENDING).exists()
    assert index_state(settings)["mirror"] == "matches"


@pytest.mark.parametrize("write", ["upsert", "delete"])
def test_the_mirror_goes_before_vectors_change(built_index: Settings, hash_embedder: Any, corpus_copy: Path,
                                               monkeypatch: pytest.MonkeyPatch, write: str) -> None:
    """A crash while vectors change (new ones written, old ones deleted) leaves no mirror,
    never a stale one that looks valid."""
    from chromadb.api.models.Collection import Collection

    seen: list[bool] = []

    def killed(self: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(_mirror(built_index).exists())
        raise RuntimeError("killed while writing vectors")

    monkeypatch.setattr(Collection, write, killed)
    if write == "upsert":
        (corpus_copy / "factsheet_mbo.txt").write_text("Een nieuwe factsheet over mobiliteit in het mbo.\n",
                                                       encoding="utf-8")
    else:
        (corpus_copy / "english_note.md").unlink()
    assert _mirror(built_index).exists()
    with pytest.raises(RuntimeError, match="killed"):
        ingest([corpus_copy], built_index, embedder=hash_embedder)
    assert seen == [False] and not _mirror(built_index).exists()
    monkeypatch.undo()
    assert Searcher(built_index, embedder=hash_embedder).snapshot().mirror is None
    ingest([corpus_copy], built_index, embedder=hash_embedder)  # the next run completes it
    assert index_state(built_index)["mirror"] == "matches"


def test_removing_a_document_rewrites_the_mirror(built_index: Settings, hash_embedder: Any) -> None:
    searcher = Searcher(built_index, embedder=hash_embedder)
    remove_document(searcher.store, "english_note.md", built_index)
    state = index_state(built_index)
    assert_consistent(state)
    assert state["mirror"] == "matches"
    searcher.reload()
    assert searcher.snapshot().mirror is not None
    assert not any(h.passage.doc_id == "english_note.md"
                   for h in searcher.search("daily allowance too low", k=8, mode="dense").hits)


def test_the_mirror_header_names_the_collection(built_index: Settings, hash_embedder: Any) -> None:
    header = mirror_header(built_index.resolved_index_dir)
    assert header is not None
    # a mirror of another collection (other embedder or chunker) is not used
    with np.load(_mirror(built_index)) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["header"] = np.array(json.dumps({**header, "collection": "ef_0000000000000000"}))
    np.savez(_mirror(built_index), **arrays)
    assert Searcher(built_index, embedder=hash_embedder).snapshot().mirror is None


def test_the_vector_mirror_setting_turns_it_off(built_index: Settings, hash_embedder: Any) -> None:
    off = built_index.model_copy(update={"index": built_index.index.model_copy(update={"vector_mirror": False})})
    snap = Searcher(off, embedder=hash_embedder).snapshot()
    assert snap.mirror is None and snap.collection is not None


ONE_SHOT = textwrap.dedent("""
    import sys
    sys.path[:0] = [{tests!r}]
    from helpers.fakes import HashEmbedder
    import evidence_finder.retrieval.search as search
    search.make_embedder = lambda settings: HashEmbedder()
    from evidence_finder import cli
    sys.argv = ["evidence", "search", "Welke drempels zijn er bij een KA2-aanvraag?", "--format", "jsonl"]
    try:
        cli.main()
    except SystemExit as exc:
        assert not exc.code, exc.code
    print("CHROMADB_IMPORTED" if any(m.split(".")[0] == "chromadb" for m in sys.modules) else "NO_CHROMADB")
""")


def _one_shot(settings: Settings) -> list[str]:
    env = {**os.environ, "EVIDENCE_DATA_DIR": str(settings.data_dir),
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", ONE_SHOT.format(tests=str(REPO / "tests"))], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()


def test_a_one_shot_search_does_not_import_chromadb(built_index: Settings, hash_embedder: Any) -> None:
    lines = _one_shot(built_index)
    assert json.loads(lines[0])["results"][0]["doc"] == "rapport_pabo.txt"
    assert lines[-1] == "NO_CHROMADB"
    _mirror(built_index).unlink()  # the check can fail: without the mirror Chroma is opened
    assert _one_shot(built_index)[-1] == "CHROMADB_IMPORTED"
