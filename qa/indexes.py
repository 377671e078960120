"""Derived indexes (FAISS for passages and sentences, BM25): built from the store, checked."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from embeddings.errors import IndexFileError
from embeddings.index import (
    IndexConfig,
    VectorIndex,
    choose_factory,
    file_checksum,
    write_atomically,
)
from qa.errors import DatelineError
from qa.faults import root_cause
from qa.lexical import LexicalIndex
from qa.store import Store

__all__ = [
    "INDEX_FILES",
    "Indexes",
    "build_indexes",
    "derive_indexes",
    "index_save_bytes",
    "load_indexes",
    "load_verified_indexes",
    "manifest",
    "persist_indexes",
    "stored_vector_indexes",
]

log = logging.getLogger(__name__)

_VECTOR_FILES = {"passages": "passages.faiss", "sentences": "sentences.faiss"}
_LEXICAL_DIR = "bm25"
_MANIFEST_FILE = "manifest.json"
# Every file and folder derived from the store, the manifest that vouches for them last.
INDEX_FILES = (*_VECTOR_FILES.values(), _LEXICAL_DIR, _MANIFEST_FILE)
# Room for the write's own rows and the manifest in the store, beside the index files.
_SQLITE_HEADROOM_BYTES = 1 << 20
_CHECKSUM = "xxh3_128"  # the manifest names the hash, so one made with another is not trusted


@dataclass(frozen=True)
class Indexes:
    passages: VectorIndex
    sentences: VectorIndex
    lexical: LexicalIndex
    generation: int  # the store's data generation they were derived from


def _fingerprint(store: Store) -> str:
    digest = hashlib.sha256()
    for article_id, content_hash in store.catalogue.content_hashes():
        digest.update(f"{article_id}\0{content_hash}\n".encode())
    return digest.hexdigest()


def _folder_checksums(folder: Path) -> dict[str, str]:
    return {path.name: file_checksum(path) for path in sorted(folder.iterdir()) if path.is_file()}


def manifest(store: Store) -> dict[str, Any] | None:
    """What the index holds and how it was built; None before the first ingest."""
    value: dict[str, Any] | None = store.get_meta("manifest")
    return value


VectorBases = dict[str, VectorIndex]


def derive_indexes(
    store: Store,
    dimension: int,
    config: IndexConfig | None = None,
    bases: VectorBases | None = None,
) -> Indexes:
    """Build every derived index in memory from what the store holds now (in this transaction).

    A vector index in ``bases`` that has lost no rows since it was built is extended by the rows
    added since, instead of rebuilt: adding one article to the Reuters archive (87,272 passages,
    104,463 sentences, HNSW) rebuilt both graphs in 25 s. BM25 is always built anew.
    """
    built = {
        table: _vector_index(store, table, dimension, config, (bases or {}).get(table))
        for table in _VECTOR_FILES
    }
    passage_ids, texts = store.reads.passage_texts()
    lexical = LexicalIndex.build(passage_ids, texts)
    return Indexes(built["passages"], built["sentences"], lexical, store.data_generation())


def _vector_index(
    store: Store,
    table: str,
    dimension: int,
    config: IndexConfig | None,
    base: VectorIndex | None,
) -> VectorIndex:
    if base is not None and base.count and base.dimension == dimension:
        last = base.last_id
        if store.reads.rows_up_to(table, last) == base.count:
            ids, vectors = store.reads.vectors(table, after=last)
            exact = choose_factory(base.count + len(ids), config) == "Flat"
            if base.exact == exact:  # past the exact-search limit, a new kind of index is due
                return base.extended(ids, vectors)
    ids, vectors = store.reads.vectors(table)
    return VectorIndex.build(ids, vectors, dimension, config=config)


def persist_indexes(
    indexes: Indexes, store: Store, data_dir: Path, model: str, dimension: int
) -> None:
    """Write the indexes (each file atomically), then the manifest that vouches for them.

    The manifest goes last: a crash before it leaves files its checksums do not match, which
    the next start detects and rebuilds.
    """
    previous = manifest(store) or {}
    files: dict[str, Any] = {}
    for table, filename in _VECTOR_FILES.items():
        index: VectorIndex = getattr(indexes, table)
        files[table] = {
            "file": filename,
            _CHECKSUM: index.save(data_dir / filename),
            "count": index.count,
        }
    staging = data_dir / f".{_LEXICAL_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        indexes.lexical.save(staging)
        files["lexical"] = {"dir": _LEXICAL_DIR, _CHECKSUM: _folder_checksums(staging)}
        shutil.rmtree(data_dir / _LEXICAL_DIR, ignore_errors=True)
        staging.rename(data_dir / _LEXICAL_DIR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a full disk keeps nothing half written
        raise
    record = {
        "model": model,
        "dimension": dimension,
        **store.catalogue.counts(),
        "fingerprint": _fingerprint(store),
        "generation": int(previous.get("generation", 0)) + 1,
        # The indexes' own: another process may have committed since they were derived.
        "data_generation": indexes.generation,
        "indexes": files,
    }
    store.set_meta("manifest", record)
    write_atomically(data_dir / _MANIFEST_FILE, json.dumps(record, indent=2).encode())


def build_indexes(
    store: Store,
    data_dir: Path,
    model: str,
    dimension: int,
    config: IndexConfig | None = None,
    bases: VectorBases | None = None,
) -> Indexes:
    """Derive every index from the store (extending ``bases`` where they allow) and record a
    new manifest generation."""
    indexes = derive_indexes(store, dimension, config, bases)
    persist_indexes(indexes, store, data_dir, model, dimension)
    return indexes


def load_verified_indexes(
    store: Store, data_dir: Path, config: IndexConfig | None = None
) -> Indexes:
    """The index files, if the manifest vouches for them and they match the store; else
    IndexFileError (never a rebuild: another process may be writing them)."""
    record = manifest(store)
    if record is None:
        raise IndexFileError("the store has no index manifest yet")
    if record.get("data_generation") != store.data_generation():
        raise IndexFileError("the index files are older than the store (an update did not finish)")
    loaded = _read_vector_files(record, data_dir, config)
    counts = store.catalogue.counts()
    for table, index in loaded.items():
        if index.count != counts[table]:
            raise IndexFileError(
                f"{_VECTOR_FILES[table]} holds {index.count} vectors but the store has"
                f" {counts[table]} {table}"
            )
    folder = data_dir / _LEXICAL_DIR
    if not folder.is_dir() or _folder_checksums(folder) != record["indexes"]["lexical"][_CHECKSUM]:
        raise IndexFileError(f"{_LEXICAL_DIR}/ is missing or does not match its checksums")
    try:
        lexical = LexicalIndex.load(folder)
    except (OSError, ValueError) as exc:
        raise IndexFileError(f"{_LEXICAL_DIR}/ is unreadable ({exc})") from exc
    if lexical.count != counts["passages"]:
        raise IndexFileError(f"{_LEXICAL_DIR}/ does not match the store")
    return Indexes(loaded["passages"], loaded["sentences"], lexical, record["data_generation"])


def _read_vector_files(
    record: dict[str, Any], data_dir: Path, config: IndexConfig | None
) -> VectorBases:
    if any(_CHECKSUM not in part for part in record["indexes"].values()):
        raise IndexFileError("the index manifest predates xxh3 checksums")
    return {
        table: VectorIndex.load(data_dir / filename, record["indexes"][table][_CHECKSUM], config)
        for table, filename in _VECTOR_FILES.items()
    }


def stored_vector_indexes(
    store: Store, data_dir: Path, config: IndexConfig | None = None
) -> VectorBases | None:
    """The vector index files as their manifest vouches for them, however far the store has
    moved on since (bases to extend); None when there are none intact."""
    record = manifest(store)
    if record is None:
        return None
    try:
        return _read_vector_files(record, data_dir, config)
    except IndexFileError as exc:
        log.warning("%s; the indexes will be built anew", exc)
        return None


def load_indexes(
    store: Store, data_dir: Path, model: str, dimension: int, config: IndexConfig | None = None
) -> tuple[Indexes, str | None]:
    """Load and verify; a missing, torn, altered or stale index is reported and rebuilt.

    One process rebuilds at a time (server workers start together); the others then load
    what it wrote. Returned beside the indexes: why the rebuilt ones could not be saved (a
    read-only folder, a full disk), if they could not; the archive then answers from memory.
    """
    try:
        return load_verified_indexes(store, data_dir, config), None
    except IndexFileError as exc:
        problem = exc
    if store.read_only:
        log.warning("%s; the folder is read-only, so the index is built in memory", problem)
        return derive_indexes(store, dimension, config), "the archive's folder is read-only"
    with FileLock(data_dir / ".rebuild.lock"):
        try:
            return load_verified_indexes(store, data_dir, config), None
        except IndexFileError:
            if manifest(store) is not None:
                log.warning("%s; rebuilding the index from the store", problem)
        indexes = derive_indexes(store, dimension, config)
        try:
            persist_indexes(indexes, store, data_dir, model, dimension)
        except (OSError, sqlite3.Error, RuntimeError, DatelineError) as exc:
            unsaved = root_cause(exc)
            log.warning(
                "the rebuilt index files could not be saved (%s): answering from memory", unsaved
            )
            return indexes, unsaved
        return indexes, None


def index_save_bytes(data_dir: Path) -> int:
    """The most extra space saving the index files takes at once: each is written beside the
    one it replaces, then renamed over it (BM25's folder as a whole), one after another."""
    lexical = data_dir / _LEXICAL_DIR
    sizes = [_size(data_dir / name) for name in _VECTOR_FILES.values()]
    if lexical.is_dir():
        sizes.append(sum(_size(path) for path in lexical.iterdir()))
    return max(sizes, default=0) + _SQLITE_HEADROOM_BYTES


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
