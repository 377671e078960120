"""The store's tables, made and upgraded by one ordered list of steps keyed by ``user_version``.

A new store runs every step; an older one runs the steps after its ``PRAGMA user_version``,
all in one write transaction at open. The steps add tables, indexes and columns (ADD COLUMN
rewrites no rows, so each is instant on any archive), so a store a newer version upgraded
still opens in an older one. Step 4 redefines a trigger too, for the index format that needs
it (qa.manifest): an older version opens such a store but misreads its sentences' tombstones
and index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "MIGRATIONS",
    "OLDEST_READABLE_VERSION",
    "SCHEMA_VERSION",
    "Migration",
    "migrate",
    "user_version",
]

# The tables as the first release made them (it set no user_version).
_FIRST_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    dateline TEXT,
    agency TEXT,
    source TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    content_hash TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS articles_hash ON articles (content_hash)",
    "CREATE INDEX IF NOT EXISTS articles_date ON articles (date)",
    """CREATE TABLE IF NOT EXISTS paragraphs (
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    number INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    speaker TEXT,
    PRIMARY KEY (article_id, number)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    paragraph INTEGER NOT NULL,
    part INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    speaker TEXT,
    vector BLOB NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS passages_article ON passages (article_id)",
    "CREATE INDEX IF NOT EXISTS passages_speaker ON passages (speaker)",
    """CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    passage_id INTEGER NOT NULL REFERENCES passages ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    speaker TEXT,
    vector BLOB NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS sentences_passage ON sentences (passage_id)",
    """CREATE TABLE IF NOT EXISTS speakers (
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    name TEXT NOT NULL,
    alias TEXT NOT NULL
)""",
)
_SOURCE_COLUMNS = (
    ("articles", "url", "TEXT"),
    ("articles", "author", "TEXT"),
    ("articles", "source_kind", "TEXT NOT NULL DEFAULT 'file'"),
)


def _tables_with_source_columns(db: sqlite3.Connection) -> None:
    for statement in _FIRST_TABLES:
        db.execute(statement)
    for table, column, declaration in _SOURCE_COLUMNS:
        # A store may have them at version 0: made by the release that added them, which
        # created its tables whole before it set the version.
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def _covering_speakers_and_feedback(db: sqlite3.Connection) -> None:
    # Covering: loading every (alias, name) pair at start-up reads this index alone, in order.
    db.execute("DROP INDEX IF EXISTS speakers_alias")
    db.execute("CREATE INDEX IF NOT EXISTS speakers_alias_name ON speakers (alias, name)")
    # Readers' verdicts on answers: what was asked and cited, never who asked.
    db.execute(
        """CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    passages TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    created_at TEXT NOT NULL
)"""
    )


def _tombstones(db: sqlite3.Connection) -> None:
    # The rows deleted since the index that holds them was built: a search skips them, and the
    # index is rebuilt without them once they are many (qa.indexes). Ids are never reused
    # (AUTOINCREMENT), so a tombstone cannot hide a later row.
    db.execute(
        """CREATE TABLE IF NOT EXISTS tombstones (
    kind TEXT NOT NULL CHECK (kind IN ('passages', 'sentences')),
    id INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID"""
    )
    # Triggers, so that every way a row goes (an article deleted or replaced, its cascade, a
    # clear) leaves its tombstone in the same transaction.
    for table in ("passages", "sentences"):
        db.execute(
            f"""CREATE TRIGGER IF NOT EXISTS {table}_tombstone AFTER DELETE ON {table}
BEGIN INSERT OR IGNORE INTO tombstones (kind, id) VALUES ('{table}', OLD.id); END"""
        )


def _sentence_tombstones_by_passage(db: sqlite3.Connection) -> None:
    # The sentences' index holds each sentence under its passage's id (qa.store.reads), so a
    # deleted sentence's tombstone is that id: one for all the sentences of a passage. Those
    # left by the step before name sentences; the index they were for is rebuilt (its manifest
    # is of an earlier format, qa.manifest), holding none of them.
    db.execute("DROP TRIGGER IF EXISTS sentences_tombstone")
    db.execute(
        """CREATE TRIGGER sentences_tombstone AFTER DELETE ON sentences
BEGIN INSERT OR IGNORE INTO tombstones (kind, id) VALUES ('sentences', OLD.passage_id); END"""
    )
    db.execute("DELETE FROM tombstones WHERE kind = 'sentences'")


@dataclass(frozen=True)
class Migration:
    version: int  # the store's user_version once this step ran
    why: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS = (
    Migration(
        1,
        "the first release's tables, and each article's url, author and kind of source",
        _tables_with_source_columns,
    ),
    Migration(
        2,
        "speaker aliases loaded from a covering index; readers' feedback",
        _covering_speakers_and_feedback,
    ),
    Migration(3, "tombstones of deleted passages and sentences", _tombstones),
    Migration(
        4,
        "a deleted sentence's tombstone names its passage, as the sentences' index does",
        _sentence_tombstones_by_passage,
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
# A store opened read-only cannot be upgraded: it is read as it is from this version on (the
# first with every column the reads select; one without a feedback table has no verdicts, one
# without a tombstones table no deleted rows its index still holds).
OLDEST_READABLE_VERSION = 1


def user_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> None:
    """Run the steps after the store's version, in order, in the caller's write transaction."""
    for step in MIGRATIONS:
        if step.version > user_version(db):
            step.apply(db)
            db.execute(f"PRAGMA user_version = {step.version}")
