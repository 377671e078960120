"""``/api/chat`` over HTTP on loopback: latency percentiles and requests/s at 1, 8 and 32 clients.

Side by side in one run: the seeds and the whole Reuters-21578 corpus, each served by the torch
encoder, by the ONNX int8 one, and by ONNX int8 in two worker processes. wrk drives the load.
Every request to a server asks a question no earlier request to it asked (Reuters headlines as
questions), so the question-embedding cache never flatters the figures. A second
table shows, in process, where one question's time goes on the Reuters corpus, and what the
sentence index adds to ranking there (known-item recall: the headline's own story).

Targets (2 cores, CPU): p50 <= 15 ms and p99 <= 60 ms at 1 client on ~100k passages;
>= 100 requests/s at 8 clients; zero errors.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench import reuters
from bench.live import load, running_server
from bench.report import emit, table

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[1]
VARIANTS = (("torch", 1), ("onnx-int8", 1), ("onnx-int8", 2))  # backend, worker processes
CLIENTS = (1, 8, 32)
SECONDS = 15.0  # per concurrency level
WARM_UP_SECONDS = 2.0
TARGET_P50_MS, TARGET_P99_MS, TARGET_RPS = 15.0, 60.0, 100.0


def _passages(data_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{data_dir / 'store.sqlite'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM passages").fetchone()[0])


def _serve_and_load(
    label: str, data_dir: Path, backend: str, workers: int, questions: list[str], logs: Path
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    log = logs / f"{label}-{backend}-{workers}.log"
    with running_server(data_dir, log, backend, DATELINE_WORKERS=str(workers)) as server:
        print(
            f"  {label} / {backend} x{workers}: ready in {server.ready_seconds:.1f} s", flush=True
        )
        # Each run starts past the questions the runs before it asked, including the one still
        # in flight on each connection when wrk stopped counting.
        warm = load(server, questions, 2, WARM_UP_SECONDS)
        first = warm.requests + 2
        for clients in CLIENTS:
            result = load(server, questions, clients, SECONDS, first=first)
            first += result.requests + clients
            rows.append(
                {
                    "corpus": label,
                    "backend": backend,
                    "workers": workers,
                    "clients": clients,
                    "requests": result.requests,
                    "errors": result.errors + warm.errors,
                    "rps": round(result.throughput, 1),
                    "p50_ms": result.p50_ms,
                    "p95_ms": result.p95_ms,
                    "p99_ms": result.p99_ms,
                    "ready_s": round(server.ready_seconds, 2),
                }
            )
            print(
                f"    {clients:>2} clients: p50 {result.p50_ms:.1f} ms, "
                f"{result.throughput:.0f} req/s, {result.errors} errors",
                flush=True,
            )
    return rows


@contextmanager
def _stage(samples: dict[str, list[float]], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)


def _breakdown(data_dir: Path, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """One question at a time, in process: each stage's median, and known-item recall."""
    from embeddings.encoder import Encoder
    from qa.archive import Archive
    from qa.retrieval import HybridRanker
    from qa.settings import Settings

    settings = Settings(data_dir=data_dir)
    archive = Archive.open(settings, Encoder(settings.model, backend="onnx-int8"))
    store, indexes = archive.store, archive.indexes
    manifest = archive.index_folder.manifest()
    rankers = {
        with_sentences: HybridRanker(
            indexes.passages,
            indexes.sentences,
            indexes.lexical,
            settings.candidates,
            settings.lexical_weight,
            sentence_search=with_sentences,
        )
        for with_sentences in (True, False)
    }
    article_of: dict[int, str] = {}
    samples: dict[str, list[float]] = {}
    hits = {True: [0, 0], False: [0, 0]}  # top-1, top-10 hits of the headline's own story
    n = settings.candidates
    for question, article_id in pairs:
        with _stage(samples, "encode question"):
            vector = archive.encoder.encode([question])[0]
        with _stage(samples, "passage index search"):
            indexes.passages.search(vector, n)
        with _stage(samples, "sentence index search"):
            indexes.sentences.search(vector, n)
        with _stage(samples, "BM25 scores"):
            indexes.lexical.scores(question)
        for with_sentences, ranker in rankers.items():
            with _stage(samples, "rank (total)" if with_sentences else "rank, no sentence index"):
                ranked = ranker.rank(vector, question, n, store.reads)
            missing = [r.id for r in ranked[:10] if r.id not in article_of]
            article_of.update({i: p.article_id for i, p in store.reads.passages(missing).items()})
            top = [article_of.get(r.id) for r in ranked[:10]]
            hits[with_sentences][0] += int(top[:1] == [article_id])
            hits[with_sentences][1] += int(article_id in top)
        ids = [r.id for r in rankers[True].rank(vector, question, n, store.reads)]
        with _stage(samples, "store: passages + sentences"):
            store.reads.passages(ids)
            store.reads.sentences(ids)
        with _stage(samples, "Archive.ask (total)"):
            archive.ask(question)
    archive.close()
    medians = {name: round(float(np.median(values)), 3) for name, values in samples.items()}
    count = len(pairs)
    return {
        "passages": manifest.passages if manifest else 0,
        "sentences": manifest.sentences if manifest else 0,
        "passage_index": indexes.passages.kind,
        "sentence_index": indexes.sentences.kind,
        "stage_p50_ms": medians,
        "recall": {
            "with_sentence_index": {"at1": hits[True][0] / count, "at10": hits[True][1] / count},
            "without_sentence_index": {
                "at1": hits[False][0] / count,
                "at10": hits[False][1] / count,
            },
        },
    }


