"""The index and search flows against a real Chroma server (`chroma run` on 127.0.0.1).

The whole difference between a laptop and a team deployment is ``settings.chroma``: these
tests ingest and search the fixture corpus with ``mode="server"`` and check that the server
holds exactly the vectors SQLite owns, that results equal the embedded client's, and that a
missing or unreachable server is a clear error. Each test gets its own Chroma database.
"""

from __future__ import annotations

import inspect
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import test_search_basic
from chroma_server import ChromaServer, free_port, running_chroma, stop
from evidence_finder.errors import BackendError, BadInputError, IndexMismatchError, NoIndexError
from evidence_finder.index.build import ingest, vector_units
from evidence_finder.index.store import IndexIdentity, IndexStore
from evidence_finder.retrieval.search import Filters, Searcher
from evidence_finder.settings import ChromaSettings, Settings

QUESTIONS = [
    ("Welke drempels zijn er bij een KA2-aanvraag?", Filters()),
    ("stage buitenland", Filters(kinds=["quote"])),
    ("stage buitenland", Filters(sectors=["MBO"])),
    ("teacher mobility in Flanders", Filters(years=[2020])),
]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with running_chroma(tmp_path_factory.mktemp("chroma") / "db") as server:
        yield server


def on_server(settings: Settings, server: ChromaServer, database: str | None = None) -> Settings:
    chroma = ChromaSettings(mode="server", host=server.host, port=server.port,
                            database=database or f"test_{uuid.uuid4().hex[:12]}")
    return settings.model_copy(update={"chroma": chroma})


@pytest.fixture
def settings(settings: Settings, chroma_server: ChromaServer) -> Settings:
    """Overrides conftest's: everything in this module (``built_index`` too) uses the server."""
    return on_server(settings, chroma_server)


def server_state(settings: Settings, embedder_id: str) -> tuple[set[str], set[str], dict[str, str]]:
    """(vector ids on the server, vector ids SQLite owns, doc_id per server vector)."""
    store = IndexStore(settings.resolved_index_dir, IndexIdentity.from_settings(settings, embedder_id),
                       create=False, chroma=settings.chroma)
    try:
        got = store.collection.get(include=["metadatas"])
        owned = {vid for p in store.passages() for vid, _ in vector_units(p)}
        return set(got["ids"]), owned, {i: m["doc_id"] for i, m in zip(got["ids"], got["metadatas"])}
    finally:
        store.close()


def ranked(searcher: Searcher, mode: str = "hybrid") -> list[list[str]]:
    return [[h.passage.id for h in searcher.search(q, k=5, filters=f, mode=mode).hits] for q, f in QUESTIONS]


# The search tests of test_search_basic run here too, on the server: in this module the
# `settings` fixture above overrides conftest's, and `built_index` builds on it.
for _name, _test in list(vars(test_search_basic).items()):
    if _name.startswith("test_") and "built_index" in inspect.signature(_test).parameters:
        globals()[f"{_name}_on_the_server"] = _test


# --- the flows -------------------------------------------------------------------------------


def test_ingest_and_search_on_the_server(built_index: Settings, hash_embedder: Any) -> None:
    assert not (built_index.resolved_index_dir / "chroma").exists()  # no local vectors at all
    assert not (built_index.resolved_index_dir / "vectors.npz").exists()  # nor a NumPy mirror of them
    on_server_ids, owned, _ = server_state(built_index, hash_embedder.id)
    assert on_server_ids == owned and owned
    s = Searcher(built_index, embedder=hash_embedder)
    assert s.snapshot().mirror is None and s.snapshot().collection is not None
    top = s.search("Welke drempels zijn er bij een KA2-aanvraag?", k=3).hits[0].passage
    assert top.doc_id == "rapport_pabo.txt" and "omvangrijke administratie" in top.text
    res = s.search("stage buitenland", k=5, filters=Filters(kinds=["quote"]))
    assert res.hits and all(h.passage.kind == "quote" for h in res.hits)
    res = s.search("stage buitenland", k=5, filters=Filters(sectors=["MBO"]))
    assert {h.passage.doc_id for h in res.hits} == {"factsheet_mbo.txt"}


def test_server_and_embedded_give_the_same_results(
    built_index: Settings, corpus_copy: Path, hash_embedder: Any, tmp_path: Path
) -> None:
    embedded = built_index.model_copy(update={"chroma": ChromaSettings(), "index_dir": tmp_path / "local"})
    ingest([corpus_copy], embedded, embedder=hash_embedder)
    server, local = Searcher(built_index, embedder=hash_embedder), Searcher(embedded, embedder=hash_embedder)
    assert local.snapshot().mirror is not None  # the server's Chroma against the local NumPy mirror
    for mode in ("dense", "hybrid"):
        expected = ranked(local, mode)
        assert all(expected)  # every question finds something, so equality means something
        assert ranked(server, mode) == expected


