"""Derived indexes (FAISS for passages and sentences, BM25): built from the store, checked.

An ``IndexFolder`` is the archive folder's index files and the ``Manifest`` that vouches for
them; it holds the folder, the index configuration and the model identity once, and derives,
extends, persists, verifies and loads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
from qa.manifest import LexicalFiles, Manifest, ManifestIndexes, VectorFile
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
_LEXICAL_DIR = "bm25"
_MANIFEST_FILE = "manifest.json"
_MANIFEST_KEY = "manifest"  # the store's meta key of the manifest
# Every file and folder derived from the store, the manifest that vouches for them last.
INDEX_FILES = (*_VECTOR_FILES.values(), _LEXICAL_DIR, _MANIFEST_FILE)
# Room for the write's own rows and the manifest in the store, beside the index files.
_SQLITE_HEADROOM_BYTES = 1 << 20

VectorBases = dict[str, VectorIndex]


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

    def derive(self) -> Indexes:
        """Build every index in memory, anew, from what the store holds now (in this
        transaction)."""
        return self.extend({})

    def extend(self, bases: VectorBases) -> Indexes:
        """Build every index in memory from what the store holds now, extending each vector
        index of ``bases`` that has lost no rows since it was built by the rows added since:
        an HNSW graph takes new vectors without a rebuild. BM25 is always built anew.
        """
        built = {table: self._vector_index(table, bases.get(table)) for table in _VECTOR_FILES}
        passage_ids, texts = self.store.reads.passage_texts()
        lexical = LexicalIndex.build(passage_ids, texts)
        return Indexes(built["passages"], built["sentences"], lexical, self.store.data_generation())

    def _vector_index(self, table: str, base: VectorIndex | None) -> VectorIndex:
        reads, dimension = self.store.reads, self.model.dimension
        if base is not None and base.count and base.dimension == dimension:
            last = base.last_id
            if reads.rows_up_to(table, last) == base.count:
                ids, vectors = reads.vectors(table, after=last)
                exact = choose_factory(base.count + len(ids), self.config) == "Flat"
                if base.exact == exact:  # past the exact-search limit, a new kind of index is due
                    return base.extended(ids, vectors)
        ids, vectors = reads.vectors(table)
        return VectorIndex.build(ids, vectors, dimension, config=self.config)

    # -- writing --------------------------------------------------------------------------

    def persist(self, indexes: Indexes) -> None:
        """Write the indexes (each file atomically), then the manifest that vouches for them.

        The manifest goes last: a crash before it leaves files its checksums do not match, which
        the next start detects and rebuilds.
        """
        previous = self.manifest()
        passages = self._save_vectors(indexes.passages, "passages")
        sentences = self._save_vectors(indexes.sentences, "sentences")
        staging = self.folder / f".{_LEXICAL_DIR}.new"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            indexes.lexical.save(staging)
            lexical = LexicalFiles(dir=_LEXICAL_DIR, checksums=_folder_checksums(staging))
            shutil.rmtree(self.folder / _LEXICAL_DIR, ignore_errors=True)
            staging.rename(self.folder / _LEXICAL_DIR)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # a full disk keeps nothing half written
            raise
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
            indexes=ManifestIndexes(passages=passages, sentences=sentences, lexical=lexical),
        )
        written = record.model_dump(mode="json")
        self.store.set_meta(_MANIFEST_KEY, written)
        write_atomically(self.folder / _MANIFEST_FILE, json.dumps(written, indent=2).encode())

    def _save_vectors(self, index: VectorIndex, table: str) -> VectorFile:
        filename = _VECTOR_FILES[table]
        checksum = index.save(self.folder / filename)
        return VectorFile(file=filename, checksum=checksum, count=index.count)

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

    def verify(self) -> Indexes:
        """The index files, if the manifest vouches for them and they match the store; else
        IndexFileError (never a rebuild: another process may be writing them)."""
        record = self.manifest()
        if record is None:
            raise IndexFileError("the store has no index manifest yet")
        if record.data_generation != self.store.data_generation():
            raise IndexFileError(
                "the index files are older than the store (an update did not finish)"
            )
        loaded = self._read_vector_files(record)
        counts = self.store.catalogue.counts()
        for table, index in loaded.items():
            if index.count != counts[table]:
                raise IndexFileError(
                    f"{_VECTOR_FILES[table]} holds {index.count} vectors but the store has"
                    f" {counts[table]} {table}"
                )
        folder = self.folder / _LEXICAL_DIR
        lexical_files = record.indexes.lexical
        if (
            lexical_files is None
            or not folder.is_dir()
            or _folder_checksums(folder) != lexical_files.checksums
        ):
            raise IndexFileError(f"{_LEXICAL_DIR}/ is missing or does not match its checksums")
        try:
            lexical = LexicalIndex.load(folder)
        except (OSError, ValueError) as exc:
            raise IndexFileError(f"{_LEXICAL_DIR}/ is unreadable ({exc})") from exc
        if lexical.count != counts["passages"]:
            raise IndexFileError(f"{_LEXICAL_DIR}/ does not match the store")
        return Indexes(loaded["passages"], loaded["sentences"], lexical, record.data_generation)

    def _read_vector_files(self, record: Manifest) -> VectorBases:
        checksums = record.indexes.vector_checksums()
        if checksums is None:
            raise IndexFileError("the index manifest predates xxh3 checksums")
        return {
            table: VectorIndex.load(self.folder / filename, checksums[table], self.config)
            for table, filename in _VECTOR_FILES.items()
        }

    def stored_vectors(self) -> VectorBases:
        """The vector index files as their manifest vouches for them, however far the store has
        moved on since (bases to extend); none when there are none intact."""
        record = self.manifest()
        if record is None:
            return {}
        try:
            return self._read_vector_files(record)
        except IndexFileError as exc:
            log.warning("%s; the indexes will be built anew", exc)
            return {}

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
            return self.derive(), "the archive's folder is read-only"
        with FileLock(self.folder / ".rebuild.lock"):
            try:
                return self.verify(), None
            except IndexFileError:
                if self.manifest() is not None:
                    log.warning("%s; rebuilding the index from the store", problem)
            indexes = self.derive()
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
