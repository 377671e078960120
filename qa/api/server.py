"""``dateline serve``: the app under uvicorn, in one process or several."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from qa.api.app import create_app
from qa.settings import Settings

__all__ = ["app_from_environment", "serve"]


def serve(settings: Settings) -> None:
    """Several workers answer side by side, where one process is held to one core by the GIL.

    Workers are started by uvicorn, which can only hand them an import string: the settings
    travel as ``DATELINE_*`` variables.
    """
    if settings.workers == 1:
        app: FastAPI | str = create_app(settings)
    else:
        os.environ.update(settings.environment())
        app = "qa.api.server:app_from_environment"
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        factory=settings.workers > 1,
        log_level="info",
    )


def app_from_environment() -> FastAPI:
    """A worker's app, from the variables ``serve`` set."""
    return create_app(Settings())
