"""``dateline serve``: the app under uvicorn, in one process or several."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from qa.api.app import create_app
from qa.settings import Settings

__all__ = ["app_from_environment", "serve"]

log = logging.getLogger(__name__)


class _WorkersConfig(uvicorn.Config):
    """uvicorn's config, with a listening socket that says it is TCP.

    uvicorn binds the socket its workers share with ``proto`` 0; accepted connections inherit
    it, and asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP, so every keep-alive
    answer waited for a delayed ACK, and several workers answered slower than one (uvicorn
    issue #3149).
    """

    def bind_socket(self) -> socket.socket:
        bound = super().bind_socket()
        return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())


class _Config(_WorkersConfig):
    """The config ``serve`` runs: uvicorn's, with the request-head deadline it lacks.

    A module-level class, so that it pickles into worker processes with what it carries.
    """

    def __init__(self, app: Any, header_timeout: float, **options: Any) -> None:
        super().__init__(app, http=_HeadDeadlineProtocol, **options)
        self.header_timeout = header_timeout


class _HeadDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1, closing a connection that is slow to send a whole request head.

    uvicorn times out only a connection idle after an answer (``timeout_keep_alive``), and only
    until its next byte. One that never sends a request, or sends it a byte at a time, stayed
    open for good, holding a file descriptor: enough of them made even /healthz unreachable.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        assert isinstance(config, _Config)
        self.header_timeout = config.header_timeout
        self.head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_response_complete(self) -> None:
        self._await_head()  # first: a pipelined request that the call below reads cancels it
        super().on_response_complete()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request head arrived whole
            self._cancel_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._cancel_deadline()
        self.head_deadline = self.loop.call_later(self.header_timeout, self.transport.close)

    def _cancel_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None


def _raise_open_files_limit() -> None:
    """Each connection holds a file descriptor, and the soft limit (often 1,024) is all a
    process gets unless it asks: past it, accept() fails and no one, /healthz included, can
    connect. The hard limit is as far as an unprivileged process may raise it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:  # macOS: a hard limit of "unlimited" is refused
        log.warning("open files stay limited to %d: %s", soft, exc)


def serve(settings: Settings) -> None:
    """Several workers answer side by side, where one process is held to one core by the GIL.

    Workers are started by uvicorn, which can only hand them an import string: the settings
    travel as ``DATELINE_*`` variables. Forwarded headers are believed only from the proxies
    in DATELINE_FORWARDED_ALLOW_IPS (uvicorn's default believes any client on loopback).
    """
    _raise_open_files_limit()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if settings.workers == 1:
        config = _Config(create_app(settings), settings.header_timeout_seconds, **options)
        uvicorn.Server(config).run()
        return
    os.environ.update(settings.environment())
    config = _Config(
        "qa.api.server:app_from_environment",
        settings.header_timeout_seconds,
        factory=True,
        workers=settings.workers,
        **options,
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def app_from_environment() -> FastAPI:
    """A worker's app, from the variables ``serve`` set."""
    return create_app(Settings())