def main() -> None:
    pairs = reuters.questions()
    questions = [q for q, _ in pairs]
    reuters_dir = reuters.ingested_archive("onnx-int8")
    seeds_dir = reuters.ingested(REPO / "seeds", reuters.CACHE / "seeds" / "data", "torch")
    corpora = {"seeds": seeds_dir, "reuters": reuters_dir}
    sizes = {label: _passages(folder) for label, folder in corpora.items()}
    print(f"  corpora: {sizes}; {len(questions):,} distinct questions", flush=True)
    logs = Path(tempfile.mkdtemp(prefix="dateline-latency-"))
    rows: list[dict[str, Any]] = []
    for label, data_dir in corpora.items():
        for backend, workers in VARIANTS:
            rows.extend(_serve_and_load(label, data_dir, backend, workers, questions, logs))
    shutil.rmtree(logs, ignore_errors=True)
    table(
        "POST /api/chat over HTTP on loopback (wrk, client-side latency; every question new)",
        [
            "corpus",
            "backend",
            "workers",
            "clients",
            "requests",
            "errors",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "ready s",
        ],
        [
            [
                f"{r['corpus']} ({sizes[r['corpus']]:,} passages)",
                r["backend"],
                r["workers"],
                r["clients"],
                r["requests"],
                r["errors"],
                r["rps"],
                r["p50_ms"],
                r["p95_ms"],
                r["p99_ms"],
                r["ready_s"],
            ]
            for r in rows
        ],
    )

    print("  stage breakdown on the Reuters corpus (in process, 300 questions)…", flush=True)
    breakdown = _breakdown(reuters_dir, pairs[-300:])
    table(
        f"Where one question's time goes (Reuters: {breakdown['passages']:,} passages in "
        f"{breakdown['passage_index']}, {breakdown['sentences']:,} sentences in "
        f"{breakdown['sentence_index']}; onnx-int8)",
        ["stage", "p50 ms"],
        list(breakdown["stage_p50_ms"].items()),
    )
    recall = breakdown["recall"]
    table(
        "Known-item ranking on Reuters (headline as question; its own story's passages)",
        ["ranker", "story in top 1", "story in top 10"],
        [
            [
                "with sentence index",
                recall["with_sentence_index"]["at1"],
                recall["with_sentence_index"]["at10"],
            ],
            [
                "without sentence index",
                recall["without_sentence_index"]["at1"],
                recall["without_sentence_index"]["at10"],
            ],
        ],
    )

    def pick(backend: str, workers: int, clients: int) -> dict[str, Any]:
        wanted = ("reuters", backend, workers, clients)
        return next(
            r for r in rows if (r["corpus"], r["backend"], r["workers"], r["clients"]) == wanted
        )

    one, eight = pick("onnx-int8", 1, 1), pick("onnx-int8", 2, 8)
    targets = {
        "p50_1_client_ms<=15": one["p50_ms"] <= TARGET_P50_MS,
        "p99_1_client_ms<=60": one["p99_ms"] <= TARGET_P99_MS,
        "rps_8_clients>=100": eight["rps"] >= TARGET_RPS,
        "zero_errors": all(r["errors"] == 0 for r in rows),
    }
    print(
        "  targets (Reuters, onnx-int8; 1 client on 1 worker, 8 clients on 2 workers): "
        + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in targets.items()),
        flush=True,
    )
    emit(
        {
            "benchmark": "latency",
            "corpora": sizes,
            "rows": rows,
            "breakdown": breakdown,
            "targets": targets,
        }
    )
