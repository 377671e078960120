"""A cluster on Ray Serve: one deployment per shard, its replicas copies of that shard, and a
front serving today's routes and JSON (``qa.api``) over them.

The front encodes each question once and asks every shard at once through their deployment
handles (``RemoteShard``, a ``qa.cluster.coordinator.ShardClient``). A replica killed while it
answers is retried once, on another replica; a shard that does not answer within
``cluster_shard_timeout_seconds`` is left out, and the answer names it (``partial``).

After an ingest, nothing needs telling: each shard replica and the front look at the cluster
manifest's file at every query (one ``stat``), and once a new one is written, the replica loads
its shard's new index files and the front the new speakers and statistics.

Only ``dateline cluster serve`` and Ray's own workers import this module: the embedded default
never imports Ray.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
import urllib.request
from collections.abc import Sequence
from functools import partial
from typing import Any, Generic, NoReturn, TypeVar, cast

import grpc
from fastapi import FastAPI
from ray import serve
from ray.exceptions import RayActorError, RayError
from ray.serve import Application, Deployment
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle, DeploymentResponse

from embeddings.encoder import Encoder
from qa.answer import Candidate
from qa.api.app import create_app
from qa.archive import Archive
from qa.cluster.archive import ClusterArchive, manifest_stamp
from qa.cluster.coordinator import ShardUnavailableError
from qa.cluster.engine import ray_session
from qa.cluster.manifest import load_manifest
from qa.cluster.shard import Shard, ShardQuery, ShardSignals
from qa.errors import ClusterError
from qa.factories import open_encoder
from qa.lexical import CorpusStatistics
from qa.reading import QuestionVectors
from qa.retrieval import RankedPassage
from qa.settings import Settings
from qa.store import ArticleRecord, ParagraphRecord, PassageRecord

__all__ = [
    "APP_NAME",
    "Front",
    "RemoteReply",
    "RemoteShard",
    "ShardReplica",
    "build_app",
    "cluster_app",
    "front_deployment",
    "open_front",
    "serve_cluster",
    "shard_deployment",
    "shard_resource",
]

log = logging.getLogger(__name__)

Answered = TypeVar("Answered")

APP_NAME = "dateline"
# Requests a shard replica takes at once: each query of the front sends it one or two.
_SHARD_REQUESTS = 32
_READY_TIMEOUT_SECONDS = 600.0
# Read by the raylet that a local Ray starts (Ray's RayConfig, from RAY_<name>).
_WORKER_NICENESS = "RAY_worker_niceness"
# Replies are collected one after another: one already come is taken even when another
# shard used up the time a query gives its shards.
_COLLECT_SECONDS = 0.5
# A replica holds nothing to save: stopped, it waits this long for the calls it answers.
_STOP_SECONDS = 5.0
# How long a shard may take to make its starter questions (it asks itself a few dozen).
_STARTERS_TIMEOUT_SECONDS = 120.0
# A shard replica's share of its shard's custom resource (``cluster_pin_shards``).
_PINNED_SHARE = 0.001
# Loads in a second where torch takes ten; the same model's name and dimension.
_NAMING_BACKEND = "onnx-int8"


class ShardReplica:
    """One copy of one shard: its archive folder, opened in this replica.

    The calls of every query (``signals``, then ``candidates`` or ``records``) are coroutines:
    Serve runs them on the replica's event loop, where it hands a plain method to a thread
    pool first, a hop a query pays in each round of calls (docs/benchmarks.md,
    cluster_serve). They are short. The rest stays plain, on Serve's threads, so that a long
    one (a name of many words to match, starter questions) holds up no query.
    """

    def __init__(self, settings: Settings, number: int, name: str) -> None:
        self._cluster = settings.data_dir
        self._stamp = manifest_stamp(self._cluster)
        folder = load_manifest(self._cluster).shard_dir(self._cluster, name)
        # A shard encodes nothing (the front sends vectors): the model, on its lightest
        # runtime, only names the vectors its index holds.
        mine = settings.model_copy(update={"data_dir": folder, "backend": _NAMING_BACKEND})
        self._shard = Shard(number, Archive.open(mine))

    def _is_behind(self) -> bool:
        """Whether a new cluster manifest vouches for new index files (taken as seen)."""
        stamp = manifest_stamp(self._cluster)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    # A query starts with one of these two: the replica that takes it loads the new index
    # first. (A call after it may reach another replica, a moment behind while it loads.)
    def statistics(self) -> CorpusStatistics:
        if self._is_behind():
            self._shard.archive.catch_up()
        return self._shard.statistics()

    async def signals(self, query: ShardQuery) -> ShardSignals:
        if self._is_behind():  # loading takes a while: the loop answers other calls meanwhile
            await asyncio.to_thread(self._shard.archive.catch_up)
        return self._shard.signals(query)

    async def candidates(self, ranked: list[RankedPassage], with_preceding: int) -> list[Candidate]:
        return self._shard.candidates(ranked, with_preceding)

    async def records(
        self, ranked: list[RankedPassage]
    ) -> list[tuple[RankedPassage, PassageRecord]]:
        return self._shard.records(ranked)

    def best_match(self, name: str, statistics: CorpusStatistics) -> tuple[float, bool] | None:
        return self._shard.best_match(name, statistics)

    def counts(self) -> dict[str, int]:
        return self._shard.counts()

    def list_articles(self, offset: int, limit: int) -> list[ArticleRecord]:
        return self._shard.list_articles(offset, limit)

    def article(self, article_id: str) -> tuple[ArticleRecord, list[ParagraphRecord]] | None:
        return self._shard.article(article_id)

    def starters(self) -> list[str]:
        return self._shard.starters()


class RemoteReply(Generic[Answered]):
    """A call to a shard's deployment, sent when made and waited for in ``result``: the
    coordinator sends a round's calls to every shard from one thread, then collects them."""

    def __init__(self, shard: RemoteShard, method: str, args: tuple[Any, ...], timeout: float):
        self._shard = shard
        self._method = method
        self._args = args
        self._deadline = time.monotonic() + timeout
        self._response = self._sent()

    def _sent(self) -> DeploymentResponse[Any]:
        response: DeploymentResponse[Any] = getattr(self._shard.handle, self._method).remote(
            *self._args
        )
        return response

    def result(self) -> Answered:
        """The replica's answer. Serve itself sends a request elsewhere when its replica died
        before taking it; one that dies while answering is sent again here, once. Whatever
        else keeps the shard from answering in time makes it ShardUnavailableError."""
        name = self._shard.name
        for attempt in (1, 2):
            try:
                remaining = max(_COLLECT_SECONDS, self._deadline - time.monotonic())
                return cast(Answered, self._response.result(timeout_s=remaining))
            except RayActorError as exc:  # ActorDiedError, ActorUnavailableError
                log.warning("%s: a replica died answering (try %d): %s", name, attempt, exc)
                failure: Exception = exc
                if attempt == 1:
                    self._response = self._sent()
            except TimeoutError as exc:
                self._response.cancel()  # type: ignore[no-untyped-call]
                failure = exc
                break
            except (RayError, RayServeException, grpc.RpcError) as exc:
                log.error("%s could not answer %s", name, self._method, exc_info=exc)
                failure = exc
                break
        said = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
        raise ShardUnavailableError(f"{name} did not answer: {said}")


