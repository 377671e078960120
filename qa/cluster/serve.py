"""A cluster on Ray Serve: one deployment per group of shards, its replicas copies of that
group, and a front serving today's routes and JSON (``qa.api``) over them.

By default a node's shards are spread over as many groups as it has CPUs (``shard_groups``):
where shards outnumber cores, a round of a query's calls is one call a group, not one a
shard, as Elasticsearch's batched query phase sends one request to each node for all its
shards, while every core still runs a replica (docs/benchmarks.md, cluster_serve).
``cluster_replica_shards`` N gives each N shards a deployment; 1, each shard.

The front encodes each question once and asks every shard at once through their groups'
deployment handles (``RemoteShard``, a ``qa.cluster.coordinator.ShardClient``). A replica
killed while it answers is retried once, on another replica; a group that does not answer
within ``cluster_shard_timeout_seconds`` is left out, and the answer names its shards
(``partial``).

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
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, NoReturn, TypeVar, cast

import grpc
import ray
from fastapi import FastAPI
from ray import serve
from ray.exceptions import RayActorError, RayError
from ray.serve import Application, Deployment
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle, DeploymentResponse

from embeddings.encoder import Encoder
from embeddings.errors import first_line
from qa.answer import Candidate
from qa.api.app import create_app
from qa.archive import Archive
from qa.cluster.archive import ClusterArchive, manifest_stamp
from qa.cluster.coordinator import ShardUnavailableError
from qa.cluster.engine import ray_session
from qa.cluster.manifest import load_manifest
from qa.cluster.shard import LocalShard, Shard, ShardQuery, ShardSignals
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
    "ShardCall",
    "ShardGroup",
    "ShardGroupReplica",
    "ShardOutcome",
    "build_app",
    "cluster_app",
    "front_deployment",
    "group_name",
    "group_shards",
    "open_front",
    "serve_cluster",
    "shard_deployment",
    "shard_groups",
    "shard_resource",
]

log = logging.getLogger(__name__)

Answered = TypeVar("Answered")

APP_NAME = "dateline"
# Requests a group's replica takes at once: each query of the front sends it one or two.
_SHARD_REQUESTS = 32
_READY_TIMEOUT_SECONDS = 600.0
# Read by the raylet that a local Ray starts (Ray's RayConfig, from RAY_<name>).
_WORKER_NICENESS = "RAY_worker_niceness"
# Replies are collected one after another: one already come is taken even when another
# shard used up the time a query gives its shards.
_COLLECT_SECONDS = 0.5
# A query's first call to a shard, the one that loads the shard's new index files.
_STARTING = frozenset({"statistics", "signals"})
# A query's calls, and the catalogue's short ones: each takes a few milliseconds.
_QUICK = frozenset({"statistics", "signals", "candidates", "records", "counts", "article"})
# A replica holds nothing to save: stopped, it waits this long for the calls it answers.
_STOP_SECONDS = 5.0
# How long a shard may take to make its starter questions (it asks itself a few dozen).
_STARTERS_TIMEOUT_SECONDS = 120.0
# A group replica's share of each of its shards' custom resources (``cluster_pin_shards``).
_PINNED_SHARE = 0.001
# Loads in a second where torch takes ten; the same model's name and dimension.
_NAMING_BACKEND = "onnx-int8"


class ShardGroupReplica:
    """One copy of a group of shards: their archive folders, opened in this replica.

    A call of the front asks several of the group's shards (``calls``: a round of one query,
    one call a group rather than one a shard). The short calls of a query run one after
    another on the replica's event loop, where Serve runs its coroutines: threads beside it
    would only take turns with it for the interpreter (docs/benchmarks.md, cluster_serve). A
    long one (a name of many words to match, starter questions, a page of the article list)
    runs on its shard's threads, so that it holds up no query.
    """

    def __init__(self, settings: Settings, shards: list[tuple[int, str]]) -> None:
        self._cluster = settings.data_dir
        self._stamp = manifest_stamp(self._cluster)
        manifest = load_manifest(self._cluster)
        # A shard encodes nothing (the front sends vectors): the model, on its lightest
        # runtime, only names the vectors its index holds.
        naming = settings.model_copy(update={"backend": _NAMING_BACKEND})
        encoder = open_encoder(naming)
        self._shards: dict[int, LocalShard] = {}
        try:
            for number, name in shards:
                mine = naming.model_copy(
                    update={"data_dir": manifest.shard_dir(self._cluster, name)}
                )
                self._shards[number] = LocalShard(Shard(number, Archive.open(mine, encoder)))
        except BaseException:
            self._close()
            raise

    def _is_behind(self) -> bool:
        """Whether a new cluster manifest vouches for new index files (taken as seen)."""
        stamp = manifest_stamp(self._cluster)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def _catch_up(self) -> None:
        for local in self._shards.values():
            local.shard.archive.catch_up()

    async def calls(self, calls: list[ShardCall]) -> list[ShardOutcome]:
        """Each call's answer, or why its shard could not give it. A query starts with
        ``statistics`` or ``signals``: the replica that takes it loads the new index first.
        (A call after it may reach another replica, a moment behind while it loads.)"""
        if any(call.method in _STARTING for call in calls) and self._is_behind():
            await asyncio.to_thread(self._catch_up)
        started = {  # the long ones, all at once, each on its shard's threads
            index: asyncio.wrap_future(getattr(self._shards[call.number], call.method)(*call.args))
            for index, call in enumerate(calls)
            if call.method not in _QUICK
        }
        outcomes = []
        for index, call in enumerate(calls):
            try:
                if index in started:
                    value = await started[index]
                else:
                    value = getattr(self._shards[call.number].shard, call.method)(*call.args)
                outcomes.append(ShardOutcome(value))
            except Exception as exc:  # this shard's call alone fails; the front names it
                log.error("shard %d could not answer %s", call.number, call.method, exc_info=exc)
                outcomes.append(ShardOutcome(None, first_line(exc)))
        return outcomes

    def _close(self) -> None:
        for local in self._shards.values():
            local.close()


@dataclass(frozen=True)
class ShardCall:
    """One shard's part of a call to its group: ``method`` of ``LocalShard``."""

    number: int
    method: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class ShardOutcome:
    """A shard's answer to its ``ShardCall``: one shard failing fails its call alone."""

    value: Any
    error: str | None = None  # why the shard could not answer


