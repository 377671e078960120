"""Ingest throughput against the raw encoder, and ingest's peak memory, on Reuters-21578.

For each backend (torch, ONNX int8), in one run: ``ingest_directory`` over the first N Reuters
articles in a fresh data dir (its own process, so its peak RSS is its own), then the raw
encoder alone over exactly the texts that ingest encoded (passages and sentences, read back
from the store), in one ``encode`` call, in another process. Ingest's share of the raw rate is
what parsing, speaker attribution, SQLite and index building cost. Peak RSS at two corpus sizes
shows whether memory grows with the corpus, and one ~9.9 MB article on a single line whether it
grows with one file's size (issue 18: 7 min 24 s and 1.8 GB before). The whole corpus's first
ingest (cached by the latency benchmark) is shown when present. Each backend runs
``DATELINE_BENCH_INGEST_REPEATS`` (5) times, ingest and raw alternating; medians are reported,
the ratio as the median of the paired runs' ratios: these VMs switch between a fast and a slow
spell for minutes at a time, and a pair that straddles a switch is off by ~20%; the median of
five rides out two.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from bench import reuters
from bench.report import emit, peak_rss_mb, table

__all__ = ["main"]

BACKENDS = ("torch", "onnx-int8")
ARTICLES = int(os.environ.get("DATELINE_BENCH_INGEST_ARTICLES", "1000"))
REPEATS = int(os.environ.get("DATELINE_BENCH_INGEST_REPEATS", "5"))  # medians are quoted
SMALL = max(ARTICLES // 4, 1)
ONE_LINE_BYTES = 9_900_000  # just under the default DATELINE_MAX_FILE_BYTES
TIMEOUT = 1800  # seconds per worker process


def _worker(*args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.ingest", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"worker {args} failed: {completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _one_line_article(folder: Path) -> Path:
    """One article of ~9.9 MB on a single line: Reuters stories one after another, joined by
    spaces, as wire copy pasted without its line breaks."""
    folder.mkdir(parents=True)
    parts: list[str] = []
    size = 0
    for story in reuters.stories():
        text = " ".join(story.text.split())
        size += len(text.encode()) + 1
        if size > ONE_LINE_BYTES:
            break
        parts.append(text)
    (folder / "one-line.txt").write_text(" ".join(parts) + "\n", encoding="utf-8")
    return folder


def _ingest_worker(backend: str, folder: str, data_dir: str) -> None:
    """Ingest ``folder`` into ``data_dir``, then print seconds, counts and this process's RSS."""
    from embeddings.encoder import Encoder
    from qa.factories import open_store
    from qa.ingest import ingest_directory
    from qa.settings import Settings

    settings = Settings(seeds_dir=Path(folder), data_dir=Path(data_dir))
    encoder = Encoder(settings.model, settings.batch_size, backend=backend)
    encoder.encode(["warm up"])
    store = open_store(settings)
    started, cpu_started = time.perf_counter(), time.process_time()
    ingest_directory(
        settings.seeds_dir,
        store,
        encoder,
        settings.data_dir,
        settings.max_file_bytes,
        progress=False,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    counts = store.catalogue.counts()
    store.close()
    print(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu_seconds, **counts, "peak_rss_mb": peak_rss_mb()}
        )
    )


