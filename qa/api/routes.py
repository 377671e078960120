"""The endpoints: chat, search, feedback, suggestions, articles, article pages, health, and the
widget's files."""

from __future__ import annotations

import functools
import time
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import ValidationError

from qa import __version__
from qa.api.deps import AnsweringDep, ArchiveDep, TokenRequired
from qa.api.models import (
    ArticleDeleted,
    ArticleDetail,
    ArticleList,
    ArticleSummary,
    ArticleUpload,
    ArticleWritten,
    ChatRequest,
    ErrorBody,
    FeedbackRecorded,
    FeedbackRequest,
    Health,
    QuestionText,
    Readiness,
    SearchResponse,
    Suggestions,
)
from qa.api.pages import article_page, html_security_headers, not_found_page
from qa.errors import ArticleNotFoundError
from qa.schema import Answer, SearchFilters
from qa.store import Attributes

__all__ = ["RATE_LIMITED_PATHS", "WEB_DIR", "router"]

# The widget's files, read from the installed package: the wheel carries them as qa/web/, and
# in a checkout qa/web is a link to web/. Wheels install unpacked, so this is a real folder.
WEB_DIR = Path(str(files("qa").joinpath("web")))
ArticleId = Annotated[
    str, PathParam(pattern=r"^[\w.-]{1,200}$", description="File name without extension.")
]
Day = Annotated[date | None, Query(description="YYYY-MM-DD")]

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (404, 408, 413, 422, 429, 503)
}
_WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 408, 409, 413, 422, 503, 507)
}

router = APIRouter()
# Counted per client against DATELINE_RATE_LIMIT_PER_MINUTE (limits.RateLimit, before the body).
RATE_LIMITED_PATHS = frozenset({"/api/chat", "/api/search", "/api/feedback"})


@router.post("/api/chat", response_model=Answer, responses=_ERRORS)
async def chat(body: ChatRequest, archive: ArchiveDep, answering: AnsweringDep) -> Answer:
    """Answer with extracted sentences, each cited; abstains when nothing relevant is found."""
    ask = functools.partial(
        archive.ask,
        body.question,
        top_k=body.top_k,
        history=body.history,
        filters=body.filters,
        as_of=body.as_of,
    )
    return await anyio.to_thread.run_sync(ask, limiter=answering)


@router.post(
    "/api/feedback",
    response_model=FeedbackRecorded,
    status_code=201,
    responses={code: {"model": ErrorBody} for code in (408, 409, 413, 422, 429, 503, 507)},
)
def feedback(body: FeedbackRequest, archive: ArchiveDep) -> FeedbackRecorded:
    """Keep a reader's verdict on an answer: the question, the cited passages, up or down.

    Nothing about the reader is kept. 507 when the archive's folder takes no writes; 409 from
    a cluster's server, which keeps none."""
    passages = [(p.article_id, p.paragraph) for p in body.passages]
    number = archive.record_feedback(body.question, passages, body.verdict)
    return FeedbackRecorded(id=number)


@router.get("/api/suggestions", response_model=Suggestions, responses={503: {"model": ErrorBody}})
async def suggestions(archive: ArchiveDep, answering: AnsweringDep) -> Suggestions:
    """Three or four questions this archive answers, from its latest articles' speakers and
    datelines: starters for a reader who does not know what to ask. Made once per change."""
    made = await anyio.to_thread.run_sync(archive.suggestions, limiter=answering)
    return Suggestions(suggestions=made)


@router.get("/api/search", response_model=SearchResponse, responses=_ERRORS)
async def search(
    archive: ArchiveDep,
    answering: AnsweringDep,
    q: Annotated[QuestionText, Query(description="The query, 1 to 1000 characters.")],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
    date_from: Day = None,
    date_to: Day = None,
    speaker: Annotated[str | None, Query(max_length=200)] = None,
) -> SearchResponse:
    """Ranked passages with scores and metadata; no answer composition."""
    started = time.perf_counter()
    try:
        filters = SearchFilters(date_from=date_from, date_to=date_to, speaker=speaker)
    except ValidationError as exc:  # parameters valid alone, not together: a 422 like theirs
        raise RequestValidationError(exc.errors()) from exc
    found = await anyio.to_thread.run_sync(archive.search, q, k, filters, limiter=answering)
    return SearchResponse(
        query=q,
        hits=found.hits,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        partial=bool(found.missing_shards),
        missing_shards=found.missing_shards or None,
    )


