"""Derived indexes after a change: extended when the store grew, skipping deleted rows until
they pass the compaction share, rebuilt otherwise; the files checked against the store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import Encoder
from embeddings.errors import IndexFileError
from embeddings.index import IndexConfig, VectorIndex
from qa.articles import parse_article
from qa.factories import open_store
from qa.indexes import IndexFolder, VectorBases
from qa.ingest import indexes_behind, ingest_directory, prepare, store_articles
from qa.settings import Settings
from qa.store import Store

from .conftest import OSLO_ARTICLE, PUTIN_ARTICLE, SEEDS

GRAPH = IndexConfig(exact_limit=0)  # HNSW whatever the size, as a large archive has


@pytest.fixture()
def store(tmp_path: Path, encoder: Encoder) -> Store:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    ingest_directory(seeds, store, encoder, settings.data_dir, 1_000_000, progress=False)
    return store


def _marked_bases(store: Store) -> VectorBases:
    """Bases whose vectors differ from the store's, so a test can tell kept rows from rebuilt."""
    bases = {}
    for table in ("passages", "sentences"):
        ids, vectors = store.reads.vectors(table)
        bases[table] = VectorIndex.build(ids, -vectors, vectors.shape[1], config=GRAPH)
    return bases


def _add_oslo(store: Store, encoder: Encoder) -> None:
    store_articles(store, encoder, [prepare(parse_article("oslo", OSLO_ARTICLE), encoder)])


def _first_vector(index: VectorIndex) -> np.ndarray:
    """The vector the index was given first: the store's first row (a passage's sentences share
    its id, so one is not looked up by id)."""
    vector: np.ndarray = index._inner.reconstruct(0)
    return vector


def test_an_added_article_extends_the_graphs(store: Store, encoder: Encoder) -> None:
    bases = _marked_bases(store)
    _add_oslo(store, encoder)
    indexes = IndexFolder(store, store.path.parent, GRAPH, encoder).extend(bases)
    counts = store.catalogue.counts()
    assert (indexes.passages.count, indexes.sentences.count) == (
        counts["passages"],
        counts["sentences"],
    )
    for table in ("passages", "sentences"):
        first = store.reads.vectors(table)[1][0]
        kept = _first_vector(getattr(indexes, table))
        assert np.allclose(kept, -first)  # the base's rows, not rebuilt from the store
    question = encoder.encode(["How much will the budget grow?"])[0]
    new_ids = store.reads.vectors("passages", after=bases["passages"].last_id)[0]
    assert indexes.passages.search(question, 1).ids.tolist() == [new_ids[0]]


def test_a_removed_article_is_skipped_below_the_compaction_share(
    store: Store, encoder: Encoder
) -> None:
    bases = _marked_bases(store)
    held = {table: store.reads.vectors(table)[0] for table in ("passages", "sentences")}
    store.writes.delete_article(PUTIN_ARTICLE)
    lenient = IndexConfig(exact_limit=0, compaction_share=0.5)
    indexes = IndexFolder(store, store.path.parent, lenient, encoder).extend(bases)
    question = encoder.encode(["What did Putin say about training?"])[0]
    for table in ("passages", "sentences"):
        live, vectors = store.reads.vectors(table)
        deleted = np.setdiff1d(held[table], live)
        gone = np.isin(held[table], deleted)  # each row's, a sentence's under its passage's id
        index = getattr(indexes, table)
        assert (index.count, index.deleted) == (len(held[table]), gone.sum())
        first_live = int(np.flatnonzero(~gone)[0])
        assert np.allclose(index._inner.reconstruct(first_live), -vectors[0])  # kept
        assert store.reads.tombstones(table).tolist() == deleted.tolist()
        assert not set(index.search(question, 50).ids.tolist()) & set(deleted.tolist())
    # No BM25 base given: built anew, of the store's passages alone.
    assert (indexes.lexical.count, indexes.lexical.excluded) == (10, 0)


def test_a_removed_article_past_the_compaction_share_rebuilds_the_graphs(
    store: Store, encoder: Encoder
) -> None:
    bases = _marked_bases(store)
    store.writes.delete_article(PUTIN_ARTICLE)
    assert len(store.reads.tombstones("passages"))
    indexes = IndexFolder(store, store.path.parent, GRAPH, encoder).extend(bases)
    for table in ("passages", "sentences"):
        ids, vectors = store.reads.vectors(table)
        index = getattr(indexes, table)
        assert (index.count, index.deleted) == (len(ids), 0)
        assert np.allclose(_first_vector(index), vectors[0])
        assert store.reads.tombstones(table).tolist() == []  # dropped with the rebuild
    assert indexes.lexical.count == len(store.reads.vectors("passages")[0])


