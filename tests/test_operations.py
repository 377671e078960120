"""The operator's side: backups while serving, a checkpointed shutdown, a deleted write-ahead
log, damaged and read-only stores, and writes the folder cannot take (refused before they are
committed, and never reported as failed once they are)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from embeddings.errors import IndexFileError
from qa.api import create_app
from qa.errors import DiskFullError, StoreDamagedError
from qa.faults import storage_error
from qa.indexes import IndexFolder
from qa.settings import Settings
from qa.store import Store

from .conftest import (
    PUTIN_ARTICLE,
    fill_disk,
    one_error_line,
    run_dateline,
    start_server,
    stop_server,
)

TOKEN = "operations-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARTICLE = (
    "date 2025-03-04 BERGEN, March 4. /NTB/. A new fish market opens on the Bergen harbour "
    "front, the city's mayor Ola Hansen said.\n"
    '"The fish market will sell cod caught the same morning," Hansen added.'
)
QUESTION = "What will the Bergen fish market sell?"


def _closed_copy(source: Path, destination: Path) -> Path:
    """A copy of an archive folder whose store holds every write in its own file."""
    shutil.copytree(source, destination)
    Store(destination / "store.sqlite").close()
    return destination


@pytest.fixture
def data(seeded_settings: Settings, tmp_path: Path) -> Path:
    return _closed_copy(seeded_settings.data_dir, tmp_path / "data")


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``path`` that nobody, root included, may add to, remove from or rename in."""
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is refused here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextmanager
def app_over(data: Path, seeded_settings: Settings) -> Iterator[TestClient]:
    """The app over ``data``, once its archive has loaded or failed to."""
    app = create_app(seeded_settings.model_copy(update={"data_dir": data, "api_token": TOKEN}))
    with TestClient(app) as client:
        deadline = time.monotonic() + 60
        while app.state.archive is None and app.state.load_error is None:
            assert time.monotonic() < deadline, "the archive neither loaded nor failed"
            time.sleep(0.1)
        yield client


def _add(client: httpx.Client | TestClient, article_id: str = "bergen_1") -> httpx.Response:
    return client.post(
        "/api/articles", json={"article_id": article_id, "text": ARTICLE}, headers=AUTH
    )


def _cited(client: httpx.Client | TestClient) -> set[str]:
    answer = client.post("/api/chat", json={"question": QUESTION})
    assert answer.status_code == 200, answer.text
    return {c["article_id"] for c in answer.json()["citations"]}


def test_backup_while_serving_then_a_checkpointed_shutdown(data: Path, tmp_path: Path) -> None:
    server = start_server(
        data, tmp_path / "server.log", DATELINE_API_TOKEN=TOKEN, DATELINE_RATE_LIMIT_PER_MINUTE="0"
    )
    ready = f"Dateline ready: 2 articles, 18 passages at {server.url} (widget: /widget.js)"
    assert ready in (tmp_path / "server.log").read_text()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert _add(client).status_code == 201
            backed_up = run_dateline("backup", str(tmp_path / "backup"), data_dir=data)
            assert backed_up.returncode == 0, backed_up.stderr
            assert "its index files came along" in backed_up.stdout
            assert "bergen_1" in _cited(client)
    finally:
        stop_server(server)
    checked = run_dateline("check", data_dir=tmp_path / "backup")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("store: ok (3 articles")
    asked = run_dateline("ask", QUESTION, data_dir=tmp_path / "backup")
    assert asked.returncode == 0 and "cod" in asked.stdout
    # SIGTERM closed the store: its write-ahead log was folded in, so the file alone holds all.
    assert not (data / "store.sqlite-wal").exists()
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(data / "store.sqlite", lone)
    assert "bergen_1" in Store(lone / "store.sqlite").writes.stored_files()
    refused = one_error_line(run_dateline("backup", str(tmp_path / "backup"), data_dir=data))
    assert refused == f"error: {tmp_path / 'backup'} exists and is not an empty folder"


