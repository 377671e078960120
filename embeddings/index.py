"""FAISS vector index keyed by the store's row ids, written atomically with a checksum."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexFileError

__all__ = ["EXACT_LIMIT", "SearchHits", "VectorIndex", "choose_factory", "write_atomically"]

# Below this many vectors exact search answers in a few milliseconds; above it HNSW keeps
# queries in single-digit milliseconds at a small loss of recall.
EXACT_LIMIT = 200_000


def choose_factory(count: int) -> str:
    return "Flat" if count < EXACT_LIMIT else "HNSW32,Flat"


@dataclass(frozen=True)
class SearchHits:
    """Row ids and cosine scores of one query, best first."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file, fsync it, rename it over ``path``, fsync the folder.

    A crash at any point leaves either the old file or the new one, never a torn one.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class VectorIndex:
    """Inner-product index over unit vectors; ids are int64 row ids of the store."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(
        cls,
        ids: npt.NDArray[np.int64],
        vectors: npt.NDArray[np.float32],
        dimension: int,
        factory: str | None = None,
    ) -> VectorIndex:
        inner = faiss.index_factory(
            dimension, factory or choose_factory(len(ids)), faiss.METRIC_INNER_PRODUCT
        )
        if not inner.is_trained:
            inner.train(vectors)
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(vectors, ids)
        return cls(index)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        allowed_ids: npt.NDArray[np.int64] | None = None,
    ) -> SearchHits:
        """Top ``k`` for one query vector, optionally only among ``allowed_ids``."""
        k = min(k, self.count)
        if k <= 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return SearchHits(np.zeros(0, np.int64), np.zeros(0, np.float32))
        params = None
        if allowed_ids is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed_ids))  # type: ignore[call-arg]
        scores, ids = self._index.search(query.reshape(1, -1), k, params=params)
        keep = ids[0] >= 0  # FAISS pads with -1 when fewer than k vectors qualify
        return SearchHits(ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32))

    def to_bytes(self) -> bytes:
        return bytes(faiss.serialize_index(self._index))

    def save(self, path: Path) -> str:
        """Persist atomically; returns the SHA-256 of what was written, for the store to record."""
        data = self.to_bytes()
        write_atomically(path, data)
        return hashlib.sha256(data).hexdigest()

    @classmethod
    def load(cls, path: Path, checksum: str | None = None) -> VectorIndex:
        """Load and verify; a missing, torn or altered file raises IndexFileError."""
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise IndexFileError(f"{path} is missing") from exc
        if checksum is not None and hashlib.sha256(data).hexdigest() != checksum:
            raise IndexFileError(f"{path} does not match its recorded checksum")
        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as exc:
            raise IndexFileError(f"{path} is not a readable FAISS index") from exc
        return cls(index)
