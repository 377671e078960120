"""Deletes as tombstones: a deleted article is never found again, yet no index is rebuilt or
written until its deleted rows pass the compaction share; reopened, replaced, killed, it holds."""

from __future__ import annotations

import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa.archive import Archive
from qa.factories import open_store
from qa.indexes import IndexFolder
from qa.ingest import ingest_directory
from qa.schema import SearchFilters
from qa.settings import Settings
from qa.store import PassageFilters

from .conftest import SEEDS, prepare_default_encoder

TOWNS = [
    "Alta", "Bodo", "Drammen", "Fredrikstad", "Gjovik", "Hamar", "Harstad", "Kongsberg",
    "Larvik", "Lillehammer", "Molde", "Narvik", "Porsgrunn", "Sandefjord", "Skien", "Steinkjer",
    "Tonsberg", "Tromso", "Trondheim", "Vardo",
]  # fmt: skip
TOPICS = [
    "ferry timetables", "school meals", "bridge repairs", "harbour dredging", "library hours",
    "snow clearing", "bus fares", "salmon farming", "wind turbines", "road tolls",
    "hospital beds", "church bells", "ski jumps", "fish quotas", "tram lines", "street lights",
    "museum grants", "airport noise", "forest fires", "water pipes",
]  # fmt: skip
PARAGRAPHS = 7  # each a passage of its own


def _article(i: int) -> str:
    town, topic = TOWNS[i], TOPICS[i]
    lead = (
        f"date 2024-03-{1 + i:02d} {town.upper()}, March {1 + i}. /NTB/. The council of {town}"
        f" voted on {topic}, mayor Ola {town}sen said."
    )
    rest = [f'"Plan {j} for {topic} in {town} is ready," {town}sen added.' for j in range(1, 7)]
    return "\n".join([lead, *rest]) + "\n"


def _id(i: int) -> str:
    return f"town{i:02d}"


def _quote(i: int) -> str:
    """A question made of one passage's words: that passage is the best match while it exists."""
    return f"Is plan 3 for {TOPICS[i]} in {TOWNS[i]} ready?"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """The seeds and twenty town articles, ingested once; each test works on a copy."""
    root = tmp_path_factory.mktemp("towns")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    for i in range(len(TOWNS)):
        (seeds / f"{_id(i)}.txt").write_text(_article(i))
    settings = Settings(seeds_dir=seeds, data_dir=root / "data")
    store = open_store(settings)
    ingest_directory(seeds, store, encoder, settings.data_dir, 10**6, progress=False)
    store.close()
    return root


def _settings(built: Path, tmp_path: Path, **values: float) -> Settings:
    shutil.copytree(built / "seeds", tmp_path / "seeds")
    shutil.copytree(built / "data", tmp_path / "data")
    return Settings(seeds_dir=tmp_path / "seeds", data_dir=tmp_path / "data", **values)


@pytest.fixture
def settings(built: Path, tmp_path: Path) -> Settings:
    return _settings(built, tmp_path)


@pytest.fixture
def towns(settings: Settings, encoder: Encoder) -> Iterator[Archive]:
    archive = Archive.open(settings, encoder)
    yield archive
    archive.close()


def _files(data_dir: Path) -> dict[str, tuple[int, int, int]]:
    """Each index file's inode, modification time and size: the same after no write."""
    paths = [data_dir / "passages.faiss", data_dir / "sentences.faiss"]
    paths += sorted((data_dir / "bm25").iterdir())
    return {
        path.name: (path.stat().st_ino, path.stat().st_mtime_ns, path.stat().st_size)
        for path in paths
    }


def _consistent(archive: Archive) -> None:
    """Every index holds the store's rows and the store's tombstones, nothing else (a deleted
    passage's sentences under its one tombstone)."""
    counts = archive.store.catalogue.counts()
    for table in ("passages", "sentences"):
        index = getattr(archive.indexes, table)
        tombstones = archive.store.reads.tombstones(table)
        assert index.live == counts[table] and index.holds(tombstones).all()
        assert index.excluding(tombstones).deleted == index.deleted  # it skips just those
    lexical = archive.indexes.lexical
    assert lexical.count - lexical.excluded == counts["passages"]


