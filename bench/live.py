"""A real ``dateline serve`` process on loopback, and closed-loop HTTP clients to load it."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LoadResult", "Server", "load", "running_server"]


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    pid: int
    ready_seconds: float  # process start to the first /readyz 200


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # the answer's own took_ms
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def running_server(
    data_dir: Path, log: Path, backend: str = "torch", timeout: float = 300, **env: str
) -> Iterator[Server]:
    """Start a server on a free loopback port, wait for /readyz 200, stop it afterwards."""
    port = _free_port()
    environment = {
        **os.environ,
        "DATELINE_DATA_DIR": str(data_dir),
        "DATELINE_BACKEND": backend,
        "DATELINE_RATE_LIMIT_PER_MINUTE": "0",
        "DATELINE_HOST": "127.0.0.1",
        "DATELINE_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **env,
    }
    started = time.perf_counter()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "qa", "serve"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[1],
        )
    try:
        deadline = started + timeout
        while not _ready(port):
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"server not ready in {timeout:.0f} s: {log.read_text()[-2000:]}"
                )
            time.sleep(0.02)
        yield Server("127.0.0.1", port, process.pid, time.perf_counter() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load(
    server: Server,
    questions: Sequence[str],
    clients: int,
    *,
    max_requests: int,
    max_seconds: float,
    path: str = "/api/chat",
) -> LoadResult:
    """``clients`` closed-loop clients (each waits for its answer, then asks the next question).

    Each question is asked once across all clients, so the server's question cache never hits;
    the run stops after ``max_requests`` or ``max_seconds``, whichever comes first.
    """
    bodies = [json.dumps({"question": q}).encode() for q in questions[:max_requests]]
    next_index = itertools.count()
    lock = threading.Lock()
    result = LoadResult(clients=clients, seconds=0.0)
    stop_at = time.perf_counter() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        latencies, took, errors, statuses = [], [], 0, {}
        while time.perf_counter() < stop_at:
            with lock:
                index = next(next_index)
            if index >= len(bodies):
                break
            sent = time.perf_counter()
            try:
                connection.request("POST", path, body=bodies[index], headers=headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
                status, payload = 0, b""
            elapsed = (time.perf_counter() - sent) * 1000
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                latencies.append(elapsed)
                answer: dict[str, Any] = json.loads(payload)
                took.append(float(answer.get("took_ms", 0.0)))
            else:
                errors += 1
        connection.close()
        with lock:
            result.latencies_ms.extend(latencies)
            result.server_ms.extend(took)
            result.errors += errors
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result
