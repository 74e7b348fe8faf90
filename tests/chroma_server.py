"""Start a real Chroma server (`chroma run`, shipped with chromadb) on 127.0.0.1 for tests.

``make test`` runs the index and search flows against it as well as against the embedded
client. Without the ``chroma`` binary the tests skip locally and fail in CI (env ``CI`` set).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_binary() -> str:
    """The `chroma` CLI next to this interpreter, else on PATH; skip (or fail in CI) without it."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.is_file() else shutil.which("chroma")
    if found:
        return found
    message = ("the `chroma` CLI (shipped with chromadb) is not installed, so the Chroma server "
               "tests cannot run: pip install 'chromadb>=1.0,<2'")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def running_chroma(path: Path, startup_s: float = 60.0) -> Iterator[ChromaServer]:
    """`chroma run` on a free port with data under ``path``; stopped (and waited for) on exit."""
    port = free_port()
    log_path = path.parent / f"{path.name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [chroma_binary(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        _wait_for_heartbeat(proc, port, startup_s, log_path)
        yield ChromaServer("127.0.0.1", port, proc)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_for_heartbeat(proc: subprocess.Popen[bytes], port: int, startup_s: float, log: Path) -> None:
    deadline = time.monotonic() + startup_s
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`chroma run` exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"`chroma run` gave no heartbeat in {startup_s:.0f}s:\n{log.read_text()[-2000:]}")