def test_writes_stop_once_the_write_ahead_log_is_deleted(data: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = start_server(data, log, DATELINE_API_TOKEN=TOKEN, DATELINE_RATE_LIMIT_PER_MINUTE="0")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert _add(client).status_code == 201
            (data / "store.sqlite-wal").unlink()
            refused = _add(client, "bergen_2")
            assert refused.status_code == 503
            assert "write-ahead log" in refused.json()["detail"]
            assert client.delete("/api/articles/bergen_1", headers=AUTH).status_code == 503
            assert "bergen_1" in _cited(client)
    finally:
        stop_server(server)
    assert "Traceback" not in log.read_text()
    stored = Store(data / "store.sqlite").writes.stored_files()
    assert "bergen_1" in stored and "bergen_2" not in stored


def test_a_folder_that_cannot_be_written_refuses_before_committing(
    data: Path, seeded_settings: Settings
) -> None:
    with app_over(data, seeded_settings) as client:
        with immutable(data):
            refused = _add(client)
            assert refused.status_code == 507
            assert "cannot be written" in refused.json()["detail"]
            deleting = client.delete(f"/api/articles/{PUTIN_ARTICLE}", headers=AUTH)
            assert deleting.status_code == 507
        assert client.get("/api/articles/bergen_1").status_code == 404
        assert client.get(f"/api/articles/{PUTIN_ARTICLE}").status_code == 200
        assert _add(client).status_code == 201


def test_a_committed_write_whose_index_files_fail_is_acknowledged(
    data: Path, seeded_settings: Settings
) -> None:
    with app_over(data, seeded_settings) as client:
        with immutable(data / "bm25"):  # the folder takes the probe; BM25's files cannot move
            assert _add(client).status_code == 201
            assert "bergen_1" in _cited(client)
            (warning,) = client.get("/readyz").json()["warnings"]
            assert warning.startswith("the index files are behind the store (")
        with pytest.raises(IndexFileError):
            IndexFolder(Store(data / "store.sqlite"), data).verify()
        assert client.delete("/api/articles/bergen_1", headers=AUTH).status_code == 200
        assert client.get("/readyz").json()["warnings"] == []
    IndexFolder(Store(data / "store.sqlite"), data).verify()


def test_a_full_disk_refuses_a_write_and_loses_nothing(
    small_disk: Path, seeded_settings: Settings
) -> None:
    data = _closed_copy(seeded_settings.data_dir, small_disk / "data")
    with app_over(data, seeded_settings) as client:
        fill_disk(small_disk, leave=64 * 1024)
        refused = _add(client)
        assert refused.status_code == 507
        assert refused.json()["detail"].startswith("the disk holding the archive is full (")
        assert str(small_disk) not in refused.json()["detail"]
        (small_disk / "filler").unlink()
        assert _add(client).status_code == 201
        assert "bergen_1" in _cited(client)


def test_a_read_only_folder_still_answers(data: Path, seeded_settings: Settings) -> None:
    with immutable(data), app_over(data, seeded_settings) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert any("read-only" in w for w in ready.json()["warnings"])
        answer = client.post("/api/chat", json={"question": "What did Putin say about training?"})
        assert answer.status_code == 200 and answer.json()["citations"]
        refused = _add(client)
        assert refused.status_code == 507 and "cannot be written" in refused.json()["detail"]


def _damage(store: Path, how: str) -> None:
    with open(store, "r+b") as file:
        if how == "header":
            file.write(b"not a database!!")
        else:  # a page in the middle, overwritten
            file.seek(4096 * 3)
            file.write(bytes(range(256)) * 16)


@pytest.mark.parametrize("how", ["header", "page"])
def test_a_damaged_store_is_named_with_its_fix(
    how: str, data: Path, seeded_settings: Settings
) -> None:
    _damage(data / "store.sqlite", how)
    checked = run_dateline("check", data_dir=data)
    assert checked.returncode == 1
    store_line, fix = checked.stdout.strip().splitlines()
    assert store_line.startswith("store: damaged (")
    assert fix.startswith("fix: restore store.sqlite from a backup made with `dateline backup`")
    asked = one_error_line(run_dateline("ask", QUESTION, data_dir=data))
    assert asked.startswith("error: the archive's store is damaged (")
    with app_over(data, seeded_settings) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "damaged" in ready.json()["detail"] and "dateline backup" in ready.json()["detail"]


def test_check_names_index_files_that_do_not_match_and_repairs_them(data: Path) -> None:
    assert run_dateline("check", data_dir=data).returncode == 0
    (data / "sentences.faiss").unlink()
    checked = run_dateline("check", data_dir=data)
    assert checked.returncode == 1
    lines = checked.stdout.strip().splitlines()
    assert lines[0].startswith("store: ok (2 articles")
    assert lines[1] == f"index files: {data / 'sentences.faiss'} is missing"
    assert "`dateline check --repair`" in lines[2]
    repaired = run_dateline("check", "--repair", data_dir=data)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert repaired.stdout.splitlines()[0] == "index files: rebuilt from the store"
    assert repaired.stdout.splitlines()[-1].startswith("index files: ok (generation ")


def test_errors_of_sqlite_and_the_system_are_named(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 300)
    with pytest.raises(sqlite3.DatabaseError) as raised:
        sqlite3.connect(garbage).execute("SELECT 1 FROM sqlite_schema").fetchall()
    assert isinstance(storage_error(raised.value, tmp_path), StoreDamagedError)
    full = OSError(28, "No space left on device", str(tmp_path / "x"))
    named = storage_error(full, tmp_path)
    assert isinstance(named, DiskFullError) and str(tmp_path) not in str(named)
    assert storage_error(ValueError("a bug"), tmp_path) is None
