"""Derived indexes (FAISS for passages and sentences, BM25): built from the store, checked.

An ``IndexFolder`` is the archive folder's index files and the ``Manifest`` that vouches for
them; it holds the folder, the index configuration and the model identity once, and derives,
extends, persists, verifies and loads.

The sentences' index holds each sentence under its passage's id (``PassageReads.vectors``):
a sentence found is only ever used as its passage, so a search names it with no look-up.

A deleted row leaves a tombstone in the store (a trigger writes it in the delete's own
transaction): the indexes keep its vector, and skip it at every search, until the tombstones
of an index pass ``IndexConfig.compaction_share`` of its rows and it is rebuilt without them.
A deleted passage's sentences leave one tombstone, its id, which skips them all. The store's
tombstones are always those the index derived from its current data holds: an index built anew
drops the ones it does not hold in the transaction that derives it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from filelock import FileLock

from embeddings.errors import IndexFileError, ModelMismatchError
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
from qa.manifest import INDEX_FORMAT, LexicalFiles, Manifest, ManifestIndexes, VectorFile
from qa.store import Store

__all__ = [
    "INDEX_FILES",
    "IndexFolder",
    "Indexes",
    "ModelIdentity",
    "VectorBases",
]

log = logging.getLogger(__name__)

_VECTOR_FILES = {"passages": "passages.faiss", "sentences": "sentences.faiss"}
# The index format (qa.manifest) in which each file's layout last changed: a file written in an
# earlier format is rebuilt, the others are kept (an upgrade rebuilds the sentences' index, not
# the passages').
_LAYOUT_SINCE = {"passages": 1, "sentences": 2}
_LEXICAL_DIR = "bm25"
_MANIFEST_FILE = "manifest.json"
_MANIFEST_KEY = "manifest"  # the store's meta key of the manifest
# Every file and folder derived from the store, the manifest that vouches for them last.
INDEX_FILES = (*_VECTOR_FILES.values(), _LEXICAL_DIR, _MANIFEST_FILE)
# Room for the write's own rows and the manifest in the store, beside the index files.
_SQLITE_HEADROOM_BYTES = 1 << 20

VectorBases = dict[str, VectorIndex]
Ids = npt.NDArray[np.int64]
_Index = TypeVar("_Index", VectorIndex, LexicalIndex)


class ModelIdentity(Protocol):
    """The encoder whose vectors an index holds (an Encoder is one)."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...


@dataclass(frozen=True)
class Indexes:
    passages: VectorIndex
    sentences: VectorIndex
    lexical: LexicalIndex
    generation: int  # the store's data generation they were derived from

    @property
    def vectors(self) -> VectorBases:
        """The vector indexes, as bases to extend."""
        return {"passages": self.passages, "sentences": self.sentences}


def _same_model(a: str, b: str) -> bool:
    def canonical(name: str) -> str:
        return name.lower().removeprefix("sentence-transformers/")

    return canonical(a) == canonical(b)