class ShardGroup:
    """A group's deployment as the front calls it: any of its replicas answers."""

    def __init__(self, name: str, handle: DeploymentHandle[Any]) -> None:
        self.name = name
        # Over the replicas' own gRPC channel rather than as Ray actor tasks (Serve's default),
        # and pickled rather than cloudpickled (every value sent is plain data of importable
        # classes): a round of calls to the shards costs less (docs/benchmarks.md,
        # cluster_serve).
        self.handle = handle.options(
            _by_reference=False, request_serialization="pickle", response_serialization="pickle"
        )


class _Unsent(threading.local):
    """The calls each thread has made and not sent yet, by group."""

    def __init__(self) -> None:
        self.rounds: dict[ShardGroup, _Round] = {}


_unsent = _Unsent()


class _Round:
    """The calls one thread made to one group since it last waited for a reply, sent as one:
    the coordinator makes every shard's call of a round before it waits for any."""

    def __init__(self, group: ShardGroup) -> None:
        self.group = group
        self.calls: list[ShardCall] = []
        self._deadline = 0.0
        self._response: DeploymentResponse[list[ShardOutcome]] | None = None
        self._outcomes: list[ShardOutcome] | None = None
        self._failure = ""

    def add(self, call: ShardCall, timeout: float) -> int:
        self.calls.append(call)
        self._deadline = max(self._deadline, time.monotonic() + timeout)
        return len(self.calls) - 1

    @property
    def sent(self) -> bool:
        return self._response is not None

    def send(self) -> None:
        if not self.sent:
            self._response = cast(
                DeploymentResponse[list[ShardOutcome]], self.group.handle.calls.remote(self.calls)
            )

    def outcome(self, index: int) -> ShardOutcome:
        if self._outcomes is None and not self._failure:
            self.send()  # made on another thread, which has not waited yet
            self._collect()
        if self._outcomes is None:
            return ShardOutcome(None, self._failure)
        return self._outcomes[index]

    def _collect(self) -> None:
        """The replica's answers. Serve itself sends a request elsewhere when its replica died
        before taking it; one that dies while answering is sent again here, once. Whatever
        else keeps the group from answering in time fails every call of the round."""
        name = self.group.name
        for attempt in (1, 2):
            response = cast(DeploymentResponse[list[ShardOutcome]], self._response)
            try:
                remaining = max(_COLLECT_SECONDS, self._deadline - time.monotonic())
                self._outcomes = response.result(timeout_s=remaining)
                return
            except RayActorError as exc:  # ActorDiedError, ActorUnavailableError
                log.warning("%s: a replica died answering (try %d): %s", name, attempt, exc)
                failure: Exception = exc
                if attempt == 1:
                    self._response = None
                    self.send()
            except TimeoutError as exc:
                response.cancel()  # type: ignore[no-untyped-call]
                failure = exc
                break
            except (RayError, RayServeException, grpc.RpcError) as exc:
                log.error("%s could not answer", name, exc_info=exc)
                failure = exc
                break
        self._failure = first_line(failure)


