"""A free local port, and the web chat served on 127.0.0.1 for as long as a test needs it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Any, demo: Any) -> Iterator[str]:
    """Launch ``demo`` (from ``evidence_finder.ui.app.build``) without blocking; yields its
    URL (with a trailing slash) and closes it afterwards."""
    from evidence_finder.ui.app import launch

    port = free_port()
    launch(settings, "127.0.0.1", port, demo=demo, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