def test_a_deleted_article_is_never_found_again(towns: Archive) -> None:
    assert towns.search(_quote(3), 1)[0].article_id == _id(3)
    passages = towns.indexes.passages.count
    towns.delete_article(_id(3))
    assert (towns.indexes.passages.count, towns.indexes.passages.deleted) == (
        passages,
        PARAGRAPHS,
    )
    _consistent(towns)
    march = SearchFilters.model_validate({"date_from": "2024-03-01", "date_to": "2024-03-31"})
    for query in (_quote(3), f"council of {TOWNS[3]}", "mayor said"):
        for filters in (None, march):
            hits = towns.search(query, 10, filters)
            assert len(hits) == 10  # as many live hits as asked for
            assert _id(3) not in {hit.article_id for hit in hits}
    assert towns.search(_quote(3), 5, SearchFilters(article_id=_id(3))) == []
    answer = towns.ask(f"What did {TOWNS[3]}sen say about {TOPICS[3]}?")
    assert _id(3) not in {citation.article_id for citation in answer.citations}
    assert towns.search(_quote(4), 1)[0].article_id == _id(4)  # the others are still found


def test_the_sentences_are_found_as_their_passage_and_go_with_it(towns: Archive) -> None:
    """The sentences' index holds each sentence under its passage's id: a search names the
    passage, and the passage's tombstone skips every one of its sentences."""
    passages = towns.store.reads.filtered_passage_ids(PassageFilters(article_id=_id(3)))
    sentences = towns.store.reads.sentences(passages.tolist())
    for passage, group in sentences.items():
        for sentence in group:
            assert towns.indexes.sentences.search(sentence.vector, 1).ids.tolist() == [passage]
    towns.delete_article(_id(3))
    assert towns.store.reads.tombstones("sentences").tolist() == sorted(sentences)
    held = towns.indexes.sentences
    for group in sentences.values():
        for sentence in group:
            found = held.search(sentence.vector, 50).ids
            assert len(found) == 50 and not set(found.tolist()) & set(passages.tolist())
    assert held.deleted == sum(len(group) for group in sentences.values())


def test_a_delete_writes_no_index_file_and_commits_its_manifest(
    towns: Archive, settings: Settings
) -> None:
    data_dir = settings.data_dir
    files = _files(data_dir)
    before = IndexFolder(towns.store, data_dir).manifest()
    towns.delete_article(_id(5))
    assert _files(data_dir) == files
    after = IndexFolder(towns.store, data_dir).manifest()
    assert before is not None and after is not None
    assert after.generation == before.generation + 1
    assert after.data_generation == towns.store.data_generation()
    assert after.indexes.passages.checksum == before.indexes.passages.checksum
    assert (after.indexes.passages.deleted, after.indexes.lexical) == (
        PARAGRAPHS,
        before.indexes.lexical.model_copy(update={"deleted": PARAGRAPHS})
        if before.indexes.lexical
        else None,
    )
    written = (data_dir / "manifest.json").read_text()
    assert after.model_validate_json(written) == after
    IndexFolder(towns.store, data_dir).verify()  # the files, as another process would read them


