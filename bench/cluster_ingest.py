"""Cluster ingest throughput: one process against Ray Data with 1 and 2 encoder actors.

The first ``DATELINE_BENCH_CLUSTER_ARTICLES`` (2,000) Reuters-21578 articles, and the first
quarter of them, are copied into folders of their own (a link out of the folder would be
skipped) and ingested into fresh folders by each contender, with the default backend:
``ingest_directory`` (what ``dateline ingest`` runs), then ``ingest_cluster`` (what ``dateline
cluster ingest`` runs) on one local Ray instance, started once and timed apart, since a cluster
outlives its ingests (an untimed ingest warms it up first). A cluster of one shard does the
single archive's index work exactly, so its ratio is the engine's cost; two shards build two
smaller indexes.

Each contender's rate is its articles over its seconds on the whole corpus. The marginal rate,
the extra articles over the extra seconds from the quarter to the whole, leaves out what an
ingest costs whatever its size (starting Ray Data's workers and actors, loading the model):
it is the rate of a long ingest. CPU seconds are those of this process and every process it
started (Ray's included), sampled twice a second: on a shared VM they say what the work cost
where wall time says how much of the machine it got (a contender of more processes gets more of
a busy machine); the marginal CPU milliseconds an article, like the marginal rate, leave out the
start-up. Contenders alternate, ``DATELINE_BENCH_CLUSTER_REPEATS`` (3) rounds; medians
are quoted, each ratio the median of its rounds' ratios, since these VMs switch between fast and
slow spells for minutes at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

from bench import reuters
from bench.report import emit, table

__all__ = ["main"]

ARTICLES = int(os.environ.get("DATELINE_BENCH_CLUSTER_ARTICLES", "2000"))
SMALL = max(ARTICLES // 4, 1)
REPEATS = int(os.environ.get("DATELINE_BENCH_CLUSTER_REPEATS", "3"))
# (encoder actors, shards) of each Ray Data contender.
CLUSTERS = ((1, 1), (2, 1), (2, 2))

Ingest = Callable[[Path, Path], int]  # (articles folder, data folder) -> articles stored
_TICKS = os.sysconf("SC_CLK_TCK")
_SAMPLE_S = 0.5


def _cpu_seconds() -> dict[int, float]:
    """CPU seconds (user and system) of this process and of each of its descendants, by id."""
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        spent[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    mine = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        mine |= found
        grew = bool(found)
    return {pid: spent[pid] for pid in mine}


@contextmanager
def _cpu_spent() -> Iterator[list[float]]:
    """The CPU seconds this process and its descendants spend in the block (one figure, set
    on leaving): each process's last sample less its first (0 for a process started since)."""
    first = _cpu_seconds()
    last = dict(first)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(_SAMPLE_S):
            last.update(_cpu_seconds())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    spent: list[float] = []
    try:
        yield spent
    finally:
        done.set()
        sampler.join()
        last.update(_cpu_seconds())
        spent.append(sum(seconds - first.get(pid, 0.0) for pid, seconds in last.items()))


@dataclass(frozen=True)
class _Run:
    """One ingest: its seconds, the articles it stored, the CPU seconds it cost."""

    seconds: float
    articles: int
    cpu_seconds: float


def _timed(ingest: Ingest, folder: Path, data_dir: Path) -> _Run:
    started = time.perf_counter()
    with _cpu_spent() as cpu:
        articles = ingest(folder, data_dir)
    took = time.perf_counter() - started
    shutil.rmtree(data_dir, ignore_errors=True)
    return _Run(took, articles, cpu[0])


def _rate(whole: _Run, quarter: _Run) -> float:
    return whole.articles / whole.seconds


def _marginal(whole: _Run, quarter: _Run) -> float:
    return (whole.articles - quarter.articles) / (whole.seconds - quarter.seconds)


def _cpu(whole: _Run, quarter: _Run) -> float:
    return whole.cpu_seconds


def _marginal_cpu(whole: _Run, quarter: _Run) -> float:
    """CPU milliseconds an article costs, start-up left out."""
    return 1000 * (whole.cpu_seconds - quarter.cpu_seconds) / (whole.articles - quarter.articles)


