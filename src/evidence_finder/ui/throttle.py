"""Login throttling per client for the web chat.

Gradio checks the password in its ``POST /login`` route and calls the auth function
without the request, so the client address is not known there. This ASGI middleware sits in
front of the app (``launch(app_kwargs={"middleware": ...})``) and counts login attempts by
client host: every attempt counts until its reply says it succeeded (200), so a burst of
concurrent attempts cannot slip past the count. After ``max_failures`` within ``window_s``
the client is refused with 429 and ``Retry-After`` for ``lockout_s``, doubling with every
further lockout up to ``max_lockout_s``; its password is not checked meanwhile. A
successful login clears the client's record. Other clients are not affected.

The client host is what uvicorn puts in the ASGI scope: the peer address, or the
``X-Forwarded-For`` address when the peer is a trusted local proxy (uvicorn's default).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class _Client:
    attempts: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    lockouts: int = 0
    seen: float = 0.0


class LoginLimiter:
    """The counting, apart from ASGI (``clock`` is injectable for tests)."""

    def __init__(self, max_failures: int = 5, window_s: float = 60.0, lockout_s: float = 30.0,
                 max_lockout_s: float = 900.0, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.max_lockout_s = max_lockout_s
        self.max_clients = max_clients
        self.clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def begin(self, host: str) -> float:
        """Seconds ``host`` must still wait (> 0: refuse), or 0 after counting this attempt."""
        now = self.clock()
        c = self._clients.get(host)
        if c is None:
            c = self._clients[host] = _Client()
            self._evict(now)
        self._clients.move_to_end(host)
        c.seen = now
        if now < c.locked_until:
            return c.locked_until - now
        c.attempts = [t for t in c.attempts if now - t < self.window_s]
        c.attempts.append(now)
        if len(c.attempts) > self.max_failures:  # the attempts so far all failed (or are pending)
            c.lockouts += 1
            delay = min(self.lockout_s * 2 ** (c.lockouts - 1), self.max_lockout_s)
            c.locked_until, c.attempts = now + delay, []
            log.warning("login: %d failed attempts from %s within %.0f s; refusing it for %.0f s",
                        self.max_failures, host, self.window_s, delay)
            return delay
        return 0.0

    def succeeded(self, host: str) -> None:
        self._clients.pop(host, None)

    def _evict(self, now: float) -> None:
        """Keep the table bounded: forget idle clients first, then the longest unseen."""
        if len(self._clients) <= self.max_clients:
            return
        idle = [h for h, c in self._clients.items()
                if now >= c.locked_until and now - c.seen > max(self.window_s, self.max_lockout_s)]
        for h in idle:
            del self._clients[h]
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)


class LoginThrottle:
    """ASGI middleware: :class:`LoginLimiter` applied to ``POST .../login``."""

    def __init__(self, app: ASGIApp, limiter: LoginLimiter | None = None, **limits: Any) -> None:
        self.app = app
        self.limiter = limiter or LoginLimiter(**limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope.get("method") != "POST"
                or not str(scope.get("path", "")).rstrip("/").endswith("/login")):
            await self.app(scope, receive, send)
            return
        host = (scope.get("client") or ("unknown", 0))[0]
        wait = self.limiter.begin(host)
        if wait > 0:
            await _refuse(send, wait)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status == 200:
            self.limiter.succeeded(host)


async def _refuse(send: Send, wait: float) -> None:
    seconds = math.ceil(wait)
    body = json.dumps({"detail": f"Too many failed logins from this address; try again in {seconds} s."})
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body.encode()})
