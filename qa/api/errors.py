"""Every error becomes JSON ``{"detail": ...}`` with a reason (an article page's 404 a page);
never a traceback or an echo."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from embeddings.errors import EmbeddingError
from qa.api.pages import not_found_page
from qa.articles import UnreadableArticleError
from qa.cluster.coordinator import ShardUnavailableError
from qa.errors import (
    ArticleNotFoundError,
    ClusterReadOnlyError,
    DatelineError,
    DuplicateArticleError,
    EmptyQuestionError,
    IndexNotBuiltError,
    StorageError,
    StoreDamagedError,
)
from qa.faults import storage_error

__all__ = ["install_error_handlers"]

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[Exception], int]] = [
    (EmptyQuestionError, 422),
    (UnreadableArticleError, 422),
    (DuplicateArticleError, 409),
    (ClusterReadOnlyError, 409),
    (ShardUnavailableError, 503),
    (ArticleNotFoundError, 404),
    (IndexNotBuiltError, 503),
    (StoreDamagedError, 503),
    (StorageError, 507),
    (EmbeddingError, 503),
    (DatelineError, 400),
]


_NOT_JSON = "the request body is not valid JSON"


def _describe(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = _NOT_JSON
    else:
        detail = "; ".join(dict.fromkeys(_describe(e) for e in errors[:5]))
    return JSONResponse({"detail": detail}, status_code=422)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=_status(exc))


# Article pages are for readers: a path under it that routes nowhere (a line break in it, say)
# is their 404 page too, as the API's schema documents.
_PAGES = "/articles/"


async def _http_error(request: Request, exc: Exception) -> JSONResponse | HTMLResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and request.url.path.startswith(_PAGES):
        return not_found_page()
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI's 400 for a body json cannot even decode (not UTF-8, nested too deep):
        # malformed JSON all the same, and that is a 422 with its reason.
        return JSONResponse({"detail": _NOT_JSON}, status_code=422)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _status(exc: Exception) -> int:
    return next(code for kind, code in _STATUS if isinstance(exc, kind))


async def _storage_failure(request: Request, exc: Exception) -> JSONResponse:
    """A read of the archive's files that failed (a damaged page, a full disk): its domain
    error, with the cause in the log."""
    error = storage_error(exc, request.app.state.settings.data_dir)
    if error is None:
        return await _unexpected(request, exc)
    log.error("%s %s: %s (%s)", request.method, request.url.path, error, exc)
    return JSONResponse({"detail": str(error)}, status_code=_status(error))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "internal error; the server log has the details"}, status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for kind, _ in _STATUS:
        app.add_exception_handler(kind, _domain_error)
    for kind in (sqlite3.Error, OSError):
        app.add_exception_handler(kind, _storage_failure)
    app.add_exception_handler(Exception, _unexpected)