def _row(
    name: str, rounds: list[tuple[_Run, _Run]], baseline: list[tuple[_Run, _Run]]
) -> dict[str, Any]:
    """A contender's medians over its rounds (each an ingest of the whole corpus and one of
    its quarter), and the medians of its rounds' ratios to the baseline's."""

    def figure(of: Callable[[_Run, _Run], float]) -> float:
        return round(median(of(*pair) for pair in rounds), 1)

    def ratio(of: Callable[[_Run, _Run], float]) -> float:
        return round(
            median(of(*mine) / of(*theirs) for mine, theirs in zip(rounds, baseline, strict=True)),
            3,
        )

    return {
        "run": name,
        "articles": rounds[0][0].articles,
        "seconds": round(median(whole.seconds for whole, _ in rounds), 1),
        "quarter_seconds": round(median(quarter.seconds for _, quarter in rounds), 1),
        "articles_per_s": figure(_rate),
        "rate_vs_one_process": ratio(_rate),
        "marginal_articles_per_s": figure(_marginal),
        "marginal_vs_one_process": ratio(_marginal),
        "cpu_seconds": figure(_cpu),
        "cpu_vs_one_process": ratio(_cpu),
        "marginal_cpu_ms_per_article": figure(_marginal_cpu),
        "marginal_cpu_vs_one_process": ratio(_marginal_cpu),
    }


def main() -> None:
    from qa.cluster.engine import ray_session, use_token_auth

    use_token_auth()  # before Ray is imported, as the CLI does
    from qa.cluster.ingest import ingest_cluster
    from qa.factories import open_encoder, open_store
    from qa.ingest import ingest_directory
    from qa.settings import Settings

    def single(folder: Path, data_dir: Path) -> int:
        settings = Settings(seeds_dir=folder, data_dir=data_dir)
        store = open_store(settings)
        try:
            ingest_directory(
                folder, store, open_encoder(settings), data_dir, settings.max_file_bytes,
                progress=False,
            )  # fmt: skip
            return store.catalogue.counts()["articles"]
        finally:
            store.close()

    def cluster(folder: Path, data_dir: Path, encoders: int, shards: int) -> int:
        settings = Settings(seeds_dir=folder, data_dir=data_dir, cluster_encoders=encoders)
        _, manifest = ingest_cluster(settings, shards=shards)
        return sum(shard.articles for shard in manifest.shards)

    contenders: dict[str, Ingest] = {"one process": single}
    for encoders, shards in CLUSTERS:
        name = f"Ray Data, {encoders} encoder(s), {shards} shard(s)"
        contenders[name] = partial(cluster, encoders=encoders, shards=shards)
    rounds: dict[str, list[tuple[_Run, _Run]]] = {name: [] for name in contenders}
    work = Path(tempfile.mkdtemp(prefix="dateline-cluster-"))
    try:
        whole = reuters.first_articles(ARTICLES, work / "whole")
        quarter = reuters.first_articles(SMALL, work / "quarter")
        started = time.perf_counter()
        with ray_session(None):
            ray_start_s = time.perf_counter() - started
            print(f"  {ARTICLES:,} and {SMALL:,} Reuters articles; Ray started in "
                  f"{ray_start_s:.1f} s", flush=True)  # fmt: skip
            # Ray's first worker processes start once for the instance, not for each ingest.
            _timed(contenders[next(reversed(contenders))], quarter, work / "warm-up")
            for attempt in range(REPEATS):
                for number, (name, ingest) in enumerate(contenders.items()):
                    data_dir = work / f"data-{attempt}-{number}"
                    small = _timed(ingest, quarter, data_dir)
                    big = _timed(ingest, whole, data_dir)
                    rounds[name].append((big, small))
                    print(f"    round {attempt + 1}, {name}: {big.seconds:.1f} s, "
                          f"{big.cpu_seconds:.1f} CPU s ({small.seconds:.1f} s for the "
                          "quarter)", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [_row(name, rounds[name], rounds["one process"]) for name in contenders]
    table(
        f"Ingest of {ARTICLES:,} Reuters articles (onnx-int8): one process against Ray Data on "
        f"a running local Ray of {os.cpu_count()} CPUs, median of {REPEATS}; marginal: from "
        f"{SMALL:,} articles to {ARTICLES:,}",
        [
            "run",
            "articles",
            "s",
            f"s ({SMALL:,})",
            "articles/s",
            "/ one process",
            "marginal articles/s",
            "/ one process",
            "CPU s",
            "/ one process",
            "marginal CPU ms/article",
            "/ one process",
        ],
        [list(row.values()) for row in rows],
    )
    emit(
        {
            "benchmark": "cluster_ingest",
            "articles": ARTICLES,
            "quarter": SMALL,
            "repeats": REPEATS,
            "ray_start_s": round(ray_start_s, 1),
            "ingest": rows,
        }
    )


if __name__ == "__main__":
    main()
