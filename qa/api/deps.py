"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from qa.api.limits import RateLimiter
from qa.archive import Archive
from qa.settings import Settings

__all__ = ["ArchiveDep", "RateLimited", "SettingsDep"]


def _archive(request: Request) -> Archive:
    archive: Archive | None = request.app.state.archive
    if archive is None:
        reason = request.app.state.load_error or "the index is still loading"
        raise HTTPException(503, reason, headers={"Retry-After": "5"})
    return archive


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _rate_limit(request: Request) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        raise HTTPException(
            429,
            f"too many requests: at most {limiter.per_minute} a minute; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


ArchiveDep = Annotated[Archive, Depends(_archive)]
SettingsDep = Annotated[Settings, Depends(_settings)]
RateLimited = Depends(_rate_limit)
