"""The SQLite store: its migrations from older stores, its one write transaction and read
snapshots, and its parts (writes, reads for answering, the catalogue, feedback)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from qa.articles import ArticleFields, parse_article
from qa.errors import ReadOnlyArchiveError
from qa.passages import split_article
from qa.schema import SearchHit
from qa.store import (
    SOURCE_FILE,
    SOURCE_JSONL,
    Attributes,
    FeedbackRecord,
    PassageFilters,
    Store,
    StoredFile,
)
from qa.store.schema import MIGRATIONS, SCHEMA_VERSION

from .test_operations import immutable

DIMENSION = 4

# The articles table as the first release made it.
_FIRST_ARTICLES_TABLE = """
CREATE TABLE articles (
    article_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    dateline TEXT,
    agency TEXT,
    source TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    content_hash TEXT NOT NULL
);
INSERT INTO articles VALUES
    ('old', 'Old title', '2024-04-26', 'ASTANA', 'TASS', '/seeds/old.txt', 10, 20, 'abc');
"""

# Every table of the first release (user_version 0), one row in each.
_FIRST_RELEASE = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
{_FIRST_ARTICLES_TABLE}
CREATE INDEX articles_hash ON articles (content_hash);
CREATE INDEX articles_date ON articles (date);
CREATE TABLE paragraphs (
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    number INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    speaker TEXT,
    PRIMARY KEY (article_id, number)
) WITHOUT ROWID;
CREATE TABLE passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    paragraph INTEGER NOT NULL,
    part INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    speaker TEXT,
    vector BLOB NOT NULL
);
CREATE INDEX passages_article ON passages (article_id);
CREATE INDEX passages_speaker ON passages (speaker);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    passage_id INTEGER NOT NULL REFERENCES passages ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    speaker TEXT,
    vector BLOB NOT NULL
);
CREATE INDEX sentences_passage ON sentences (passage_id);
CREATE TABLE speakers (
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    name TEXT NOT NULL,
    alias TEXT NOT NULL
);
CREATE INDEX speakers_alias ON speakers (alias);
INSERT INTO meta VALUES ('data_generation', '3');
INSERT INTO paragraphs VALUES ('old', 1, NULL, 'Talks began, Shoigu said.', 'Sergey Shoigu');
INSERT INTO passages (article_id, paragraph, part, heading, text, speaker, vector)
    VALUES ('old', 1, 0, NULL, 'Talks began, Shoigu said.', 'Sergey Shoigu',
            X'0000803F000000000000000000000000');
INSERT INTO sentences (passage_id, start, end, speaker, vector)
    VALUES (1, 0, 25, 'Sergey Shoigu', X'000000000000803F0000000000000000');
INSERT INTO speakers VALUES ('old', 'Sergey Shoigu', 'shoigu');
"""


def _columns(path: Path, table: str = "articles") -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def _schema(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Each table's and index's columns as SQLite reports them, and each trigger's text, by
    name."""
    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
        pragma = {"table": "table_xinfo", "index": "index_xinfo"}
        return {
            name: [(sql,)]
            if kind == "trigger"
            else list(db.execute(f"PRAGMA {pragma[kind]}({name})"))
            for kind, name, sql in sorted(found, key=lambda n: n[1])
        }


def _old_store(path: Path, script: str, version: int = 0) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {version}")
    return path


def _before_feedback(path: Path) -> Path:
    """A store as the release that added the source columns (version 1) made it: no feedback
    table, speaker aliases indexed alone."""
    _old_store(path, _FIRST_RELEASE, version=1)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE articles ADD COLUMN url TEXT")
        db.execute("ALTER TABLE articles ADD COLUMN author TEXT")
        db.execute("ALTER TABLE articles ADD COLUMN source_kind TEXT NOT NULL DEFAULT 'file'")
    return path


def _vector(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def _put(store: Store, article_id: str, text: str, source: StoredFile | None = None) -> None:
    """An article, split as ingest splits it, each passage and sentence given a vector whose
    first component is its passage's number in the article."""
    article = parse_article(article_id, text)
    passages, people = split_article(article, lambda t: len(t.split()), 256)
    vectors = [
        np.stack([_vector(n, 1, 0, 0)] * (1 + len(p.sentences))) for n, p in enumerate(passages)
    ]
    store.writes.replace_article(article, passages, people, vectors, source)


OSLO = (
    "date 2024-05-01 OSLO, May 1. /NTB/. The budget will grow by four percent, minister Kari"
    " Nordmann said.\nTaxes stay as they are, Nordmann added.\nThe port handled more ships."
)
BERGEN = "date 2024-06-02 BERGEN, June 2. /NTB/. Rain fell all week.\nThe fish market stayed open."
UNDATED = "A note without a header."


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "store.sqlite")
    _put(opened, "oslo", OSLO)
    _put(opened, "bergen", BERGEN)
    _put(opened, "undated", UNDATED)
    return opened


