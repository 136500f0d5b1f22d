"""Resource limits: request body (413), query and result sizes (422), rate limits (429) and a
request timeout (504).

>>> bucket = RateLimit(per_minute=2)
>>> [bucket.hit("t", now=0.0), bucket.hit("t", now=1.0), bucket.hit("t", now=2.0)]
[True, True, False]
>>> bucket.hit("t", now=61.0)
True
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knotwork.api.errors import respond


@dataclass(frozen=True)
class Limits:
    """The limits of one app; every one can be set in :func:`knotwork.api.create_app`."""

    max_body: int = 20 * 1024 * 1024  # bytes
    max_query: int = 500  # characters of a question
    max_page: int = 100  # rows per page (hard maximum)
    per_minute: int = 6000  # requests per token per minute
    failed_auth_per_minute: int = 30  # bad or missing tokens per client per minute
    timeout: float = 30.0  # seconds per request
    #: Requests answered at once (the threads of the routes); the others wait their turn in
    #: arrival order. At 80 mixed reads/s on DPDK with 2 cores, 40 at once (anyio's default)
    #: contending for the cores and the interpreter lock gave a p99 of 4.3 s, 4 gave 1.1 s.
    threads: int = 4


class RateLimit:
    """A sliding one-minute window of hits per key (thread-safe)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, now: float) -> bool:
        """Count a hit for ``key``; False when it is over the limit (the hit is not counted)."""
        with self._lock:
            window = self._hits.setdefault(key, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= self.per_minute:
                return False
            window.append(now)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow forever
                self._hits = {k: v for k, v in self._hits.items() if v}
            return True

    def over(self, key: str, *, now: float) -> bool:
        """Whether ``key`` is at its limit now, without counting a hit."""
        with self._lock:
            window = self._hits.get(key)
            if not window:
                return False
            return sum(1 for t in window if t > now - 60.0) >= self.per_minute


class BodyAndTimeLimit:
    """ASGI middleware: 413 for a body over ``max_body`` bytes, 504 past ``timeout`` seconds."""

    def __init__(self, app: ASGIApp, max_body: int, timeout: float) -> None:
        self.app = app
        self.max_body = max_body
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await respond(413, "PayloadTooLarge", f"the body is over {self.max_body} bytes")(
                scope, receive, send
            )
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, limited, tracked)
        except _TooLarge:
            if not started:
                reply: Any = respond(
                    413, "PayloadTooLarge", f"the body is over {self.max_body} bytes"
                )
                await reply(scope, receive, send)
        except TimeoutError:
            if not started:
                reply = respond(504, "Timeout", f"the request took over {self.timeout} s")
                await reply(scope, receive, send)


class _TooLarge(Exception):
    pass


__all__ = ["BodyAndTimeLimit", "Limits", "RateLimit"]
