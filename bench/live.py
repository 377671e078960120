"""A real ``dateline serve`` process on loopback, and wrk's closed-loop clients to load it."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LoadResult", "Server", "load", "running_server"]

_SCRIPT = Path(__file__).with_name("chat.lua")
# Ready means this many /readyz 200s in a row, each on a new connection: with several
# workers, any of them may take a connection, and the last to load decides.
_READY_CHECKS = 6


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    pid: int
    ready_seconds: float  # process start to /readyz 200 from every worker


@dataclass(frozen=True)
class LoadResult:
    """What wrk measured over one run (client side, loopback)."""

    clients: int
    requests: int
    seconds: float
    errors: int  # non-200 answers and socket errors
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def throughput(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


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
    data_dir: Path,
    log: Path,
    backend: str = "torch",
    timeout: float = 300,
    command: Sequence[str] = ("serve",),
    **env: str,
) -> Iterator[Server]:
    """Start a server (``dateline serve``, or ``command``) on a free loopback port, wait for
    /readyz 200, stop it afterwards (SIGTERM)."""
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
            [sys.executable, "-m", "qa", *command],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[1],
        )
    try:
        deadline = started + timeout
        ready_in_a_row = 0
        while ready_in_a_row < _READY_CHECKS:
            ready_in_a_row = ready_in_a_row + 1 if _ready(port) else 0
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"server not ready in {timeout:.0f} s: {log.read_text()[-2000:]}"
                )
            if not ready_in_a_row:
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
    seconds: float,
    *,
    first: int = 0,
    path: str = "/api/chat",
) -> LoadResult:
    """``clients`` closed-loop connections (each waits for its answer, then asks again) by wrk.

    A C client leaves the two cores to the server; a Python one took about half of them. Each
    request asks the next of ``questions[first:]``, so a server's question cache does not hit
    while there are questions left.
    """
    threads = min(clients, os.cpu_count() or 1)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as bodies:
        bodies.writelines(json.dumps({"question": q}) + "\n" for q in questions)
        bodies.flush()
        finished = subprocess.run(
            [
                "wrk",
                f"--threads={threads}",
                f"--connections={clients}",
                f"--duration={seconds:g}s",
                "--timeout=30s",
                f"--script={_SCRIPT}",
                f"http://{server.host}:{server.port}{path}",
                "--",
                bodies.name,
                str(threads),
                str(first),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    measured: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return LoadResult(
        clients=clients,
        requests=measured["requests"],
        seconds=measured["seconds"],
        errors=measured["non_200"] + measured["socket_errors"],
        p50_ms=measured["p50_ms"],
        p95_ms=measured["p95_ms"],
        p99_ms=measured["p99_ms"],
    )
