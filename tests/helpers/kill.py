"""Run ``helpers/ingest_slow.py`` in a subprocess and SIGKILL it at a printed marker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SLOW_INGEST = Path(__file__).with_name("ingest_slow.py")
SRC = Path(__file__).resolve().parents[2] / "src"


def kill_ingest_at(corpus: Path, index_dir: Path, marker: str, delay: float, args: list[str],
                   timeout: float = 30.0) -> list[str]:
    """Start the slow ingest with ``args``, wait for the output line ``marker``, sleep
    ``delay`` seconds, SIGKILL it; returns the lines it printed. Fails if the marker never
    comes or the process ends some other way."""
    env = dict(os.environ, PYTHONPATH=str(SRC), ANONYMIZED_TELEMETRY="False")
    proc = subprocess.Popen(
        [sys.executable, str(SLOW_INGEST), str(corpus), str(index_dir), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line.strip())
            if line.strip() == marker:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                assert proc.wait(timeout=10) == -signal.SIGKILL
                return seen
        err = proc.stderr.read() if proc.stderr else ""
        raise AssertionError(f"never saw {marker!r}; output: {seen}; stderr: {err[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