def test_reopened_after_deletes_the_archive_answers_as_before(
    towns: Archive, settings: Settings, encoder: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    towns.delete_article(_id(6))
    towns.delete_article(_id(7))
    expected = [towns.search(_quote(i), 5) for i in range(5, 9)]
    towns.close()
    reopened = Archive.open(settings, encoder)
    try:
        assert "rebuilding" not in caplog.text
        assert reopened.indexes.passages.deleted == 2 * PARAGRAPHS
        _consistent(reopened)
        assert [reopened.search(_quote(i), 5) for i in range(5, 9)] == expected
    finally:
        reopened.close()


@pytest.mark.parametrize("share", [0.1, 0.0])
def test_past_the_compaction_share_the_indexes_are_rebuilt_without_tombstones(
    built: Path, tmp_path: Path, encoder: Encoder, share: float
) -> None:
    settings = _settings(built, tmp_path, index_compaction_share=share)
    archive = Archive.open(settings, encoder)
    try:
        files = _files(settings.data_dir)
        held = archive.indexes.passages.count
        deletes = 0
        while archive.indexes.passages.deleted <= share * held:
            archive.delete_article(_id(deletes))
            deletes += 1
            _consistent(archive)
            if archive.indexes.passages.deleted == 0:  # rebuilt
                break
            assert _files(settings.data_dir) == files
        # Under 10 % of 158 passages: two articles of 7 stay tombstones, the third is one too many.
        assert deletes == (3 if share else 1)
        passages = archive.indexes.passages
        assert (passages.count, passages.deleted) == (held - deletes * PARAGRAPHS, 0)
        assert archive.store.reads.tombstones("passages").tolist() == []
        assert archive.indexes.lexical.excluded == 0
        rewritten = _files(settings.data_dir)
        assert rewritten["passages.faiss"] != files["passages.faiss"]
        assert IndexFolder(archive.store, settings.data_dir).verify().passages.deleted == 0
    finally:
        archive.close()


def test_a_replaced_article_is_appended_to_the_indexes(towns: Archive) -> None:
    passages = towns.indexes.passages
    old = towns.store.reads.filtered_passage_ids(PassageFilters(article_id=_id(8)))
    changed = _article(8).replace("is ready", "is late")
    count, replaced = towns.put_article(_id(8), changed)
    assert (count, replaced) == (PARAGRAPHS, True)
    after = towns.indexes.passages
    # Appended: the old rows stay, skipped, beside the new ones (a rebuild holds only these).
    assert (after.count, after.deleted) == (passages.count + PARAGRAPHS, PARAGRAPHS)
    assert after.holds(old).all() and after.last_id > passages.last_id
    _consistent(towns)
    hits = towns.search(f"Plan 3 for {TOPICS[8]} in {TOWNS[8]} is late", 10)
    assert hits[0].article_id == _id(8) and "late" in hits[0].text
    assert all("ready" not in hit.text for hit in hits if hit.article_id == _id(8))


def test_ingest_tombstones_the_article_of_a_vanished_file(
    built: Path, tmp_path: Path, encoder: Encoder
) -> None:
    seeds, data_dir = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(built / "seeds", seeds)
    store = open_store(Settings(data_dir=data_dir))
    ingest_directory(seeds, store, encoder, data_dir, 10**6, progress=False)
    files = _files(data_dir)
    (seeds / f"{_id(9)}.txt").unlink()
    report = ingest_directory(seeds, store, encoder, data_dir, 10**6, progress=False)
    assert report.removed == [_id(9)]
    assert _files(data_dir) == files
    indexes = IndexFolder(store, data_dir).verify()
    assert indexes.passages.deleted == indexes.lexical.excluded == PARAGRAPHS
    store.close()


# The child of the kill test: deletes the town articles one by one and puts each back, round
# and round until it is killed, saying each write done ("-town03", "+town03").
_CHURN = """
import contextlib, itertools, sys
from pathlib import Path
from qa.archive import Archive
from qa.errors import ArticleNotFoundError
from qa.settings import Settings

seeds = Path(sys.argv[2])
archive = Archive.open(Settings(data_dir=sys.argv[1]))
print("ready", flush=True)
for article_id in itertools.cycle(sys.argv[3:]):
    with contextlib.suppress(ArticleNotFoundError):  # a put the last kill cut short
        archive.delete_article(article_id)
    print(f"-{article_id}", flush=True)
    archive.put_article(article_id, (seeds / f"{article_id}.txt").read_text())
    print(f"+{article_id}", flush=True)
"""


def _killed_while_writing(settings: Settings, article_ids: list[str], after_s: float) -> list[str]:
    """What a child deleting and putting back articles said it did before a SIGKILL came
    ``after_s`` into its writes."""
    process = subprocess.Popen(
        [sys.executable, "-c", _CHURN, str(settings.data_dir), str(settings.seeds_dir)]
        + article_ids,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)
        assert ready and process.stdout.readline() == "ready\n", process.stderr
        time.sleep(after_s)
        os.kill(process.pid, signal.SIGKILL)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, err  # killed while writing, not failed
    return out.split()


def test_kill_9_during_deletes_leaves_every_index_agreeing_with_the_store(
    settings: Settings, encoder: Encoder
) -> None:
    """Whatever a write was doing when killed (a delete, a compaction, a replace, saving its
    files), the archive opens with every index holding the store's rows and tombstones, each
    write reported done kept, and each article found exactly when the store has it."""
    prepare_default_encoder()
    rng = random.Random(17)
    churned = [_id(i) for i in range(len(TOWNS))]
    writes = 0
    for _ in range(4):
        said = _killed_while_writing(settings, churned, rng.uniform(0.2, 1.5))
        writes += len(said)
        in_flight = said[-1][1:] if said and said[-1].startswith("-") else None
        if said and in_flight is None:
            in_flight = churned[(churned.index(said[-1][1:]) + 1) % len(churned)]
        last = {event[1:]: event[0] for event in said}
        store = open_store(settings)
        assert store.integrity_check() == ["ok"]
        store.close()
        archive = Archive.open(settings, encoder)
        try:
            _consistent(archive)
            present = set(archive.store.writes.stored_files())
            for article_id, sign in last.items():
                if article_id != in_flight:
                    assert (article_id in present) == (sign == "+")
            for i in range(len(TOWNS)):
                found = {hit.article_id for hit in archive.search(_quote(i), 3)}
                assert (_id(i) in found) == (_id(i) in present)
        finally:
            archive.close()
    assert writes >= 4  # the kills came amid the writes, not before the first