def test_tombstones_the_files_do_not_match_are_detected(store: Store, encoder: Encoder) -> None:
    """An index holds the store's rows and its tombstones, no more and no fewer."""
    lenient = IndexConfig(compaction_share=0.5)
    folder = IndexFolder(store, store.path.parent, lenient, encoder)
    store.writes.delete_article(PUTIN_ARTICLE)
    folder.persist(folder.updated())
    assert IndexFolder(store, store.path.parent).verify().passages.deleted == 8
    deleted = store.reads.tombstones("passages")
    store.writes.forget_tombstones("passages", deleted[:1])
    with pytest.raises(IndexFileError, match="passages.faiss holds 18 vectors but the store has"):
        IndexFolder(store, store.path.parent).verify()


def test_growing_past_the_exact_limit_builds_a_graph(store: Store, encoder: Encoder) -> None:
    exact = IndexConfig(exact_limit=10_000)
    bases = {
        t: VectorIndex.build(*store.reads.vectors(t), encoder.dimension, config=exact)
        for t in ("passages", "sentences")
    }
    assert bases["passages"].exact
    _add_oslo(store, encoder)
    limit = IndexConfig(exact_limit=store.catalogue.counts()["passages"])
    indexes = IndexFolder(store, store.path.parent, limit, encoder).extend(bases)
    assert indexes.passages.kind == "IndexHNSWFlat"


# The manifest as the first release wrote it: sha256 checksums, no BM25 files, no data
# generation.
FIRST_MANIFEST = {
    "model": "all-MiniLM-L6-v2",
    "dimension": 384,
    "articles": 2,
    "passages": 18,
    "sentences": 22,
    "fingerprint": "f" * 64,
    "generation": 4,
    "indexes": {
        "passages": {"file": "passages.faiss", "sha256": "0" * 64, "count": 18},
        "sentences": {"file": "sentences.faiss", "sha256": "0" * 64, "count": 22},
    },
}


def test_a_manifest_of_the_first_release_loads_and_is_rebuilt(
    store: Store, encoder: Encoder
) -> None:
    folder = IndexFolder(store, store.path.parent, model=encoder)
    store.set_meta("manifest", FIRST_MANIFEST)
    old = folder.manifest()
    assert old is not None and (old.generation, old.data_generation) == (4, None)
    assert old.indexes.passages.checksum is None and old.indexes.lexical is None
    with pytest.raises(IndexFileError, match="older than the store"):
        folder.verify()
    assert folder.stored_vectors() == {}  # nothing it vouches for is trusted
    indexes, unsaved = folder.load()
    assert unsaved is None and indexes.passages.count == store.catalogue.counts()["passages"]
    new = folder.manifest()
    assert new is not None and new.generation == 5
    assert new.indexes.vector_checksums() is not None
    assert folder.verify().generation == store.data_generation()


def test_a_sentence_index_of_format_1_is_rebuilt_under_passage_ids(
    store: Store, encoder: Encoder
) -> None:
    """Format 1 held each sentence under its own id: read as passage ids its hits would name
    other passages, so its file is never read, however intact, but rebuilt."""
    data_dir = store.path.parent
    rows = store.connection.execute(
        "SELECT id, passage_id, vector FROM sentences ORDER BY id"
    ).fetchall()
    ids, owners = (np.array([row[i] for row in rows], dtype=np.int64) for i in (0, 1))
    vectors = np.frombuffer(b"".join(row[2] for row in rows), dtype=np.float32)
    vectors = vectors.reshape(len(rows), encoder.dimension)
    manifest = store.get_meta("manifest")
    old = VectorIndex.build(ids, vectors, encoder.dimension)
    manifest["indexes"]["sentences"]["xxh3_128"] = old.save(data_dir / "sentences.faiss")
    del manifest["format"]  # as format 1 wrote it
    store.set_meta("manifest", manifest)
    folder = IndexFolder(store, data_dir, model=encoder)
    with pytest.raises(IndexFileError, match="sentences.faiss is of index format 1"):
        folder.verify()
    assert list(folder.stored_vectors()) == ["passages"] and indexes_behind(folder)
    passages_file = (data_dir / "passages.faiss").read_bytes()
    indexes, unsaved = folder.load()
    assert unsaved is None and not indexes_behind(folder)
    assert (data_dir / "passages.faiss").read_bytes() == passages_file  # kept, not rebuilt
    assert indexes.sentences.holds(owners).all() and indexes.sentences.count == len(owners)
    assert indexes.sentences.search(vectors[-1], 1).ids.tolist() == [owners[-1]]
    assert folder.verify().sentences.last_id == owners.max()


def test_the_manifest_is_written_as_before(store: Store) -> None:
    """The same keys in the same order, in the store and in manifest.json; the tombstone
    counts and the format come after those an earlier version reads."""
    written = json.loads((store.path.parent / "manifest.json").read_text())
    assert written == store.get_meta("manifest")
    assert list(written) == [
        "model",
        "dimension",
        "articles",
        "passages",
        "sentences",
        "fingerprint",
        "generation",
        "data_generation",
        "indexes",
        "format",
    ]
    assert {name: list(part) for name, part in written["indexes"].items()} == {
        "passages": ["file", "xxh3_128", "count", "deleted"],
        "sentences": ["file", "xxh3_128", "count", "deleted"],
        "lexical": ["dir", "xxh3_128", "deleted"],
    }
