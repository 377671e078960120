"""Ingest of folders and JSONL files: incremental updates, bad input skipped with a warning."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from fastapi.testclient import TestClient

from embeddings.encoder import Encoder
from embeddings.errors import ModelMismatchError
from qa import ingest
from qa.api import create_app
from qa.archive import Archive
from qa.factories import open_store
from qa.indexes import IndexFolder
from qa.ingest import IngestReport, ingest_directory, ingest_jsonl
from qa.manifest import Manifest
from qa.settings import Settings
from qa.store import Store

from .conftest import OSLO_ARTICLE, PUTIN_ARTICLE, SEEDS, SHOIGU_ARTICLE


def _manifest(store: Store) -> Manifest:
    found = IndexFolder(store, store.path.parent).manifest()
    assert found is not None
    return found


def _ingest(
    folder: Path, data: Path, encoder: Encoder, *, follow_links: bool = False
) -> tuple[Store, IngestReport]:
    store = open_store(Settings(data_dir=data))
    report = ingest_directory(
        folder, store, encoder, data, 1_000_000, progress=False, follow_links=follow_links
    )
    return store, report


def test_reingest_is_incremental(tmp_path: Path, encoder: Encoder) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    data = tmp_path / "data"
    store, first = _ingest(seeds, data, encoder)
    assert sorted(first.added) == [SHOIGU_ARTICLE, PUTIN_ARTICLE]
    generation = _manifest(store).generation

    _, again = _ingest(seeds, data, encoder)
    assert (again.added, again.updated, again.removed, again.unchanged) == ([], [], [], 2)
    assert _manifest(store).generation == generation

    path = seeds / f"{SHOIGU_ARTICLE}.txt"
    path.write_text(path.read_text() + "\nThe talks ended on Saturday, officials said.\n")
    (seeds / f"{PUTIN_ARTICLE}.txt").unlink()
    store, changed = _ingest(seeds, data, encoder)
    assert changed.updated == [SHOIGU_ARTICLE] and changed.removed == [PUTIN_ARTICLE]
    record = _manifest(store)
    assert record.generation == generation + 1
    assert record.articles == 1 and record.passages == store.catalogue.counts()["passages"] == 11
    assert record.indexes.passages.count == 11


def test_a_new_file_joins_the_stored_indexes(tmp_path: Path, encoder: Encoder) -> None:
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(SEEDS, seeds)
    _ingest(seeds, data, encoder)
    (seeds / "oslo.txt").write_text(OSLO_ARTICLE)
    store, report = _ingest(seeds, data, encoder)
    assert report.added == ["oslo"]
    indexes = IndexFolder(store, data).verify()
    counts = store.catalogue.counts()
    assert (indexes.passages.count, indexes.sentences.count) == (
        counts["passages"],
        counts["sentences"],
    )
    question = encoder.encode(["How much will the budget grow?"])[0]
    best = indexes.passages.search(question, 1).ids.tolist()
    assert store.reads.passages(best)[best[0]].article_id == "oslo"


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
    assert "does not match its recorded checksum; the passages index will be built anew" in (
        caplog.text
    )
    indexes = IndexFolder(store, data).verify()
    assert indexes.passages.count == store.catalogue.counts()["passages"]


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
    _, first = _ingest(seeds, tmp_path / "data", encoder, follow_links=True)
    assert sorted(first.added) == [SHOIGU_ARTICLE, PUTIN_ARTICLE]
    (seeds / f"{PUTIN_ARTICLE}.txt").unlink()
    store, second = _ingest(seeds, tmp_path / "data", encoder, follow_links=True)
    assert second.removed == [PUTIN_ARTICLE] and second.unchanged == 1
    assert set(store.writes.stored_files()) == {SHOIGU_ARTICLE}


def test_index_built_with_another_model_is_refused(
    seeded_settings: Settings, encoder: Encoder
) -> None:
    store = open_store(seeded_settings)
    record = store.get_meta("manifest")  # as the store keeps it
    assert record is not None
    store.set_meta("manifest", {**record, "model": "other-model", "dimension": 768})
    try:
        with pytest.raises(ModelMismatchError, match="dateline ingest --rebuild"):
            IndexFolder(store, seeded_settings.data_dir, model=encoder).check_model()
    finally:
        store.set_meta("manifest", record)


def _jsonl(path: Path, *entries: object) -> Path:
    """One line per entry: dicts as JSON, strings as they are (for broken lines)."""
    lines = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in entries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


OSLO = {
    "id": "oslo",
    "text": "OSLO (NTB) - The budget will grow by four percent, the minister said.",
    "date": "2024-05-01",
    "url": "https://example.com/oslo-budget",
    "author": "Kari Nordmann",
}
BERGEN = {
    "id": "bergen",
    "text": "Bergen saw record rain in May, forecasters said.",
    "title": "Rain",
}


def _ingest_jsonl(path: Path, data: Path, encoder: Encoder) -> tuple[Store, IngestReport]:
    store = open_store(Settings(data_dir=data))
    return store, ingest_jsonl(path, store, encoder, data, 1_000_000, progress=False)


def test_jsonl_lines_become_articles_with_their_fields(tmp_path: Path, encoder: Encoder) -> None:
    feed = _jsonl(tmp_path / "feed.jsonl", OSLO, BERGEN)
    store, report = _ingest_jsonl(feed, tmp_path / "data", encoder)
    assert report.added == ["oslo", "bergen"] and report.skipped == []
    found = store.catalogue.article("oslo")
    assert found is not None
    record, paragraphs = found
    assert (record.date, record.dateline, record.agency) == ("2024-05-01", "OSLO", "NTB")
    assert (record.source_url, record.author) == (
        "https://example.com/oslo-budget",
        "Kari Nordmann",
    )
    assert [p.text for p in paragraphs] == [
        "The budget will grow by four percent, the minister said."
    ]
    bergen = store.catalogue.article("bergen")
    assert bergen is not None and bergen[0].title == "Rain" and bergen[0].source_url is None
    indexes = IndexFolder(store, tmp_path / "data").verify()
    assert indexes.passages.count == store.catalogue.counts()["passages"] == 2


def test_each_bad_jsonl_line_is_skipped_with_its_line_number(
    tmp_path: Path, encoder: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    feed = _jsonl(
        tmp_path / "feed.jsonl",
        OSLO,
        "{not json",
        "",
        {"text": "No id here, the editor said."},
        {"id": 7, "text": "A number is not an id."},
        {"id": "has space", "text": "Not a file-stem id."},
        {"id": "no-text"},
        {"id": "bad-date", "text": "Text.", "date": "tomorrow"},
        {"id": "bad-url", "text": "Text.", "url": "ftp://example.com/a"},
        {"id": "oslo", "text": "The same id again."},
        "[1, 2]",
        BERGEN,
    )
    _, report = _ingest_jsonl(feed, tmp_path / "data", encoder)
    assert report.added == ["oslo", "bergen"]
    assert report.skipped == [
        (
            f"{feed} line 2",
            "not JSON (Expecting property name enclosed in double quotes, column 2)",
        ),
        (f"{feed} line 4", "no 'id' string of 1-200 letters, digits, '_', '.', '-'"),
        (f"{feed} line 5", "no 'id' string of 1-200 letters, digits, '_', '.', '-'"),
        (f"{feed} line 6", "no 'id' string of 1-200 letters, digits, '_', '.', '-'"),
        (f"{feed} line 7", "no 'text' string"),
        (f"{feed} line 8", "field 'date' 'tomorrow' is not a date (YYYY-MM-DD)"),
        (f"{feed} line 9", "field 'url' 'ftp://example.com/a' is not an http(s) URL"),
        (f"{feed} line 10", "id 'oslo' is already on line 1"),
        (f"{feed} line 11", "no 'id' string of 1-200 letters, digits, '_', '.', '-'"),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w for w in warnings if w.startswith("skipped")] == [
        f"skipped {label}: {reason}" for label, reason in report.skipped
    ]


def test_jsonl_reingest_is_incremental(tmp_path: Path, encoder: Encoder) -> None:
    data = tmp_path / "data"
    feed = _jsonl(tmp_path / "feed.jsonl", OSLO, BERGEN)
    store, _ = _ingest_jsonl(feed, data, encoder)
    generation = _manifest(store).generation

    _, again = _ingest_jsonl(feed, data, encoder)
    assert again.unchanged == 2 and not again.changed
    assert _manifest(store).generation == generation

    _jsonl(feed, BERGEN)  # a new mtime: bergen is compared by content hash; oslo is gone
    store, changed = _ingest_jsonl(feed, data, encoder)
    assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (
        [],
        [],
        ["oslo"],
        1,
    )
    _jsonl(feed, {**BERGEN, "url": "https://example.com/rain"})
    store, updated = _ingest_jsonl(feed, data, encoder)
    assert updated.updated == ["bergen"]
    bergen = store.catalogue.article("bergen")
    assert bergen is not None and bergen[0].source_url == "https://example.com/rain"
    assert set(store.writes.stored_files()) == {"bergen"}


def test_a_bad_line_keeps_the_article_its_id_names(tmp_path: Path, encoder: Encoder) -> None:
    data = tmp_path / "data"
    feed = _jsonl(tmp_path / "feed.jsonl", OSLO, BERGEN)
    _ingest_jsonl(feed, data, encoder)
    _jsonl(feed, {**OSLO, "date": "someday"}, BERGEN)
    store, report = _ingest_jsonl(feed, data, encoder)
    assert not report.changed and [label for label, _ in report.skipped] == [f"{feed} line 1"]
    assert set(store.writes.stored_files()) == {"oslo", "bergen"}


def test_folder_and_jsonl_ingests_leave_each_other_alone(tmp_path: Path, encoder: Encoder) -> None:
    """A JSONL file inside the seeds folder is one more article file there; its lines are not."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(SEEDS, seeds)
    feed = _jsonl(seeds / "feed.jsonl", OSLO)
    _ingest(seeds, data, encoder)
    _, from_feed = _ingest_jsonl(feed, data, encoder)
    assert from_feed.added == ["oslo"]
    (seeds / f"{PUTIN_ARTICLE}.txt").unlink()
    store, again = _ingest(seeds, data, encoder)
    assert again.removed == [PUTIN_ARTICLE] and again.unchanged == 2
    assert set(store.writes.stored_files()) == {SHOIGU_ARTICLE, "feed", "oslo"}
    feed.unlink()
    _jsonl(tmp_path / "other.jsonl", {**OSLO, "id": "feed", "text": "Another text, they said."})
    _, clash = _ingest_jsonl(tmp_path / "other.jsonl", data, encoder)
    assert clash.skipped == [
        (f"{tmp_path / 'other.jsonl'} line 1", f"article id 'feed' is already used by {feed}")
    ]


