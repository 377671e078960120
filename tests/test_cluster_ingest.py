"""Cluster ingest on Ray Data: each article in the shard its bucket names, shards that open as
archives, re-runs that change only what changed, and workers killed mid-ingest."""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import ray

from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.cluster.archive import ClusterArchive
from qa.cluster.ingest import ingest_cluster
from qa.cluster.manifest import (
    MANIFEST_FILE,
    ClusterManifest,
    ShardRecord,
    load_manifest,
    write_manifest,
)
from qa.cluster.routing import BUCKETS, bucket, spread
from qa.errors import ClusterError
from qa.indexes import IndexFolder
from qa.ingest import IngestReport, folder_candidates
from qa.settings import Settings
from qa.store import STORE_FILE, Store

from .cluster_kit import pids_titled
from .conftest import (
    PUTIN_ARTICLE,
    SEEDS,
    free_port,
    one_error_line,
    prepare_default_encoder,
    run_dateline,
)

GENERATED = 300
_CITIES = ("OSLO", "BERGEN", "TROMSO", "STAVANGER", "BODO")
_FIRST = ("Kari", "Ola", "Ingrid", "Lars", "Sigrid", "Nils")
_LAST = ("Nordmann", "Hansen", "Berg", "Dahl", "Lie", "Moen")


def _generated(number: int) -> str:
    """A short wire story, its facts (and so its text) its own, with a quoted speaker."""
    day = 1 + number % 28
    city = _CITIES[number % len(_CITIES)]
    name = f"{_FIRST[number % len(_FIRST)]} {_LAST[number // len(_FIRST) % len(_LAST)]}"
    return (
        f"date 2024-03-{day:02d} {city}, March {day}. /NTB/. Fjord Works {number} said its"
        f" quarterly profit rose {number % 40 + 2} percent on sales of {number * 7 + 11} boats.\n"
        f'"Demand for electric ferries is strong," chief executive {name} said.\n'
        f"{name.split()[1]} added that plant number {number} would hire {number % 90 + 10}"
        " workers next year.\n"
    )


def _write_corpus(folder: Path, count: int) -> set[str]:
    """The seeds and ``count`` generated stories in ``folder``; their article ids."""
    shutil.copytree(SEEDS, folder)
    for number in range(count):
        (folder / f"wire-{number:04d}.txt").write_text(_generated(number), encoding="utf-8")
    return {path.stem for path in folder.iterdir()}


@pytest.fixture(scope="module")
def cluster_ray() -> Iterator[str]:
    """One local Ray for the module (its GCS address), with fractional actors' room."""
    prepare_default_encoder()
    mode = os.environ.get("RAY_AUTH_MODE")
    # Ray turns token auth on for the instance it starts (RAY_AUTH_MODE=token, inherited by
    # the commands the tests run), as `dateline cluster` does.
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        if mode is None:
            os.environ.pop("RAY_AUTH_MODE", None)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    folder = tmp_path_factory.mktemp("corpus") / "articles"
    return folder, _write_corpus(folder, GENERATED)


def _shard_ids(data_dir: Path, manifest: ClusterManifest) -> dict[str, list[str]]:
    """Each shard's stored article ids, read from its store."""
    found = {}
    for shard in manifest.shards:
        with sqlite3.connect(manifest.shard_dir(data_dir, shard.name) / STORE_FILE) as db:
            found[shard.name] = [row[0] for row in db.execute("SELECT article_id FROM articles")]
    return found


def _assert_each_once_in_its_shard(
    data_dir: Path, manifest: ClusterManifest, expected: set[str]
) -> None:
    held = _shard_ids(data_dir, manifest)
    every = [article_id for ids in held.values() for article_id in ids]
    assert sorted(every) == sorted(expected)  # all there, none twice
    for name, ids in held.items():
        assert all(manifest.buckets[bucket(article_id)] == name for article_id in ids)
    assert set(manifest.content_hashes) == expected


def _answers(settings: Settings, encoder: Encoder, questions: list[str]) -> list[dict[str, Any]]:
    """The cluster's answers, in process, without their timings."""
    cluster = ClusterArchive.open(settings, encoder)
    try:
        return [
            cluster.ask(q, as_of=date(2024, 4, 1)).model_dump(exclude={"took_ms"})
            for q in questions
        ]
    finally:
        cluster.close()


