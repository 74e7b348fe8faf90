"""A local OpenAI-compatible (and Ollama-compatible) chat server for tests, on 127.0.0.1.

It streams like the real APIs: ``/v1/chat/completions`` with ``stream: true`` answers with
server-sent events of ``chat.completion.chunk`` objects and ``data: [DONE]``; ``/api/chat``
answers with Ollama's NDJSON lines. What it says is set per test:

- ``reply``: the text to stream, or ``responder(request_json) -> str`` to compute it;
- ``behaviour``: ``"ok"``, ``"malformed"`` (broken JSON in the stream), ``"stall"`` (headers
  and one chunk, then silence), ``"http_error"``
  (``status`` with a body that echoes the Authorization header, as careless servers do),
  ``"garbage"`` (a 200 reply that is not SSE at all).

Only what a real server does not produce on demand belongs here (a slow reply, garbage
and endless output come from a real llama.cpp server in tests/test_llm_real_server.py).
Every request is recorded in ``requests`` (path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLLM:
    def __init__(self) -> None:
        self.reply = "OK [1]"
        self.responder: Callable[[dict[str, Any]], str] | None = None
        self.behaviour = "ok"
        self.status = 500
        self.delay_s = 0.0
        self.requests: list[dict[str, Any]] = []
        self.chunk_words = 3
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def ollama_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def text_for(self, body: dict[str, Any]) -> str:
        return self.responder(body) if self.responder else self.reply

    def pieces(self, text: str) -> list[str]:
        words = text.split(" ")
        n = max(self.chunk_words, 1)
        return [" ".join(words[i:i + n]) + (" " if i + n < len(words) else "")
                for i in range(0, len(words), n)] or [""]

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                try:
                    fake.handle(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ replies
    def handle(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if self.behaviour == "http_error":
            auth = h.headers.get("Authorization", "")
            payload = json.dumps({"error": {"message": f"denied for {auth}", "type": "invalid_request_error",
                                            "code": self.status}}).encode()
            self._send(h, self.status, "application/json", payload)
            return
        if self.behaviour == "garbage":
            self._send(h, 200, "text/html", b"<html>Bad gateway, try later</html>")
            return
        if h.path.startswith("/api/show"):
            self._send(h, 200, "application/json", json.dumps(_OLLAMA_SHOW).encode())
            return
        text = self.text_for(body)
        ollama = h.path.startswith("/api/")
        if not body.get("stream"):
            self._send(h, 200, "application/json", json.dumps(
                _ollama_final(body, text) if ollama else _completion(body, text)).encode())
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        for i, piece in enumerate(self.pieces(text)):
            if self.behaviour == "malformed" and i == 1:
                h.wfile.write(b'data: {"id": "chatcmpl-x", "choices": [{"delta": {"content": "broken\n\n')
                h.wfile.flush()
                break
            line = json.dumps(_ollama_chunk(body, piece)) + "\n" if ollama else \
                f"data: {json.dumps(_chunk(body, piece))}\n\n"
            h.wfile.write(line.encode())
            h.wfile.flush()
            if self.behaviour == "stall":
                time.sleep(self.delay_s)
                return
        if self.behaviour == "malformed":
            return
        if ollama:
            h.wfile.write((json.dumps(_ollama_final(body, "")) + "\n").encode())
        else:
            h.wfile.write(f"data: {json.dumps(_chunk(body, None, finish='stop'))}\n\n".encode())
            h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
        h.close_connection = True

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, ctype: str, payload: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(payload)
        h.wfile.flush()
        h.close_connection = True

    # ------------------------------------------------------------------ helpers for tests
    def messages(self, i: int = -1) -> list[dict[str, Any]]:
        return list(self.requests[i]["body"].get("messages", []))

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith(("/chat/completions", "/api/chat"))]


_OLLAMA_SHOW = {
    "modelfile": "", "parameters": "", "template": "{{ .Prompt }}",
    "details": {"format": "gguf", "family": "llama", "parameter_size": "1B", "quantization_level": "Q4_0"},
    "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
    "capabilities": ["completion"],
}


def _chunk(body: dict[str, Any], piece: str | None, finish: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {} if piece is None else {"role": "assistant", "content": piece}
    return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1700000000,
            "model": body.get("model", "test"),
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000,
            "model": body.get("model", "test"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _ollama_chunk(body: dict[str, Any], piece: str) -> dict[str, Any]:
    return {"model": body.get("model", "test"), "created_at": "2024-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": piece}, "done": False}


def _ollama_final(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {"model": body.get("model", "test"), "created_at": "2024-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text}, "done": True, "done_reason": "stop",
            "total_duration": 1, "load_duration": 1, "prompt_eval_count": 1, "prompt_eval_duration": 1,
            "eval_count": 1, "eval_duration": 1}


@contextmanager
def running() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    try:
        yield fake
    finally:
        fake.stop()
