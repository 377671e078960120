"""Shared fixtures: the real bundled model, an ingested copy of the seeds, a live server."""

from __future__ import annotations

import errno
import functools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from embeddings.encoder import Encoder, export_onnx
from qa.archive import Archive
from qa.factories import open_store
from qa.ingest import ingest_directory
from qa.settings import Settings

# The browser tests' fixtures, for every module that drives Chromium.
from .widget_kit import browser_fixture, site_fixture, tab_fixture  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
# Every line of the shipped articles, datelines and subheadings included.
SEED_LINES = [
    line
    for path in sorted(SEEDS.glob("*.txt"))
    for line in path.read_text(encoding="utf-8-sig").splitlines()
]
PUTIN_ARTICLE = "004_54dffa4cde85c137"
SHOIGU_ARTICLE = "000_ef33a5cbffaa45bf"
# An article from outside the seeds, for tests that add one to an archive.
OSLO_ARTICLE = (
    "date 2024-05-01 OSLO, May 1. /NTB/. The budget will grow by four percent, the minister"
    " said.\nShe added that taxes stay as they are.\n"
)

# The answer JSON's fields (README, "The answer JSON"): they may grow, never shrink.
ANSWER_KEYS = {
    "question",
    "answer",
    "abstained",
    "citations",
    "segments",
    "confidence",
    "speakers",
    "time_window",
    "took_ms",
    "language",
    "partial",
    "missing_shards",
}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real bundled all-MiniLM-L6-v2 on torch, the reference backend, loaded once for the
    session (servers and commands that tests start run the default backend)."""
    return Encoder("all-MiniLM-L6-v2", backend="torch")


@pytest.fixture(scope="session")
def seeded_settings(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Settings:
    """Settings over an ingested copy of the shipped seeds (never touch the repo's seeds/)."""
    root = tmp_path_factory.mktemp("seeded")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    settings = Settings(seeds_dir=seeds, data_dir=root / "data", rate_limit_per_minute=0)
    ingest_directory(
        seeds,
        open_store(settings),
        encoder,
        settings.data_dir,
        settings.max_file_bytes,
        progress=False,
    )
    return settings


@pytest.fixture(scope="session")
def archive(seeded_settings: Settings, encoder: Encoder) -> Iterator[Archive]:
    opened = Archive.open(seeded_settings, encoder)
    yield opened
    opened.close()


@functools.cache
def prepare_default_encoder() -> None:
    """Export the default backend's model before a ``dateline`` process needs it, so that each
    command says the same whether or not it is the first on this machine (the export, once,
    announces itself; tests/test_cli.py checks that on a cache of its own)."""
    settings = Settings()
    if settings.backend != "torch":
        export_onnx(settings.model, settings.model_cache_dir)


def run_dateline(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The ``dateline`` command in its own process, over ``data_dir``."""
    prepare_default_encoder()
    return subprocess.run(
        [sys.executable, "-m", "qa", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The error line of a failed command: its last, its only one, and no traceback."""
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("error:")] == lines[-1:]
    return lines[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]


def start_server(
    data_dir: Path,
    log: Path,
    command: Sequence[str] = ("serve",),
    ready_seconds: float = 60,
    **env: str,
) -> LiveServer:
    """``dateline serve`` (or ``command``) in its own process, waited on until /readyz says
    200."""
    prepare_default_encoder()
    port = free_port()
    environment = {**os.environ, "DATELINE_DATA_DIR": str(data_dir), **env}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "qa", *command, "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return LiveServer(url, process)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server not ready in {ready_seconds:.0f} s: {log.read_text()[-2000:]}")


def stop_server(server: LiveServer, seconds: float = 10) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(
    seeded_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real uvicorn server over the seeds, on a free loopback port, without rate limits."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    server = start_server(seeded_settings.data_dir, log, DATELINE_RATE_LIMIT_PER_MINUTE="0")
    yield server
    stop_server(server)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, to run out of space for real."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def fill_disk(disk: Path, leave: int) -> None:
    """Fill ``disk`` up, then free ``leave`` bytes."""
    with open(disk / "filler", "ab") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        filler.truncate(max(filler.tell() - leave, 0))
