"""``dateline serve``: the app under uvicorn."""

from __future__ import annotations

import uvicorn

from qa.api.app import create_app
from qa.settings import Settings

__all__ = ["serve"]


def serve(settings: Settings) -> None:
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