def _raw_worker(backend: str, data_dir: str) -> None:
    """Encode exactly the texts ingest encoded (each distinct text once), in one call, and
    print the seconds it took."""
    import sqlite3

    from embeddings.encoder import Encoder
    from qa.settings import Settings

    with sqlite3.connect(f"file:{Path(data_dir) / 'store.sqlite'}?mode=ro", uri=True) as db:
        passages = {row[0]: row[1] for row in db.execute("SELECT id, text FROM passages")}
        sentences = [
            passages[owner][start:end]
            for owner, start, end in db.execute("SELECT passage_id, start, end FROM sentences")
        ]
    texts = list(dict.fromkeys([*passages.values(), *sentences]))
    settings = Settings()
    encoder = Encoder(settings.model, settings.batch_size, backend=backend)
    encoder.encode(["warm up"])
    started, cpu_started = time.perf_counter(), time.process_time()
    encoder.encode(texts)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "texts": len(texts),
                "passages": len(passages),
            }
        )
    )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="dateline-ingest-"))
    rows: list[dict[str, Any]] = []
    try:
        big = reuters.first_articles(ARTICLES, work / "articles")
        small = reuters.first_articles(SMALL, work / "small")
        print(f"  {ARTICLES:,} Reuters articles (and {SMALL:,} for the memory check)", flush=True)
        for backend in BACKENDS:
            ingests, raws = [], []
            for attempt in range(REPEATS):  # ingest and raw alternate, so drift hits both
                data_dir = work / f"data-{backend}-{attempt}"
                ingests.append(_worker("ingest", backend, str(big), str(data_dir)))
                raws.append(_worker("raw", backend, str(data_dir)))
                shutil.rmtree(data_dir, ignore_errors=True)
            ingest_s = median(r["seconds"] for r in ingests)
            raw_s = median(r["seconds"] for r in raws)
            passages = ingests[0]["passages"]
            row = {
                "backend": backend,
                "runs": REPEATS,
                "articles": ingests[0]["articles"],
                "passages": passages,
                "texts": raws[0]["texts"],
                "ingest_s": round(ingest_s, 1),
                "ingest_passages_per_s": round(passages / ingest_s, 1),
                "raw_encode_s": round(raw_s, 1),
                "raw_passages_per_s": round(passages / raw_s, 1),
                # CPU seconds (all threads; a VM's stolen time excluded): where ingest's extra
                # time goes, steadier than wall time on a shared machine.
                "ingest_cpu_s": round(median(r["cpu_seconds"] for r in ingests), 1),
                "raw_cpu_s": round(median(r["cpu_seconds"] for r in raws), 1),
                "share_of_raw": round(
                    median(r["seconds"] / i["seconds"] for r, i in zip(raws, ingests, strict=True)),
                    3,
                ),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in ingests),
            }
            rows.append(row)
            print(f"    {backend}: {row}", flush=True)
        small_run = _worker("ingest", "onnx-int8", str(small), str(work / "data-small"))
        one_line = _one_line_article(work / "one-line")
        one_line_run = _worker("ingest", "onnx-int8", str(one_line), str(work / "data-one-line"))
        print(f"    one {ONE_LINE_BYTES / 1e6:.1f} MB line: {one_line_run}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table(
        f"Ingest of {ARTICLES:,} Reuters articles vs the raw encoder on the same texts "
        f"(the distinct passage and sentence texts ingest encodes), same run, median of {REPEATS}",
        [
            "backend",
            "passages",
            "distinct texts",
            "ingest s",
            "ingest passages/s",
            "raw encode s",
            "raw passages/s",
            "ingest / raw",
            "ingest CPU s",
            "raw CPU s",
            "peak RSS MiB",
        ],
        [
            [
                r["backend"],
                r["passages"],
                r["texts"],
                r["ingest_s"],
                r["ingest_passages_per_s"],
                r["raw_encode_s"],
                r["raw_passages_per_s"],
                r["share_of_raw"],
                r["ingest_cpu_s"],
                r["raw_cpu_s"],
                r["peak_rss_mb"],
            ]
            for r in rows
        ],
    )
    memory = {
        "small": {"passages": small_run["passages"], "peak_rss_mb": small_run["peak_rss_mb"]},
        "large": {
            "passages": rows[-1]["passages"],
            "peak_rss_mb": rows[-1]["peak_rss_mb"],
        },
        "one_line": {
            "bytes": ONE_LINE_BYTES,
            "passages": one_line_run["passages"],
            "sentences": one_line_run["sentences"],
            "seconds": round(one_line_run["seconds"], 1),
            "peak_rss_mb": one_line_run["peak_rss_mb"],
        },
    }
    table(
        "Peak RSS of ingest by corpus size, and of one article on one line (onnx-int8)",
        ["articles", "passages", "peak RSS MiB"],
        [
            [SMALL, memory["small"]["passages"], memory["small"]["peak_rss_mb"]],
            [ARTICLES, memory["large"]["passages"], memory["large"]["peak_rss_mb"]],
            [
                f"1 ({ONE_LINE_BYTES / 1e6:.1f} MB line, {memory['one_line']['seconds']} s)",
                memory["one_line"]["passages"],
                memory["one_line"]["peak_rss_mb"],
            ],
        ],
    )
    whole: dict[str, Any] | None = None
    stamp = reuters.archive_dir("onnx-int8") / "bench-complete.json"
    if stamp.exists():
        whole = json.loads(stamp.read_text())
        print(
            f"  whole corpus, first ingest (onnx-int8, cached by bench.latency): "
            f"{whole['passages']:,} passages, {whole['sentences']:,} sentences in "
            f"{whole['seconds']:,.0f} s = {whole['passages'] / whole['seconds']:.0f} passages/s",
            flush=True,
        )
    targets = {f"{r['backend']}_ingest_within_10pct_of_raw": r["share_of_raw"] >= 0.9 for r in rows}
    print("  targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    emit(
        {
            "benchmark": "ingest",
            "articles": ARTICLES,
            "rows": rows,
            "memory": memory,
            "whole_corpus": whole,
            "targets": targets,
        }
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["ingest"]:
        _ingest_worker(*sys.argv[2:5])
    elif sys.argv[1:2] == ["raw"]:
        _raw_worker(*sys.argv[2:4])
    else:
        main()
