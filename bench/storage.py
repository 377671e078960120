"""An unlucky operator's faults, against ``dateline serve`` and the CLI on loopback: a folder that
cannot be written (wholly, or only where the index files go), a full disk, a write-ahead log
deleted under the server, a damaged store, a read-only folder; a backup taken while writes go
on, and what SIGTERM leaves in the store file. Then the time of the checks on Reuters.

Needs root (``chattr +i``, a small tmpfs); a part that cannot run says so in its row. Prints a
table and one JSON line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import reuters
from bench.faults import REPO, free_port, seeded, serve
from bench.report import emit, percentiles, table
from embeddings.encoder import Encoder
from qa.settings import Settings
from qa.store import Store

TOKEN = "bench-storage-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRITES = 20
QUESTION = "What will the Bergen fish market sell?"
TMPFS_BYTES = 4 << 20
_API_ID = re.compile(r"[\w.-]{1,200}")  # what /api/articles/{article_id} accepts


def _article(n: int) -> dict[str, str]:
    return {
        "article_id": f"bergen_{n}",
        "text": (
            f"date 2025-03-04 BERGEN, March 4. /NTB/. Fish market number {n} opens on the "
            "Bergen harbour front, the city's mayor Ola Hansen said.\n"
            f'"Market {n} will sell cod caught the same morning," Hansen added.'
        ),
    }


class Skipped(Exception):
    """A part this machine cannot run (not root, no chattr, no tmpfs)."""


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Skipped(f"{' '.join(args[:2])}: {done.stderr.strip()}")
    return done


@contextmanager
def _immutable(path: Path) -> Iterator[None]:
    _command("chattr", "+i", str(path))
    try:
        yield
    finally:
        _command("chattr", "-i", str(path))


@contextmanager
def _server(data: Path) -> Iterator[httpx.Client]:
    process, url = serve(data, DATELINE_API_TOKEN=TOKEN, DATELINE_RATE_LIMIT_PER_MINUTE="0")
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)


def _dateline(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qa", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _add(client: httpx.Client, n: int) -> int:
    return client.post("/api/articles", json=_article(n), headers=AUTH).status_code


def _stored(data: Path) -> set[str]:
    store = Store(data / "store.sqlite")
    try:
        return {a for a in store.writes.stored_files() if a.startswith("bergen_")}
    finally:
        store.close()


def _fresh(encoder: Encoder, work: Path, name: str) -> Path:
    data = seeded(encoder, work, name).data_dir
    Store(data / "store.sqlite").close()  # every write in the store file itself
    return data


def immutable_folder(data: Path) -> dict[str, Any]:
    with _server(data) as client, _immutable(data):
        status = _add(client, 1)
    return {"POST status": status, "stored": sorted(_stored(data))}


def unsaved_index_files(data: Path) -> dict[str, Any]:
    with _server(data) as client:
        with _immutable(data / "bm25"):
            status = _add(client, 1)
            cited = any(
                c["article_id"] == "bergen_1"
                for c in client.post("/api/chat", json={"question": QUESTION}).json()["citations"]
            )
            warned = len(client.get("/readyz").json()["warnings"])
        later = _add(client, 2)
        after = len(client.get("/readyz").json()["warnings"])
    return {
        "POST status": status,
        "answered from memory": cited,
        "/readyz warnings": warned,
        "next write status": later,
        "warnings after it": after,
    }


def full_disk(data: Path, work: Path) -> dict[str, Any]:
    disk = work / "disk"
    disk.mkdir()
    _command("mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(disk))
    try:
        shutil.copytree(data, disk / "data")
        with _server(disk / "data") as client:
            with open(disk / "filler", "wb") as filler:
                filler.write(b"\0" * (shutil.disk_usage(disk).free - (64 << 10)))
            status = _add(client, 1)
            (disk / "filler").unlink()
            freed = _add(client, 2)
        stored = sorted(_stored(disk / "data"))
    finally:
        _command("umount", str(disk))
    return {"POST status, 64 KiB free": status, "after freeing": freed, "stored": stored}


def sigterm_checkpoint(data: Path, work: Path) -> dict[str, Any]:
    with _server(data) as client:
        statuses = {_add(client, n) for n in range(WRITES)}
    wal = data / "store.sqlite-wal"
    lone = work / "lone"
    lone.mkdir()
    shutil.copy(data / "store.sqlite", lone)
    return {
        "POST statuses": sorted(statuses),
        "WAL bytes after SIGTERM": wal.stat().st_size if wal.exists() else 0,
        f"of {WRITES} in a lone store.sqlite": len(_stored(lone)),
    }


def deleted_log(data: Path) -> dict[str, Any]:
    with _server(data) as client:
        before = _add(client, 1)
        (data / "store.sqlite-wal").unlink()
        after = _add(client, 2)
        reason = client.post("/api/articles", json=_article(3), headers=AUTH).json()["detail"]
    return {
        "POST before": before,
        "POST after deletion": after,
        "names the log": "write-ahead log" in reason,
        "stored after restart": sorted(_stored(data)),
    }


def backup_under_writes(data: Path, work: Path) -> dict[str, Any]:
    destination = work / "backup"
    with _server(data) as client:
        _add(client, 0)
        started = time.perf_counter()
        backup = subprocess.Popen(
            [sys.executable, "-m", "qa", "backup", str(destination), "--data-dir", str(data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        statuses = {_add(client, n) for n in range(1, WRITES + 1)}
        exit_code = backup.wait(timeout=300)
        seconds = time.perf_counter() - started
    checked = _dateline(destination, "check")
    return {
        "backup exit": exit_code,
        "POST statuses": sorted(statuses),
        "check of the copy": checked.returncode,
        "articles in the copy": f"{len(_stored(destination))} (of {WRITES + 1})",
        "backup seconds": round(seconds, 2),
    }


def _damage(store: Path, how: str) -> None:
    size = store.stat().st_size
    with open(store, "r+b") as file:
        if how == "header":
            file.write(b"not a database!!")
        elif how == "truncated":
            file.truncate(size // 2)
        else:
            file.seek(4096 * 3)
            file.write(bytes(range(256)) * 16)


def _loaded(url: str) -> httpx.Response:
    """/readyz once the archive has loaded or failed to."""
    for _ in range(300):
        ready = httpx.get(f"{url}/readyz", timeout=5)
        if ready.status_code == 200 or ready.json()["detail"] != "loading model and index":
            return ready
        time.sleep(0.2)
    raise RuntimeError("the archive neither loaded nor failed")


def damaged_store(encoder: Encoder, work: Path, how: str) -> dict[str, Any]:
    data = _fresh(encoder, work, f"damaged-{how}")
    _damage(data / "store.sqlite", how)
    checked = _dateline(data, "check")
    asked = _dateline(data, "ask", QUESTION)
    process = subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--port", str(port := free_port())],
        env={**os.environ, "DATELINE_DATA_DIR": str(data)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                ready = _loaded(f"http://127.0.0.1:{port}")
                break
            except httpx.TransportError:
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "check exit": checked.returncode,
        "check names it": checked.stdout.startswith("store: damaged ("),
        "ask exit": asked.returncode,
        "ask one line": len(asked.stderr.strip().splitlines()) == 1,
        "/readyz": ready.status_code,
        "/readyz names it": "damaged" in ready.json().get("detail", ""),
    }


def read_only_folder(data: Path) -> dict[str, Any]:
    with _immutable(data), _server(data) as client:
        ready = client.get("/readyz")
        chat = client.post("/api/chat", json={"question": "What did Putin say about training?"})
        status = _add(client, 1)
    return {
        "/readyz": ready.status_code,
        "warnings": len(ready.json()["warnings"]),
        "chat": chat.status_code,
        "citations": len(chat.json()["citations"]),
        "POST status": status,
    }


def odd_files(work: Path) -> dict[str, Any]:
    """One ingest over a folder of the odd files a red team left: a link out of the folder to a
    secret, a name that is no id, a name over 200 characters, two files of one stem, a FIFO."""
    seeds, outside = work / "odd-seeds", work / "outside"
    shutil.copytree(REPO / "seeds", seeds)
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (seeds / "passwd_link.txt").symlink_to(outside / "passwd")
    article = _article(1)["text"]
    (seeds / "a b?.txt").write_text(article)
    (seeds / f"{'n' * 210}.txt").write_text(article.replace("number 1", "number 2"))
    (seeds / "dup.txt").write_text(article.replace("number 1", "number 3"))
    (seeds / "dup.md").write_text(article.replace("number 1", "number 4"))
    os.mkfifo(seeds / "fifo.txt")
    data = work / "odd-data"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "qa", "ingest", "--seeds", str(seeds), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    seconds = time.perf_counter() - started
    store = Store(data / "store.sqlite")
    try:
        ids = sorted(store.writes.stored_files())
        leaked = any("root:x" in text for _, text in zip(*store.reads.passage_texts(), strict=True))
    finally:
        store.close()
    return {
        "exit": done.returncode,
        "seconds": round(seconds, 1),
        "warnings": len([w for w in done.stderr.splitlines() if w.startswith("WARNING")]),
        "tracebacks": done.stderr.count("Traceback"),
        "stored": len(ids),
        "every id one the API takes": all(_API_ID.fullmatch(i) for i in ids),
        "secret leaked": leaked,
    }


def checks_on_reuters(work: Path) -> dict[str, Any]:
    data = reuters.ingested_archive(Settings().backend)
    store = Store(data / "store.sqlite")
    try:
        quick = _median_ms(lambda: store.quick_check())
        whole = _median_ms(lambda: store.integrity_check())
    finally:
        store.close()
    started = time.perf_counter()
    backed = _dateline(data, "backup", str(work / "reuters-backup"))
    backup_s = time.perf_counter() - started
    return {
        "store MB": round((data / "store.sqlite").stat().st_size / 1e6),
        "quick check at start ms": quick,
        "dateline check's integrity check ms": whole,
        "dateline backup s (store and index files)": round(backup_s, 2),
        "backup exit": backed.returncode,
    }


def _median_ms(call: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)["p50"]


def main() -> None:
    encoder = Encoder("all-MiniLM-L6-v2")
    report: dict[str, Any] = {"benchmark": "storage"}
    with tempfile.TemporaryDirectory(prefix="dateline-storage-") as tmp:
        work = Path(tmp)
        parts: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("immutable folder", lambda: immutable_folder(_fresh(encoder, work, "immutable"))),
            ("bm25/ immutable", lambda: unsaved_index_files(_fresh(encoder, work, "unsaved"))),
            ("full disk", lambda: full_disk(_fresh(encoder, work, "full"), work)),
            ("SIGTERM", lambda: sigterm_checkpoint(_fresh(encoder, work, "sigterm"), work)),
            ("WAL deleted", lambda: deleted_log(_fresh(encoder, work, "wal"))),
            ("backup under writes", lambda: backup_under_writes(_fresh(encoder, work, "bk"), work)),
            *(
                (f"store {how}", lambda how=how: damaged_store(encoder, work, how))
                for how in ("header", "truncated", "page")
            ),
            ("read-only folder", lambda: read_only_folder(_fresh(encoder, work, "ro"))),
            ("odd files in ingest", lambda: odd_files(work)),
            ("checks on Reuters", lambda: checks_on_reuters(work)),
        ]
        for label, part in parts:
            try:
                report[label] = part()
            except Skipped as exc:
                report[label] = {"skipped": str(exc)}
    table(
        "Storage faults and odd files, against dateline serve and the CLI on loopback",
        ("fault", "result"),
        [(label, figures) for label, figures in report.items() if label != "bench"],
    )
    emit(report)


if __name__ == "__main__":
    main()