class RemoteShard:
    """A shard's deployment as the coordinator calls it: any of its replicas answers."""

    def __init__(
        self, number: int, name: str, handle: DeploymentHandle[Any], timeout: float
    ) -> None:
        self.number = number
        self.name = name
        # Over the replicas' own gRPC channel rather than as Ray actor tasks (Serve's default),
        # and pickled rather than cloudpickled (every value sent is plain data of importable
        # classes): a round of calls to the shards costs less (docs/benchmarks.md,
        # cluster_serve).
        self.handle = handle.options(
            _by_reference=False, request_serialization="pickle", response_serialization="pickle"
        )
        self._timeout = timeout

    def _send(self, method: str, *args: Any, timeout: float | None = None) -> RemoteReply[Any]:
        return RemoteReply(self, method, args, timeout or self._timeout)

    def statistics(self) -> RemoteReply[CorpusStatistics]:
        return self._send("statistics")

    def signals(self, query: ShardQuery) -> RemoteReply[ShardSignals]:
        return self._send("signals", query)

    def candidates(
        self, ranked: list[RankedPassage], with_preceding: int
    ) -> RemoteReply[list[Candidate]]:
        return self._send("candidates", ranked, with_preceding)

    def records(
        self, ranked: list[RankedPassage]
    ) -> RemoteReply[list[tuple[RankedPassage, PassageRecord]]]:
        return self._send("records", ranked)

    def best_match(
        self, name: str, statistics: CorpusStatistics
    ) -> RemoteReply[tuple[float, bool] | None]:
        return self._send("best_match", name, statistics)

    def counts(self) -> RemoteReply[dict[str, int]]:
        return self._send("counts")

    def list_articles(self, offset: int, limit: int) -> RemoteReply[list[ArticleRecord]]:
        return self._send("list_articles", offset, limit)

    def article(
        self, article_id: str
    ) -> RemoteReply[tuple[ArticleRecord, list[ParagraphRecord]] | None]:
        return self._send("article", article_id)

    def starters(self) -> RemoteReply[list[str]]:
        """Made once a data generation and day, by asking the shard questions: it may take
        longer than a query's shard timeout."""
        return self._send("starters", timeout=_STARTERS_TIMEOUT_SECONDS)

    def close(self) -> None:
        """Nothing: the replicas are Serve's."""


def open_front(
    settings: Settings, shards: Sequence[DeploymentHandle[Any]], encoder: Encoder | None = None
) -> ClusterArchive:
    """The front's archive over the shards' deployments, in the cluster manifest's order."""
    manifest = load_manifest(settings.data_dir)
    timeout = settings.cluster_shard_timeout_seconds
    remote = [
        RemoteShard(number, record.name, handle, timeout)
        for number, (record, handle) in enumerate(zip(manifest.shards, shards, strict=True))
    ]
    vectors = QuestionVectors(encoder or open_encoder(settings))
    return ClusterArchive(settings, remote, vectors, prefetch=True)


