"""FAISS vector index keyed by the store's ids, written atomically with a checksum."""

from __future__ import annotations

import copy
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
import xxhash

from embeddings.errors import IndexFileError
from embeddings.threads import threads_limited

__all__ = [
    "ANN_FACTORY",
    "COMPACTION_SHARE",
    "EF_SEARCH",
    "EF_SEARCH_LARGE_FROM",
    "EXACT_LIMIT",
    "IndexConfig",
    "SearchHits",
    "VectorIndex",
    "choose_factory",
    "default_ef_search",
    "file_checksum",
    "write_atomically",
]

# Below this many vectors exact search is cheap enough, and exact; above it HNSW, whose cost
# grows far more slowly with the corpus (bench scale).
EXACT_LIMIT = 20_000
ANN_FACTORY = "HNSW32,Flat"
# HNSW's recall at a fixed search breadth falls as the graph grows (bench scale), so the
# default breadth doubles from EF_SEARCH_LARGE_FROM vectors on.
EF_SEARCH = 128
EF_SEARCH_LARGE_FROM = 500_000
# Graph quality at build time; FAISS's default (40) loses recall on large, clustered corpora.
EF_CONSTRUCTION = 80
# Files above this are memory-mapped: no copy on load, pages shared between processes.
MMAP_BYTES = 64 << 20
# Deleted rows stay in an index, skipped by every search, until they pass this share of it;
# then it is rebuilt without them (as Lucene merges segments and Milvus compacts them).
COMPACTION_SHARE = 0.1
# A filter that leaves at most this many ids is scored exactly (one matrix product); more go
# through the index with an id selector.
EXACT_FILTER_LIMIT = 20_000


def default_ef_search(count: int) -> int:
    return 2 * EF_SEARCH if count >= EF_SEARCH_LARGE_FROM else EF_SEARCH


@dataclass(frozen=True)
class IndexConfig:
    """How vector indexes are built and searched.

    ``factory`` is any FAISS factory string; it is used from ``exact_limit`` vectors on, and
    exact search ("Flat") below (``exact_limit=0``: always ``factory``). ``ef_search`` is HNSW's
    search breadth (higher: better recall, slower), by default chosen by the index's size;
    ``nprobe`` is IVF's. An index is rebuilt without its deleted rows once they pass
    ``compaction_share`` of the rows it holds (0: at every delete).
    """

    factory: str = ANN_FACTORY
    exact_limit: int = EXACT_LIMIT
    ef_search: int | None = None  # None: EF_SEARCH, doubled for large indexes
    nprobe: int = 32
    mmap_bytes: int = MMAP_BYTES
    compaction_share: float = COMPACTION_SHARE


def choose_factory(count: int, config: IndexConfig | None = None) -> str:
    """Exact search below the size limit, the configured approximate index above it."""
    config = config or IndexConfig()
    return "Flat" if count < config.exact_limit else config.factory


