"""The SQLite store: a store made before the url, author and source-kind columns is upgraded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qa.articles import ArticleFields, parse_article
from qa.store import SOURCE_FILE, SOURCE_JSONL, Store, StoredFile

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


def _columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(articles)")]


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_a_first_release_store_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_FIRST_ARTICLES_TABLE)
    store = Store(path)
    assert _columns(path)[-3:] == ["url", "author", "source_kind"]
    assert _user_version(path) == 1
    assert store.stored_files() == {
        "old": StoredFile("old", "/seeds/old.txt", 10, 20, "abc", SOURCE_FILE)
    }
    found = store.article("old")
    assert found is not None
    assert (found[0].title, found[0].source_url, found[0].author) == ("Old title", None, None)
    store.close()
    Store(path).close()  # opening it again changes nothing
    assert _columns(path)[-3:] == ["url", "author", "source_kind"]


def test_a_new_store_is_made_at_the_current_version(tmp_path: Path) -> None:
    Store(tmp_path / "store.sqlite").close()
    assert _user_version(tmp_path / "store.sqlite") == 1


def test_url_author_and_source_kind_are_stored(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_FIRST_ARTICLES_TABLE)
    store = Store(path)
    fields = ArticleFields(url="https://example.com/a", author="Jane Roe")
    article = parse_article("a", "date 2024-05-01 The budget grows, she said.", fields)
    source = StoredFile("a", "/feeds/feed.jsonl", 40, 50, "", SOURCE_JSONL)
    store.replace_article(article, [], {}, [], source)
    found = store.article("a")
    assert found is not None
    assert (found[0].source_url, found[0].author) == ("https://example.com/a", "Jane Roe")
    stored = store.stored_files()["a"]
    assert (stored.kind, stored.key) == (SOURCE_JSONL, (SOURCE_JSONL, "/feeds/feed.jsonl", "a"))
    store.close()
