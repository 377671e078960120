"""Cluster ingest throughput: one process against Ray Data with 1 and 2 encoder actors.

The first ``DATELINE_BENCH_CLUSTER_ARTICLES`` (2,000) Reuters-21578 articles, copied into a
folder of their own (a link out of the folder would be skipped), are ingested into a fresh
folder by each contender, with the default backend: ``ingest_directory`` (what ``dateline
ingest`` runs), then ``ingest_cluster`` (what ``dateline cluster ingest`` runs) on one local
Ray instance, started once and timed apart, since a cluster outlives its ingests. A cluster of
one shard does the single archive's index work exactly, so its ratio is the engine's cost;
two shards build two smaller indexes. Contenders alternate, ``DATELINE_BENCH_CLUSTER_REPEATS``
(3) rounds, and medians are quoted, each ratio the median of its rounds' ratios: these VMs
switch between fast and slow spells for minutes at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

from bench import reuters
from bench.report import emit, table

__all__ = ["main"]

ARTICLES = int(os.environ.get("DATELINE_BENCH_CLUSTER_ARTICLES", "2000"))
REPEATS = int(os.environ.get("DATELINE_BENCH_CLUSTER_REPEATS", "3"))
# (encoder actors, shards) of each Ray Data contender.
CLUSTERS = ((1, 1), (2, 1), (2, 2))


def _articles(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for path in sorted(reuters.article_files().iterdir())[:ARTICLES]:
        shutil.copyfile(path, folder / path.name)
    return folder


def _timed(ingest: Callable[[Path], int], data_dir: Path) -> tuple[float, int]:
    """Seconds an ingest into ``data_dir`` took, and the articles it stored."""
    started = time.perf_counter()
    articles = ingest(data_dir)
    return time.perf_counter() - started, articles


def main() -> None:
    from qa.cluster.engine import ray_session, use_token_auth

    use_token_auth()  # before Ray is imported, as the CLI does
    from qa.cluster.ingest import ingest_cluster
    from qa.factories import open_encoder, open_store
    from qa.ingest import ingest_directory
    from qa.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="dateline-cluster-"))
    names = ["one process", *(f"Ray Data, {e} encoder(s), {s} shard(s)" for e, s in CLUSTERS)]
    seconds: dict[str, list[float]] = {name: [] for name in names}
    stored: dict[str, int] = {}
    try:
        folder = _articles(work / "articles")
        settings = Settings(seeds_dir=folder)

        def single(data_dir: Path) -> int:
            local = settings.model_copy(update={"data_dir": data_dir})
            store = open_store(local)
            try:
                ingest_directory(
                    folder, store, open_encoder(local), data_dir, local.max_file_bytes,
                    progress=False,
                )  # fmt: skip
                return store.catalogue.counts()["articles"]
            finally:
                store.close()

        def cluster(data_dir: Path, encoders: int, shards: int) -> int:
            local = settings.model_copy(update={"data_dir": data_dir, "cluster_encoders": encoders})
            _, manifest = ingest_cluster(local, shards=shards)
            return sum(shard.articles for shard in manifest.shards)

        started = time.perf_counter()
        with ray_session(None):
            ray_start_s = time.perf_counter() - started
            print(
                f"  {ARTICLES:,} Reuters articles; Ray started in {ray_start_s:.1f} s", flush=True
            )
            for attempt in range(REPEATS):
                runs: list[tuple[str, Callable[[Path], int]]] = [(names[0], single)]
                runs += [
                    (name, partial(cluster, encoders=encoders, shards=shards))
                    for name, (encoders, shards) in zip(names[1:], CLUSTERS, strict=True)
                ]
                for name, run in runs:
                    data_dir = work / f"data-{attempt}-{names.index(name)}"
                    took, stored[name] = _timed(run, data_dir)
                    seconds[name].append(took)
                    shutil.rmtree(data_dir, ignore_errors=True)
                    print(f"    round {attempt + 1}, {name}: {took:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows: list[dict[str, Any]] = []
    for name in names:
        took = median(seconds[name])
        ratio = median(
            one / other for one, other in zip(seconds[names[0]], seconds[name], strict=True)
        )
        rows.append(
            {
                "run": name,
                "articles": stored[name],
                "seconds": round(took, 1),
                "articles_per_s": round(stored[name] / took, 1),
                "rate_vs_one_process": round(ratio, 3),
            }
        )
    table(
        f"Ingest of {ARTICLES:,} Reuters articles (onnx-int8), one process against Ray Data on a "
        f"running local Ray of {os.cpu_count()} CPUs, median of {REPEATS}",
        ["run", "articles", "s", "articles/s", "rate / one process"],
        [list(row.values()) for row in rows],
    )
    emit(
        {
            "benchmark": "cluster",
            "articles": ARTICLES,
            "repeats": REPEATS,
            "ray_start_s": round(ray_start_s, 1),
            "ingest": rows,
        }
    )


if __name__ == "__main__":
    main()
