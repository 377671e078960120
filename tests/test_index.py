"""VectorIndex: factory by size, exact and HNSW search, filters, atomic save, checksum, mmap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import xxhash

from embeddings.errors import IndexFileError
from embeddings.index import (
    ANN_FACTORY,
    EF_SEARCH_LARGE_FROM,
    EXACT_LIMIT,
    IndexConfig,
    VectorIndex,
    choose_factory,
    default_ef_search,
    file_checksum,
)

DIMENSION = 32
Vectors = npt.NDArray[np.float32]


def _unit(vectors: npt.NDArray[np.float64]) -> Vectors:
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def _clustered(count: int, seed: int = 0) -> Vectors:
    """Unit vectors around 50 centres, like embeddings of a corpus on a few topics."""
    centres = np.random.default_rng(99).standard_normal((50, DIMENSION))
    rng = np.random.default_rng(seed)
    return _unit(
        centres[rng.integers(0, 50, count)] + 0.6 * rng.standard_normal((count, DIMENSION))
    )


@pytest.fixture(scope="module")
def corpus() -> tuple[npt.NDArray[np.int64], Vectors]:
    vectors = _clustered(4000)
    ids = np.arange(len(vectors), dtype=np.int64) * 3 + 7  # row ids need not be positions
    return ids, vectors


def test_factory_is_chosen_by_size() -> None:
    assert choose_factory(0) == "Flat"
    assert choose_factory(EXACT_LIMIT - 1) == "Flat"
    assert choose_factory(EXACT_LIMIT) == ANN_FACTORY == "HNSW32,Flat"
    assert EXACT_LIMIT == 20_000
    config = IndexConfig(factory="IVF64,Flat", exact_limit=1000)
    assert choose_factory(999, config) == "Flat"
    assert choose_factory(1000, config) == "IVF64,Flat"
    assert choose_factory(5, IndexConfig(factory="HNSW16,Flat", exact_limit=0)) == "HNSW16,Flat"


def test_exact_search_finds_itself_first(corpus: tuple[npt.NDArray[np.int64], Vectors]) -> None:
    ids, vectors = corpus
    index = VectorIndex.build(ids, vectors, DIMENSION)
    assert (index.count, index.dimension, index.exact) == (4000, DIMENSION, True)
    hits = index.search(vectors[10], 5)
    assert hits.ids[0] == ids[10]
    assert hits.scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(hits.scores) == sorted(hits.scores, reverse=True)


def test_k_beyond_the_index_returns_what_exists() -> None:
    vectors = _clustered(3)
    index = VectorIndex.build(np.array([4, 5, 6], dtype=np.int64), vectors, DIMENSION)
    assert sorted(index.search(vectors[0], 10).ids.tolist()) == [4, 5, 6]
    empty = VectorIndex.build(np.zeros(0, np.int64), np.zeros((0, DIMENSION), np.float32), 32)
    assert len(empty.search(vectors[0], 10).ids) == 0


@pytest.mark.parametrize("factory", ["Flat", "HNSW32,Flat", "IVF16,Flat"])
def test_filters_restrict_every_index_type(
    corpus: tuple[npt.NDArray[np.int64], Vectors], factory: str
) -> None:
    ids, vectors = corpus
    index = VectorIndex.build(ids, vectors, DIMENSION, factory, IndexConfig(nprobe=16))
    query = vectors[10]
    few = ids[[10, 20, 30, 999]]
    hits = index.search(query, 3, few)
    assert set(hits.ids.tolist()) <= set(few.tolist())
    assert hits.ids[0] == ids[10] and len(hits.ids) == 3
    expected = few[np.argsort(-(vectors[[10, 20, 30, 999]] @ query))][:3]
    assert hits.ids.tolist() == expected.tolist()
    # a filter naming an id the index does not hold keeps the others
    assert index.search(query, 5, np.array([ids[10], 2], dtype=np.int64)).ids.tolist() == [ids[10]]
    assert len(index.search(query, 5, np.zeros(0, np.int64)).ids) == 0
    many = ids[: len(ids) // 2]
    hits = index.search(query, 10, many)
    assert set(hits.ids.tolist()) <= set(many.tolist()) and hits.ids[0] == ids[10]


def test_hnsw_recall_against_exact_search() -> None:
    vectors = _clustered(20_000, seed=1)
    queries = _clustered(200, seed=2)
    ids = np.arange(len(vectors), dtype=np.int64)
    exact = VectorIndex.build(ids, vectors, DIMENSION, "Flat")
    approximate = VectorIndex.build(
        ids, vectors, DIMENSION, "HNSW32,Flat", IndexConfig(ef_search=128)
    )
    assert approximate.kind == "IndexHNSWFlat" and not approximate.exact
    found = [
        len(set(approximate.search(q, 10).ids.tolist()) & set(exact.search(q, 10).ids.tolist()))
        for q in queries
    ]
    assert sum(found) / (10 * len(queries)) >= 0.95


def test_search_breadth_grows_with_the_graph() -> None:
    """Unset, HNSW's efSearch is 128, and 256 from 500k vectors (recall@10 >= 0.95 at 1M)."""
    assert default_ef_search(0) == default_ef_search(EF_SEARCH_LARGE_FROM - 1) == 128
    assert default_ef_search(EF_SEARCH_LARGE_FROM) == default_ef_search(10**7) == 256
    vectors = _clustered(1_000, seed=3)
    ids = np.arange(len(vectors), dtype=np.int64)
    for config, breadth in ((IndexConfig(), 128), (IndexConfig(ef_search=300), 300)):
        index = VectorIndex.build(ids, vectors, DIMENSION, "HNSW32,Flat", config)
        assert index._inner.hnsw.efSearch == breadth


