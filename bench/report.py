"""How benchmarks report: an aligned table for people, one JSON line for machines."""

from __future__ import annotations

import json
import resource
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["emit", "peak_rss_mb", "percentiles", "table"]


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print rows under a header, the first column left-aligned and the others right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    print(f"\n{title}")
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print(line(row))
    print(flush=True)


def emit(record: dict[str, Any]) -> None:
    """The benchmark's one machine-readable line."""
    print(json.dumps(record), flush=True)


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95 and p99 of latencies in milliseconds (NaN when there are none)."""
    if not samples_ms:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    values = np.asarray(samples_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "p99": round(float(p99), 2)}


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its waited-for children), in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)