def test_jsonl_articles_are_searched_with_their_source_url(
    tmp_path: Path, encoder: Encoder
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    ingest_jsonl(
        _jsonl(tmp_path / "feed.jsonl", OSLO, BERGEN),
        open_store(settings),
        encoder,
        settings.data_dir,
        1_000_000,
        progress=False,
    )
    archive = Archive.open(settings, encoder)
    try:
        hits = archive.search("How much will the budget grow?", 1)
        assert [(h.article_id, h.source_url) for h in hits] == [
            ("oslo", "https://example.com/oslo-budget")
        ]
        citations = archive.ask("How much will the budget grow?").citations
        assert citations and citations[0].source_url == "https://example.com/oslo-budget"
    finally:
        archive.close()


def _story(place: str, number: int) -> str:
    return (
        f"date 2024-05-{number:02d} {place.upper()}, May {number}. /NTB/. The {place} budget "
        f"will grow by {number} percent, the minister said.\n"
    )


def test_a_link_out_of_the_folder_is_read_only_when_asked(
    tmp_path: Path, encoder: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, etc, data = tmp_path / "seeds", tmp_path / "etc", tmp_path / "data"
    (seeds / "sub").mkdir(parents=True)
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (seeds / "passwd_link.txt").symlink_to(etc / "passwd")
    (seeds / "sub" / "bergen.txt").write_text(_story("Bergen", 2))
    (seeds / "bergen.txt").symlink_to(seeds / "sub" / "bergen.txt")  # inside: read
    (seeds / "oslo.txt").write_text(_story("Oslo", 1))

    store, report = _ingest(seeds, data, encoder)
    link, target = seeds / "passwd_link.txt", (etc / "passwd").resolve()
    reason = f"a link to {target}, outside {seeds.resolve()} (see --follow-links)"
    assert report.added == ["bergen", "oslo"]
    assert report.skipped == [(str(seeds.resolve() / link.name), reason)]
    assert [r.getMessage() for r in caplog.records if "passwd" in r.getMessage()] == [
        f"skipped {seeds.resolve() / link.name}: {reason}"
    ]
    assert store.catalogue.article("passwd_link") is None

    _, followed = _ingest(seeds, data, encoder, follow_links=True)
    assert followed.added == ["passwd_link"] and followed.skipped == []
    store, again = _ingest(seeds, data, encoder)  # what an earlier run let in leaves
    assert again.removed == ["passwd_link"]
    assert set(store.writes.stored_files()) == {"bergen", "oslo"}


def test_a_name_that_is_not_an_id_is_stored_under_one_that_is(
    tmp_path: Path, encoder: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    long_a, long_b = "x" * 230 + "a", "x" * 230 + "b"
    names = ["a b", "a?b", "café", "Осло", long_a, long_b, "e\u0301te"]
    for number, name in enumerate(names, 1):
        (seeds / f"{name}.txt").write_text(_story("Oslo", number))

    store, report = _ingest(seeds, data, encoder)
    ids = set(report.added)
    long_ids = {i for i in ids if i.startswith("x")}
    assert ids - long_ids == {"a_b", "café", "éte", "Осло"}
    assert len(long_ids) == 2
    assert all(len(i) == 200 and i.startswith("x" * 191 + "_") for i in long_ids)
    taken = f"its article id 'a_b' is taken by {seeds.resolve() / 'a b.txt'}"
    assert report.skipped == [(str(seeds.resolve() / "a?b.txt"), taken)]
    renamed = [r.getMessage() for r in caplog.records if "stored as article id" in r.getMessage()]
    assert len(renamed) == 4 and "a b.txt: stored as article id 'a_b'" in renamed[0]

    _, again = _ingest(seeds, data, encoder)  # the same ids on every run
    assert again.unchanged == 6 and not again.changed and len(again.skipped) == 1
    assert set(store.writes.stored_files()) == ids
    with TestClient(create_app(Settings(data_dir=data))) as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for article_id in ids:
            assert client.get(f"/api/articles/{quote(article_id)}").status_code == 200
            assert client.get(f"/articles/{quote(article_id)}").status_code == 200


def test_files_with_one_stem_keep_the_first(
    tmp_path: Path, encoder: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    (seeds / "dup.txt").write_text(_story("Oslo", 1))
    _ingest(seeds, data, encoder)
    (seeds / "dup.md").write_text(_story("Bergen", 2))  # first by name, but "dup" is taken
    store, report = _ingest(seeds, data, encoder)
    reason = f"its article id 'dup' is taken by {seeds.resolve() / 'dup.txt'}"
    assert report.skipped == [(str(seeds.resolve() / "dup.md"), reason)]
    assert report.unchanged == 1 and not report.changed
    assert store.catalogue.counts()["articles"] == 1

    fresh, report = _ingest(seeds, tmp_path / "fresh", encoder)
    assert report.added == ["dup"] and len(report.skipped) == 1
    found = fresh.catalogue.article("dup")
    assert found is not None and "Bergen" in found[1][0].text  # dup.md sorts first


def test_a_renamed_file_moves_in_one_run(tmp_path: Path, encoder: Encoder) -> None:
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    (seeds / "b.txt").write_text(_story("Oslo", 1))
    (seeds / "c.txt").write_text(_story("Bergen", 2))
    _ingest(seeds, data, encoder)
    (seeds / "b.txt").rename(seeds / "a.txt")  # new name first: its text is still stored
    (seeds / "c.txt").rename(seeds / "c.md")  # its id still stored, under another source
    store, report = _ingest(seeds, data, encoder)
    assert (sorted(report.added), sorted(report.removed), report.skipped) == (
        ["a", "c"],
        ["b", "c"],
        [],
    )
    assert set(store.writes.stored_files()) == {"a", "c"}
    assert IndexFolder(store, data).verify().passages.count == store.catalogue.counts()["passages"]


def test_a_huge_article_is_encoded_a_part_at_a_time_as_it_is_stored(
    tmp_path: Path, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the group size, an article's vectors are made as the store takes them, never held
    whole; each passage and sentence still gets its own text's vector."""
    monkeypatch.setattr(ingest, "_MAX_GROUP_TEXTS", 6)
    store = open_store(Settings(data_dir=tmp_path / "data"))
    stored_before: list[int] = []  # passages already in the open transaction, at each call
    encode = encoder.encode

    def encode_and_look(texts: list[str]) -> np.ndarray:
        assert len(texts) <= 6
        stored_before.append(store.catalogue.counts()["passages"])
        return encode(texts)

    monkeypatch.setattr(encoder, "encode", encode_and_look)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    paragraphs = [
        f"Exports of grain rose {n} percent in May. The port of Oslo handled {n} ships."
        for n in range(1, 9)
    ]
    (seeds / "huge.txt").write_text("date 2024-05-01 OSLO /NTB/. " + "\n".join(paragraphs))
    ingest_directory(seeds, store, encoder, tmp_path / "data", 1_000_000, progress=False)
    monkeypatch.setattr(encoder, "encode", encode)
    assert len(stored_before) >= 3 and stored_before[0] == 0 and stored_before[-1] > 0
    passage_ids, texts = store.reads.passage_texts()
    stored_ids, stored = store.reads.vectors("passages")
    by_id = dict(zip(stored_ids.tolist(), stored, strict=True))
    sentences = store.reads.sentences(passage_ids.tolist())
    for passage_id, text, vector in zip(
        passage_ids.tolist(), texts, encoder.encode(texts), strict=True
    ):
        assert np.allclose(by_id[passage_id], vector, atol=1e-4)
        records = sentences[passage_id]
        own = encoder.encode([text[s.start : s.end] for s in records])
        assert np.allclose(np.stack([s.vector for s in records]), own, atol=1e-4)
