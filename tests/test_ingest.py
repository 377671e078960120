"""Ingest: incremental updates, bad files skipped with a warning, the model guard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from embeddings.errors import ModelMismatchError
from qa.archive import open_store
from qa.indexes import load_verified_indexes, manifest
from qa.ingest import IngestReport, check_model, ingest_directory
from qa.settings import Settings
from qa.store import Store

from .conftest import OSLO_ARTICLE, PUTIN_ARTICLE, SEEDS, SHOIGU_ARTICLE


def _ingest(folder: Path, data: Path, encoder: Encoder) -> tuple[Store, IngestReport]:
    store = open_store(Settings(data_dir=data))
    report = ingest_directory(folder, store, encoder, data, 1_000_000, progress=False)
    return store, report


def test_reingest_is_incremental(tmp_path: Path, encoder: Encoder) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    data = tmp_path / "data"
    store, first = _ingest(seeds, data, encoder)
    assert sorted(first.added) == [SHOIGU_ARTICLE, PUTIN_ARTICLE]
    generation = manifest(store)["generation"]  # type: ignore[index]

    _, again = _ingest(seeds, data, encoder)
    assert (again.added, again.updated, again.removed, again.unchanged) == ([], [], [], 2)
    assert manifest(store)["generation"] == generation  # type: ignore[index]

    path = seeds / f"{SHOIGU_ARTICLE}.txt"
    path.write_text(path.read_text() + "\nThe talks ended on Saturday, officials said.\n")
    (seeds / f"{PUTIN_ARTICLE}.txt").unlink()
    store, changed = _ingest(seeds, data, encoder)
    assert changed.updated == [SHOIGU_ARTICLE] and changed.removed == [PUTIN_ARTICLE]
    record = manifest(store)
    assert record is not None and record["generation"] == generation + 1
    assert record["articles"] == 1 and record["passages"] == store.counts()["passages"] == 11
    assert record["indexes"]["passages"]["count"] == 11


def test_a_new_file_joins_the_stored_indexes(tmp_path: Path, encoder: Encoder) -> None:
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(SEEDS, seeds)
    _ingest(seeds, data, encoder)
    (seeds / "oslo.txt").write_text(OSLO_ARTICLE)
    store, report = _ingest(seeds, data, encoder)
    assert report.added == ["oslo"]
    indexes = load_verified_indexes(store, data)
    counts = store.counts()
    assert (indexes.passages.count, indexes.sentences.count) == (
        counts["passages"],
        counts["sentences"],
    )
    question = encoder.encode(["How much will the budget grow?"])[0]
    best = indexes.passages.search(question, 1).ids.tolist()
    assert store.passages(best)[best[0]].article_id == "oslo"


def test_damaged_index_files_are_rebuilt_not_extended(
    tmp_path: Path, encoder: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(SEEDS, seeds)
    _ingest(seeds, data, encoder)
    damaged = data / "passages.faiss"
    damaged.write_bytes(damaged.read_bytes()[:-100])
    (seeds / "oslo.txt").write_text(OSLO_ARTICLE)
    store, report = _ingest(seeds, data, encoder)
    assert report.added == ["oslo"]
    assert "does not match its recorded checksum; the indexes will be built anew" in caplog.text
    indexes = load_verified_indexes(store, data)
    assert indexes.passages.count == store.counts()["passages"]


def test_touched_but_unchanged_file_is_not_reencoded(tmp_path: Path, encoder: Encoder) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    _ingest(seeds, tmp_path / "data", encoder)
    (seeds / f"{SHOIGU_ARTICLE}.txt").touch()
    _, report = _ingest(seeds, tmp_path / "data", encoder)
    assert report.unchanged == 2 and not report.changed


def test_linked_file_removed_from_the_folder_leaves_the_store(
    tmp_path: Path, encoder: Encoder
) -> None:
    elsewhere, seeds = tmp_path / "elsewhere", tmp_path / "seeds"
    shutil.copytree(SEEDS, elsewhere)
    seeds.mkdir()
    for article in (SHOIGU_ARTICLE, PUTIN_ARTICLE):
        (seeds / f"{article}.txt").symlink_to(elsewhere / f"{article}.txt")
    _, first = _ingest(seeds, tmp_path / "data", encoder)
    assert sorted(first.added) == [SHOIGU_ARTICLE, PUTIN_ARTICLE]
    (seeds / f"{PUTIN_ARTICLE}.txt").unlink()
    store, second = _ingest(seeds, tmp_path / "data", encoder)
    assert second.removed == [PUTIN_ARTICLE] and second.unchanged == 1
    assert set(store.stored_files()) == {SHOIGU_ARTICLE}


def test_index_built_with_another_model_is_refused(
    seeded_settings: Settings, encoder: Encoder
) -> None:
    store = open_store(seeded_settings)
    record = manifest(store)
    assert record is not None
    store.set_meta("manifest", {**record, "model": "other-model", "dimension": 768})
    try:
        with pytest.raises(ModelMismatchError, match="dateline ingest --rebuild"):
            check_model(store, encoder)
    finally:
        store.set_meta("manifest", record)
