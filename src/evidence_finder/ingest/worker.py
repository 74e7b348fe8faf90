"""Parse documents in a worker process with hard memory and time limits.

The file-size limit does not bound what parsing costs: a 0.9 MB PDF whose content stream
inflates to 300 MB took an ingest past 10 GB, and the web server from 0.9 to 8.2 GB while
other users waited. So :func:`load_limited` hands the file to a long-lived worker process
(a fresh ``python -m evidence_finder.ingest.worker``: never a fork of a process holding
models and threads, and no re-import of the caller's main script) whose address space is capped with ``RLIMIT_AS``; the parent waits at most ``max_seconds``. Over
either limit, the worker is killed (and replaced for the next document) and the document is
refused with a :class:`ParseLimitError` naming the file and the limit. Page and character
limits are checked inside the loaders (``load_source``).
"""

from __future__ import annotations

import atexit
import os
import resource
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from evidence_finder import errors
from evidence_finder.errors import BackendError, BadInputError, ParseLimitError
from evidence_finder.ingest.load import load_source
from evidence_finder.settings import ParseSettings
from evidence_finder.types import SourceText


def _serve(conn: Any, memory_mb: int) -> None:
    """The worker's loop: one (path, max_bytes, limits) request in, one result out."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if request is None:
            return
        path, max_bytes, limits = request
        result: tuple[Any, ...]
        try:
            result = ("ok", load_source(Path(path), max_bytes, ParseSettings(**limits)))
        except BadInputError as exc:
            result = ("bad", type(exc).__name__, str(exc))
        except MemoryError:
            result = ("memory",)
        except Exception as exc:  # a parser bug is the document's problem, not the ingest's
            result = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except MemoryError:
            conn.send(("memory",))


STARTUP_SECONDS = 60.0  # a cold interpreter on a busy 2-core machine


class _Duplex:
    """Two one-way pipe connections used as one."""

    def __init__(self, reader: Connection, writer: Connection) -> None:
        self.reader, self.writer = reader, writer

    def send(self, obj: Any) -> None:
        self.writer.send(obj)

    def recv(self) -> Any:
        return self.reader.recv()

    def poll(self, timeout: float) -> bool:
        return self.reader.poll(timeout)

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


class ParseWorker:
    """One worker process, restarted after it is killed; one document at a time."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._proc is None or self._proc.poll() is not None or self._conn is None:
            self.stop()
            to_child_r, to_child_w = os.pipe()
            from_child_r, from_child_w = os.pipe()
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "evidence_finder.ingest.worker", str(to_child_r),
                 str(from_child_w), str(self.memory_mb)],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, env=env,
            )
            os.close(to_child_r)
            os.close(from_child_w)
            self._conn = _Duplex(Connection(from_child_r, writable=False),
                                 Connection(to_child_w, readable=False))  # type: ignore[assignment]
            self._await_ready()
        return self._conn  # type: ignore[return-value]

    def _await_ready(self) -> None:
        """The worker says 'ready' once it runs; one that dies first (a broken installation,
        an import error) is the system's fault, never reported as the document's."""
        assert self._conn is not None
        try:
            ready = self._conn.poll(STARTUP_SECONDS) and self._conn.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = self._proc.poll() if self._proc is not None else None
            self.stop()
            raise BackendError(
                f"the document parser process did not start (exit code {code}); nothing was "
                "ingested. Check that `python -m evidence_finder.ingest.worker` runs in this "
                "environment, then ingest again.")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def load(self, path: Path, max_bytes: int, limits: ParseSettings) -> SourceText:
        name = repr(str(path))
        with self._lock:
            conn = self._start()
            conn.send((str(path), max_bytes, limits.model_dump()))
            if not conn.poll(limits.max_seconds):
                self.stop()
                raise ParseLimitError(
                    f"{name} was refused: parsing it took longer than the limit of "
                    f"{limits.max_seconds:g} s (parse.max_seconds). The file may be built to "
                    "exhaust the parser; if it is genuine, split it or raise the limit."
                )
            try:
                result = conn.recv()
            except (EOFError, OSError):
                result = ("memory",)
            if result[0] == "memory":
                self.stop()
                raise ParseLimitError(
                    f"{name} was refused: parsing it needed more than the memory limit of "
                    f"{self.memory_mb} MB (parse.max_memory_mb). The file may be built to "
                    "exhaust the parser; if it is genuine, split it or raise the limit."
                )
        if result[0] == "ok":
            return result[1]  # type: ignore[no-any-return]
        if result[0] == "bad":
            cls = getattr(errors, result[1], BadInputError)
            raise (cls if issubclass(cls, BadInputError) else BadInputError)(result[2])
        raise BadInputError(f"{name} could not be parsed ({result[1]}). Re-export it and try again.")


_workers: dict[int, ParseWorker] = {}
_workers_lock = threading.Lock()


def _worker(memory_mb: int) -> ParseWorker:
    with _workers_lock:
        if memory_mb not in _workers:
            _workers[memory_mb] = ParseWorker(memory_mb)
        return _workers[memory_mb]


@atexit.register
def _stop_all() -> None:
    for w in list(_workers.values()):
        w.stop()


def load_limited(path: Path, max_bytes: int, limits: ParseSettings) -> SourceText:
    """``load_source`` under the memory and time limits (in-process when ``isolate`` is off)."""
    if not limits.isolate:
        return load_source(path, max_bytes, limits)
    return _worker(limits.max_memory_mb).load(path, max_bytes, limits)


if __name__ == "__main__":  # the worker process
    _serve(_Duplex(Connection(int(sys.argv[1]), writable=False),
                   Connection(int(sys.argv[2]), readable=False)), int(sys.argv[3]))
