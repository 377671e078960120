"""``python -m bench [NAME ...]``: run the named benchmarks (all by default), one after another.

Each name is a module of ``bench`` with a ``main()``. ``quality``, ``news`` and ``cluster`` run
several modules; each of those can also be named alone.
"""

from __future__ import annotations

import importlib
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BENCHMARKS = (
    "quality",
    "news",
    "calibrate",
    "versus",
    "latency",
    "ingest",
    "scale",
    "peer",
    "faults",
    "storage",
    "language",
)

# Run by "quality" (squad, polnear, seeds), "news" (realtimeqa, squad2) and "cluster"
# (cluster_ingest, cluster_serve, plan), or by name; "cluster" and "delete" (single-article
# deletes on Reuters against a rebuild at each) and "encoder" (texts/s by device, for the plan)
# by name only.
PARTS = (
    "squad",
    "polnear",
    "seeds",
    "realtimeqa",
    "squad2",
    "delete",
    "cluster",
    "cluster_ingest",
    "cluster_serve",
    "plan",
    "encoder",
)


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    known = (*BENCHMARKS, *PARTS)
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(known)}")
        return 2
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== bench.{name} ==", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
