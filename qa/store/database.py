"""The store's SQLite file: a connection per thread, one write transaction, read snapshots, checks.

The parts of the store (qa.store's writes, reads, catalogue and feedback) run their SQL through
one ``Database``; it alone opens, upgrades, guards and closes the file.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa.errors import ReadOnlyArchiveError, WriteAheadLogLostError
from qa.store.schema import OLDEST_READABLE_VERSION, SCHEMA_VERSION, migrate, user_version

__all__ = ["STORE_FILE", "Database"]

# The store's file in an archive folder.
STORE_FILE = "store.sqlite"
# 16 MB of 4 KiB pages a step: writers get in between steps of a large store's backup.
_BACKUP_PAGES_PER_STEP = 4096

log = logging.getLogger(__name__)


def _one_line(said: object) -> str:
    """SQLite's report of a damage, without its banner and line breaks."""
    return " ".join(str(said).replace("*** in database main ***", "").split())


class Database:
    """One SQLite file in WAL mode; a connection per thread, so readers never share a cursor.

    A store in a folder that cannot be written opens read-only: it answers, and every write
    is refused with the reason.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wal = path.with_name(f"{path.name}-wal")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._opened = threading.Lock()
        self.read_only = path.exists() and not os.access(path.parent, os.W_OK)
        self._wal_inode: int | None = None
        # The schema is read at once, so a store damaged there is refused as it opens.
        self.connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        if self.read_only:
            if user_version(self.connection) < OLDEST_READABLE_VERSION:
                raise ReadOnlyArchiveError(
                    "the store was made by an older version and is upgraded when first opened"
                    " in a writable folder"
                )
            return
        self._migrate()

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
            with self._opened:
                self._connections.append(db)
        return db

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread is off so that close() may close every thread's connection; each
        # is still used by its own thread alone.
        if self.read_only:
            # immutable: without it SQLite needs to create the shared-memory file beside the
            # store, which a read-only folder refuses; nobody can change the folder anyway.
            # But an immutable store ignores its write-ahead log: one that holds writes is
            # read through the shared-memory file left beside it.
            logged = self.wal.exists() and self.wal.stat().st_size > 0
            return sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro{'' if logged else '&immutable=1'}",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _wal_file_inode(self) -> int | None:
        try:
            return self.wal.stat().st_ino
        except FileNotFoundError:
            return None

    def _check_writable(self) -> None:
        """Refuse a write that could not be kept: in a read-only folder, or once the write-ahead
        log was deleted from under the open store (SQLite would go on writing to the deleted
        file and acknowledge what the next start cannot see)."""
        if self.read_only:
            raise ReadOnlyArchiveError(f"{os.strerror(errno.EACCES)}; opened read-only")
        log_inode = self._wal_file_inode()
        if self._wal_inode is None:  # none yet, or the first write since the store opened
            self._wal_inode = log_inode
        elif log_inode != self._wal_inode:
            raise WriteAheadLogLostError()

    def _migrate(self) -> None:
        """Bring a new store or one made by an older version up to this schema, once, under the
        write lock (two processes may open the same old store at once)."""
        if user_version(self.connection) >= SCHEMA_VERSION:
            return
        with self.transaction() as db:
            migrate(db)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The one way to write: all of the block or none of it. Inside another transaction
        on this thread, the block is a part of that one, kept or undone with it."""
        db = self.connection
        if db.in_transaction:
            yield db
            return
        self._check_writable()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may have given it up itself (as on a full disk)
                db.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[int]:
        """Every read inside sees one committed state of the store (a WAL read transaction),
        whose data generation it yields."""
        db = self.connection
        if db.in_transaction:
            yield self.data_generation()
            return
        db.execute("BEGIN")
        try:
            yield self.data_generation()  # the snapshot starts at this first read
        finally:
            db.execute("COMMIT")

    def backup(self, destination: Path) -> None:
        """Copy the store, as one committed state, into a new file, while others read and
        write (SQLite's online backup, a slice of pages at a time)."""
        target = sqlite3.connect(destination)
        try:
            self.connection.backup(target, pages=_BACKUP_PAGES_PER_STEP)
        finally:
            target.close()

    def quick_check(self) -> str:
        """The first damage SQLite finds without reading every index in full, or "ok"."""
        return _one_line(self.connection.execute("PRAGMA quick_check(1)").fetchone()[0])

    def integrity_check(self) -> list[str]:
        """Every damage SQLite finds, reading the whole store; ["ok"] when there is none."""
        return [_one_line(row[0]) for row in self.connection.execute("PRAGMA integrity_check(20)")]

    def data_generation(self) -> int:
        """How many changes of the data the store has seen, so a derived index can tell it is
        stale."""
        value = self.get_meta("data_generation")
        return int(value) if value is not None else 0

    def get_meta(self, key: str) -> Any:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def close(self) -> None:
        """Checkpoint the write-ahead log into the store file, then close every thread's
        connection: a lone copy of ``store.sqlite`` then holds every acknowledged write."""
        with self._opened:
            connections, self._connections = self._connections, []
        if connections and not self.read_only:
            try:
                connections[0].execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # a reader still busy: the last close checkpoints
                log.warning("the store's write-ahead log was not checkpointed: %s", exc)
        for db in connections:
            db.close()
        self._local = threading.local()
        self._wal_inode = None