class RemoteReply(Generic[Answered]):
    """A shard's part of a round: waiting for it first sends every call this thread has made
    and not sent, one call a group, so that the groups work at once."""

    def __init__(self, shard: RemoteShard, round_: _Round, index: int) -> None:
        self._shard = shard
        self._round = round_
        self._index = index

    def result(self) -> Answered:
        """The shard's answer, or ShardUnavailableError when no replica of its group gave it."""
        unsent, _unsent.rounds = _unsent.rounds, {}
        for waiting in unsent.values():
            waiting.send()
        outcome = self._round.outcome(self._index)
        if outcome.error is not None:
            raise ShardUnavailableError(f"{self._shard.name} did not answer: {outcome.error}")
        return cast(Answered, outcome.value)


class RemoteShard:
    """A shard as the coordinator calls it: through its group's deployment."""

    def __init__(self, number: int, name: str, group: ShardGroup, timeout: float) -> None:
        self.number = number
        self.name = name
        self.group = group
        self._timeout = timeout

    def _send(self, method: str, *args: Any, timeout: float | None = None) -> RemoteReply[Any]:
        round_ = _unsent.rounds.get(self.group)
        if round_ is None or round_.sent:  # sent: waited for on another thread
            round_ = _unsent.rounds[self.group] = _Round(self.group)
        index = round_.add(ShardCall(self.number, method, args), timeout or self._timeout)
        return RemoteReply(self, round_, index)

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
    settings: Settings,
    groups: Sequence[Sequence[int]],
    handles: Sequence[DeploymentHandle[Any]],
    encoder: Encoder | None = None,
) -> ClusterArchive:
    """The front's archive over the groups' deployments (``groups``: each one's shards, by
    number), its shards in the cluster manifest's order."""
    names = [record.name for record in load_manifest(settings.data_dir).shards]
    timeout = settings.cluster_shard_timeout_seconds
    remote: dict[int, RemoteShard] = {}
    for numbers, handle in zip(groups, handles, strict=True):
        group = ShardGroup(group_name([names[number] for number in numbers]), handle)
        remote |= {number: RemoteShard(number, names[number], group, timeout) for number in numbers}
    vectors = QuestionVectors(encoder or open_encoder(settings))
    return ClusterArchive(settings, [remote[n] for n in range(len(names))], vectors, prefetch=True)


class Front:
    """Today's routes over the shards; it loads (model, statistics) once its app has started,
    and /readyz says 503 until then, as ``dateline serve`` does."""

    def __init__(
        self, settings: Settings, groups: list[list[int]], handles: list[DeploymentHandle[Any]]
    ) -> None:
        self._settings = settings
        self._groups = groups
        self._handles = handles

    def __serve_build_asgi_app__(self) -> FastAPI:
        opening = partial(open_front, self._settings, self._groups, self._handles)
        return create_app(self._settings, opening)


