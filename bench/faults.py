"""Faults and load: kill -9 during ingest, index corruption, readers against a writer, HTTP load,
and hostile clients (bodiless requests, idle and slow-header connections, forged headers).

Bounded in time and loopback only. Prints a table per part and one JSON line for all.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import selectors
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
from qa.archive import Archive
from qa.factories import open_store
from qa.indexes import IndexFolder
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
        if store.integrity_check() != ["ok"]:
            failures.append(f"kill {attempt}: integrity_check failed")
        if not store.catalogue.counts()["articles"]:
            outcomes["killed before the first commit"] += 1
            store.close()
            continue
        store.close()
        started = time.perf_counter()
        archive = Archive.open(Settings(data_dir=data), encoder)
        recover_ms.append((time.perf_counter() - started) * 1000)
        if archive.indexes.passages.count != archive.store.catalogue.counts()["passages"]:
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


def seeded(encoder: Encoder, work: Path, name: str) -> Settings:
    settings = Settings(seeds_dir=work / f"{name}-seeds", data_dir=work / f"{name}-data")
    shutil.copytree(REPO / "seeds", settings.seeds_dir)
    store = open_store(settings)
    ingest_directory(settings.seeds_dir, store, encoder, settings.data_dir, 10**7, progress=False)
    store.close()
    return settings


def corrupt_index(encoder: Encoder, work: Path) -> dict[str, Any]:
    settings = seeded(encoder, work, "corrupt")
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
        before = IndexFolder(open_store(settings), settings.data_dir).manifest()
        archive = Archive.open(settings, encoder)
        after = archive.index_folder.manifest()
        rebuilt = bool(before and after and after.generation == before.generation + 1)
        same = [archive.ask(q).model_dump_json(exclude={"took_ms"}) for q in QUESTIONS] == expected
        detected += rebuilt and same
        archive.close()
    print(f"{'corruptions (truncate, bit flip)':<34}12 made, {detected} detected and rebuilt")
    return {"corruptions": 12, "detected_and_rebuilt": detected}


def readers_and_writer(encoder: Encoder, work: Path) -> dict[str, Any]:
    archive = Archive.open(seeded(encoder, work, "rw"), encoder)
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
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
    settings = seeded(encoder, work, "load")
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
        process, url = serve(settings.data_dir, **env)
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


# --- Clients that hold connections, and the small ones (issue 18, items 2 and 8) ------------

SLOW_BODILESS = 200
SLOW_IDLE = 500
IDLE_PAST_THE_SOFT_LIMIT = 1100
_BODILESS_HEAD = (
    b"POST /api/chat HTTP/1.1\r\nHost: dateline\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
)


def _set_soft_open_files(limit: int | None) -> None:
    """This process's soft limit (None: the hard one); what it starts inherits it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if limit is None else limit, hard))


def _timed(method: str, url: str, **options: Any) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        status = str(httpx.request(method, url, timeout=30, **options).status_code)
    except httpx.TransportError as exc:
        status = type(exc).__name__
    return status, (time.perf_counter() - started) * 1000


def _connections(url: str, count: int, head: bytes = b"") -> list[socket.socket]:
    host, port = url.removeprefix("http://").split(":")
    opened = [socket.create_connection((host, int(port)), timeout=30) for _ in range(count)]
    for sock in opened:
        sock.sendall(head)
    return opened


def _watch(sockets: list[socket.socket], since: float, until: float) -> tuple[Counter[str], float]:
    """Each socket's first answer (its status code, or "closed"), and the latest's seconds
    after ``since`` (perf_counter times)."""
    outcomes: Counter[str] = Counter()
    latest = 0.0
    with selectors.DefaultSelector() as selector:
        for watched in sockets:
            selector.register(watched, selectors.EVENT_READ, watched)
        while selector.get_map() and time.perf_counter() < until:
            for key, _ in selector.select(timeout=0.5):
                sock: socket.socket = key.data
                try:
                    data = sock.recv(4096)
                except ConnectionResetError:
                    data = b""
                outcomes[data.split(b" ", 2)[1].decode() if data else "closed"] += 1
                latest = time.perf_counter() - since
                selector.unregister(sock)
        outcomes["still open"] += len(selector.get_map())
    return outcomes, latest


