"""What an operating-system or SQLite error says about the archive's folder, as a domain error.

Both surfaces ask the same question of a failure: the CLI prints the error's one line and
exits 1, the API answers 507 or 503 with it. Messages name no server path: an HTTP client
reads them too.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import (
    DatelineError,
    DiskFullError,
    ReadOnlyArchiveError,
    StorageError,
    StoreDamagedError,
)

__all__ = ["causes", "root_cause", "storage_error", "storage_errors"]

# SQLite says "disk I/O error", not "disk full", when it cannot grow the write-ahead log's
# shared-memory file as it opens a store: with this little space free, that is the cause.
_FULL_DISK_FREE_BYTES = 1 << 20
_READ_ONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)
# FAISS reports a failed write in C++ words around the C library's.
_NO_SPACE = os.strerror(errno.ENOSPC)


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the errors it was raised from or while handling, innermost last."""
    chain = [exc]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) and cause not in chain:
        chain.append(cause)
    return chain


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _said(cause: OSError) -> str:
    """The system's words without the file name, which is the server's business."""
    return os.strerror(cause.errno) if cause.errno else type(cause).__name__


def root_cause(exc: BaseException) -> str:
    """The words of the innermost system or SQLite error behind ``exc`` (else of ``exc``)."""
    for cause in reversed(causes(exc)):
        if isinstance(cause, OSError):
            return _said(cause)
        if isinstance(cause, sqlite3.Error):
            return str(cause)
        if isinstance(cause, RuntimeError) and _NO_SPACE in str(cause):
            return _NO_SPACE
    return str(exc)


def _primary(cause: sqlite3.Error) -> int:
    return getattr(cause, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one


def _disk_full(cause: BaseException, data_dir: Path) -> str | None:
    if isinstance(cause, OSError):
        return _said(cause) if cause.errno in (errno.ENOSPC, errno.EDQUOT) else None
    if isinstance(cause, RuntimeError):
        return _NO_SPACE if _NO_SPACE in str(cause) else None
    if not isinstance(cause, sqlite3.Error):
        return None
    if _primary(cause) == sqlite3.SQLITE_FULL:
        return str(cause)
    free = _free_bytes(data_dir)
    if (
        _primary(cause) == sqlite3.SQLITE_IOERR
        and free is not None
        and free < _FULL_DISK_FREE_BYTES
    ):
        return f"{cause}: {free:,} bytes free"
    return None


def _classify(cause: BaseException) -> DatelineError | None:
    if isinstance(cause, sqlite3.Error):
        code = _primary(cause)
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return StoreDamagedError(str(cause))
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
            return ReadOnlyArchiveError(str(cause))
        return StorageError(f"the archive's store failed: {cause}")
    if isinstance(cause, OSError):
        if cause.errno in _READ_ONLY_ERRNOS:
            return ReadOnlyArchiveError(_said(cause))
        return StorageError(f"the archive's files could not be read or written: {_said(cause)}")
    return None


def storage_error(exc: BaseException, data_dir: Path) -> DatelineError | None:
    """The domain error ``exc`` stands for; None when it is not about the archive's files (a
    bug, whose traceback is wanted).

    The error raised may not be the cause: when SQLite gives up a transaction on a full disk
    itself, the store's ROLLBACK fails with "no transaction is active" while handling it.
    """
    chain = causes(exc)
    full = next((said for cause in chain if (said := _disk_full(cause, data_dir))), None)
    if full is not None:
        return DiskFullError(full)
    return next((e for cause in reversed(chain) if (e := _classify(cause))), None)


@contextmanager
def storage_errors(data_dir: Path) -> Iterator[None]:
    """Raise the domain error an error about the archive's files stands for, from it."""
    try:
        yield
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        error = storage_error(exc, data_dir)
        if error is None:
            raise
        raise error from exc
