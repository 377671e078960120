"""Derived indexes after a change: extended when the store only grew, rebuilt otherwise."""

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
from qa.ingest import ingest_directory, prepare, store_articles
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


def _first_row(store: Store, table: str) -> tuple[int, np.ndarray]:
    ids, vectors = store.reads.vectors(table)
    return int(ids[0]), vectors[0]


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
        row, vector = _first_row(store, table)
        kept = getattr(indexes, table)._index.reconstruct(row)
        assert np.allclose(kept, -vector)  # the base's rows, not rebuilt from the store
    question = encoder.encode(["How much will the budget grow?"])[0]
    new_ids = store.reads.vectors("passages", after=bases["passages"].last_id)[0]
    assert indexes.passages.search(question, 1).ids.tolist() == [new_ids[0]]


def test_a_removed_article_rebuilds_the_graphs(store: Store, encoder: Encoder) -> None:
    bases = _marked_bases(store)
    store.writes.delete_article(PUTIN_ARTICLE)
    indexes = IndexFolder(store, store.path.parent, GRAPH, encoder).extend(bases)
    for table in ("passages", "sentences"):
        ids, vectors = store.reads.vectors(table)
        index = getattr(indexes, table)
        assert index.count == len(ids)
        assert np.allclose(index._index.reconstruct(int(ids[0])), vectors[0])


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


def test_the_manifest_is_written_as_before(store: Store) -> None:
    """The same keys in the same order, in the store and in manifest.json."""
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
    ]
    assert {name: list(part) for name, part in written["indexes"].items()} == {
        "passages": ["file", "xxh3_128", "count"],
        "sentences": ["file", "xxh3_128", "count"],
        "lexical": ["dir", "xxh3_128"],
    }
