"""The app factory: settings in, a FastAPI app out; the archive loads in the background."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from anyio import CapacityLimiter
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from embeddings.errors import EmbeddingError
from qa import __version__
from qa.api.errors import install_error_handlers
from qa.api.limits import InFlightLimit, RateLimit, RequestBody
from qa.api.methods import HeadAsGet
from qa.api.routes import DOCS_ASSETS, RATE_LIMITED_PATHS, WEB_DIR, router
from qa.api.served import Served, ServedArchive
from qa.archive import Archive
from qa.errors import DatelineError
from qa.language import prepare_language
from qa.places import prepare_places
from qa.settings import Settings
from qa.timeframe import prepare_dates

__all__ = ["create_app"]

log = logging.getLogger(__name__)
# uvicorn's status lines ("Application startup complete."): configured in every worker process.
_status = logging.getLogger("uvicorn.error")


def _load(app: FastAPI, settings: Settings, open_served: Callable[[], Served]) -> None:
    try:
        prepare_dates()
        prepare_language()
        prepare_places()
        served = app.state.archive = open_served()
        readiness = served.readiness()
        _status.info(
            "Dateline ready: %d articles, %d passages at http://%s:%d (widget: /widget.js)",
            readiness.articles,
            readiness.passages,
            settings.host,
            settings.port,
        )
    except (DatelineError, EmbeddingError) as exc:
        app.state.load_error = str(exc)
        log.error("cannot serve answers: %s", exc)
    except Exception:
        app.state.load_error = "loading the archive failed; the server log has the details"
        log.exception("loading the archive failed")


def create_app(settings: Settings, open_served: Callable[[], Served] | None = None) -> FastAPI:
    """Build the app; model, store and indexes load once, in the lifespan, off the event loop.

    Loading in a thread lets ``/healthz`` answer at once and ``/readyz`` say 503 until ready.
    It serves the archive folder of ``settings``, or what ``open_served`` opens (a cluster's
    front opens its shards).
    """
    opener = open_served or (lambda: ServedArchive(Archive.open(settings)))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.archive = None
        app.state.load_error = None
        loader = threading.Thread(
            target=_load, args=(app, settings, opener), name="archive-loader", daemon=True
        )
        loader.start()
        yield
        loader.join()
        if app.state.archive is not None:
            app.state.archive.close()

    app = FastAPI(
        title="Dateline",
        summary="Ask a news archive; get back the exact passages that answer, each cited.",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by routes.docs, without a CDN; ReDoc has no offline assets
        redoc_url=None,
        # "/api/articles/" would be redirected to an absolute URL built from the Host header.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.archive = None
    app.state.load_error = None
    # Answers are computed a core's worth at a time: more threads only contend for the GIL,
    # and serve fewer requests a second the more clients wait.
    app.state.answering = CapacityLimiter(os.cpu_count() or 1)
    install_error_handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    app.mount(
        DOCS_ASSETS,
        StaticFiles(directory=str(files("fastapi_swagger.resources"))),
        name="docs-assets",
    )
    # Each added wraps the ones before. Outermost CORS: even a 413 carries its headers, or a
    # browser sees no reason. Then the rate limit, counted before the body is read, and a slot
    # taken only once the body is in (qa.api.limits).
    app.add_middleware(HeadAsGet)
    app.add_middleware(InFlightLimit, max_in_flight=settings.max_in_flight)
    app.add_middleware(
        RequestBody, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds
    )
    app.add_middleware(
        RateLimit, per_minute=settings.rate_limit_per_minute, paths=RATE_LIMITED_PATHS
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Content-Type", "Authorization"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    return app