@router.get("/api/articles", response_model=ArticleList, responses=_ERRORS)
def list_articles(
    archive: ArchiveDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ArticleList:
    records = archive.catalogue.list_articles(offset, limit)
    return ArticleList(
        total=archive.catalogue.counts()["articles"],
        offset=offset,
        limit=limit,
        articles=[ArticleSummary.model_validate(r, from_attributes=True) for r in records],
    )


@router.post(
    "/api/articles",
    response_model=ArticleWritten,
    status_code=201,
    responses=_WRITE_ERRORS,
    dependencies=[TokenRequired],
)
def put_article(body: ArticleUpload, archive: ArchiveDep) -> ArticleWritten:
    """Add or replace one article (bearer token). Readers see the old or the new archive."""
    passages, replaced = archive.put_article(body.article_id, body.text)
    return ArticleWritten(article_id=body.article_id, passages=passages, replaced=replaced)


@router.delete(
    "/api/articles/{article_id}",
    response_model=ArticleDeleted,
    responses=_WRITE_ERRORS,
    dependencies=[TokenRequired],
)
def delete_article(archive: ArchiveDep, article_id: ArticleId) -> ArticleDeleted:
    """Remove one article (bearer token)."""
    archive.delete_article(article_id)
    return ArticleDeleted(article_id=article_id, deleted=True)


@router.get("/api/articles/{article_id}", response_model=ArticleDetail, responses=_ERRORS)
def get_article(archive: ArchiveDep, article_id: ArticleId) -> ArticleDetail:
    found = archive.catalogue.article(article_id)
    if found is None:
        raise ArticleNotFoundError(article_id)
    article, paragraphs = found
    detail = Attributes(article, paragraphs=paragraphs)
    return ArticleDetail.model_validate(detail, from_attributes=True)


_ERRORS_OF_A_PAGE: dict[int | str, dict[str, object]] = {
    404: {"description": "No such article: a page saying so.", "content": {"text/html": {}}},
    503: {
        "description": "The archive is still loading.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    },
}


@router.get("/articles/{article_id:path}", response_class=HTMLResponse, responses=_ERRORS_OF_A_PAGE)
def show_article(
    archive: ArchiveDep, article_id: Annotated[str, PathParam(description="As in a citation.")]
) -> HTMLResponse:
    """The article as a page; citation urls open it at ``#p<paragraph>``. A reader who follows
    a stale or mistyped link gets a page too, not JSON."""
    found = archive.catalogue.article(article_id)
    return not_found_page() if found is None else article_page(*found)


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: 200 while the process runs."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": ErrorBody}})
def readyz(request: Request) -> Readiness | JSONResponse:
    """Readiness: 503 until model, index and store are loaded."""
    archive = request.app.state.archive
    if archive is None:
        reason = request.app.state.load_error or "loading model and index"
        return JSONResponse({"detail": reason}, status_code=503, headers={"Retry-After": "5"})
    readiness: Readiness = archive.readiness()
    return readiness


# Where /docs takes Swagger UI's files from (qa.api.app mounts the package's folder there).
DOCS_ASSETS = "/docs-assets"


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """The API's interactive docs, with Swagger UI served from here: FastAPI's own page loads
    it from a CDN, and offline it stayed blank."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Dateline API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
    )


_WIDGET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_WIDGET_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}


@functools.cache
def _widget_parts() -> frozenset[str]:
    return frozenset(
        part.name for part in (WEB_DIR / "widget").iterdir() if part.suffix in _WIDGET_TYPES
    )


@router.get("/widget.js", include_in_schema=False)
def widget() -> FileResponse:
    """The one script a page embeds; it loads the parts below."""
    return FileResponse(
        WEB_DIR / "widget.js", media_type=_WIDGET_TYPES[".js"], headers=_WIDGET_HEADERS
    )


@router.get("/widget/{release}/{name}", include_in_schema=False)
def widget_part(release: str, name: str) -> FileResponse:
    """A module or the stylesheet of the widget, of this server's release only: a page that
    kept an older widget.js gets a 404, not parts of two releases that do not fit together.
    Module scripts load with CORS, which the app's CORS middleware answers here as anywhere."""
    if release != __version__ or name not in _widget_parts():
        raise HTTPException(
            404, f"no such part of the widget; this server has widget {__version__}"
        )
    path = WEB_DIR / "widget" / name
    return FileResponse(path, media_type=_WIDGET_TYPES[path.suffix], headers=_WIDGET_HEADERS)


@router.get("/favicon.ico", include_in_schema=False, status_code=204)
def favicon() -> None:
    """No icon, and no 404 in every browser console."""


@router.get("/", include_in_schema=False)
def demo_page() -> FileResponse:
    return FileResponse(
        WEB_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers=html_security_headers(),
    )
