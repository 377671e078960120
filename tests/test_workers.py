"""Several processes over one archive: server workers, and an ingest beside a running server.

A write made by one process reaches the others' answers: each notices the store's newer data
generation and loads the index files the writer left.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from embeddings.encoder import Encoder
from qa.api.server import _WorkersConfig
from qa.archive import Archive
from qa.settings import Settings

from .conftest import REPO, LiveServer, start_server, stop_server

TOKEN = "workers-token"
ARTICLE = (
    "date 2025-03-04 BERGEN, March 4. /NTB/. A new fish market opens on the Bergen harbour "
    "front, the city's mayor Ola Hansen said.\n"
    '"The fish market will sell cod caught the same morning," Hansen added.'
)
QUESTION = "What will the Bergen fish market sell?"


def _eventually(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.25)


def _cites(server: LiveServer, article_id: str) -> bool:
    """A fresh connection each time, so the kernel may hand it to any worker."""
    response = httpx.post(f"{server.url}/api/chat", json={"question": QUESTION}, timeout=60)
    assert response.status_code == 200, response.text
    return article_id in {c["article_id"] for c in response.json()["citations"]}


@pytest.fixture
def data_copy(seeded_settings: Settings, tmp_path: Path) -> Path:
    shutil.copytree(seeded_settings.data_dir, tmp_path / "data")
    return tmp_path / "data"


def test_a_second_archive_sees_what_the_first_wrote(
    seeded_settings: Settings, data_copy: Path, encoder: Encoder
) -> None:
    settings = seeded_settings.model_copy(update={"data_dir": data_copy})
    writer, reader = Archive.open(settings, encoder), Archive.open(settings, encoder)
    try:
        assert reader.ask(QUESTION).abstained
        writer.put_article("bergen_1", ARTICLE)

        def reader_cites(cited: bool) -> Callable[[], bool]:
            return lambda: (
                cited == any(c.article_id == "bergen_1" for c in reader.ask(QUESTION).citations)
            )

        _eventually(reader_cites(True))
        assert "cod" in reader.ask(QUESTION).answer
        writer.delete_article("bergen_1")
        _eventually(reader_cites(False))
    finally:
        writer.close()
        reader.close()


def test_workers_serve_one_archive_and_share_writes(data_copy: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = start_server(
        data_copy,
        log,
        DATELINE_WORKERS="2",
        DATELINE_API_TOKEN=TOKEN,
        DATELINE_RATE_LIMIT_PER_MINUTE="0",
    )
    try:
        # uvicorn restarts a worker that misses its health check while it loads (on a busy
        # machine); then each fresh connection goes to a worker the kernel picks, and twenty
        # ready answers in a row leave a one in half a million chance that one was never asked.
        _eventually(lambda: log.read_text().count("Started server process") >= 2)
        _eventually(
            lambda: all(httpx.get(f"{server.url}/readyz").status_code == 200 for _ in range(20))
        )
        assert not _cites(server, "bergen_1")
        added = httpx.post(
            f"{server.url}/api/articles",
            json={"article_id": "bergen_1", "text": ARTICLE},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
        assert added.status_code == 201, added.text
        _eventually(lambda: all(_cites(server, "bergen_1") for _ in range(6)))
    finally:
        stop_server(server)
    assert "Traceback" not in log.read_text()


def test_a_running_server_picks_up_a_cli_ingest(
    seeded_settings: Settings, data_copy: Path, tmp_path: Path
) -> None:
    server = start_server(data_copy, tmp_path / "server.log", DATELINE_RATE_LIMIT_PER_MINUTE="0")
    try:
        assert not _cites(server, "bergen_1")
        seeds = tmp_path / "seeds"
        shutil.copytree(seeded_settings.seeds_dir, seeds)
        (seeds / "bergen_1.txt").write_text(ARTICLE, encoding="utf-8")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "qa",
                "ingest",
                "--seeds",
                str(seeds),
                "--data-dir",
                str(data_copy),
            ],
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        _eventually(lambda: _cites(server, "bergen_1"))
    finally:
        stop_server(server)


def test_worker_connections_are_not_delayed_by_nagle() -> None:
    """The shared listener says TCP, so asyncio turns Nagle off on every accepted connection."""
    config = _WorkersConfig("qa.api.server:app_from_environment", host="127.0.0.1", port=0)
    listener = config.bind_socket()
    try:
        assert listener.proto == socket.IPPROTO_TCP
        listener.listen()
        with socket.create_connection(listener.getsockname()[:2]):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
    finally:
        listener.close()
