"""SQLite store: the source of truth for articles, passages, sentences, speakers and vectors."""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qa.articles import Article
from qa.errors import ReadOnlyArchiveError, WriteAheadLogLostError
from qa.passages import Passage
from qa.speakers import Person

__all__ = [
    "STORE_FILE",
    "SOURCE_FILE",
    "SOURCE_JSONL",
    "ArticleRecord",
    "ParagraphRecord",
    "PassageFilters",
    "PassageRecord",
    "SentenceRecord",
    "Store",
    "StoredFile",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    dateline TEXT,
    agency TEXT,
    source TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    content_hash TEXT NOT NULL,
    url TEXT,
    author TEXT,
    source_kind TEXT NOT NULL DEFAULT 'file'
);
CREATE INDEX IF NOT EXISTS articles_hash ON articles (content_hash);
CREATE INDEX IF NOT EXISTS articles_date ON articles (date);
CREATE TABLE IF NOT EXISTS paragraphs (
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    number INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    speaker TEXT,
    PRIMARY KEY (article_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    paragraph INTEGER NOT NULL,
    part INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    speaker TEXT,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages (article_id);
CREATE INDEX IF NOT EXISTS passages_speaker ON passages (speaker);
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    passage_id INTEGER NOT NULL REFERENCES passages ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    speaker TEXT,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_passage ON sentences (passage_id);
CREATE TABLE IF NOT EXISTS speakers (
    article_id TEXT NOT NULL REFERENCES articles ON DELETE CASCADE,
    name TEXT NOT NULL,
    alias TEXT NOT NULL
);
-- Covering: loading every (alias, name) pair at start-up reads this index alone, in order.
DROP INDEX IF EXISTS speakers_alias;
CREATE INDEX IF NOT EXISTS speakers_alias_name ON speakers (alias, name);
-- Readers' verdicts on answers: what was asked and cited, never who asked.
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    passages TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    created_at TEXT NOT NULL
);
"""

# The user_version of a store with every column below; an older store gets the columns it lacks
# when opened (ADD COLUMN rewrites no rows, so this is instant on any archive).
_SCHEMA_VERSION = 1
_ADDED_COLUMNS = (
    ("articles", "url", "TEXT"),
    ("articles", "author", "TEXT"),
    ("articles", "source_kind", "TEXT NOT NULL DEFAULT 'file'"),
)

# The store's file in an archive folder.
STORE_FILE = "store.sqlite"
# 16 MB of 4 KiB pages a step: writers get in between steps of a large store's backup.
_BACKUP_PAGES_PER_STEP = 4096

log = logging.getLogger(__name__)

# What an article's ``source`` names: its own file, or a JSONL file of many articles.
SOURCE_FILE = "file"
SOURCE_JSONL = "jsonl"

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StoredFile:
    """What ingest needs to decide whether a file changed."""

    article_id: str
    source: str | None
    size: int | None
    mtime_ns: int | None
    content_hash: str
    kind: str = SOURCE_FILE

    @property
    def key(self) -> tuple[str, str, str]:
        """Names one article of one source: a file holds one, a JSONL file many."""
        return self.kind, self.source or "", self.article_id


@dataclass(frozen=True)
class ArticleRecord:
    article_id: str
    title: str
    date: str | None
    dateline: str | None
    agency: str | None
    passages: int
    source_url: str | None
    author: str | None


@dataclass(frozen=True)
class ParagraphRecord:
    number: int
    heading: str | None
    text: str
    speaker: str | None


@dataclass(frozen=True)
class PassageRecord:
    id: int
    article_id: str
    title: str
    date: str | None
    dateline: str | None
    agency: str | None
    paragraph: int
    part: int
    heading: str | None
    text: str
    speaker: str | None
    source_url: str | None = None

    @property
    def url(self) -> str:
        """The article page, anchored at this passage's paragraph."""
        return f"/articles/{self.article_id}#p{self.paragraph}"

    def source(self) -> dict[str, Any]:
        """The fields every citation and search hit carries about where a passage comes from."""
        return {
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "dateline": self.dateline,
            "agency": self.agency,
            "paragraph": self.paragraph,
            "text": self.text,
            "speaker": self.speaker,
            "url": self.url,
            "source_url": self.source_url,
        }


@dataclass(frozen=True)
class SentenceRecord:
    id: int
    passage_id: int
    start: int
    end: int
    speaker: str | None
    vector: Vectors


@dataclass(frozen=True)
class PassageFilters:
    """Restrictions applied before ranking; ``speakers`` holds canonical names."""

    date_from: str | None = None
    date_to: str | None = None
    speakers: tuple[str, ...] | None = None
    article_id: str | None = None

    @property
    def active(self) -> bool:
        return any(
            value is not None
            for value in (self.date_from, self.date_to, self.speakers, self.article_id)
        )


def _one_line(said: object) -> str:
    """SQLite's report of a damage, without its banner and line breaks."""
    return " ".join(str(said).replace("*** in database main ***", "").split())


def _blob(vector: Vectors) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


class Store:
    """One SQLite file in WAL mode; a connection per thread, so readers never share a cursor.

    A store in a folder that cannot be written opens read-only: it answers, and every write
    is refused with the reason.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wal = path.with_name(f"{path.name}-wal")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._opened = threading.Lock()
        self.read_only = path.exists() and not os.access(path.parent, os.W_OK)
        self._wal_inode: int | None = None
        if self.read_only:
            self._db.execute("SELECT count(*) FROM sqlite_schema").fetchone()
            if self._db.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                raise ReadOnlyArchiveError(
                    "the store was made by an older version and is upgraded when first opened"
                    " in a writable folder"
                )
            return
        self._db.executescript(_SCHEMA)
        self._migrate()

    @property
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
            with self._opened:
                self._connections.append(db)
        return db

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread is off so that close() may close every thread's connection; each
        # is still used by its own thread alone.
        if self.read_only:
            # immutable: without it SQLite needs to create the shared-memory file beside the
            # store, which a read-only folder refuses; nobody can change the folder anyway.
            # But an immutable store ignores its write-ahead log: one that holds writes is
            # read through the shared-memory file left beside it.
            logged = self.wal.exists() and self.wal.stat().st_size > 0
            return sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro{'' if logged else '&immutable=1'}",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _wal_file_inode(self) -> int | None:
        try:
            return self.wal.stat().st_ino
        except FileNotFoundError:
            return None

    def _check_writable(self) -> None:
        """Refuse a write that could not be kept: in a read-only folder, or once the write-ahead
        log was deleted from under the open store (SQLite would go on writing to the deleted
        file and acknowledge what the next start cannot see)."""
        if self.read_only:
            raise ReadOnlyArchiveError(f"{os.strerror(errno.EACCES)}; opened read-only")
        log_inode = self._wal_file_inode()
        if self._wal_inode is None:  # none yet, or the first write since the store opened
            self._wal_inode = log_inode
        elif log_inode != self._wal_inode:
            raise WriteAheadLogLostError()

    def _migrate(self) -> None:
        """Bring a store made by an older version up to this schema, once, under the write lock
        (two processes may open the same old store at once)."""
        if self._db.execute("PRAGMA user_version").fetchone()[0] >= _SCHEMA_VERSION:
            return
        with self.transaction() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] >= _SCHEMA_VERSION:
                return
            for table, column, declaration in _ADDED_COLUMNS:
                present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, or a part of the one already open on this thread."""
        db = self._db
        if db.in_transaction:
            yield db
            return
        self.begin()
        try:
            yield db
        except BaseException:
            self.rollback()
            raise
        db.execute("COMMIT")

    def begin(self) -> None:
        """Open a write transaction that several calls join; end it with commit() or rollback()."""
        self._check_writable()
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already given it up itself (as it does
        on a full disk)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    @contextmanager
    def snapshot(self) -> Iterator[int]:
        """Every read inside sees one committed state of the store (a WAL read transaction),
        whose data generation it yields."""
        db = self._db
        if db.in_transaction:
            yield self.data_generation()
            return
        db.execute("BEGIN")
        try:
            yield self.data_generation()  # the snapshot starts at this first read
        finally:
            db.execute("COMMIT")

    def backup(self, destination: Path) -> None:
        """Copy the store, as one committed state, into a new file, while others read and
        write (SQLite's online backup, a slice of pages at a time)."""
        target = sqlite3.connect(destination)
        try:
            self._db.backup(target, pages=_BACKUP_PAGES_PER_STEP)
        finally:
            target.close()

    def quick_check(self) -> str:
        """The first damage SQLite finds without reading every index in full, or "ok"."""
        return _one_line(self._db.execute("PRAGMA quick_check(1)").fetchone()[0])

    @staticmethod
    def _bump_generation(db: sqlite3.Connection) -> None:
        """Count every change of the data, so a derived index can tell it is stale."""
        db.execute(
            "INSERT INTO meta VALUES ('data_generation', '1') ON CONFLICT (key)"
            " DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def data_generation(self) -> int:
        value = self.get_meta("data_generation")
        return int(value) if value is not None else 0

    def close(self) -> None:
        """Checkpoint the write-ahead log into the store file, then close every thread's
        connection: a lone copy of ``store.sqlite`` then holds every acknowledged write."""
        with self._opened:
            connections, self._connections = self._connections, []
        if connections and not self.read_only:
            try:
                connections[0].execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # a reader still busy: the last close checkpoints
                log.warning("the store's write-ahead log was not checkpointed: %s", exc)
        for db in connections:
            db.close()
        self._local = threading.local()
        self._wal_inode = None

    # -- meta -----------------------------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    # -- writing --------------------------------------------------------------------------

    def stored_files(self) -> dict[str, StoredFile]:
        rows = self._db.execute(
            "SELECT article_id, source, size, mtime_ns, content_hash, source_kind FROM articles"
        )
        return {row[0]: StoredFile(*row) for row in rows}

    def article_with_hash(self, content_hash: str) -> str | None:
        row = self._db.execute(
            "SELECT article_id FROM articles WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return None if row is None else str(row[0])

    def touch(self, article_id: str, size: int | None, mtime_ns: int | None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE articles SET size = ?, mtime_ns = ? WHERE article_id = ?",
                (size, mtime_ns, article_id),
            )

    def replace_article(
        self,
        article: Article,
        passages: Sequence[Passage],
        people: dict[str, Person],
        vectors: Iterable[Vectors],
        source: StoredFile | None = None,
    ) -> None:
        """Swap in an article and everything derived from it, in one transaction.

        ``vectors`` gives, passage by passage, the passage's vector and then its sentences'
        (one row each); it may encode them as they are taken, so that a huge article is never
        held encoded whole.
        """
        speakers_by_paragraph = {p.paragraph: p.speaker for p in passages}
        with self.transaction() as db:
            self._bump_generation(db)
            db.execute("DELETE FROM articles WHERE article_id = ?", (article.article_id,))
            db.execute(
                "INSERT INTO articles (article_id, title, date, dateline, agency, url, author,"
                " source, size, mtime_ns, source_kind, content_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article.article_id,
                    article.title,
                    article.date.isoformat() if article.date else None,
                    article.dateline,
                    article.agency,
                    article.url,
                    article.author,
                    source.source if source else None,
                    source.size if source else None,
                    source.mtime_ns if source else None,
                    source.kind if source else SOURCE_FILE,
                    article.content_hash,
                ),
            )
            db.executemany(
                "INSERT INTO paragraphs VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        article.article_id,
                        p.number,
                        p.heading,
                        p.text,
                        speakers_by_paragraph.get(p.number),
                    )
                    for p in article.paragraphs
                ],
            )
            for passage, rows in zip(passages, vectors, strict=True):
                cursor = db.execute(
                    "INSERT INTO passages"
                    " (article_id, paragraph, part, heading, text, speaker, vector)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        article.article_id,
                        passage.paragraph,
                        passage.part,
                        passage.heading,
                        passage.text,
                        passage.speaker,
                        _blob(rows[0]),
                    ),
                )
                db.executemany(
                    "INSERT INTO sentences (passage_id, start, end, speaker, vector)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            cursor.lastrowid,
                            s.start,
                            s.end,
                            s.speaker,
                            _blob(vector),
                        )
                        for s, vector in zip(passage.sentences, rows[1:], strict=True)
                    ],
                )
            db.executemany(
                "INSERT INTO speakers VALUES (?, ?, ?)",
                [
                    (article.article_id, person.name, alias)
                    for person in people.values()
                    for alias in sorted(person.aliases)
                ],
            )

    def delete_article(self, article_id: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM articles WHERE article_id = ?", (article_id,))
            if cursor.rowcount:
                self._bump_generation(db)
        return cursor.rowcount > 0

    def clear(self) -> None:
        with self.transaction() as db:
            for table in ("speakers", "sentences", "passages", "paragraphs", "articles"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key = 'manifest'")
            self._bump_generation(db)

    def add_feedback(self, question: str, passages: str, verdict: str, created_at: str) -> int:
        """Keep one verdict; ``passages`` is JSON. The archive's data is untouched: its
        generation stays, and no index goes stale."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO feedback (question, passages, verdict, created_at)"
                " VALUES (?, ?, ?, ?)",
                (question, passages, verdict, created_at),
            )
        return int(cursor.lastrowid or 0)

    # -- reading --------------------------------------------------------------------------

    def feedback(self) -> Iterator[tuple[int, str, str, str, str]]:
        """Every verdict, oldest first: id, created_at, verdict, question, passages (JSON).

        A store opened read-only before its first verdict may have no table for them yet.
        """
        present = self._db.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'feedback'"
        ).fetchone()
        if present is None:
            return
        yield from self._db.execute(
            "SELECT id, created_at, verdict, question, passages FROM feedback ORDER BY id"
        )

    def integrity_check(self) -> list[str]:
        """Every damage SQLite finds, reading the whole store; ["ok"] when there is none."""
        return [_one_line(row[0]) for row in self._db.execute("PRAGMA integrity_check(20)")]

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("articles", "passages", "sentences")
        }

    def fingerprint_rows(self) -> list[tuple[str, str]]:
        return list(
            self._db.execute("SELECT article_id, content_hash FROM articles ORDER BY article_id")
        )

    def vectors(self, table: str, after: int = 0) -> tuple[npt.NDArray[np.int64], Vectors]:
        """Ids and vectors of ``passages`` or ``sentences`` (those with ids above ``after``),
        to build or extend a FAISS index with."""
        _check_vector_table(table)
        rows = self._db.execute(
            f"SELECT id, vector FROM {table} WHERE id > ? ORDER BY id", (after,)
        ).fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
        return ids, vectors.reshape(len(rows), -1)

    def rows_up_to(self, table: str, last_id: int) -> int:
        """How many ``passages`` or ``sentences`` have ids up to ``last_id``.

        Ids only grow (AUTOINCREMENT), so an index holding ids up to ``last_id`` and as many rows
        as this has lost none of them since it was built.
        """
        _check_vector_table(table)
        row = self._db.execute(f"SELECT count(*) FROM {table} WHERE id <= ?", (last_id,)).fetchone()
        return int(row[0])

    def passage_texts(self) -> tuple[npt.NDArray[np.int64], list[str]]:
        rows = self._db.execute("SELECT id, text FROM passages ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def passages(self, ids: Sequence[int]) -> dict[int, PassageRecord]:
        if not ids:
            return {}
        rows = self._db.execute(
            "SELECT p.id, p.article_id, a.title, a.date, a.dateline, a.agency, p.paragraph,"
            " p.part, p.heading, p.text, p.speaker, a.url FROM passages p"
            f" JOIN articles a USING (article_id) WHERE p.id IN ({_placeholders(ids)})",
            [int(i) for i in ids],
        )
        return {row[0]: PassageRecord(*row) for row in rows}

    def sentences(self, passage_ids: Sequence[int]) -> dict[int, list[SentenceRecord]]:
        if not passage_ids:
            return {}
        rows = self._db.execute(
            "SELECT id, passage_id, start, end, speaker, vector FROM sentences"
            f" WHERE passage_id IN ({_placeholders(passage_ids)}) ORDER BY passage_id, start",
            [int(i) for i in passage_ids],
        )
        grouped: dict[int, list[SentenceRecord]] = {}
        for row in rows:
            vector = np.frombuffer(row[5], dtype=np.float32)
            grouped.setdefault(row[1], []).append(
                SentenceRecord(row[0], row[1], row[2], row[3], row[4], vector)
            )
        return grouped

    def filtered_passage_ids(self, filters: PassageFilters) -> npt.NDArray[np.int64]:
        clauses, params = [], []
        if filters.date_from:
            clauses.append("a.date >= ?")
            params.append(filters.date_from)
        if filters.date_to:
            clauses.append("a.date <= ?")
            params.append(filters.date_to)
        if filters.article_id:
            clauses.append("p.article_id = ?")
            params.append(filters.article_id)
        if filters.speakers is not None:
            clauses.append(f"p.speaker IN ({_placeholders(filters.speakers)})")
            params.extend(filters.speakers)
        where = " AND ".join(clauses) or "1"
        rows = self._db.execute(
            f"SELECT p.id FROM passages p JOIN articles a USING (article_id) WHERE {where}", params
        ).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def passage_vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        if not ids:
            return {}
        rows = self._db.execute(
            f"SELECT id, vector FROM passages WHERE id IN ({_placeholders(ids)})",
            [int(i) for i in ids],
        )
        return {row[0]: np.frombuffer(row[1], dtype=np.float32) for row in rows}

    def sentence_owners(self, sentence_ids: Sequence[int]) -> dict[int, int]:
        """Passage id of each sentence id."""
        if not sentence_ids:
            return {}
        rows = self._db.execute(
            f"SELECT id, passage_id FROM sentences WHERE id IN ({_placeholders(sentence_ids)})",
            [int(i) for i in sentence_ids],
        )
        return {int(row[0]): int(row[1]) for row in rows}

    def speaker_aliases(self) -> list[tuple[str, str]]:
        """(alias, canonical name) pairs across the corpus."""
        return list(self._db.execute("SELECT DISTINCT alias, name FROM speakers"))

    def recent_quotes(self, articles: int) -> list[tuple[str, str]]:
        """(speaker, text) of every quoted passage of the ``articles`` latest articles, the
        newest article first (undated ones last)."""
        return list(
            self._db.execute(
                "SELECT p.speaker, p.text FROM passages p JOIN (SELECT article_id, date"
                " FROM articles ORDER BY date DESC, article_id LIMIT ?) a USING (article_id)"
                " WHERE p.speaker IS NOT NULL ORDER BY a.date DESC, a.article_id, p.id",
                (articles,),
            )
        )

    def list_articles(self, offset: int, limit: int) -> list[ArticleRecord]:
        rows = self._db.execute(
            "SELECT a.article_id, a.title, a.date, a.dateline, a.agency,"
            " (SELECT count(*) FROM passages p WHERE p.article_id = a.article_id), a.url, a.author"
            " FROM articles a ORDER BY a.date DESC, a.article_id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [ArticleRecord(*row) for row in rows]

    def article(self, article_id: str) -> tuple[ArticleRecord, list[ParagraphRecord]] | None:
        found = self._db.execute(
            "SELECT a.article_id, a.title, a.date, a.dateline, a.agency,"
            " (SELECT count(*) FROM passages p WHERE p.article_id = a.article_id), a.url, a.author"
            " FROM articles a WHERE a.article_id = ?",
            (article_id,),
        ).fetchone()
        if found is None:
            return None
        rows = self._db.execute(
            "SELECT number, heading, text, speaker FROM paragraphs WHERE article_id = ?"
            " ORDER BY number",
            (article_id,),
        )
        return ArticleRecord(*found), [ParagraphRecord(*row) for row in rows]


def _placeholders(ids: Sequence[object]) -> str:
    return ",".join("?" * len(ids))


def _check_vector_table(table: str) -> None:
    """Table names are put into SQL text, so only the two vector tables may be named."""
    if table not in ("passages", "sentences"):
        raise ValueError(table)
