"""A cluster on Ray Serve, over HTTP: /api/chat and /api/search answer as the single archive
(1, 2 and 4 shards, a deployment per shard or per group of shards); a replica killed mid-query
is retried on another; a shard with no live replica leaves its articles out, and the answer
says so (200, ``partial``), until it is back.

In Serve's local testing mode (shard deployments in this process, no Ray cluster): the routes
read every shard's articles and refuse writes, and an ingest's new manifest is followed.

One local Ray instance for the module; every cluster is made from one ingested archive by
copying its rows (bench.shards), and every answer is compared with that archive's.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import ray
from fastapi.testclient import TestClient
from ray import serve
from ray.serve import Application
from ray.serve.api import RunTarget

from bench.shards import split_archive
from embeddings.encoder import Encoder
from qa.api import create_app
from qa.archive import Archive
from qa.cluster.archive import ClusterArchive
from qa.cluster.coordinator import ShardUnavailableError
from qa.cluster.manifest import load_manifest, write_manifest
from qa.cluster.serve import (
    RemoteShard,
    ShardGroup,
    build_app,
    cluster_app,
    group_name,
    group_shards,
    open_front,
    shard_deployment,
    shard_groups,
    shard_resource,
)
from qa.cluster.shard import Shard
from qa.factories import open_encoder, open_store
from qa.ingest import ingest_directory
from qa.lexical import LexicalIndex
from qa.settings import Settings

from .cluster_kit import QUESTIONS, pids_titled, wire_corpus
from .conftest import free_port, one_error_line, run_dateline, start_server, stop_server

AS_OF = date(2023, 7, 1)
LAYOUTS = (1, 2, 4)  # shards; the 2-shard cluster runs 2 replicas of each
# Shards a replica holds in each layout (0: a node's spread over its CPUs, here 2 groups of 2).
GROUPED = {1: 0, 2: 1, 4: 0}
TOKEN = "cluster-test-token"
# A shard call waits this long for a replica before the answer leaves the shard out.
SHARD_TIMEOUT = 5.0
# The 12 replicas of all layouts fit 2 CPUs.
REPLICA_CPUS = 0.1


@dataclass(frozen=True)
class Wire:
    single: Settings  # the ingested archive every cluster is copied from
    encoder: Encoder  # the fronts' encoder (the default backend), asking the single archive too
    clusters: dict[int, Path]


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Wire:
    root = tmp_path_factory.mktemp("cluster-serve")
    single = Settings(data_dir=root / "single", rate_limit_per_minute=0, api_token=TOKEN)
    encoder = open_encoder(single)
    corpus = wire_corpus(root / "corpus", 150)
    ingest_directory(
        corpus, open_store(single), encoder, single.data_dir, single.max_file_bytes, progress=False
    )
    clusters = {n: split_archive(single, n, root / f"cluster-{n}", encoder) for n in LAYOUTS}
    return Wire(single, encoder, clusters)


@pytest.fixture(scope="module")
def reference(wire: Wire) -> Iterator[Archive]:
    archive = Archive.open(wire.single, wire.encoder)
    yield archive
    archive.close()


def _cluster_settings(
    wire: Wire, folder: Path, replicas: int = 1, pinned: bool = False, grouped: int = 0
) -> Settings:
    return wire.single.model_copy(
        update={
            "data_dir": folder,
            "cluster_replicas": replicas,
            "cluster_shard_timeout_seconds": SHARD_TIMEOUT,
            "cluster_replica_cpus": REPLICA_CPUS,
            "cluster_pin_shards": pinned,
            "cluster_replica_shards": grouped,
        }
    )


def _settings_served(wire: Wire, n: int, folder: Path) -> Settings:
    """2 shards, a deployment each of 2 replicas; 4 shards pinned to the node that offers their
    resources (the only one here: a replica asking for a resource no node has would never
    start), in as many groups as it has CPUs."""
    return _cluster_settings(
        wire, folder, replicas=2 if n == 2 else 1, pinned=n == 4, grouped=GROUPED[n]
    )


def _application(settings: Settings, built: bool) -> Application:
    """The app from settings, or built from the settings that differ from the defaults as
    text, as ``serve run qa.cluster.serve:build_app key=value ...`` and a RayService give
    them."""
    if not built:
        return cluster_app(settings)
    given = settings.model_dump(exclude_defaults=True)
    return build_app({name: str(value) for name, value in given.items()})


@pytest.fixture(scope="module")
def serving(wire: Wire) -> Iterator[str]:
    """Every layout served at once by one local Ray, each under its own prefix (/c1, ...)."""
    pinned = load_manifest(wire.clusters[4]).shards
    ray.init(
        address="local",
        num_cpus=2,
        resources={shard_resource(shard.name): 1 for shard in pinned},
        include_dashboard=False,
        logging_level="WARNING",
    )
    try:
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run_many(
            [
                RunTarget(
                    _application(_settings_served(wire, n, folder), built=n == 1),
                    name=f"c{n}",
                    route_prefix=f"/c{n}",
                    logging_config={"enable_access_log": False},
                )
                for n, folder in wire.clusters.items()
            ],
            wait_for_applications_running=False,  # waited for below, for a limited time
        )
        base = f"http://127.0.0.1:{port}"
        for n in LAYOUTS:
            _until(lambda n=n: _ready(f"{base}/c{n}/readyz"), 300)
        yield base
    finally:
        serve.shutdown()
        ray.shutdown()


def _ready(url: str) -> bool:
    """/readyz says 200; until the app's replicas run, Serve's proxy may hold the request."""
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TimeoutException:
        return False


def _until(done: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.5)


def _expected(reference: Archive, question: str) -> dict[str, Any]:
    answer = reference.ask(question, as_of=AS_OF).model_dump(mode="json")
    del answer["took_ms"]
    return answer


def _asked(client: httpx.Client | TestClient, prefix: str, question: str) -> dict[str, Any]:
    response = client.post(
        f"{prefix}/api/chat", json={"question": question, "as_of": AS_OF.isoformat()}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    del answer["took_ms"]
    return answer


@pytest.mark.parametrize("shards", LAYOUTS)
def test_chat_and_search_over_http_answer_as_the_single_archive(
    serving: str, reference: Archive, shards: int
) -> None:
    with httpx.Client(base_url=f"{serving}/c{shards}", timeout=60) as client:
        for question in QUESTIONS:
            assert _asked(client, "", question) == _expected(reference, question), question
            found = client.get("/api/search", params={"q": question, "k": 20})
            assert found.status_code == 200, found.text
            body = found.json()
            expected = [hit.model_dump(mode="json") for hit in reference.search(question, 20)]
            assert (body["hits"], body["partial"], body["missing_shards"]) == (
                expected,
                False,
                None,
            ), question


def test_starter_questions_are_ones_the_whole_archive_answers(
    serving: str, reference: Archive
) -> None:
    """Each shard proposes its own; the front offers those the cluster answers, which are
    answered alike by the single archive (the chat test shows a cluster answers as it)."""
    with httpx.Client(base_url=f"{serving}/c4", timeout=180) as client:
        offered = client.get("/api/suggestions")
        assert offered.status_code == 200, offered.text
        questions = offered.json()["suggestions"]
        assert 1 <= len(questions) <= 4 and len(set(questions)) == len(questions), questions
        for question in questions:
            assert not reference.ask(question).abstained, question
        assert client.get("/api/suggestions").json()["suggestions"] == questions  # kept


def test_pinned_shards_take_their_nodes_resource(serving: str, wire: Wire) -> None:
    """Each replica of the pinned 4-shard layout holds a share of each of its shards'
    resources, so it runs only where a node offers them; the other layouts' replicas of
    shard-000 and shard-001 hold none (their shares would show as more taken from those two)."""
    available = ray.available_resources()  # type: ignore[no-untyped-call]
    taken = {
        shard.name: 1 - available.get(shard_resource(shard.name), 1)
        for shard in load_manifest(wire.clusters[4]).shards
    }
    assert len(set(taken.values())) == 1 and taken["shard-000"] > 0, taken


def _cpu_ticks(pid: int) -> int:
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _busiest(pids: list[int]) -> int:
    """The process that works the most over half a second."""
    before = {pid: _cpu_ticks(pid) for pid in pids}
    time.sleep(0.5)
    return max(pids, key=lambda pid: _cpu_ticks(pid) - before[pid])


def _full_strength(app: str, shard: str, replicas: int) -> bool:
    deployment = serve.status().applications[app].deployments[shard]
    return dict(deployment.replica_states) == {"RUNNING": replicas}


def test_a_replica_killed_mid_query_is_retried_on_another(
    serving: str, wire: Wire, reference: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    """A replica of shard-000 is killed while it answers a long call (a name of 240,000
    words to match) and clients ask and search without pause: the call is answered by the
    other replica, as the shard in this process answers it, and every answer is whole."""
    folder = wire.clusters[2]
    handle = serve.get_deployment_handle("shard-000", "c2")
    remote = RemoteShard(0, "shard-000", ShardGroup("shard-000", handle), 60)
    name = " ".join(["training exercises for the armed forces"] * 40_000)
    # The cluster's statistics are the single archive's (tests/test_cluster_answers.py).
    statistics = reference.indexes.lexical.statistics().of_terms(LexicalIndex.terms(name))
    shard_settings = wire.single.model_copy(update={"data_dir": folder / "shard-000"})
    local = Shard(0, Archive.open(shard_settings, wire.encoder))
    expected_match = local.best_match(name, statistics)
    local.close()

    matched: list[tuple[float, bool] | None] = []
    answers: list[tuple[str, dict[str, Any]]] = []
    searches: list[tuple[str, dict[str, Any]]] = []
    stop = threading.Event()

    def ask(first: int) -> None:
        with httpx.Client(base_url=f"{serving}/c2", timeout=60) as client:
            for turn in itertools.count(first):
                if stop.is_set():
                    return
                question = QUESTIONS[turn % len(QUESTIONS)]
                if turn % 2:
                    answers.append((question, _asked(client, "", question)))
                else:
                    found = client.get("/api/search", params={"q": question, "k": 20})
                    searches.append((question, found.json()))

    matching = threading.Thread(
        target=lambda: matched.append(remote.best_match(name, statistics).result())
    )
    clients = [threading.Thread(target=ask, args=(first,)) for first in range(4)]
    for thread in (matching, *clients):
        thread.start()
    try:
        time.sleep(0.5)  # the long call reaches its replica
        os.kill(_busiest(pids_titled("ServeReplica:c2:shard-000")), signal.SIGKILL)
        matching.join()
    finally:
        stop.set()
        for thread in clients:
            thread.join()
    assert matched == [expected_match]
    retried = [r.getMessage() for r in caplog.records if r.name == "qa.cluster.serve"]
    assert [m.split(":")[:2] for m in retried] == [
        ["shard-000", " a replica died answering (try 1)"]
    ]
    expected = {q: _expected(reference, q) for q in QUESTIONS}
    hits = {q: [h.model_dump(mode="json") for h in reference.search(q, 20)] for q in QUESTIONS}
    assert answers and searches
    assert [answer for question, answer in answers if answer != expected[question]] == []
    whole = [(found["hits"], found["partial"]) == (hits[q], False) for q, found in searches]
    assert all(whole)
    _until(lambda: _full_strength("c2", "shard-000", 2), 180)  # for the tests after this one


def test_each_group_of_shards_is_a_deployment(serving: str) -> None:
    """A deployment per shard, or per group: the 4 pinned shards of the one node of 2 CPUs
    in two."""
    deployments = {
        n: set(serve.status().applications[f"c{n}"].deployments) - {"front"} for n in LAYOUTS
    }
    assert deployments == {
        1: {"shard-000"},
        2: {"shard-000", "shard-001"},
        4: {"shard-000+1", "shard-002+1"},
    }


A, B, EVERY = frozenset({"a"}), frozenset({"b"}), frozenset({"a", "b"})


@pytest.mark.parametrize(
    ("size", "homes", "cpus", "groups"),
    [
        (1, [EVERY] * 3, {EVERY: 8}, [[0], [1], [2]]),
        (2, [EVERY] * 3, {EVERY: 8}, [[0, 1], [2]]),  # a size given: groups of it
        (0, [EVERY] * 3, {EVERY: 8}, [[0], [1], [2]]),  # cores enough: a shard a replica
        (0, [EVERY] * 5, {EVERY: 2}, [[0, 1], [2, 3, 4]]),  # spread over the cores
        (0, [EVERY] * 3, {EVERY: 1}, [[0, 1, 2]]),
        (0, [A, B, A, A], {A: 2, B: 4}, [[0], [1], [2, 3]]),  # pinned: by home
        (0, [A, frozenset(), A], {A: 1}, [[0, 2], [1]]),  # one no node offers: alone
    ],
)
def test_shards_are_grouped_by_size_or_by_the_cores_where_they_run(
    size: int, homes: list[frozenset[str]], cpus: dict[frozenset[str], int], groups: list[list[int]]
) -> None:
    assert group_shards(size, homes, cpus) == groups


@pytest.mark.parametrize("shards", [2, 4])
def test_a_shard_with_no_live_replica_is_left_out_and_named(
    serving: str, wire: Wire, reference: Archive, shards: int
) -> None:
    """A shard's folder is away and its replicas are killed: answers and hits come from the
    other shards and name it, or, where a replica holds a group, every shard of its group."""
    folder = wire.clusters[shards]
    manifest = load_manifest(folder)
    names = [shard.name for shard in manifest.shards]
    question = QUESTIONS[0]
    cited = [c["article_id"] for c in _expected(reference, question)["citations"]]
    gone = manifest.shard_of(cited[0])
    group = next(
        [names[n] for n in numbers]
        for numbers in shard_groups(_settings_served(wire, shards, folder), names)
        if gone in [names[n] for n in numbers]
    )
    # Its replicas killed, and none can start again: its folder is away.
    (folder / gone).rename(folder / f"{gone}.away")
    try:
        prefix = f"SERVE_REPLICA::c{shards}#{group_name(group)}#"
        for actor in ray.util.list_named_actors(all_namespaces=True):
            if actor["name"].startswith(prefix):
                ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]))
        with httpx.Client(base_url=f"{serving}/c{shards}", timeout=60) as client:
            answer = _asked(client, "", question)
            assert (answer["partial"], answer["missing_shards"]) == (True, group)
            owners = {manifest.shard_of(c["article_id"]) for c in answer["citations"]}
            assert not owners & set(group)
            found = client.get("/api/search", params={"q": question, "k": 10}).json()
            assert (found["partial"], found["missing_shards"]) == (True, group)
            assert found["hits"]
            hits = {manifest.shard_of(hit["article_id"]) for hit in found["hits"]}
            assert not hits & set(group)
            assert client.get("/readyz").status_code == 200
    finally:
        (folder / f"{gone}.away").rename(folder / gone)
    with httpx.Client(base_url=f"{serving}/c{shards}", timeout=60) as client:
        _until(lambda: not _asked(client, "", question)["partial"], 180)
        assert _asked(client, "", question) == _expected(reference, question)


# -- Serve's local testing mode: the shard deployments in this process -----------------------


def _served_locally(settings: Settings, encoder: Encoder) -> ClusterArchive:
    """The cluster's group deployments run in this process, and the front's archive over them."""
    names = [record.name for record in load_manifest(settings.data_dir).shards]
    groups = shard_groups(settings, names)
    handles = [
        serve.run(
            shard_deployment.options(name=group_name([names[n] for n in numbers])).bind(
                settings, [(n, names[n]) for n in numbers]
            ),
            name=f"local-{settings.data_dir.name}-{numbers[0]}",
            route_prefix=None,
            _local_testing_mode=True,
        )
        for numbers in groups
    ]
    return open_front(settings, groups, handles, encoder)


@pytest.fixture
def local_client(wire: Wire) -> Iterator[TestClient]:
    settings = _cluster_settings(wire, wire.clusters[2])
    archive = _served_locally(settings, wire.encoder)
    with TestClient(create_app(settings, lambda: archive)) as client:
        _until(lambda: client.get("/readyz").status_code == 200, 60)
        yield client


def test_a_round_to_a_group_is_one_call_whose_shards_fail_alone(wire: Wire) -> None:
    """Both shards of the 2-shard cluster in one group: a round of calls to them is sent as
    one, and a call that fails in one shard fails that shard's reply alone."""
    settings = _cluster_settings(wire, wire.clusters[2], grouped=2)
    cluster = _served_locally(settings, wire.encoder)
    first, second = cast(list[RemoteShard], cluster.shards)
    assert first.group is second.group
    failing = first.candidates(None, 0)  # type: ignore[arg-type]
    counted = second.counts()
    with pytest.raises(ShardUnavailableError, match="^shard-000 did not answer: "):
        failing.result()
    shard_settings = settings.model_copy(update={"data_dir": wire.clusters[2] / "shard-001"})
    shard = Archive.open(shard_settings, wire.encoder)
    try:
        assert counted.result() == shard.store.catalogue.counts()
    finally:
        shard.close()
    assert first.counts().result()["articles"] > 0  # the group answers the next round


