"""An operator's commands on an archive folder: an online backup, and a check of what is in it.

The store is the one part that cannot be derived: a backup copies it through SQLite's backup
API while the archive serves, and takes the index files along when they still match it. A
check says, part by part, what is wrong and the one thing to do about it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from embeddings.errors import IndexFileError
from qa.archive import Archive
from qa.errors import RESTORE, DatelineError, StoreDamagedError
from qa.faults import storage_errors
from qa.indexes import INDEX_FILES, IndexFolder
from qa.settings import Settings
from qa.store import STORE_FILE, Store

__all__ = ["Finding", "NoArchiveError", "backup", "check", "repair"]


class NoArchiveError(DatelineError):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"no archive in {data_dir}: there is no {STORE_FILE}")


@dataclass(frozen=True)
class Finding:
    part: str  # "store" or "index files"
    sound: bool
    said: str  # "ok (...)" or what is wrong
    fix: str | None = None


def _open(data_dir: Path) -> Store:
    if not (data_dir / STORE_FILE).is_file():
        raise NoArchiveError(data_dir)
    with storage_errors(data_dir):
        return Store(data_dir / STORE_FILE)


def backup(data_dir: Path, destination: Path) -> bool:
    """Copy the archive into ``destination``, a new folder; True when its index files came
    along intact (else they are rebuilt from the copied store when it is first opened)."""
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise DatelineError(f"{destination} exists and is not an empty folder")
    store = _open(data_dir)
    try:
        with storage_errors(destination):
            destination.mkdir(parents=True, exist_ok=True)
            store.backup(destination / STORE_FILE)
            for name in INDEX_FILES:
                source = data_dir / name
                if source.is_dir():
                    shutil.copytree(source, destination / name)
                elif source.is_file():
                    shutil.copy2(source, destination / name)
    finally:
        store.close()
    copy = Store(destination / STORE_FILE)
    try:
        IndexFolder(copy, destination).verify()
    except IndexFileError:
        return False
    finally:
        copy.close()
    return True


def check(data_dir: Path) -> list[Finding]:
    """The store's integrity (every page read), then the index files against it."""
    try:
        store = _open(data_dir)
    except StoreDamagedError as exc:
        return [Finding("store", False, f"damaged ({exc.said})", RESTORE)]
    try:
        with storage_errors(data_dir):
            damage = store.integrity_check()
            if damage != ["ok"]:
                return [Finding("store", False, f"damaged ({'; '.join(damage)})", RESTORE)]
            counts = store.catalogue.counts()
            found = [
                Finding(
                    "store",
                    True,
                    f"ok ({counts['articles']} articles, {counts['passages']} passages,"
                    f" {counts['sentences']} sentences)",
                )
            ]
            index_folder = IndexFolder(store, data_dir)
            try:
                index_folder.verify()
            except IndexFileError as exc:
                fix = (
                    "the store is sound: `dateline check --repair` rebuilds the index files"
                    " from it (so does the archive's next start)"
                )
                return [*found, Finding("index files", False, str(exc), fix)]
            manifest = index_folder.manifest()
            generation = manifest.generation if manifest else 0
            return [*found, Finding("index files", True, f"ok (generation {generation})")]
    except StoreDamagedError as exc:
        return [Finding("store", False, f"damaged ({exc.said})", RESTORE)]
    finally:
        store.close()


def repair(settings: Settings) -> str | None:
    """Rebuild the index files from a sound store; why they could not be saved, if not."""
    archive = Archive.open(settings)
    try:
        return archive.unsaved_indexes
    finally:
        archive.close()