class Front:
    """Today's routes over the shards; it loads (model, statistics) once its app has started,
    and /readyz says 503 until then, as ``dateline serve`` does."""

    def __init__(self, settings: Settings, shards: list[DeploymentHandle[Any]]) -> None:
        self._settings = settings
        self._shards = shards

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_app(self._settings, partial(open_front, self._settings, self._shards))


shard_deployment: Deployment = serve.deployment(
    max_ongoing_requests=_SHARD_REQUESTS, graceful_shutdown_timeout_s=_STOP_SECONDS
)(ShardReplica)
front_deployment: Deployment = serve.deployment(graceful_shutdown_timeout_s=_STOP_SECONDS)(
    serve.ingress()(Front)
)


def cluster_app(settings: Settings) -> Application:
    """The cluster in ``settings.data_dir`` as a Serve application: a deployment per shard of
    ``cluster_replicas`` replicas, and the front; each replica of ``cluster_replica_cpus``."""
    manifest = load_manifest(settings.data_dir)
    cpus = {"num_cpus": settings.cluster_replica_cpus}
    shards = [
        shard_deployment.options(
            name=record.name,
            num_replicas=settings.cluster_replicas,
            ray_actor_options=cpus | _pinned(settings, record.name),
        ).bind(settings, number, record.name)
        for number, record in enumerate(manifest.shards)
    ]
    front = front_deployment.options(
        name="front", max_ongoing_requests=settings.max_in_flight, ray_actor_options=cpus
    )
    return front.bind(settings, shards)


def shard_resource(name: str) -> str:
    """The custom resource of the nodes that hold shard ``name`` (``cluster_pin_shards``)."""
    return f"dateline-{name}"


def _pinned(settings: Settings, name: str) -> dict[str, Any]:
    """A shard replica's demand on its shard's resource when shards are pinned: a sliver of
    a unit, so that a node offering 1 runs every replica of it that fits its CPUs."""
    if not settings.cluster_pin_shards:
        return {}
    return {"resources": {shard_resource(name): _PINNED_SHARE}}


def build_app(args: dict[str, str]) -> Application:
    """Serve's application builder (``serve run qa.cluster.serve:build_app data_dir=DIR``, or a
    KubeRay RayService's import path): settings from DATELINE_* and these arguments."""
    return cluster_app(Settings(**args))  # type: ignore[arg-type]


def _wait_ready(settings: Settings) -> None:
    url = f"http://{settings.host}:{settings.port}/readyz"
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise ClusterError(f"the cluster's front did not get ready in {_READY_TIMEOUT_SECONDS:.0f} s")


def _stop(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _local_serving(settings: Settings) -> tuple[dict[str, str], int]:
    """Serve's direct ingress on a local Ray: the front's replica answers HTTP on the asked
    port itself, a hop fewer than through Serve's proxy, which keeps a free port of its own
    as the fallback; and every replica runs its calls on its own event loop rather than a
    thread beside it (both from Ray's throughput-optimised mode). Read from the environment
    by the Ray this process starts."""
    port = settings.port
    with socket.socket() as probe:  # taken: one line now, not a replica retrying its bind
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, port))
        except OSError as exc:
            raise ClusterError(f"cannot serve on {settings.host}:{port}: {exc.strerror}") from exc
    environment = {
        "RAY_SERVE_ENABLE_DIRECT_INGRESS": "1",
        "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(port),
        "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(port + 1),  # the range excludes its end
        "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0",
    }
    return environment, _free_port(settings.host)


def serve_cluster(settings: Settings, address: str | None) -> None:
    """``dateline cluster serve``: deploy, say where it answers, and serve until interrupted
    (then the application is deleted; a local Ray is stopped too).

    On a Ray it joins, requests come through that cluster's own ingress (Serve's proxy, or
    the HAProxy of Ray's high-throughput mode where its operators turned that on)."""
    load_manifest(settings.data_dir)  # a folder that is no cluster is refused before Ray starts
    proxy_port = settings.port
    if address is None:
        # Ray runs its workers at niceness 15, behind every other process of the machine: a
        # server's replicas must not answer only once everything else has had its turn.
        os.environ.setdefault(_WORKER_NICENESS, "0")
        environment, proxy_port = _local_serving(settings)
        os.environ.update(environment)
    with ray_session(address):
        # Ray's driver exits at once on SIGTERM (status 15): a stop while the replicas start
        # must clean up as Ctrl-C does.
        signal.signal(signal.SIGTERM, _stop)
        try:
            serve.start(http_options={"host": settings.host, "port": proxy_port})
            serve.run(
                cluster_app(settings),
                name=APP_NAME,
                route_prefix="/",
                logging_config={"enable_access_log": False},
            )
            _wait_ready(settings)
            print(
                f"Dateline cluster ready at http://{settings.host}:{settings.port} "
                f"(widget: /widget.js); Ctrl-C stops it",
                flush=True,
            )
            signal.pause()
        except KeyboardInterrupt:
            pass
        finally:
            if address is not None:  # a local Ray goes, and every replica with it
                serve.delete(APP_NAME)