@dataclass(frozen=True)
class SearchHits:
    """Row ids and cosine scores of one query, best first."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]


_NO_HITS = SearchHits(np.zeros(0, np.int64), np.zeros(0, np.float32))


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file, fsync it, rename it over ``path``, fsync the folder.

    A crash at any point leaves either the old file or the new one, never a torn one.
    """
    with _beside(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(tmp, path)


@contextmanager
def _beside(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path``, removed if writing it fails (a full disk would
    otherwise keep the part written)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _replace(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def file_checksum(path: Path) -> str:
    """xxh3-128 of the file, read through a memory map.

    It guards against torn writes and bit rot, not against an adversary (who could rewrite
    the manifest too), so a fast non-cryptographic hash is the right tool; SHA-256 of a
    million-passage archive's files took most of a server's start-up.
    """
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return xxhash.xxh3_128_hexdigest(b"")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return xxhash.xxh3_128_hexdigest(mapped)


@contextmanager
def _one_thread() -> Iterator[None]:
    """Search one query on the calling thread only.

    OpenMP's team for a single query costs more than it saves, most of all on busy cores;
    concurrent requests use the other cores. The setting is per thread in OpenMP, so an index
    build elsewhere keeps every core.
    """
    with threads_limited(faiss.omp_get_max_threads, faiss.omp_set_num_threads):
        yield


def _inner(index: faiss.Index) -> faiss.Index:
    return faiss.downcast_index(index.index if isinstance(index, faiss.IndexIDMap) else index)


def _among(ids: npt.NDArray[np.int64], sorted_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which of ``ids`` are in ``sorted_ids`` (a binary search each)."""
    if not len(sorted_ids):
        return np.zeros(len(ids), dtype=bool)
    slots = np.searchsorted(sorted_ids, ids).clip(0, len(sorted_ids) - 1)
    found: npt.NDArray[np.bool_] = sorted_ids[slots] == ids
    return found


class VectorIndex:
    """Inner-product index over unit vectors; ids are int64 ids of the store, a row's own or,
    for several vectors under one id, their owner's (the sentences of a passage).

    It may hold rows deleted from the store since it was built (``excluding``): a search
    never returns them, nor any other vector under their ids.
    """

    def __init__(self, index: faiss.Index, config: IndexConfig | None = None) -> None:
        self._index = index
        self._config = config or IndexConfig()
        self._held: npt.NDArray[np.int64] | None = None  # every id held, sorted, once asked
        self._distinct: bool | None = None  # whether no id is held twice, once asked
        self._deleted = np.zeros(0, dtype=np.int64)
        self._skipped = 0  # the vectors held under them
        self._not_deleted: Any = None  # the id selector that skips them
        # faiss's bundled stubs miss the HNSW search parameters and subclass attributes.
        inner: Any = _inner(index)
        self._inner = inner
        self._params_type: Any = faiss.SearchParameters
        self._graph = isinstance(inner, faiss.IndexHNSW)
        self._ef_search = self._config.ef_search or default_ef_search(index.ntotal)
        if self._graph:
            inner.hnsw.efSearch = self._ef_search
            self._params_type = faiss.SearchParametersHNSW  # type: ignore[attr-defined]
        elif isinstance(inner, faiss.IndexIVF):
            inner.nprobe = self._config.nprobe
            self._params_type = faiss.SearchParametersIVF

    @classmethod
    def build(
        cls,
        ids: npt.NDArray[np.int64],
        vectors: npt.NDArray[np.float32],
        dimension: int,
        factory: str | None = None,
        config: IndexConfig | None = None,
    ) -> VectorIndex:
        """Index ``vectors`` under ``ids``; the factory is chosen by size unless one is given."""
        config = config or IndexConfig()
        description = factory or choose_factory(len(ids), config)
        inner = faiss.index_factory(dimension, description, faiss.METRIC_INNER_PRODUCT)
        hnsw: Any = faiss.downcast_index(inner)
        if isinstance(hnsw, faiss.IndexHNSW):
            hnsw.hnsw.efConstruction = EF_CONSTRUCTION
        if not inner.is_trained and len(ids):
            inner.train(vectors)
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(vectors, ids)
        return cls(index, config)

    @property
    def count(self) -> int:
        """Vectors held, deleted ones included."""
        return int(self._index.ntotal)

    @property
    def deleted(self) -> int:
        """Vectors held whose rows were deleted since (all those under a deleted id): searches
        skip them."""
        return self._skipped

    @property
    def live(self) -> int:
        """Vectors a search may return."""
        return self.count - self.deleted

    def _held_ids(self) -> npt.NDArray[np.int64]:
        if self._held is None:
            held = faiss.vector_to_array(self._index.id_map)  # type: ignore[attr-defined]
            self._held = np.sort(held.astype(np.int64, copy=False))
        return self._held

    def _held_under(self, ids: npt.NDArray[np.int64]) -> int:
        """How many vectors are held under ``ids`` (distinct ones)."""
        held = self._held_ids()
        return int((np.searchsorted(held, ids, "right") - np.searchsorted(held, ids)).sum())

    def _one_per_id(self) -> bool:
        """Whether no id is held twice: looking vectors up by id then finds every one."""
        if self._distinct is None:
            held = self._held_ids()
            self._distinct = bool((held[1:] != held[:-1]).all())
        return self._distinct

    @property
    def last_id(self) -> int:
        """The largest id held, or 0 when empty."""
        return int(self._held_ids()[-1]) if self.count else 0

    def holds(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which of ``ids`` this index holds a vector for, deleted or not."""
        return _among(np.asarray(ids, dtype=np.int64), self._held_ids())

    def excluding(self, deleted: npt.NDArray[np.int64]) -> VectorIndex:
        """This index, its vectors shared, never returning ``deleted`` (rows deleted from the
        store since it was built): a delete costs no rebuild. It replaces the ids this index
        excluded; ids it does not hold are ignored."""
        view = copy.copy(self)
        deleted = np.unique(np.asarray(deleted, dtype=np.int64))
        view._deleted = deleted[self.holds(deleted)]
        view._skipped = self._held_under(view._deleted)
        view._not_deleted = None
        if len(view._deleted):
            view._not_deleted = faiss.IDSelectorNot(faiss.IDSelectorBatch(view._deleted))
        return view

    def extended(self, ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> VectorIndex:
        """A copy holding these vectors too; this index, which readers may be using, is kept.

        An HNSW graph is built by adding vectors one by one, so adding the new ones to a copy is
        what a fresh build would do with them, without redoing the rest.
        """
        # A copy through bytes owns its arrays; faiss.clone_index of a memory-mapped index
        # still views the file, and adding to it aborts.
        index = faiss.deserialize_index(faiss.serialize_index(self._index))
        if len(ids):
            index.add_with_ids(vectors, ids)
        return VectorIndex(index, self._config)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def kind(self) -> str:
        """The FAISS class doing the search ("IndexFlatIP", "IndexHNSWFlat", ...)."""
        return type(self._inner).__name__

    @property
    def exact(self) -> bool:
        return isinstance(self._inner, faiss.IndexFlat)

    def set_ef_search(self, ef_search: int) -> None:
        self._ef_search = ef_search
        if self._graph:
            self._inner.hnsw.efSearch = ef_search

    def search(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        allowed_ids: npt.NDArray[np.int64] | None = None,
    ) -> SearchHits:
        """Top ``k`` for one query vector, optionally only among ``allowed_ids``; deleted rows
        are never among them."""
        k = min(k, self.live)
        if allowed_ids is not None and self.deleted:
            allowed_ids = allowed_ids[~_among(allowed_ids, self._deleted)]
        if k <= 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return _NO_HITS
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if allowed_ids is not None and self._graph and len(allowed_ids) <= EXACT_FILTER_LIMIT:
            # Scored by looking vectors up by id, which finds one vector of a repeated id.
            if self._one_per_id():
                return self._search_among(query, k, allowed_ids)
        params = None
        if allowed_ids is not None:
            allowed = np.ascontiguousarray(allowed_ids, dtype=np.int64)
            params = self._filter(faiss.IDSelectorBatch(allowed), len(allowed), k)
        elif self.deleted:
            params = self._filter(self._not_deleted, self.live, k)
        with _one_thread():
            scores, ids = self._index.search(query, k, params=params)
        keep = ids[0] >= 0  # FAISS pads with -1 when fewer than k vectors qualify
        return SearchHits(ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32))

    def _filter(self, selector: Any, kept: int, k: int) -> Any:
        """Search parameters that return only the ``kept`` ids ``selector`` lets through."""
        params = self._params_type()
        params.sel = selector
        if self._graph:
            # A graph walk that may only return a fraction of the nodes must look wider to
            # find k of them.
            share = kept / max(self.count, 1)
            params.efSearch = int(min(4096, max(self._ef_search, 2 * k / max(share, 1e-6))))
        elif isinstance(self._inner, faiss.IndexIVF):
            params.nprobe = self._config.nprobe
        return params

    def _search_among(
        self, query: npt.NDArray[np.float32], k: int, allowed_ids: npt.NDArray[np.int64]
    ) -> SearchHits:
        """Exact scores over a few allowed ids: cheaper and more complete than a filtered walk."""
        wanted = np.unique(np.asarray(allowed_ids, dtype=np.int64))
        try:
            vectors = self._index.reconstruct_batch(wanted)
        except RuntimeError:  # an id that is not in the index: keep only those that are
            wanted = np.array([i for i in wanted.tolist() if self._has(i)], dtype=np.int64)
            if not len(wanted):
                return _NO_HITS
            vectors = self._index.reconstruct_batch(wanted)
        scores = vectors @ query[0]
        k = min(k, len(wanted))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return SearchHits(wanted[top], scores[top].astype(np.float32))

    def _has(self, row_id: int) -> bool:
        try:
            self._index.reconstruct(row_id)
        except RuntimeError:
            return False
        return True

    def save(self, path: Path) -> str:
        """Persist atomically; returns the checksum of what was written, for the store to record.

        FAISS writes the file itself, so a large index is never copied into a bytes object.
        """
        with _beside(path) as tmp:
            faiss.write_index(self._index, str(tmp))
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            checksum = file_checksum(tmp)
            _replace(tmp, path)
        return checksum

    @classmethod
    def load(
        cls, path: Path, checksum: str | None = None, config: IndexConfig | None = None
    ) -> VectorIndex:
        """Load and verify; a missing, torn or altered file raises IndexFileError.

        A large file is memory-mapped once verified: the check has just brought it into the
        page cache, and mapping it avoids a second copy of the vectors in this process.
        """
        config = config or IndexConfig()
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            raise IndexFileError(f"{path} is missing") from exc
        if checksum is not None and file_checksum(path) != checksum:
            raise IndexFileError(f"{path} does not match its recorded checksum")
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if size >= config.mmap_bytes else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as exc:
            raise IndexFileError(f"{path} is not a readable FAISS index") from exc
        return cls(index, config)
