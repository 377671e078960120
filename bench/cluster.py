"""A sharded archive on Ray, side by side with the single archive: ``bench/cluster_ingest.py``
(ingest throughput), ``bench/cluster_serve.py`` (query latency over HTTP and agreement with
the single archive) and ``bench/plan.py`` (10M articles, from this machine's measurements),
one after another. Needs the ``cluster`` extra, as ``make install`` has it.
"""

from __future__ import annotations

from bench import cluster_ingest, cluster_serve, plan

__all__ = ["main"]


def main() -> None:
    for part in (cluster_ingest, cluster_serve, plan):
        part.main()