shard_deployment: Deployment = serve.deployment(
    max_ongoing_requests=_SHARD_REQUESTS, graceful_shutdown_timeout_s=_STOP_SECONDS
)(ShardGroupReplica)
front_deployment: Deployment = serve.deployment(graceful_shutdown_timeout_s=_STOP_SECONDS)(
    serve.ingress()(Front)
)


def cluster_app(settings: Settings) -> Application:
    """The cluster in ``settings.data_dir`` as a Serve application: a deployment per group of
    shards (``shard_groups``) of ``cluster_replicas`` replicas, and the front; each replica of
    ``cluster_replica_cpus``."""
    names = [record.name for record in load_manifest(settings.data_dir).shards]
    groups = shard_groups(settings, names)
    cpus = {"num_cpus": settings.cluster_replica_cpus}
    deployments = [
        shard_deployment.options(
            name=group_name([names[number] for number in numbers]),
            num_replicas=settings.cluster_replicas,
            ray_actor_options=cpus | _pinned(settings, [names[number] for number in numbers]),
        ).bind(settings, [(number, names[number]) for number in numbers])
        for numbers in groups
    ]
    front = front_deployment.options(
        name="front", max_ongoing_requests=settings.max_in_flight, ray_actor_options=cpus
    )
    return front.bind(settings, groups, deployments)


def shard_groups(settings: Settings, names: Sequence[str]) -> list[list[int]]:
    """The groups of shards that replicas hold (``cluster_replica_shards``), as the Ray this
    process is connected to has its nodes and their CPUs."""
    alive = ray.nodes() if ray.is_initialized() else []  # type: ignore[no-untyped-call]
    nodes = {node["NodeID"]: node["Resources"] for node in alive if node["Alive"]}
    if settings.cluster_pin_shards:
        homes = [
            frozenset(n for n, offers in nodes.items() if shard_resource(name) in offers)
            for name in names
        ]
        cpus = {home: min(nodes[n].get("CPU", 1) for n in home) for home in homes if home}
    else:  # any node may run any shard: the cluster is one home
        everywhere = frozenset(nodes) or frozenset({"here"})
        homes = [everywhere] * len(names)
        cpus = {everywhere: sum(r.get("CPU", 0) for r in nodes.values()) or os.cpu_count() or 1}
    return group_shards(settings.cluster_replica_shards, homes, cpus)


def group_shards(
    size: int, homes: Sequence[frozenset[str]], cpus: Mapping[frozenset[str], float]
) -> list[list[int]]:
    """The shards' numbers in groups of ``size``, in order; with ``size`` 0, by where they
    may run: the shards of each home (the nodes that offer a pinned shard's resource; every
    node when unpinned) spread evenly over as many groups as the home has ``cpus``, since a
    replica runs its shards' Python on one core at a time, and over no more; a shard no node
    offers alone. Elasticsearch's coordinator likewise sends one request a node."""
    if size:
        return [
            list(range(start, min(start + size, len(homes))))
            for start in range(0, len(homes), size)
        ]
    by_home: dict[frozenset[str], list[int]] = {}
    groups: list[list[int]] = []
    for number, home in enumerate(homes):
        if home:
            by_home.setdefault(home, []).append(number)
        else:
            groups.append([number])
    for home, numbers in by_home.items():
        count = max(1, min(len(numbers), int(cpus[home])))
        groups += [
            numbers[part * len(numbers) // count : (part + 1) * len(numbers) // count]
            for part in range(count)
        ]
    return sorted(groups)


def group_name(names: Sequence[str]) -> str:
    """A group's deployment name: its shard's, or its first shard's and how many more."""
    return names[0] if len(names) == 1 else f"{names[0]}+{len(names) - 1}"


def shard_resource(name: str) -> str:
    """The custom resource of the nodes that hold shard ``name`` (``cluster_pin_shards``)."""
    return f"dateline-{name}"


def _pinned(settings: Settings, names: Sequence[str]) -> dict[str, Any]:
    """A group replica's demand on its shards' resources when shards are pinned: a sliver of
    a unit each, so that a node offering them runs every replica that fits its CPUs."""
    if not settings.cluster_pin_shards:
        return {}
    return {"resources": {shard_resource(name): _PINNED_SHARE for name in names}}


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