def _unsigned(page: str) -> str:
    """An article page without its CSP nonce, new at every request."""
    return re.sub(r'nonce="[^"]*"', "", page)


def test_the_article_list_and_pages_read_every_shard(
    local_client: TestClient, reference: Archive
) -> None:
    with TestClient(create_app(reference.settings)) as single:
        _until(lambda: single.get("/readyz").status_code == 200, 60)
        listed = local_client.get("/api/articles", params={"offset": 5, "limit": 100})
        assert listed.status_code == 200
        assert listed.json() == single.get("/api/articles?offset=5&limit=100").json()
        for article in listed.json()["articles"][::25]:
            path = f"/api/articles/{article['article_id']}"
            assert local_client.get(path).json() == single.get(path).json()
            page = f"/articles/{article['article_id']}"
            assert _unsigned(local_client.get(page).text) == _unsigned(single.get(page).text)
        assert local_client.get("/api/articles/nowhere").status_code == 404
        readiness = local_client.get("/readyz").json()
        assert readiness == {**single.get("/readyz").json(), "generation": 1}


def test_a_clusters_server_refuses_writes_with_the_reason(local_client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    added = local_client.post(
        "/api/articles", json={"article_id": "x", "text": "A text."}, headers=auth
    )
    removed = local_client.delete("/api/articles/000_wire", headers=auth)
    verdict = local_client.post(
        "/api/feedback", json={"question": "Why?", "passages": [], "verdict": "up"}
    )
    ingest = "this server answers from a cluster: add or remove articles with `dateline cluster"
    assert (added.status_code, removed.status_code, verdict.status_code) == (409, 409, 409)
    assert added.json()["detail"].startswith(ingest)
    assert removed.json()["detail"].startswith(ingest)
    assert verdict.json() == {
        "detail": "this server answers from a cluster, which keeps no readers' verdicts"
    }


FERRY = (
    "date 2023-06-30 BERGEN, June 30. /WIRE/. Harbour master Olav Lund said on Friday that the"
    " new ferry terminal will open in August.\n"
    '"The ferry terminal doubles what the harbour can take," Lund said.\n'
)
FERRY_QUESTION = "What did Lund say about the ferry terminal?"


def test_an_ingest_is_followed_once_its_manifest_is_written(wire: Wire, tmp_path: Path) -> None:
    """An article stored in its shard, then the new manifest: the next question is answered
    with it, as a single archive holding it answers (the cluster's speakers and statistics
    read anew)."""
    folder = shutil.copytree(wire.clusters[2], tmp_path / "cluster")
    single = wire.single.model_copy(update={"data_dir": tmp_path / "single"})
    shutil.copytree(wire.single.data_dir, single.data_dir)
    settings = _cluster_settings(wire, folder)
    cluster = _served_locally(settings, wire.encoder)
    with TestClient(create_app(settings, lambda: cluster)) as client:
        _until(lambda: client.get("/readyz").status_code == 200, 60)
        assert _asked(client, "", FERRY_QUESTION)["abstained"]

        manifest = load_manifest(folder)
        name = manifest.shard_of("ferry")
        shard = Archive.open(settings.model_copy(update={"data_dir": folder / name}), wire.encoder)
        shard.put_article("ferry", FERRY)
        counts = shard.store.catalogue.counts()
        aliases = set(shard.store.reads.speaker_aliases())
        record = next(r for r in manifest.shards if r.name == name)
        updated = record.model_copy(update={**counts, "data_generation": shard.indexes.generation})
        shard.close()
        write_manifest(
            folder,
            manifest.model_copy(
                update={
                    "generation": 2,
                    "shards": [updated if r.name == name else r for r in manifest.shards],
                    "speaker_aliases": sorted(aliases | set(manifest.speaker_aliases)),
                }
            ),
        )
        expected = Archive.open(single, wire.encoder)
        expected.put_article("ferry", FERRY)
        try:
            for question in (FERRY_QUESTION, QUESTIONS[3]):
                want = expected.ask(question, as_of=AS_OF).model_dump(mode="json")
                del want["took_ms"]
                assert _asked(client, "", question) == want, question
            assert client.get("/readyz").json()["generation"] == 2
        finally:
            expected.close()


def test_cluster_serve_refuses_a_folder_that_is_no_cluster(tmp_path: Path) -> None:
    done = run_dateline("cluster", "serve", data_dir=tmp_path)
    assert one_error_line(done) == (
        f"error: {tmp_path} is not a cluster (no cluster.json): run `dateline cluster ingest`"
        " to make one"
    )


def test_cluster_serve_answers_on_its_port_from_the_fronts_replica(
    wire: Wire, reference: Archive, tmp_path: Path
) -> None:
    """``dateline cluster serve`` on a local Ray of its own, both shards in one replica: the
    front's replica answers on the port asked for (Serve's direct ingress, Serve's proxy
    elsewhere), as the single archive does; stopped, it leaves no Ray behind."""
    log = tmp_path / "serve.log"
    folder = wire.clusters[2]
    server = start_server(
        folder,
        log,
        ("cluster", "serve", "--data-dir", str(folder), "--replica-shards", "2"),
        240,
        DATELINE_RATE_LIMIT_PER_MINUTE="0",
        DATELINE_CLUSTER_REPLICA_CPUS="0.1",
    )
    try:
        for question in QUESTIONS[:3]:
            got = httpx.post(
                f"{server.url}/api/chat",
                json={"question": question, "as_of": AS_OF.isoformat()},
                timeout=60,
            ).json()
            want = reference.ask(question, as_of=AS_OF).model_dump(mode="json")
            del got["took_ms"], want["took_ms"]
            assert got == want, question
    finally:
        stop_server(server, 60)
    said = log.read_text()
    assert server.process.returncode == 0, said[-2000:]
    port = server.url.rsplit(":", 1)[1]
    assert re.search(rf"ServeReplica:dateline:front .* Started HTTP server on port {port}\b", said)


def test_cluster_serve_on_a_taken_port_says_so_before_starting_ray(wire: Wire) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        address = ("--host", "127.0.0.1", "--port", str(port))
        done = run_dateline("cluster", "serve", *address, data_dir=wire.clusters[1])
    said = f"error: cannot serve on 127.0.0.1:{port}: Address already in use"
    assert one_error_line(done) == said