def _refused_token() -> tuple[int, str]:
    finished = subprocess.run(
        [sys.executable, "-m", "qa", "serve", "--port", str(free_port())],
        env={**os.environ, "DATELINE_API_TOKEN": " secret"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return finished.returncode, finished.stderr.strip()


def _beside_held_connections(data: Path) -> dict[str, Any]:
    """A question and /healthz while bodiless requests and idle connections are open; then how
    the server answers and closes those, at the default deadlines."""
    defaults = Settings()
    process, url = serve(data, DATELINE_RATE_LIMIT_PER_MINUTE="0")
    bodiless: list[socket.socket] = []
    idle: list[socket.socket] = []
    try:
        opened = time.perf_counter()
        bodiless = _connections(url, SLOW_BODILESS, _BODILESS_HEAD)
        idle = _connections(url, SLOW_IDLE)
        time.sleep(0.5)  # every head is in
        chat = _timed("POST", f"{url}/api/chat", json={"question": QUESTIONS[0]})
        health = _timed("GET", f"{url}/healthz")
        until = opened + max(defaults.header_timeout_seconds, defaults.body_timeout_seconds) + 5
        answered, answered_after = _watch(bodiless, opened, until)
        closed, closed_after = _watch(idle, opened, until)
    finally:
        for sock in bodiless + idle:
            sock.close()
        process.terminate()
        process.wait(timeout=30)
    label = f"{SLOW_BODILESS} bodiless + {SLOW_IDLE} idle open"
    figures = f"chat {chat[0]} in {chat[1]:.0f} ms, /healthz {health[0]} in {health[1]:.0f} ms"
    print(f"{label:<52}{figures}")
    print(f"{'  the bodiless, answered':<52}{dict(answered)} within {answered_after:.1f} s")
    print(f"{'  the idle, closed':<52}{dict(closed)} within {closed_after:.1f} s")
    return {
        "chat": {"status": chat[0], "ms": round(chat[1], 1)},
        "healthz": {"status": health[0], "ms": round(health[1], 1)},
        "bodiless": {"outcomes": dict(answered), "within_s": round(answered_after, 1)},
        "idle": {"outcomes": dict(closed), "within_s": round(closed_after, 1)},
    }


def _past_the_soft_limit(data: Path) -> dict[str, Any]:
    """/healthz with more idle connections open than the soft limit the server started under."""
    _set_soft_open_files(1024)
    try:
        process, url = serve(data, DATELINE_RATE_LIMIT_PER_MINUTE="0")
    finally:
        _set_soft_open_files(None)
    idle: list[socket.socket] = []
    try:
        idle = _connections(url, IDLE_PAST_THE_SOFT_LIMIT)
        health = _timed("GET", f"{url}/healthz")
    finally:
        for sock in idle:
            sock.close()
        process.terminate()
        process.wait(timeout=30)
    label = f"{IDLE_PAST_THE_SOFT_LIMIT} idle, started under ulimit -Sn 1024"
    print(f"{label:<52}/healthz {health[0]} in {health[1]:.0f} ms")
    return {"healthz": {"status": health[0], "ms": round(health[1], 1)}}


def _long_history(url: str) -> dict[str, Any]:
    """A pronoun question over a history of long word runs (once quadratic in a regex that
    held the GIL), with /healthz asked every 20 ms meanwhile."""
    body = {
        "question": "What else did he say?",
        "history": [{"question": "q", "answer": "a" * 20_000}] * 3,
    }
    answered: list[tuple[str, float]] = []
    attack = threading.Thread(
        target=lambda: answered.append(_timed("POST", f"{url}/api/chat", json=body))
    )
    health_ms: list[float] = []
    attack.start()
    while attack.is_alive():
        health_ms.append(_timed("GET", f"{url}/healthz")[1])
        time.sleep(0.02)
    attack.join()
    ((status, request_ms),) = answered
    return {
        "status": status,
        "request ms": round(request_ms, 1),
        "/healthz max ms": round(max(health_ms, default=0.0), 1),
    }


def _small_attacks(data: Path) -> dict[str, Any]:
    process, url = serve(data, DATELINE_RATE_LIMIT_PER_MINUTE="3")
    try:
        rotated = Counter(
            httpx.get(
                f"{url}/api/search", params={"q": "SCO"}, headers={"X-Forwarded-For": f"10.0.0.{n}"}
            ).status_code
            for n in range(6)
        )
        redirect = httpx.get(f"{url}/api/articles/", headers={"Host": "evil.example"})
        head = httpx.head(f"{url}/healthz")
        history = _long_history(url)
        not_utf8 = httpx.post(
            f"{url}/api/articles",
            content=b'{"article_id": "\xff"}',
            headers={"content-type": "application/json"},
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    exit_code, message = _refused_token()
    results = {
        "X-Forwarded-For rotated from loopback, 6 at 3/min": dict(rotated),
        "GET /api/articles/ with Host: evil.example": {
            "status": redirect.status_code,
            "location": redirect.headers.get("location"),
        },
        "HEAD /healthz": {"status": head.status_code, "body_bytes": len(head.content)},
        "JSON body that is not UTF-8": {"status": not_utf8.status_code},
        "history of 3 x 20,000 'a', pronoun question": history,
        "DATELINE_API_TOKEN=' secret' serve": {"exit": exit_code, "message": message},
    }
    for label, figures in results.items():
        print(f"{label:<52}{figures}")
    return results


def slow_clients(encoder: Encoder, work: Path) -> dict[str, Any]:
    """Clients that hold connections open without finishing a request, and the small attacks."""
    data = seeded(encoder, work, "slow").data_dir
    _set_soft_open_files(None)  # this side of the connections needs the descriptors too
    return {
        f"{SLOW_BODILESS} bodiless + {SLOW_IDLE} idle": _beside_held_connections(data),
        f"{IDLE_PAST_THE_SOFT_LIMIT} idle under ulimit -Sn 1024": _past_the_soft_limit(data),
        **_small_attacks(data),
    }


def main() -> None:
    encoder = Encoder("all-MiniLM-L6-v2")
    with tempfile.TemporaryDirectory(prefix="dateline-faults-") as tmp:
        work = Path(tmp)
        report = {
            "benchmark": "faults",
            "kill_ingest": kill_ingest(encoder, work),
            "corruption": corrupt_index(encoder, work),
            "readers_writer": readers_and_writer(encoder, work),
            "load": load(encoder, work),
            "slow_clients": slow_clients(encoder, work),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