def test_save_load_round_trip_with_checksum(
    tmp_path: Path, corpus: tuple[npt.NDArray[np.int64], Vectors]
) -> None:
    ids, vectors = corpus
    index = VectorIndex.build(ids, vectors, DIMENSION, "HNSW32,Flat")
    path = tmp_path / "passages.faiss"
    checksum = index.save(path)
    assert checksum == xxhash.xxh3_128_hexdigest(path.read_bytes())
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed into place
    for config in (IndexConfig(), IndexConfig(mmap_bytes=0)):  # copied, and memory-mapped
        loaded = VectorIndex.load(path, checksum, config)
        assert loaded.count == 4000 and loaded.kind == "IndexHNSWFlat"
        assert loaded.search(vectors[7], 3).ids.tolist() == index.search(vectors[7], 3).ids.tolist()


def test_damaged_files_are_refused(
    tmp_path: Path, corpus: tuple[npt.NDArray[np.int64], Vectors]
) -> None:
    ids, vectors = corpus
    path = tmp_path / "passages.faiss"
    checksum = VectorIndex.build(ids, vectors, DIMENSION).save(path)
    with pytest.raises(IndexFileError, match="missing"):
        VectorIndex.load(tmp_path / "nothing.faiss", checksum)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexFileError, match="checksum"):
        VectorIndex.load(path, checksum)
    with pytest.raises(IndexFileError, match="not a readable FAISS index"):
        VectorIndex.load(path)
    path.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    with pytest.raises(IndexFileError, match="checksum"):
        VectorIndex.load(path, checksum, IndexConfig(mmap_bytes=0))


def test_every_byte_counts_in_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = np.random.default_rng(0).bytes(10_000)
    path.write_bytes(data)
    assert file_checksum(path) == xxhash.xxh3_128_hexdigest(data)
    for at in (0, 5_000, 9_999):
        path.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
        assert file_checksum(path) != xxhash.xxh3_128_hexdigest(data)
    path.write_bytes(b"")
    assert file_checksum(path) == xxhash.xxh3_128_hexdigest(b"")


def test_extended_copy_of_a_mapped_graph_finds_old_and_new(
    tmp_path: Path, corpus: tuple[npt.NDArray[np.int64], Vectors]
) -> None:
    ids, vectors = corpus
    path = tmp_path / "passages.faiss"
    checksum = VectorIndex.build(ids[:3000], vectors[:3000], DIMENSION, "HNSW32,Flat").save(path)
    mapped = VectorIndex.load(path, checksum, IndexConfig(mmap_bytes=0))
    extended = mapped.extended(ids[3000:], vectors[3000:])
    assert (mapped.count, extended.count) == (3000, 4000)  # readers of the old one see no change
    assert (mapped.last_id, extended.last_id) == (int(ids[2999]), int(ids[-1]))
    for row in (5, 2999, 3000, 3999):
        assert extended.search(vectors[row], 1).ids.tolist() == [ids[row]]
    assert VectorIndex.build(ids[:0], vectors[:0], DIMENSION).last_id == 0


