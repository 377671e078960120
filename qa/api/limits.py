"""Request limits: per-client rate, body size and arrival time, and API requests in flight.

The app stacks them in that order, outermost first: a refused request costs no body read and no
slot, and a slot is held only by a request whose body has already arrived whole.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Collection

import anyio
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["InFlightLimit", "RateLimit", "RequestBody"]


async def _reject(
    send: Send, status: int, detail: str, *, retry_after: int | None = None, close: bool = False
) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if close:  # the body was not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RateLimit:
    """429 with Retry-After past ``per_minute`` requests of one client to ``paths`` (0 = off).

    A moving window per client address (the ``limits`` library), counted before the body is
    read. The address is the peer's, or the one a proxy in DATELINE_FORWARDED_ALLOW_IPS reports:
    uvicorn rewrites ``scope["client"]`` for those alone.
    """

    def __init__(self, app: ASGIApp, per_minute: int, paths: Collection[str]) -> None:
        self.app = app
        self.per_minute = per_minute
        self.paths = frozenset(paths)
        self._item = parse(f"{max(per_minute, 1)}/minute")
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.per_minute > 0 and scope["path"] in self.paths:
            client = scope["client"][0] if scope.get("client") else "unknown"
            if not self._limiter.hit(self._item, client):
                reset = self._limiter.get_window_stats(self._item, client).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                detail = f"too many requests: at most {self.per_minute} a minute; retry in {wait} s"
                await _reject(send, 429, detail, retry_after=wait, close=True)
                return
        await self.app(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message; after it the server's own receive, which reports a disconnect."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class RequestBody:
    """Reads the whole body before the app sees the request: ``max_bytes`` within ``timeout`` s.

    413 for a larger body (by Content-Length before reading, else once the read passes it), 408
    for one still incomplete at the deadline; either closes the connection. Reading here, ahead
    of InFlightLimit, keeps clients that send headers and then nothing from holding the API's
    slots: bodiless requests once held every slot, and answers were 503 until they gave up.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"request body is larger than {self.max_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _reject(send, 413, too_large, close=True)
            return
        body = bytearray()
        complete = False
        with anyio.move_on_after(self.timeout):
            while not complete and len(body) <= self.max_bytes:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # nobody is left to answer
                body += message.get("body", b"")
                complete = not message.get("more_body", False)
        if len(body) > self.max_bytes:
            await _reject(send, 413, too_large, close=True)
        elif not complete:
            detail = f"the request body did not arrive within {self.timeout:g} s"
            await _reject(send, 408, detail, close=True)
        else:
            await self.app(scope, _replay(bytes(body), receive), send)


class InFlightLimit:
    """503 with Retry-After once ``max_in_flight`` API requests are already being handled.

    Past capacity a quick refusal beats a queue that grows until clients time out.
    """

    def __init__(self, app: ASGIApp, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await _reject(send, 503, "the server is busy; retry in a second", retry_after=1)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