def test_reingest_after_an_edit_embeds_only_what_changed(
    built_index: Settings, corpus_copy: Path, hash_embedder: Any
) -> None:
    assert ingest([corpus_copy], built_index, embedder=hash_embedder).embedded == 0
    path = corpus_copy / "factsheet_mbo.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nNieuw: een extra alinea over "
                    "digitale stages en virtuele uitwisseling in het mbo.\n", encoding="utf-8")
    report = ingest([corpus_copy], built_index, embedder=hash_embedder)
    assert report.processed == 1 and report.embedded > 0
    on_server_ids, owned, _ = server_state(built_index, hash_embedder.id)
    assert on_server_ids == owned
    hits = Searcher(built_index, embedder=hash_embedder).search("virtuele uitwisseling", k=3).hits
    assert "virtuele uitwisseling" in hits[0].passage.text


def test_deleting_a_file_removes_its_vectors_from_the_server(
    built_index: Settings, corpus_copy: Path, hash_embedder: Any
) -> None:
    (corpus_copy / "factsheet_mbo.txt").unlink()
    assert ingest([corpus_copy], built_index, embedder=hash_embedder).removed == 1
    on_server_ids, owned, docs = server_state(built_index, hash_embedder.id)
    assert on_server_ids == owned and "factsheet_mbo.txt" not in docs.values()
    with pytest.raises(BadInputError, match="no documents for sector 'MBO'"):  # none left
        Searcher(built_index, embedder=hash_embedder).search(
            "stage buitenland", k=5, filters=Filters(sectors=["MBO"]))


def test_store_delete_document_on_the_server(built_index: Settings, hash_embedder: Any) -> None:
    store = IndexStore(built_index.resolved_index_dir,
                       IndexIdentity.from_settings(built_index, hash_embedder.id), create=False,
                       chroma=built_index.chroma)
    try:
        assert store.vector_ids("english_note.md")
        store.delete_document("english_note.md")
        assert store.vector_ids("english_note.md") == set()
        assert "english_note.md" not in store.documents()
    finally:
        store.close()


def test_indexes_in_two_databases_and_foreign_collections_stay_apart(
    settings: Settings, corpus_copy: Path, hash_embedder: Any, chroma_server: ChromaServer, tmp_path: Path
) -> None:
    import chromadb

    ingest([corpus_copy], settings, embedder=hash_embedder)
    client = chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port,
                                 database=settings.chroma.database)
    client.create_collection("team_notes", embedding_function=None).add(ids=["n1"], embeddings=[[1.0, 0.0]])
    other = on_server(settings, chroma_server).model_copy(update={"index_dir": tmp_path / "other"})
    ingest([corpus_copy / "english_note.md"], other, embedder=hash_embedder)
    # A rebuild with other chunking drops our old collection, never someone else's.
    rechunked = settings.model_copy(update={"chunking": settings.chunking.model_copy(
        update={"max_words": 200})})
    ingest([corpus_copy], rechunked, embedder=hash_embedder)
    names = sorted(c.name for c in client.list_collections())
    ours = IndexIdentity.from_settings(rechunked, hash_embedder.id).collection
    assert names == sorted(["team_notes", ours])
    _, _, docs = server_state(other, hash_embedder.id)
    assert set(docs.values()) == {"english_note.md"}
    client.close()


def test_moving_the_vectors_between_embedded_and_server(
    settings: Settings, corpus_copy: Path, hash_embedder: Any
) -> None:
    embedded = settings.model_copy(update={"chroma": ChromaSettings()})
    first = ingest([corpus_copy], embedded, embedder=hash_embedder)
    with pytest.raises(IndexMismatchError) as err:  # vectors are local; the server has none
        Searcher(settings, embedder=hash_embedder)
    assert str(err.value) == (
        f"the index at {str(settings.resolved_index_dir)!r} keeps its vectors in the embedded Chroma "
        f"in the index directory, but the current settings look in database "
        f"{settings.chroma.database!r} (tenant 'default_tenant') of a Chroma server. Set "
        "EVIDENCE_CHROMA__MODE (and EVIDENCE_CHROMA__DATABASE) to match, or re-run `evidence ingest` "
        "with these settings."
    )
    # An ingest with the server settings moves every vector there, though no file changed.
    moved = ingest([corpus_copy], settings, embedder=hash_embedder)
    assert moved.embedded == first.embedded > 0 and moved.unchanged == 0
    on_server_ids, owned, _ = server_state(settings, hash_embedder.id)
    assert on_server_ids == owned
    with pytest.raises(IndexMismatchError, match="keeps its vectors in database"):
        Searcher(embedded, embedder=hash_embedder)