@pytest.mark.parametrize("factory", ["Flat", "HNSW32,Flat", "IVF16,Flat"])
def test_excluded_rows_are_never_returned_and_k_live_ones_are(
    corpus: tuple[npt.NDArray[np.int64], Vectors], factory: str
) -> None:
    ids, vectors = corpus
    index = VectorIndex.build(ids, vectors, DIMENSION, factory, IndexConfig(nprobe=16))
    query = vectors[10]
    nearest = index.search(query, 20).ids
    deleted = np.concatenate([nearest[:15], [999_999]])  # an id it does not hold is ignored
    view = index.excluding(deleted)
    assert (view.count, view.deleted, view.live) == (4000, 15, 3985)
    assert (index.deleted, index.search(query, 1).ids[0]) == (0, ids[10])  # the base is kept
    for allowed in (None, ids[:100], ids[: len(ids) // 2]):  # exact, and filtered walk
        hits = view.search(query, 10, allowed)
        assert len(hits.ids) == 10 and not set(hits.ids.tolist()) & set(deleted.tolist())
        if allowed is not None:
            assert set(hits.ids.tolist()) <= set(allowed.tolist())
    assert view.search(query, 10).ids.tolist()[:5] == nearest[15:20].tolist()
    assert len(view.search(query, 5, nearest[:15]).ids) == 0  # only deleted ones allowed
    assert index.excluding(deleted[:3]).excluding(deleted[:1]).deleted == 1  # replaced


def test_holds_tells_which_ids_are_in_the_index(
    corpus: tuple[npt.NDArray[np.int64], Vectors],
) -> None:
    ids, vectors = corpus
    index = VectorIndex.build(ids[:10], vectors[:10], DIMENSION)
    asked = np.array([ids[0], ids[9], ids[10], 0, -1], dtype=np.int64)
    assert index.holds(asked).tolist() == [True, True, False, False, False]
    assert index.excluding(ids[:2]).holds(ids[:2]).tolist() == [True, True]  # deleted, held
    empty = VectorIndex.build(ids[:0], vectors[:0], DIMENSION)
    assert empty.holds(asked).tolist() == [False] * 5 and empty.excluding(ids).deleted == 0


def test_every_vector_excluded_finds_nothing(
    corpus: tuple[npt.NDArray[np.int64], Vectors],
) -> None:
    ids, vectors = corpus
    index = VectorIndex.build(ids[:5], vectors[:5], DIMENSION).excluding(ids[:5])
    assert index.live == 0 and len(index.search(vectors[0], 3).ids) == 0


@pytest.mark.parametrize("factory", ["Flat", "HNSW32,Flat"])
def test_vectors_sharing_an_id_are_found_and_excluded_together(
    corpus: tuple[npt.NDArray[np.int64], Vectors], tmp_path: Path, factory: str
) -> None:
    """As the sentences of a passage are held under its id: each is found, an exclusion of
    the id skips every one, and the counts are of vectors."""
    _, vectors = corpus
    owners = np.repeat(np.arange(100, dtype=np.int64) + 7, 3)  # three vectors an id
    built = VectorIndex.build(owners, vectors[:300], DIMENSION, factory)
    path = tmp_path / "sentences.faiss"
    index = VectorIndex.load(path, built.save(path))
    assert (index.count, index.last_id) == (300, 106)
    second = vectors[4]  # the second of id 8, not the one a look-up by id would give
    for allowed in (None, np.array([8, 9], dtype=np.int64)):
        hits = index.search(second, 3, allowed)
        assert (hits.ids[0], hits.scores[0]) == (8, pytest.approx(1.0, abs=1e-5))
    view = index.excluding(np.array([8, 9, 999], dtype=np.int64))
    assert (view.deleted, view.live) == (6, 294)
    found = view.search(second, 294).ids
    assert len(found) == 294 and not {8, 9} & set(found.tolist())
    grown = view.extended(np.array([200, 200], dtype=np.int64), vectors[300:302])
    assert (grown.count, grown.last_id, grown.holds(np.array([200])).tolist()) == (302, 200, [True])