def test_buckets_move_to_another_number_of_shards_without_encoding(
    cluster_ray: str, corpus: tuple[Path, set[str]], tmp_path: Path, encoder: Encoder
) -> None:
    """2 shards become 4, then 1: every article lands in the shard its bucket now names, its
    rows copied (nothing added, nothing encoded), the emptied shards' folders go, and the
    cluster answers as before. A move stopped midway is finished by the next ingest."""
    folder, expected = corpus
    settings = Settings(seeds_dir=folder, data_dir=tmp_path / "cluster")
    ingest_cluster(settings, shards=2)
    questions = [
        "What did Putin say about training?",
        "What did Sigrid Berg say about ferries?",
        "How many boats did Fjord Works 12 sell?",
    ]
    answers = _answers(settings, encoder, questions)
    assert all(answer["citations"] for answer in answers)

    for shards in (4, 1):
        report, manifest = ingest_cluster(settings, shards=shards)
        assert (report.added, report.updated, report.removed) == ([], [], [])
        assert report.unchanged == len(expected) and len(manifest.shards) == shards
        _assert_each_once_in_its_shard(settings.data_dir, manifest, expected)
        _assert_indexes_match_their_stores(settings.data_dir, manifest)
        folders = sorted(p.name for p in settings.data_dir.glob("shard-*"))
        assert folders == [shard.name for shard in manifest.shards]
        assert _answers(settings, encoder, questions) == answers

    # Stopped midway from 1 shard to 3: the manifest says so, some articles are in two shards.
    single = load_manifest(settings.data_dir)
    write_manifest(settings.data_dir, single.model_copy(update={"resharding_to": 3}))
    target = spread(["shard-000", "shard-001", "shard-002"])
    copied = [a for a in sorted(expected) if target[bucket(a)] == "shard-002"][:20]
    (settings.data_dir / "shard-002").mkdir()
    halfway = Store(settings.data_dir / "shard-002" / STORE_FILE)
    halfway.writes.copy_articles(settings.data_dir / "shard-000" / STORE_FILE, copied)
    halfway.close()
    with pytest.raises(ClusterError, match="moving its buckets to 3 shards"):
        ingest_cluster(settings, shards=2)
    status = _dateline("cluster", "status", "--data-dir", str(settings.data_dir))
    out, err = status.communicate(timeout=60)
    assert status.returncode == 0 and not err
    assert out.splitlines()[-2:] == [
        "moving its buckets to 3 shards, unfinished: run `dateline cluster ingest --shards 3`"
        " to finish",
        "shard-002: a folder the manifest names no shard for (a move of buckets made or"
        " emptied it; the next `dateline cluster ingest` finishes the move or removes it)",
    ]
    _, manifest = ingest_cluster(settings)
    assert len(manifest.shards) == 3 and manifest.resharding_to is None
    _assert_each_once_in_its_shard(settings.data_dir, manifest, expected)
    _assert_indexes_match_their_stores(settings.data_dir, manifest)
    assert _answers(settings, encoder, questions) == answers

    # A move to fewer shards stopped after its manifest, before the emptied folder went: the
    # next ingest removes it and changes nothing else.
    (settings.data_dir / "shard-003").mkdir()
    emptied = Store(settings.data_dir / "shard-003" / STORE_FILE)
    emptied.close()
    report, after = ingest_cluster(settings)
    assert not (settings.data_dir / "shard-003").exists()
    assert (report.added, report.updated, report.removed) == ([], [], [])
    assert after == manifest
    assert _answers(settings, encoder, questions) == answers


def _assert_indexes_match_their_stores(data_dir: Path, manifest: ClusterManifest) -> None:
    for shard in manifest.shards:
        store = Store(manifest.shard_dir(data_dir, shard.name) / STORE_FILE)
        try:
            indexes = IndexFolder(store, manifest.shard_dir(data_dir, shard.name)).verify()
            assert indexes.generation == shard.data_generation == store.data_generation()
            assert indexes.passages.live == shard.passages
        finally:
            store.close()