# -- migrations ---------------------------------------------------------------------------


def test_the_migrations_are_one_ordered_list_up_to_the_schema_version() -> None:
    assert [step.version for step in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def test_a_first_release_store_gets_the_new_columns(tmp_path: Path) -> None:
    path = _old_store(tmp_path / "store.sqlite", _FIRST_ARTICLES_TABLE)
    store = Store(path)
    assert _columns(path)[-3:] == ["url", "author", "source_kind"]
    assert _user_version(path) == SCHEMA_VERSION
    assert store.writes.stored_files() == {
        "old": StoredFile("old", "/seeds/old.txt", 10, 20, "abc", SOURCE_FILE)
    }
    found = store.catalogue.article("old")
    assert found is not None
    assert (found[0].title, found[0].source_url, found[0].author) == ("Old title", None, None)
    store.close()
    Store(path).close()  # opening it again changes nothing
    assert _columns(path)[-3:] == ["url", "author", "source_kind"]


def test_a_new_store_is_made_at_the_current_version(tmp_path: Path) -> None:
    Store(tmp_path / "store.sqlite").close()
    assert _user_version(tmp_path / "store.sqlite") == SCHEMA_VERSION


def test_a_version_0_store_keeps_its_data_and_ends_as_a_new_one(tmp_path: Path) -> None:
    old = _old_store(tmp_path / "old.sqlite", _FIRST_RELEASE)
    store = Store(old)
    Store(tmp_path / "new.sqlite").close()
    assert _schema(old) == _schema(tmp_path / "new.sqlite")  # speakers_alias dropped, too
    assert store.data_generation() == 3
    assert store.catalogue.counts() == {"articles": 1, "passages": 1, "sentences": 1}
    article, paragraphs = store.catalogue.article("old") or (None, [])
    assert article is not None and article.passages == 1
    assert [(p.number, p.text, p.speaker) for p in paragraphs] == [
        (1, "Talks began, Shoigu said.", "Sergey Shoigu")
    ]
    passage = store.reads.passages([1])[1]
    assert (passage.title, passage.speaker, passage.source_url) == (
        "Old title",
        "Sergey Shoigu",
        None,
    )
    assert store.reads.passage_vectors([1])[1].tolist() == [1, 0, 0, 0]
    (sentence,) = store.reads.sentences([1])[1]
    assert (sentence.start, sentence.end, sentence.vector.tolist()) == (0, 25, [0, 1, 0, 0])
    assert store.reads.speaker_aliases() == [("shoigu", "Sergey Shoigu")]
    assert store.feedback.add("Who spoke?", "[]", "up", "2024-05-01T00:00:00+00:00") == 1
    store.close()


def test_a_store_made_before_feedback_gets_its_table(tmp_path: Path) -> None:
    path = _before_feedback(tmp_path / "store.sqlite")
    store = Store(path)
    assert _user_version(path) == SCHEMA_VERSION
    assert "speakers_alias_name" in _schema(path) and "speakers_alias" not in _schema(path)
    store.feedback.add("Who spoke?", "[]", "down", "2024-05-01T00:00:00+00:00")
    assert [r.verdict for r in store.feedback.records()] == ["down"]
    assert store.catalogue.counts()["passages"] == 1


def test_a_version_3_store_drops_the_tombstones_of_sentence_ids(tmp_path: Path) -> None:
    """Version 3 named a deleted sentence by its own id; the sentences' index now holds it
    under its passage's, so those go (the index they were for is rebuilt, an earlier format)
    and a deleted sentence leaves its passage's id from then on."""
    path = _old_store(tmp_path / "store.sqlite", _FIRST_RELEASE)
    with sqlite3.connect(path) as db:
        for step in MIGRATIONS[:3]:
            step.apply(db)
        db.execute("PRAGMA user_version = 3")
        vector = np.zeros(DIMENSION, np.float32).tobytes()
        # Passage 2 with sentences 2 and 3, passage 3 with sentence 4.
        for passage, sentences in ((2, 2), (3, 1)):
            db.execute(
                "INSERT INTO passages (article_id, paragraph, part, text, vector)"
                " VALUES ('old', ?, 0, 'More.', ?)",
                (passage, vector),
            )
            db.executemany(
                "INSERT INTO sentences (passage_id, start, end, vector) VALUES (?, 0, 5, ?)",
                [(passage, vector)] * sentences,
            )
        db.execute("DELETE FROM sentences WHERE passage_id = 3")
        db.execute("DELETE FROM passages WHERE id = 3")
        assert db.execute("SELECT kind, id FROM tombstones").fetchall() == [
            ("passages", 3),
            ("sentences", 4),
        ]
    store = Store(path)
    assert _user_version(path) == SCHEMA_VERSION
    assert store.reads.tombstones("passages").tolist() == [3]
    assert store.reads.tombstones("sentences").tolist() == []
    store.writes.delete_article("old")  # passages 1 and 2, sentences 1, 2 and 3
    assert store.reads.tombstones("passages").tolist() == [1, 2, 3]
    assert store.reads.tombstones("sentences").tolist() == [1, 2]
    store.close()


def test_a_read_only_store_is_read_as_it_is_from_version_1(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    path = _before_feedback(folder / "store.sqlite")
    with immutable(folder):
        store = Store(path)
        assert store.read_only and _user_version(path) == 1  # not upgraded
        assert list(store.feedback.records()) == []  # no table, no verdicts
        assert store.reads.tombstones("passages").tolist() == []  # no table, no tombstones
        assert store.reads.passages([1])[1].text == "Talks began, Shoigu said."
        with pytest.raises(ReadOnlyArchiveError):
            store.feedback.add("Who spoke?", "[]", "up", "2024-05-01T00:00:00+00:00")
        store.close()


def test_a_read_only_store_older_than_version_1_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    path = _old_store(folder / "store.sqlite", _FIRST_RELEASE)
    with immutable(folder), pytest.raises(ReadOnlyArchiveError, match="older version"):
        Store(path)


def test_url_author_and_source_kind_are_stored(tmp_path: Path) -> None:
    path = _old_store(tmp_path / "store.sqlite", _FIRST_ARTICLES_TABLE)
    store = Store(path)
    fields = ArticleFields(url="https://example.com/a", author="Jane Roe")
    article = parse_article("a", "date 2024-05-01 The budget grows, she said.", fields)
    source = StoredFile("a", "/feeds/feed.jsonl", 40, 50, "", SOURCE_JSONL)
    store.writes.replace_article(article, [], {}, [], source)
    found = store.catalogue.article("a")
    assert found is not None
    assert (found[0].source_url, found[0].author) == ("https://example.com/a", "Jane Roe")
    stored = store.writes.stored_files()["a"]
    assert (stored.kind, stored.key) == (SOURCE_JSONL, (SOURCE_JSONL, "/feeds/feed.jsonl", "a"))
    store.close()


# -- transactions and snapshots -----------------------------------------------------------


def test_a_transaction_that_fails_keeps_nothing(store: Store) -> None:
    before = (store.catalogue.counts(), store.data_generation())
    with pytest.raises(RuntimeError), store.transaction():
        _put(store, "tromso", "date 2024-07-01 TROMSO. Snow fell in July.")
        store.writes.delete_article("oslo")
        raise RuntimeError("fails after two writes")
    assert (store.catalogue.counts(), store.data_generation()) == before
    assert store.catalogue.article("tromso") is None and store.catalogue.article("oslo")
    _put(store, "tromso", "date 2024-07-01 TROMSO. Snow fell in July.")  # the store goes on
    assert store.catalogue.article("tromso") is not None


def test_a_write_that_fails_half_way_keeps_nothing_of_itself(store: Store) -> None:
    article = parse_article("tromso", "date 2024-07-01 TROMSO. Snow fell. It melted.")
    passages, people = split_article(article, lambda t: len(t.split()), 256)
    counts = store.catalogue.counts()
    with pytest.raises(ValueError):  # fewer vectors than passages
        store.writes.replace_article(article, passages, people, [])
    assert store.catalogue.counts() == counts


def test_every_deleted_row_leaves_a_tombstone_in_its_own_transaction(store: Store) -> None:
    """However an article goes (deleted, replaced), its passages and sentences stay known as
    deleted until an index is rebuilt without them, the sentences by their passage's id (the
    one their index holds them under); the tombstones go with a failed write."""
    passages = store.reads.filtered_passage_ids(PassageFilters(article_id="oslo")).tolist()
    owners = sorted(store.reads.sentences(passages))
    with pytest.raises(RuntimeError), store.transaction():
        store.writes.delete_article("oslo")
        raise RuntimeError("undone")
    assert store.reads.tombstones("passages").tolist() == []
    store.writes.delete_article("oslo")
    assert store.reads.tombstones("passages").tolist() == sorted(passages)
    assert store.reads.tombstones("sentences").tolist() == owners
    bergen = store.reads.filtered_passage_ids(PassageFilters(article_id="bergen")).tolist()
    _put(store, "bergen", BERGEN + "\nThe ferry ran late.")  # replaced: new rows, new ids
    assert store.reads.tombstones("passages").tolist() == sorted(passages + bergen)
    new = store.reads.filtered_passage_ids(PassageFilters(article_id="bergen")).tolist()
    assert min(new) > max(passages + bergen)  # ids are never reused
    store.writes.forget_tombstones("passages", np.array(passages, dtype=np.int64))
    assert store.reads.tombstones("passages").tolist() == sorted(bergen)
    store.writes.clear()
    assert store.reads.tombstones("passages").tolist() == []
    assert store.reads.tombstones("sentences").tolist() == []


def test_a_read_snapshot_sees_one_state(store: Store) -> None:
    with store.snapshot() as generation:
        assert generation == store.data_generation() == 3
        writer = threading.Thread(target=store.writes.delete_article, args=("oslo",))
        writer.start()
        writer.join()
        assert store.catalogue.article("oslo") is not None  # committed, but after the snapshot
        assert store.data_generation() == generation
    assert store.catalogue.article("oslo") is None and store.data_generation() == 4


# -- reads for answering ------------------------------------------------------------------


def test_passages_and_their_sentences_by_id(store: Store) -> None:
    ids, texts = store.reads.passage_texts()
    assert texts[0].startswith("The budget will grow")
    records = store.reads.passages(ids.tolist())
    first = records[int(ids[0])]
    assert (first.article_id, first.title, first.date, first.dateline, first.agency) == (
        "oslo",
        "The budget will grow by four percent, minister Kari Nordmann said.",
        "2024-05-01",
        "OSLO",
        "NTB",
    )
    assert (first.paragraph, first.speaker, first.url) == (1, "Kari Nordmann", "/articles/oslo#p1")
    sentences = store.reads.sentences(ids.tolist())
    assert all(first.text[s.start : s.end] for s in sentences[first.id])
    assert {s.passage_id for s in sentences[first.id]} == {first.id}
    assert store.reads.passages([]) == {} and store.reads.sentences([]) == {}


def test_the_ids_a_filter_allows(store: Store) -> None:
    def articles(filters: PassageFilters) -> set[str]:
        ids = store.reads.filtered_passage_ids(filters).tolist()
        return {p.article_id for p in store.reads.passages(ids).values()}

    assert articles(PassageFilters(date_from="2024-06-01")) == {"bergen"}
    assert articles(PassageFilters(date_to="2024-05-31")) == {"oslo"}
    assert articles(PassageFilters(speakers=("Kari Nordmann",))) == {"oslo"}
    assert articles(PassageFilters(article_id="undated")) == {"undated"}
    assert articles(PassageFilters(undated=True)) == {"undated"}
    assert articles(PassageFilters()) == {"oslo", "bergen", "undated"}


def test_vectors_to_build_and_extend_indexes_with(store: Store) -> None:
    ids, vectors = store.reads.vectors("passages")
    assert vectors.shape == (len(ids), DIMENSION)
    later_ids, later = store.reads.vectors("passages", after=int(ids[1]))
    assert later_ids.tolist() == ids[2:].tolist() and np.array_equal(later, vectors[2:])
    assert store.reads.rows_up_to("passages", int(ids[1])) == 2
    assert store.reads.passage_vectors([int(ids[0])])[int(ids[0])].tolist() == [0, 1, 0, 0]
    # Sentences come under their passage's id, a passage's all with it.
    owners, sentences = store.reads.vectors("sentences")
    held = store.reads.sentences(ids.tolist())
    assert owners.tolist() == [p for p in ids.tolist() for _ in held.get(p, [])]
    assert sentences.shape == (len(owners), DIMENSION)
    later_owners = store.reads.vectors("sentences", after=int(ids[1]))[0]
    assert later_owners.tolist() == owners[owners > ids[1]].tolist()
    assert store.reads.rows_up_to("sentences", int(ids[1])) == (owners <= ids[1]).sum()
    with pytest.raises(ValueError):
        store.reads.vectors("articles")


# -- the catalogue ------------------------------------------------------------------------


def test_the_catalogue_lists_the_newest_first(store: Store) -> None:
    listed = store.catalogue.list_articles(0, 10)
    assert [(a.article_id, a.passages) for a in listed] == [
        ("bergen", 2),
        ("oslo", 3),
        ("undated", 1),
    ]
    assert [a.article_id for a in store.catalogue.list_articles(1, 1)] == ["oslo"]
    assert store.catalogue.counts()["articles"] == 3
    assert store.catalogue.article("nowhere") is None


# -- feedback -----------------------------------------------------------------------------


def test_verdicts_are_kept_apart_from_the_data(store: Store) -> None:
    generation = store.data_generation()
    first = store.feedback.add("Who spoke?", '[{"article_id": "oslo"}]', "up", "2024-05-01")
    second = store.feedback.add("And then?", "[]", "down", "2024-05-02")
    assert second == first + 1
    assert list(store.feedback.records()) == [
        FeedbackRecord(first, "2024-05-01", "up", "Who spoke?", '[{"article_id": "oslo"}]'),
        FeedbackRecord(second, "2024-05-02", "down", "And then?", "[]"),
    ]
    with pytest.raises(sqlite3.IntegrityError):
        store.feedback.add("Hm?", "[]", "sideways", "2024-05-03")
    assert store.data_generation() == generation


# -- records into the JSON contract -------------------------------------------------------


def test_a_record_and_the_values_of_one_use_make_a_contract_model(store: Store) -> None:
    record = store.reads.passages([1])[1]
    hit = SearchHit.model_validate(
        Attributes(record, score=0.5, dense=0.25, lexical=1.5), from_attributes=True
    )
    assert (hit.article_id, hit.title, hit.text, hit.url, hit.heading) == (
        record.article_id,
        record.title,
        record.text,
        record.url,
        record.heading,
    )
    assert (hit.score, hit.dense, hit.lexical) == (0.5, 0.25, 1.5)
    moved = Attributes(record, paragraph=7)
    assert (moved.paragraph, moved.part) == (7, record.part)  # a value stands for the record's
    with pytest.raises(AttributeError):
        moved.nowhere  # noqa: B018
    with pytest.raises(ValidationError):  # a value the record lacks is still required
        SearchHit.model_validate(Attributes(record, score=0.5), from_attributes=True)
