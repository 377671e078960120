"""Dependencies of the routes, as ``Annotated`` aliases.

The ones that never block are coroutines: FastAPI runs a plain function dependency in its
thread pool, a hop per dependency per request.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from anyio import CapacityLimiter
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa.api.served import Served
from qa.settings import Settings

__all__ = ["AnsweringDep", "ArchiveDep", "SettingsDep", "TokenRequired"]


async def _archive(request: Request) -> Served:
    archive: Served | None = request.app.state.archive
    if archive is None:
        reason = request.app.state.load_error or "the index is still loading"
        raise HTTPException(503, reason, headers={"Retry-After": "5"})
    return archive


async def _answering(request: Request) -> CapacityLimiter:
    limiter: CapacityLimiter = request.app.state.answering
    return limiter


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_bearer = HTTPBearer(auto_error=False, description="DATELINE_API_TOKEN, for write endpoints.")


async def _require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected: str | None = request.app.state.settings.api_token
    if not expected:
        raise HTTPException(403, "live updates are disabled: set DATELINE_API_TOKEN on the server")
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), expected.encode()):  # constant time
        raise HTTPException(
            401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


# One archive folder or a cluster's shards (qa.api.served).
ArchiveDep = Annotated[Served, Depends(_archive)]
AnsweringDep = Annotated[CapacityLimiter, Depends(_answering)]
SettingsDep = Annotated[Settings, Depends(_settings)]
TokenRequired = Depends(_require_token)
