"""``dateline serve``: the app under uvicorn, in one process or several."""

from __future__ import annotations

import os
import socket

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from qa.api.app import create_app
from qa.settings import Settings

__all__ = ["app_from_environment", "serve"]


class _WorkersConfig(uvicorn.Config):
    """uvicorn's config, with a listening socket that says it is TCP.

    uvicorn binds the socket its workers share with ``proto`` 0; accepted connections inherit
    it, and asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP, so every keep-alive
    answer waited ~40 ms for a delayed ACK (measured: 52 ms a question at one client, against
    15 ms with one worker; uvicorn issue #3149).
    """

    def bind_socket(self) -> socket.socket:
        bound = super().bind_socket()
        return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())


def serve(settings: Settings) -> None:
    """Several workers answer side by side, where one process is held to one core by the GIL.

    Workers are started by uvicorn, which can only hand them an import string: the settings
    travel as ``DATELINE_*`` variables.
    """
    if settings.workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
        return
    os.environ.update(settings.environment())
    config = _WorkersConfig(
        "qa.api.server:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def app_from_environment() -> FastAPI:
    """A worker's app, from the variables ``serve`` set."""
    return create_app(Settings())