@pytest.mark.parametrize("shards", [1, 2, 4])
def test_every_article_lands_once_in_the_shard_its_bucket_names(
    cluster_ray: str,
    corpus: tuple[Path, set[str]],
    tmp_path: Path,
    encoder: Encoder,
    shards: int,
) -> None:
    folder, expected = corpus
    settings = Settings(seeds_dir=folder, data_dir=tmp_path / "cluster")
    report, manifest = ingest_cluster(settings, shards=shards)

    assert sorted(report.added) == sorted(expected) and not report.skipped
    assert manifest == load_manifest(settings.data_dir)
    assert [s.name for s in manifest.shards] == [f"shard-{i:03d}" for i in range(shards)]
    assert manifest.bucket_counts() == {
        s.name: BUCKETS // shards for s in manifest.shards
    }  # 1,024 buckets split evenly
    _assert_each_once_in_its_shard(settings.data_dir, manifest, expected)
    _assert_indexes_match_their_stores(settings.data_dir, manifest)
    assert sum(s.articles for s in manifest.shards) == len(expected)
    if shards > 1:  # the ids spread: no shard is left empty
        assert all(s.articles for s in manifest.shards)

    # Each shard is an archive folder: it opens and answers from its own articles.
    aliases: set[tuple[str, str]] = set()
    for shard in manifest.shards:
        shard_settings = settings.model_copy(
            update={"data_dir": manifest.shard_dir(settings.data_dir, shard.name)}
        )
        archive = Archive.open(shard_settings, encoder)
        try:
            aliases |= set(archive.store.reads.speaker_aliases())
            hits = archive.search("profit of Fjord Works", 3)
            assert hits and all(manifest.shard_of(hit.article_id) == shard.name for hit in hits)
        finally:
            archive.close()
    assert set(manifest.speaker_aliases) == aliases and ("nordmann", "Kari Nordmann") in aliases

    # Again, unchanged: nothing read, nothing written, no new generation anywhere.
    written = (settings.data_dir / MANIFEST_FILE).stat().st_mtime_ns
    again, same = ingest_cluster(settings)
    assert (again.added, again.updated, again.removed, again.skipped) == ([], [], [], [])
    assert again.unchanged == len(expected)
    assert same == manifest
    assert (settings.data_dir / MANIFEST_FILE).stat().st_mtime_ns == written


