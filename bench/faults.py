"""Faults and load: kill -9 during ingest, index corruption, readers against a writer, HTTP load.

Bounded in time and loopback only. Prints a table per part and one JSON line for all.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from embeddings.encoder import Encoder
from qa.archive import Archive, open_store
from qa.indexes import manifest
from qa.ingest import ingest_directory
from qa.schema import SearchFilters
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[1]
KILLS = 30
READER_WRITER_SECONDS = 60
LOAD_REQUESTS = 10_000
LOAD_CLIENTS = 32
QUESTIONS = (
    "What did Putin say about training?",
    "What did Shoigu say about the CSTO?",
    "peacekeeping missions",
    "What is the recipe for chocolate cake?",
)
TOPICS = (
    "grain exports",
    "rail freight",
    "port tariffs",
    "wind farms",
    "copper mines",
    "fisheries",
)


def _write_corpus(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        lines = [
            f"date 2024-03-{1 + i % 28:02d} OSLO, March {1 + i % 28}. /NTB/. Officials discussed "
            f"{topic} in round {i}, minister Kari Nordmann{i} said."
        ]
        lines += [
            f'"Point {j} of round {i} on {topic} matters," Nordmann{i} added.' for j in range(3)
        ]
        (folder / f"art{i:03d}.txt").write_text("\n".join(lines))


def _ingest_process(seeds: Path, data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa",
            "ingest",
            "-v",
            "--seeds",
            str(seeds),
            "--data-dir",
            str(data),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def kill_ingest(encoder: Encoder, work: Path) -> dict[str, Any]:
    seeds, data = work / "kill-seeds", work / "kill-data"
    _write_corpus(seeds, 240)
    # Kill moments fall within one whole ingest's time, measured here, so they land mid-ingest
    # however fast ingest gets.
    started = time.perf_counter()
    _ingest_process(seeds, data).communicate()
    whole_s = time.perf_counter() - started
    shutil.rmtree(data)
    rng = random.Random(20261123)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    recover_ms: list[float] = []
    for attempt in range(KILLS):
        process = _ingest_process(seeds, data)
        time.sleep(rng.uniform(0.5, whole_s))
        finished = process.poll() is not None
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate()
        stored = {line.split()[-1] for line in stderr.splitlines() if "stored" in line}
        store = open_store(Settings(data_dir=data))
        if store.integrity_check() != "ok":
            failures.append(f"kill {attempt}: integrity_check failed")
        if not store.counts()["articles"]:
            outcomes["killed before the first commit"] += 1
            store.close()
            continue
        store.close()
        started = time.perf_counter()
        archive = Archive.open(Settings(data_dir=data), encoder)
        recover_ms.append((time.perf_counter() - started) * 1000)
        if archive.indexes.passages.count != archive.store.counts()["passages"]:
            failures.append(f"kill {attempt}: FAISS and SQLite counts differ")
        for article_id in stored:
            hits = archive.search("officials discussed", 1, SearchFilters(article_id=article_id))
            if not hits:
                failures.append(f"kill {attempt}: {article_id} reported stored but not found")
        archive.close()
        outcomes["finished before the kill" if finished else "killed mid-ingest"] += 1
        if finished:  # start over, so later kills land in the middle of work again
            shutil.rmtree(data)
    print(f"{'kill -9 during ingest':<34}{KILLS} kills within {whole_s:.1f} s: {dict(outcomes)}")
    print(f"{'  recovery to a ready archive':<34}median {statistics.median(recover_ms):.0f} ms")
    print(f"{'  failures':<34}{len(failures)} {failures[:3]}")
    return {
        "kills": KILLS,
        "whole_ingest_s": round(whole_s, 1),
        "outcomes": dict(outcomes),
        "failures": len(failures),
        "recover_ms_median": round(statistics.median(recover_ms), 1),
    }


def _seeded(encoder: Encoder, work: Path, name: str) -> Settings:
    settings = Settings(seeds_dir=work / f"{name}-seeds", data_dir=work / f"{name}-data")
    shutil.copytree(REPO / "seeds", settings.seeds_dir)
    store = open_store(settings)
    ingest_directory(settings.seeds_dir, store, encoder, settings.data_dir, 10**7, progress=False)
    store.close()
    return settings


def corrupt_index(encoder: Encoder, work: Path) -> dict[str, Any]:
    settings = _seeded(encoder, work, "corrupt")
    rng = random.Random(12)
    archive = Archive.open(settings, encoder)
    expected = [archive.ask(q).model_dump_json(exclude={"took_ms"}) for q in QUESTIONS]
    archive.close()
    detected = 0
    for i in range(12):
        path = settings.data_dir / ("passages.faiss", "sentences.faiss", "bm25/ids.npy")[i % 3]
        data = bytearray(path.read_bytes())
        if i % 2:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        else:
            del data[rng.randrange(len(data)) :]
        path.write_bytes(bytes(data))
        generation = (manifest(open_store(settings)) or {})["generation"]
        archive = Archive.open(settings, encoder)
        rebuilt = (manifest(archive.store) or {})["generation"] == generation + 1
        same = [archive.ask(q).model_dump_json(exclude={"took_ms"}) for q in QUESTIONS] == expected
        detected += rebuilt and same
        archive.close()
    print(f"{'corruptions (truncate, bit flip)':<34}12 made, {detected} detected and rebuilt")
    return {"corruptions": 12, "detected_and_rebuilt": detected}


def readers_and_writer(encoder: Encoder, work: Path) -> dict[str, Any]:
    archive = Archive.open(_seeded(encoder, work, "rw"), encoder)
    states = [{q: archive.ask(q).model_dump_json(exclude={"took_ms"}) for q in QUESTIONS}]
    header = "date 2025-02-03 OSLO, February 3. /NTB/. "
    texts = [
        header + "Norway will build an icebreaker, Kari Nordmann said.",
        header + "Norway will build a survey ship, Kari Nordmann said.",
    ]
    for text in texts:
        archive.put_article("churn", text)
        states.append({q: archive.ask(q).model_dump_json(exclude={"took_ms"}) for q in QUESTIONS})
    archive.delete_article("churn")
    stop = threading.Event()
    errors: list[str] = []
    counts = Counter[str]()

    def writer() -> None:
        while not stop.is_set():
            try:
                for text in texts:
                    archive.put_article("churn", text)
                    counts["writes"] += 1
                archive.delete_article("churn")
                counts["writes"] += 1
            except Exception as exc:  # the benchmark reports every failure, of any kind
                errors.append(f"writer: {exc!r}")

    def reader(offset: int) -> None:
        i = offset
        while not stop.is_set():
            question = QUESTIONS[i % len(QUESTIONS)]
            try:
                answer = archive.ask(question).model_dump_json(exclude={"took_ms"})
                counts["reads"] += 1
                if answer not in [state[question] for state in states]:
                    counts["torn reads"] += 1
            except Exception as exc:  # the benchmark reports every failure, of any kind
                errors.append(f"reader: {exc!r}")
            i += 1

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader, args=(n,)) for n in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(READER_WRITER_SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    archive.close()
    locked = sum("locked" in e for e in errors)
    print(
        f"{f'8 readers + 1 writer, {READER_WRITER_SECONDS} s':<34}{counts['reads']} reads, "
        f"{counts['writes']} writes, {counts['torn reads']} torn, {len(errors)} errors "
        f"({locked} 'database is locked')"
    )
    return {
        "seconds": READER_WRITER_SECONDS,
        "reads": counts["reads"],
        "writes": counts["writes"],
        "torn_reads": counts["torn reads"],
        "errors": len(errors),
        "database_locked": locked,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--port", str(port)],
        env={**os.environ, "DATELINE_DATA_DIR": str(data), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not become ready")


async def _hammer(url: str, requests: int, clients: int) -> tuple[Counter[str], list[float], float]:
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            for i in queue:
                # Half repeat questions (the embedding cache answers), half are new text.
                question = QUESTIONS[i % len(QUESTIONS)] + ("" if i % 2 else f" (variant {i})")
                started = time.perf_counter()
                try:
                    response = await client.post("/api/chat", json={"question": question})
                    statuses[str(response.status_code)] += 1
                except httpx.TransportError as exc:
                    statuses[type(exc).__name__] += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
    return statuses, latencies, time.perf_counter() - started


def load(encoder: Encoder, work: Path) -> dict[str, Any]:
    settings = _seeded(encoder, work, "load")
    results: dict[str, Any] = {}
    phases = [
        ("load", LOAD_REQUESTS, LOAD_CLIENTS, {"DATELINE_RATE_LIMIT_PER_MINUTE": "0"}),
        (
            "twice capacity",
            2_000,
            64,
            {"DATELINE_RATE_LIMIT_PER_MINUTE": "0", "DATELINE_MAX_IN_FLIGHT": "16"},
        ),
        ("over the rate limit", 600, 8, {"DATELINE_RATE_LIMIT_PER_MINUTE": "300"}),
    ]
    columns = ("requests", "clients", "req/s", "p50 ms", "p99 ms")
    print(f"{'phase':<22}" + "".join(f"{c:>9}" for c in columns) + "  statuses")
    for name, requests, clients, env in phases:
        process, url = _serve(settings.data_dir, **env)
        try:
            statuses, latencies, seconds = asyncio.run(_hammer(url, requests, clients))
        finally:
            process.terminate()
            process.wait(timeout=30)
        quantiles = statistics.quantiles(latencies, n=100)
        print(
            f"{name:<22}{requests:>9}{clients:>9}{requests / seconds:>9.0f}"
            f"{statistics.median(latencies):>9.1f}{quantiles[98]:>9.1f}  {dict(statuses)}"
        )
        results[name] = {
            "requests": requests,
            "clients": clients,
            "rps": round(requests / seconds, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(quantiles[98], 1),
            "statuses": dict(statuses),
        }
    return results


def main() -> None:
    encoder = Encoder("all-MiniLM-L6-v2")
    with tempfile.TemporaryDirectory(prefix="dateline-faults-") as tmp:
        work = Path(tmp)
        report = {
            "bench": "faults",
            "kill_ingest": kill_ingest(encoder, work),
            "corruption": corrupt_index(encoder, work),
            "readers_writer": readers_and_writer(encoder, work),
            "load": load(encoder, work),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