def _folder_checksums(folder: Path) -> dict[str, str]:
    return {path.name: file_checksum(path) for path in sorted(folder.iterdir()) if path.is_file()}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class IndexFolder:
    """The index files of one archive folder, derived from its store.

    ``model`` (the encoder) is needed to derive and write indexes, and to check that the
    index was built with it; verifying and reading the files needs only the folder.
    """

    def __init__(
        self,
        store: Store,
        folder: Path,
        config: IndexConfig | None = None,
        model: ModelIdentity | None = None,
    ) -> None:
        self.store = store
        self.folder = folder
        self.config = config
        self._model = model
        # The index in memory that each part's file holds, by part, with the checksum that
        # file was written or verified with: a part whose index is still that one, bar the
        # rows it skips, needs no new file.
        self._on_disk: dict[str, tuple[weakref.ref[Any], object]] = {}

    @property
    def model(self) -> ModelIdentity:
        if self._model is None:
            raise TypeError("this IndexFolder was opened without a model: it only reads")
        return self._model

    # -- the manifest ---------------------------------------------------------------------

    def manifest(self) -> Manifest | None:
        """What the index holds and how it was built; None before the first ingest."""
        value = self.store.get_meta(_MANIFEST_KEY)
        return None if value is None else Manifest.model_validate(value)

    def check_model(self) -> None:
        """Refuse to mix vectors of two models in one index."""
        found = self.manifest()
        if found is None:
            return
        model = self.model
        if not _same_model(found.model, model.name) or found.dimension != model.dimension:
            raise ModelMismatchError(found.model, found.dimension, model.name, model.dimension)

    # -- deriving -------------------------------------------------------------------------

    def extend(self, bases: VectorBases, lexical: LexicalIndex | None = None) -> Indexes:
        """Build every index in memory from what the store holds now, keeping what it can of
        ``bases`` and of ``lexical`` (the BM25 index derived with them).

        A vector index that has lost no rows but to tombstones is kept, skipping them, and
        extended by the rows added since: an HNSW graph takes new vectors without a rebuild.
        BM25 takes no new passages: it is kept, skipping the deleted ones, only while none was
        added. Either is built anew once its tombstones pass the compaction share, and BM25
        whenever the passages' vector index is (the tombstones it skips are that index's).
        The tombstones no index holds any longer are dropped, in the caller's transaction.
        """
        passages = self._vector_index("passages", bases.get("passages"))
        sentences = self._vector_index("sentences", bases.get("sentences"))
        lexical = self._lexical_index(lexical, passages)
        return Indexes(passages, sentences, lexical, self.store.data_generation())

    @property
    def _compaction_share(self) -> float:
        return (self.config or IndexConfig()).compaction_share

    def _vector_index(self, table: str, base: VectorIndex | None) -> VectorIndex:
        deleted = self.store.reads.tombstones(table)
        index = None if base is None else self._kept_vector_index(table, base, deleted)
        if index is None:
            ids, vectors = self.store.reads.vectors(table)
            index = VectorIndex.build(ids, vectors, self.model.dimension, config=self.config)
        if not self.store.read_only:
            self.store.writes.forget_tombstones(table, deleted[~index.holds(deleted)])
        return index

    def _kept_vector_index(self, table: str, base: VectorIndex, deleted: Ids) -> VectorIndex | None:
        """``base`` extended by the rows added since and skipping the deleted ones, or None
        when it must be built anew."""
        reads = self.store.reads
        if not base.count or base.dimension != self.model.dimension:
            return None
        last = base.last_id
        kept = base.excluding(deleted)
        if reads.rows_up_to(table, last) + kept.deleted != base.count:
            return None  # it lost rows no tombstone accounts for
        ids, vectors = reads.vectors(table, after=last)
        count = base.count + len(ids)
        exact = choose_factory(count - kept.deleted, self.config) == "Flat"
        if base.exact != exact:  # past the exact-search limit, a new kind of index is due
            return None
        if kept.deleted > self._compaction_share * count:
            return None
        if len(ids):
            return base.extended(ids, vectors).excluding(deleted)
        return self._same_file(table, base, kept)

    def _lexical_index(self, base: LexicalIndex | None, passages: VectorIndex) -> LexicalIndex:
        """``base`` skipping the deleted passages while no passage was added since it was
        built, else BM25 anew."""
        if base is not None and base.count:
            deleted = self.store.reads.tombstones("passages")
            kept = base.excluding(deleted)
            # Every passage it holds is in the store or a tombstone of the passages' index.
            unchanged = (
                int(base.ids.max()) == passages.last_id  # no passage added since
                and self.store.reads.rows_up_to("passages", passages.last_id) + kept.excluded
                == base.count
            )
            if unchanged and kept.excluded <= self._compaction_share * base.count:
                return self._same_file(_LEXICAL_DIR, base, kept)
        passage_ids, texts = self.store.reads.passage_texts()
        return LexicalIndex.build(passage_ids, texts)

    # -- writing --------------------------------------------------------------------------

    def persist(self, indexes: Indexes) -> None:
        """Write the indexes whose files do not hold them yet (each file atomically), then the
        manifest that vouches for them.

        The manifest goes last: a crash before it leaves files its checksums do not match, which
        the next start detects and rebuilds.
        """
        previous = self.manifest()
        passages = self._saved_vectors(indexes.passages, "passages", previous)
        sentences = self._saved_vectors(indexes.sentences, "sentences", previous)
        lexical = self._saved_lexical(indexes.lexical, previous)
        files = ManifestIndexes(
            passages=passages or self._save_vectors(indexes.passages, "passages"),
            sentences=sentences or self._save_vectors(indexes.sentences, "sentences"),
            lexical=lexical or self._save_lexical(indexes.lexical),
        )
        self._record(indexes, files, previous)
        self.copy_manifest()

    def record(self, indexes: Indexes) -> bool:
        """Record the manifest of ``indexes`` if their files hold them already (rows were only
        deleted): inside the caller's write transaction, the write and the manifest that vouches
        for it then commit together, and a crash keeps both or neither. False, with nothing
        recorded, when a file must be written first (``persist``, once the write committed).
        """
        previous = self.manifest()
        passages = self._saved_vectors(indexes.passages, "passages", previous)
        sentences = self._saved_vectors(indexes.sentences, "sentences", previous)
        lexical = self._saved_lexical(indexes.lexical, previous)
        if passages is None or sentences is None or lexical is None:
            return False
        files = ManifestIndexes(passages=passages, sentences=sentences, lexical=lexical)
        self._record(indexes, files, previous)
        return True

    def copy_manifest(self) -> None:
        """``manifest.json``: the store's manifest, beside the files it vouches for."""
        written = self.store.get_meta(_MANIFEST_KEY)
        write_atomically(self.folder / _MANIFEST_FILE, json.dumps(written, indent=2).encode())

    def _record(self, indexes: Indexes, files: ManifestIndexes, previous: Manifest | None) -> None:
        counts = self.store.catalogue.counts()
        record = Manifest(
            model=self.model.name,
            dimension=self.model.dimension,
            articles=counts["articles"],
            passages=counts["passages"],
            sentences=counts["sentences"],
            fingerprint=self._fingerprint(),
            generation=(previous.generation if previous else 0) + 1,
            # The indexes' own: another process may have committed since they were derived.
            data_generation=indexes.generation,
            indexes=files,
            format=INDEX_FORMAT,
        )
        self.store.set_meta(_MANIFEST_KEY, record.model_dump(mode="json"))

    def _remember(self, part: str, index: object, checksum: object) -> None:
        self._on_disk[part] = (weakref.ref(index), checksum)

    def _same_file(self, part: str, base: _Index, view: _Index) -> _Index:
        """``view``, a view of ``base`` skipping other rows, is held by ``base``'s file."""
        known = self._on_disk.get(part)
        if known is not None and known[0]() is base:
            self._remember(part, view, known[1])
        return view

    def _on_disk_as(self, part: str, index: object) -> object:
        """The checksum the file of ``part`` was written or verified with, if it holds
        ``index``; else None."""
        known = self._on_disk.get(part)
        return known[1] if known is not None and known[0]() is index else None

    def _saved_vectors(
        self, index: VectorIndex, table: str, previous: Manifest | None
    ) -> VectorFile | None:
        """The manifest's record of ``index``'s file, if it holds ``index`` already."""
        checksum = self._on_disk_as(table, index)
        recorded: VectorFile | None = getattr(previous.indexes, table) if previous else None
        if recorded is None or checksum is None or recorded.checksum != checksum:
            return None
        return recorded.model_copy(update={"count": index.count, "deleted": index.deleted})

    def _saved_lexical(self, index: LexicalIndex, previous: Manifest | None) -> LexicalFiles | None:
        checksums = self._on_disk_as(_LEXICAL_DIR, index)
        recorded = previous.indexes.lexical if previous else None
        if recorded is None or checksums is None or recorded.checksums != checksums:
            return None
        return recorded.model_copy(update={"deleted": index.excluded})

    def _save_vectors(self, index: VectorIndex, table: str) -> VectorFile:
        filename = _VECTOR_FILES[table]
        checksum = index.save(self.folder / filename)
        self._remember(table, index, checksum)
        return VectorFile(
            file=filename, checksum=checksum, count=index.count, deleted=index.deleted
        )

    def _save_lexical(self, index: LexicalIndex) -> LexicalFiles:
        staging = self.folder / f".{_LEXICAL_DIR}.new"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            index.save(staging)
            checksums = _folder_checksums(staging)
            shutil.rmtree(self.folder / _LEXICAL_DIR, ignore_errors=True)
            staging.rename(self.folder / _LEXICAL_DIR)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # a full disk keeps nothing half written
            raise
        self._remember(_LEXICAL_DIR, index, checksums)
        return LexicalFiles(dir=_LEXICAL_DIR, checksums=checksums, deleted=index.excluded)

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for article_id, content_hash in self.store.catalogue.content_hashes():
            digest.update(f"{article_id}\0{content_hash}\n".encode())
        return digest.hexdigest()

    def save_bytes(self) -> int:
        """The most extra space saving the index files takes at once: each is written beside the
        one it replaces, then renamed over it (BM25's folder as a whole), one after another."""
        lexical = self.folder / _LEXICAL_DIR
        sizes = [_size(self.folder / name) for name in _VECTOR_FILES.values()]
        if lexical.is_dir():
            sizes.append(sum(_size(path) for path in lexical.iterdir()))
        return max(sizes, default=0) + _SQLITE_HEADROOM_BYTES

    # -- reading --------------------------------------------------------------------------

    def verify(self, current: Indexes | None = None) -> Indexes:
        """The index files, if the manifest vouches for them and they match the store; else
        IndexFileError (never a rebuild: another process may be writing them).

        Each index holds the store's rows and its tombstones (deleted rows, which it skips).
        A part of ``current`` (the indexes in memory) that its file still holds is kept, not
        read again: after another process deleted rows, only the tombstones are new.
        """
        record = self.manifest()
        if record is None:
            raise IndexFileError("the store has no index manifest yet")
        if record.data_generation != self.store.data_generation():
            raise IndexFileError(
                "the index files are older than the store (an update did not finish)"
            )
        counts = self.store.catalogue.counts()
        views = {}
        for table, index in self._read_vector_files(record, current).items():
            deleted = self.store.reads.tombstones(table)
            view = self._same_file(table, index, index.excluding(deleted))
            if not index.holds(deleted).all() or view.live != counts[table]:
                raise IndexFileError(
                    f"{_VECTOR_FILES[table]} holds {index.count} vectors but the store has"
                    f" {counts[table]} {table} and {len(deleted)} tombstones"
                )
            views[table] = view
        lexical = self._read_lexical_files(record, current.lexical if current else None)
        kept = self._same_file(
            _LEXICAL_DIR, lexical, lexical.excluding(self.store.reads.tombstones("passages"))
        )
        if lexical.count != counts["passages"] + kept.excluded:
            raise IndexFileError(f"{_LEXICAL_DIR}/ does not match the store")
        return Indexes(views["passages"], views["sentences"], kept, record.data_generation)

    def _read_vector_files(
        self,
        record: Manifest,
        current: Indexes | None = None,
        tables: Iterable[str] = _VECTOR_FILES,
    ) -> VectorBases:
        checksums = record.indexes.vector_checksums()
        if checksums is None:
            raise IndexFileError("the index manifest predates xxh3 checksums")
        loaded = {}
        for table in tables:
            filename = _VECTOR_FILES[table]
            if record.format < _LAYOUT_SINCE[table]:
                raise IndexFileError(
                    f"{filename} is of index format {record.format}, this version reads"
                    f" {_LAYOUT_SINCE[table]} or later"
                )
            held = current.vectors[table] if current else None
            if held is not None and self._on_disk_as(table, held) == checksums[table]:
                loaded[table] = held
                continue
            index = VectorIndex.load(self.folder / filename, checksums[table], self.config)
            self._remember(table, index, checksums[table])
            loaded[table] = index
        return loaded

    def _read_lexical_files(
        self, record: Manifest, current: LexicalIndex | None = None
    ) -> LexicalIndex:
        folder = self.folder / _LEXICAL_DIR
        files = record.indexes.lexical
        if current is not None and files is not None:
            if self._on_disk_as(_LEXICAL_DIR, current) == files.checksums:
                return current
        if files is None or not folder.is_dir() or _folder_checksums(folder) != files.checksums:
            raise IndexFileError(f"{_LEXICAL_DIR}/ is missing or does not match its checksums")
        try:
            lexical = LexicalIndex.load(folder)
        except (OSError, ValueError) as exc:
            raise IndexFileError(f"{_LEXICAL_DIR}/ is unreadable ({exc})") from exc
        self._remember(_LEXICAL_DIR, lexical, files.checksums)
        return lexical

    def stored_vectors(self) -> VectorBases:
        """The vector index files that their manifest vouches for, however far the store has
        moved on since (bases to extend); a missing, damaged or outdated one is left out, and
        only its index is built anew."""
        record = self.manifest()
        if record is None:
            return {}
        bases: VectorBases = {}
        for table in _VECTOR_FILES:
            try:
                bases |= self._read_vector_files(record, tables=[table])
            except IndexFileError as exc:
                log.warning("%s; the %s index will be built anew", exc, table)
        return bases

    def stored_lexical(self) -> LexicalIndex | None:
        """The BM25 files as their manifest vouches for them (a base to keep); None when they
        are not intact."""
        record = self.manifest()
        if record is None:
            return None
        try:
            return self._read_lexical_files(record)
        except IndexFileError as exc:
            log.warning("%s; BM25 will be built anew", exc)
            return None

    def updated(self) -> Indexes:
        """The indexes of the store as it is now: every file still intact and of this version's
        format extended by the rows it lacks (an HNSW graph takes them without a rebuild), the
        missing, damaged or outdated ones built anew."""
        return self.extend(self.stored_vectors(), self.stored_lexical())

    def load(self) -> tuple[Indexes, str | None]:
        """Verify; a missing, torn, altered or stale index is reported and rebuilt.

        One process rebuilds at a time (server workers start together); the others then load
        what it wrote. Returned beside the indexes: why the rebuilt ones could not be saved (a
        read-only folder, a full disk), if they could not; the archive then answers from memory.
        """
        try:
            return self.verify(), None
        except IndexFileError as exc:
            problem = exc
        if self.store.read_only:
            log.warning("%s; the folder is read-only, so the index is built in memory", problem)
            return self.updated(), "the archive's folder is read-only"
        with FileLock(self.folder / ".rebuild.lock"):
            try:
                return self.verify(), None
            except IndexFileError:
                if self.manifest() is not None:
                    log.warning("%s; rebuilding the index from the store", problem)
            indexes = self.updated()
            try:
                self.persist(indexes)
            except (OSError, sqlite3.Error, RuntimeError, DatelineError) as exc:
                unsaved = root_cause(exc)
                log.warning(
                    "the rebuilt index files could not be saved (%s): answering from memory",
                    unsaved,
                )
                return indexes, unsaved
            return indexes, None