def test_a_rerun_updates_adds_and_removes_in_the_owning_shards(
    cluster_ray: str, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    expected = _write_corpus(folder, 40)
    settings = Settings(seeds_dir=folder, data_dir=tmp_path / "cluster")
    _, before = ingest_cluster(settings, shards=2)

    changed = folder / "wire-0007.txt"
    changed.write_text(changed.read_text() + "The ferries enter service in May, she said.\n")
    (folder / f"{PUTIN_ARTICLE}.txt").unlink()
    (folder / "wire-0041.txt").write_text(_generated(41))
    # The same text under a second name is a duplicate: skipped with a warning.
    shutil.copy(folder / "wire-0003.txt", folder / "wire-copy.txt")
    report, after = ingest_cluster(settings)

    assert report.updated == ["wire-0007"] and report.added == ["wire-0041"]
    assert report.removed == [PUTIN_ARTICLE]
    assert [label for label, _ in report.skipped] == [str(folder / "wire-copy.txt")]
    assert report.unchanged == len(expected) - 2
    expected = expected - {PUTIN_ARTICLE} | {"wire-0041"}
    _assert_each_once_in_its_shard(settings.data_dir, after, expected)
    _assert_indexes_match_their_stores(settings.data_dir, after)
    assert after.generation == before.generation + 1
    assert after.content_hashes["wire-0007"] != before.content_hashes["wire-0007"]
    touched = {after.shard_of(a) for a in ("wire-0007", "wire-0041", PUTIN_ARTICLE)}
    for old, new in zip(before.shards, after.shards, strict=True):
        assert (new.data_generation > old.data_generation) == (new.name in touched)


def test_an_ingest_in_several_windows_stores_what_one_window_does(
    cluster_ray: str, tmp_path: Path
) -> None:
    """Each window is a Ray Data run of its own; an article whose text an earlier window
    stored is still a duplicate."""
    folder = tmp_path / "articles"
    expected = _write_corpus(folder, 40)
    shutil.copy(folder / "wire-0003.txt", folder / "wire-copy.txt")  # listed last
    listed = folder_candidates(folder, {}, 10**7, IngestReport()).items
    pickled = sum(len(pickle.dumps(candidate)) for candidate in listed)
    settings = Settings(
        seeds_dir=folder, data_dir=tmp_path / "cluster", cluster_window_bytes=pickled // 3
    )
    report, manifest = ingest_cluster(settings, shards=2)

    assert sorted(report.added) == sorted(expected)
    assert [label for label, _ in report.skipped] == [str(folder / "wire-copy.txt")]
    _assert_each_once_in_its_shard(settings.data_dir, manifest, expected)
    _assert_indexes_match_their_stores(settings.data_dir, manifest)


def _survives(
    corpus: tuple[Path, set[str]], data_dir: Path, kill: Callable[[], int | None]
) -> None:
    """A 2-shard ingest, a few articles a block, while a thread calls ``kill`` until it kills
    something (it says how many articles were committed then): killed with work left, the
    ingest still stores every article once, in its shard, with indexes to match."""
    folder, expected = corpus
    killed: list[int] = []

    def keep_trying() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            committed = kill()
            if committed is not None:
                killed.append(committed)
            time.sleep(0.02)

    killer = threading.Thread(target=keep_trying)
    killer.start()
    settings = Settings(seeds_dir=folder, data_dir=data_dir, cluster_block_articles=16)
    report, manifest = ingest_cluster(settings, shards=2)
    killer.join()

    assert killed and killed[0] < len(expected), killed
    assert sorted(report.added) == sorted(expected)
    _assert_each_once_in_its_shard(data_dir, manifest, expected)
    _assert_indexes_match_their_stores(data_dir, manifest)


def test_a_writer_killed_mid_ingest_is_restarted_and_loses_nothing(
    cluster_ray: str, corpus: tuple[Path, set[str]], tmp_path: Path
) -> None:
    data_dir = tmp_path / "cluster"

    def kill_a_writer() -> int | None:
        committed = _committed(data_dir)
        if committed == 0:
            return None
        for name in ray.util.list_named_actors():
            if name.startswith("dateline-writer-"):
                ray.kill(ray.get_actor(name), no_restart=False)  # as a crash: Ray restarts it
                return committed
        return None

    _survives(corpus, data_dir, kill_a_writer)


def test_an_encoder_killed_mid_ingest_is_replaced_and_loses_nothing(
    cluster_ray: str, corpus: tuple[Path, set[str]], tmp_path: Path
) -> None:
    """SIGKILL to the encoder actor's process once some blocks are stored: Ray Data starts
    another and its blocks are encoded again; each article is stored once."""
    data_dir = tmp_path / "cluster"

    def kill_the_encoder() -> int | None:
        encoders = pids_titled("MapBatches(_Encoding)")
        committed = _committed(data_dir)
        if not encoders or committed == 0:
            return None
        os.kill(encoders[0], signal.SIGKILL)
        return committed

    _survives(corpus, data_dir, kill_the_encoder)


def _dateline(*args: str) -> subprocess.Popen[str]:
    """The CLI, committing a few articles at a time: a kill then finds some committed and
    some not."""
    return subprocess.Popen(
        [sys.executable, "-m", "qa", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DATELINE_CLUSTER_BLOCK_ARTICLES": "16"},
    )


def _committed(data_dir: Path) -> int:
    """Articles committed in the cluster folder's shards so far."""
    total = 0
    for store in data_dir.glob(f"shard-*/{STORE_FILE}"):
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
                total += db.execute("SELECT count(*) FROM articles").fetchone()[0]
        except sqlite3.OperationalError:  # not made yet
            pass
    return total


def test_an_ingest_killed_midway_resumes_and_stores_each_article_once(
    cluster_ray: str, corpus: tuple[Path, set[str]], tmp_path: Path
) -> None:
    """``dateline cluster ingest`` joins the running cluster; killed once some articles are
    committed, it is run again (its shards now named by the folder) and finishes the job."""
    folder, expected = corpus
    data_dir = tmp_path / "cluster"
    first = _dateline(
        "cluster", "ingest", "--shards", "2", "--seeds", str(folder),
        "--data-dir", str(data_dir), "--address", cluster_ray,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _committed(data_dir) == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.poll() is None, first.communicate()
    os.kill(first.pid, signal.SIGKILL)
    first.communicate()
    assert 0 < _committed(data_dir) < len(expected)
    assert not (data_dir / MANIFEST_FILE).exists()  # killed before its last step

    again = _dateline(
        "cluster", "ingest", "--seeds", str(folder), "--data-dir", str(data_dir),
        "--address", cluster_ray,
    )  # fmt: skip
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    manifest = load_manifest(data_dir)
    _assert_each_once_in_its_shard(data_dir, manifest, expected)
    _assert_indexes_match_their_stores(data_dir, manifest)
    assert f"cluster: 2 shards, {len(expected)} articles" in out

    status = _dateline("cluster", "status", "--data-dir", str(data_dir))
    out, err = status.communicate(timeout=60)
    lines = out.splitlines()
    assert status.returncode == 0 and not err
    assert lines[0].startswith(f"cluster {data_dir}: 2 shards, model all-MiniLM-L6-v2")
    assert [line.split()[0] for line in lines[2:]] == ["shard-000", "shard-001"]
    assert sum(int(line.split()[1].replace(",", "")) for line in lines[2:]) == len(expected)
    assert [line.split()[4] for line in lines[2:]] == ["512", "512"]


def test_a_cluster_is_made_in_a_folder_of_its_own_of_a_number_of_shards(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / STORE_FILE).touch()
    with pytest.raises(ClusterError, match="holds a single archive"):
        ingest_cluster(Settings(seeds_dir=SEEDS, data_dir=archive), shards=2)
    with pytest.raises(ClusterError, match="say how many shards to make"):
        ingest_cluster(Settings(seeds_dir=SEEDS, data_dir=tmp_path / "new"))
    (tmp_path / "begun" / "shard-000").mkdir(parents=True)  # a first ingest killed early
    with pytest.raises(ClusterError, match="run it again with --shards 1"):
        ingest_cluster(Settings(seeds_dir=SEEDS, data_dir=tmp_path / "begun"), shards=2)


def test_status_of_a_folder_that_is_no_cluster_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qa", "cluster", "status", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"error: {tmp_path} is not a cluster (no cluster.json): run `dateline cluster"
        " ingest` to make one\n"
    )


def test_the_embedded_default_never_imports_ray() -> None:
    code = (
        "import json, sys; import qa.api.app, qa.archive, qa.cli, qa.ingest, qa.cluster,"
        " qa.cluster.manifest, qa.cluster.routing; print(json.dumps(sorted(m for m in"
        " sys.modules if m == 'ray' or m.startswith('ray.'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_ids_route_as_crc32_of_their_utf8_modulo_1024() -> None:
    """Pinned to CRC-32's published value: a changed hash would strand every stored article
    in the wrong shard."""
    assert bucket("hello") == 0x3610A686 % BUCKETS == 646
    assert bucket("Ålesund-1") == zlib.crc32("Ålesund-1".encode()) % BUCKETS


@pytest.mark.parametrize("command", ["ingest", "serve"])
def test_an_address_where_no_cluster_listens_is_one_line_at_once(
    command: str, tmp_path: Path
) -> None:
    """Ray itself would retry it for minutes; the command says so in seconds."""
    address = f"127.0.0.1:{free_port()}"  # closed as soon as it was found free
    if command == "serve":  # a cluster to serve, so that only the address is wrong
        cluster = tmp_path / "cluster"
        cluster.mkdir()
        shard = ShardRecord(
            name="shard-000", data_generation=1, articles=0, passages=0, sentences=0
        )
        manifest = ClusterManifest(
            model="all-MiniLM-L6-v2",
            dimension=384,
            generation=1,
            shards=[shard],
            buckets=spread([shard.name]),
            speaker_aliases=[],
            content_hashes={},
        )
        write_manifest(cluster, manifest)
        args: tuple[str, ...] = ("cluster", "serve", "--address", address)
    else:
        cluster = tmp_path / "new"
        args = ("cluster", "ingest", "--shards", "2", "--seeds", str(SEEDS), "--address", address)
    started = time.monotonic()
    done = run_dateline(*args, data_dir=cluster)
    assert one_error_line(done) == (
        f"error: cannot join the Ray cluster at {address} (Connection refused): check the"
        " address (host:port of its head, as `ray start --head` printed it)"
    )
    assert time.monotonic() - started < 30
    assert not (cluster / "shard-000").exists()