# --- errors ----------------------------------------------------------------------------------


def test_a_server_that_is_down_is_a_clear_error(built_index: Settings, hash_embedder: Any) -> None:
    port = free_port()  # nothing listens here
    down = built_index.model_copy(update={"chroma": built_index.chroma.model_copy(update={"port": port})})
    expected = (
        f"cannot use the Chroma server at http://127.0.0.1:{port}: Could not connect to a Chroma "
        f"server. Are you sure it is running? Check that it is running (`chroma run --path DIR "
        f"--host 127.0.0.1 --port {port}`) and that EVIDENCE_CHROMA__HOST, __PORT, __SSL, "
        "__AUTH_TOKEN and __TENANT are right, or set EVIDENCE_CHROMA__MODE=embedded."
    )
    with pytest.raises(BackendError) as err:
        Searcher(down, embedder=hash_embedder).search("stage buitenland")
    assert str(err.value) == expected
    with pytest.raises(BackendError) as err:
        ingest([built_index.corpus_dir], down, embedder=hash_embedder)
    assert str(err.value) == expected


def test_a_server_that_lost_the_index_is_no_index_error(
    built_index: Settings, corpus_copy: Path, hash_embedder: Any, chroma_server: ChromaServer
) -> None:
    """A fresh or wiped server behind an existing index directory: say so, and how to fix it."""
    import chromadb

    database = built_index.chroma.database
    client = chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port, database=database)
    client.delete_collection(IndexIdentity.from_settings(built_index, hash_embedder.id).collection)
    client.close()
    with pytest.raises(NoIndexError) as err:
        Searcher(built_index, embedder=hash_embedder).search("stage buitenland")
    assert str(err.value) == (
        f"the Chroma server at http://127.0.0.1:{chroma_server.port} (database {database!r}) has no "
        f"vectors for the index at {str(built_index.resolved_index_dir)!r}. Run `evidence ingest` with "
        "these settings, or point EVIDENCE_CHROMA__* at the server and database the index was built on."
    )
    admin = chromadb.AdminClient(chromadb.config.Settings(
        chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host=chroma_server.host,
        chroma_server_http_port=chroma_server.port))
    admin.delete_database(database)
    with pytest.raises(NoIndexError, match=rf"^the Chroma server at http://127.0.0.1:{chroma_server.port} "
                       rf"has no database '{database}' in tenant 'default_tenant' \("):
        Searcher(built_index, embedder=hash_embedder).search("stage buitenland")
    # An ingest recreates the database and every vector, though no file changed.
    report = ingest([corpus_copy], built_index, embedder=hash_embedder)
    assert report.embedded > 0 and report.unchanged == 0 and report.skipped == []
    on_server_ids, owned, _ = server_state(built_index, hash_embedder.id)
    assert on_server_ids == owned and owned


def test_the_token_is_sent_and_never_shown(settings: Settings, hash_embedder: Any) -> None:
    seen: list[dict[str, str]] = []

    class Unauthorised(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            seen.append(dict(self.headers))
            # A careless proxy that echoes the header it rejected.
            body = json.dumps({"detail": f"bad {self.headers.get('Authorization')}"}).encode()
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Unauthorised)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        cfg = ChromaSettings(mode="server", port=proxy.server_address[1], auth_token="s3cret-Tok")
        store = IndexStore(settings.resolved_index_dir, IndexIdentity("x", {}, True), create=True, chroma=cfg)
        with pytest.raises(BackendError) as err:
            _ = store.collection
        store.close()
    finally:
        proxy.shutdown()
    assert seen and seen[0]["Authorization"] == "Bearer s3cret-Tok"
    assert "s3cret" not in str(err.value) and "bad Bearer ***" in str(err.value)


def test_losing_the_server_mid_session_is_a_clear_error(
    settings: Settings, corpus_copy: Path, hash_embedder: Any, tmp_path: Path
) -> None:
    with running_chroma(tmp_path / "short_lived") as server:
        here = on_server(settings, server)
        ingest([corpus_copy], here, embedder=hash_embedder)
        searcher = Searcher(here, embedder=hash_embedder)
        assert searcher.search("stage buitenland", mode="dense").hits
        stop(server.process)
        lost = rf"^lost the Chroma server at http://127.0.0.1:{server.port}: "
        with pytest.raises(BackendError, match=lost):
            searcher.search("een andere vraag", mode="dense")


def test_without_the_chroma_cli_ci_fails_and_a_laptop_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chroma_server

    monkeypatch.setattr(chroma_server.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"the `chroma` CLI .* is not installed"):
        chroma_server.chroma_binary()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"pip install 'chromadb>=1.0,<2'"):
        chroma_server.chroma_binary()
