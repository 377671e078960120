"""Nothing lost: damaged or stale indexes are rebuilt from SQLite; killed ingests recover."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.factories import open_store
from qa.indexes import IndexFolder
from qa.ingest import ingest_directory
from qa.schema import SearchFilters
from qa.settings import Settings

from .conftest import SEEDS

QUESTIONS = ("What did Putin say about training?", "What did Shoigu say about the CSTO?")


def _fresh(tmp_path: Path, encoder: Encoder) -> Settings:
    settings = Settings(seeds_dir=tmp_path / "seeds", data_dir=tmp_path / "data")
    shutil.copytree(SEEDS, settings.seeds_dir)
    store = open_store(settings)
    ingest_directory(settings.seeds_dir, store, encoder, settings.data_dir, 10**6, progress=False)
    store.close()
    return settings


def _answers(settings: Settings, encoder: Encoder) -> list[str]:
    archive = Archive.open(settings, encoder)
    try:
        return [archive.ask(q).model_dump_json(exclude={"took_ms"}) for q in QUESTIONS]
    finally:
        archive.close()


def _damage(path: Path, how: str, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: rng.randrange(0, len(data))]))
    elif how == "flip":
        position = rng.randrange(len(data))
        data[position] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path.unlink()


CORRUPTIONS = [
    (file, how)
    for file in ("passages.faiss", "sentences.faiss", "bm25/ids.npy")
    for how in ("truncate", "flip", "flip", "delete")
]


@pytest.mark.parametrize(("file", "how"), CORRUPTIONS, ids=[f"{f}-{h}" for f, h in CORRUPTIONS])
def test_damaged_index_is_detected_and_rebuilt(
    tmp_path: Path, encoder: Encoder, file: str, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _fresh(tmp_path, encoder)
    expected = _answers(settings, encoder)
    intact = {
        name: (settings.data_dir / name).read_bytes()
        for name in ("passages.faiss", "sentences.faiss")
        if name != file
    }
    _damage(settings.data_dir / file, how, random.Random(f"{file}{how}{tmp_path.name}"))
    assert _answers(settings, encoder) == expected
    assert any("rebuilding the index from the store" in r.getMessage() for r in caplog.records)
    # Only what was damaged is built anew: an intact vector index is kept as it was.
    assert {name: (settings.data_dir / name).read_bytes() for name in intact} == intact
    record = IndexFolder(open_store(settings), settings.data_dir).manifest()
    assert record is not None and record.generation == 2


def test_index_checked_with_another_hash_is_rebuilt(tmp_path: Path, encoder: Encoder) -> None:
    """A manifest from before the xxh3 checksums vouches for nothing: rebuilt, then trusted."""
    settings = _fresh(tmp_path, encoder)
    expected = _answers(settings, encoder)
    store = open_store(settings)
    record = store.get_meta("manifest")  # as the store keeps it
    assert record is not None
    for part in record["indexes"].values():
        part["sha256"] = part.pop("xxh3_128")
    store.set_meta("manifest", record)
    assert _answers(settings, encoder) == expected
    rebuilt = store.get_meta("manifest")
    assert rebuilt is not None and rebuilt["generation"] == 2
    assert all("xxh3_128" in part for part in rebuilt["indexes"].values())


def test_stale_index_after_an_unfinished_update_is_rebuilt(
    tmp_path: Path, encoder: Encoder
) -> None:
    settings = _fresh(tmp_path, encoder)
    # A write whose index never came:
    open_store(settings).writes.delete_article("000_ef33a5cbffaa45bf")
    archive = Archive.open(settings, encoder)
    assert archive.indexes.passages.count == archive.store.catalogue.counts()["passages"] == 8
    assert {c.article_id for c in archive.ask("What did Shoigu say?").citations} == set()


def _articles(folder: Path, count: int) -> None:
    folder.mkdir()
    topics = ["grain exports", "rail freight", "port tariffs", "wind farms", "copper mines"]
    for i in range(count):
        topic = topics[i % len(topics)]
        paragraphs = [
            f"date 2024-03-{1 + i % 28:02d} OSLO, March {1 + i % 28}. /NTB/. Officials discussed "
            f"{topic} in round {i}, minister Kari Nordmann{i} said.",
            *(
                f'"Round {i} point {j} on {topic} matters for the region," Nordmann{i} added.'
                for j in range(6)
            ),
        ]
        (folder / f"art{i:03d}.txt").write_text("\n".join(paragraphs))


def test_killed_ingest_recovers(tmp_path: Path, encoder: Encoder) -> None:
    """kill -9 an ingest at random moments; every article it reported stored stays searchable."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    _articles(seeds, 60)
    rng = random.Random(7)
    for _ in range(3):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qa",
                "ingest",
                "-v",
                "--seeds",
                str(seeds),
                "--data-dir",
                str(data),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(3.0, 9.0))
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate()
        stored = {line.split()[-1] for line in stderr.splitlines() if "stored" in line}
        settings = Settings(data_dir=data)
        store = open_store(settings)
        assert store.integrity_check() == ["ok"]
        if not store.catalogue.counts()["articles"]:
            assert not stored  # killed before the first commit: nothing was promised
            continue
        archive = Archive.open(settings, encoder)
        assert archive.indexes.passages.count == archive.store.catalogue.counts()["passages"]
        for article_id in stored:
            hits = archive.search("officials discussed", 1, SearchFilters(article_id=article_id))
            assert hits and hits[0].article_id == article_id
        archive.close()


def test_store_without_any_index_is_indexed_on_open(tmp_path: Path, encoder: Encoder) -> None:
    """An ingest killed after committing articles but before its first index loses nothing."""
    settings = _fresh(tmp_path, encoder)
    store = open_store(settings)
    store.set_meta("manifest", None)
    for derived in ("passages.faiss", "sentences.faiss", "manifest.json"):
        (settings.data_dir / derived).unlink()
    archive = Archive.open(settings, encoder)
    assert archive.indexes.passages.count == 18
    assert archive.ask(QUESTIONS[0]).citations
