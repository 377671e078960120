"""The store's writes: articles in and out, and what ingest keeps to know a file changed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qa.articles import Article
from qa.passages import Passage
from qa.speakers import Person
from qa.store.database import Database
from qa.store.records import SOURCE_FILE, StoredFile, Vectors, check_vector_table

__all__ = ["ArticleWrites"]


def _blob(vector: Vectors) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _columns(db: sqlite3.Connection, table: str) -> str:
    """The table's columns, as this store's schema has them (a source is of the same version)."""
    return ", ".join(row[1] for row in db.execute(f"PRAGMA main.table_info({table})"))


def _bump_generation(db: sqlite3.Connection) -> None:
    """Count every change of the data, so a derived index can tell it is stale."""
    db.execute(
        "INSERT INTO meta VALUES ('data_generation', '1') ON CONFLICT (key)"
        " DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


class ArticleWrites:
    """Each write is one transaction, or a part of the caller's (``Database.transaction``)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def stored_files(self) -> dict[str, StoredFile]:
        rows = self._database.connection.execute(
            "SELECT article_id, source, size, mtime_ns, content_hash, source_kind FROM articles"
        )
        return {row[0]: StoredFile(*row) for row in rows}

    def article_with_hash(self, content_hash: str) -> str | None:
        row = self._database.connection.execute(
            "SELECT article_id FROM articles WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return None if row is None else str(row[0])

    def touch(self, article_id: str, size: int | None, mtime_ns: int | None) -> None:
        with self._database.transaction() as db:
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
        with self._database.transaction() as db:
            _bump_generation(db)
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
        with self._database.transaction() as db:
            cursor = db.execute("DELETE FROM articles WHERE article_id = ?", (article_id,))
            if cursor.rowcount:
                _bump_generation(db)
        return cursor.rowcount > 0

    def copy_articles(self, source: Path, article_ids: Sequence[str]) -> None:
        """Copy articles with all their rows, vectors included, from the store at ``source``:
        a cluster's shards are filled or rebalanced by moving rows, never by encoding again.

        Passages get this store's next ids, in their article order; sentences follow their
        passage by (article, paragraph, part). An article already here is replaced.
        """
        db = self._database.connection
        db.execute("ATTACH DATABASE ? AS source", (str(source),))
        try:
            with self._database.transaction():
                db.execute("CREATE TEMP TABLE moving (article_id TEXT PRIMARY KEY)")
                db.executemany("INSERT INTO moving VALUES (?)", [(a,) for a in article_ids])
                db.execute("DELETE FROM articles WHERE article_id IN (SELECT * FROM moving)")
                for table in ("articles", "paragraphs", "speakers"):
                    columns = _columns(db, table)
                    db.execute(
                        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM source.{table}"
                        " WHERE article_id IN (SELECT * FROM moving)"
                    )
                passage_columns = "article_id, paragraph, part, heading, text, speaker, vector"
                db.execute(
                    f"INSERT INTO passages ({passage_columns}) SELECT {passage_columns}"
                    " FROM source.passages WHERE article_id IN (SELECT * FROM moving) ORDER BY id"
                )
                db.execute(
                    "INSERT INTO sentences (passage_id, start, end, speaker, vector)"
                    " SELECT copied.id, s.start, s.end, s.speaker, s.vector"
                    " FROM source.sentences s JOIN source.passages original"
                    " ON s.passage_id = original.id JOIN main.passages copied"
                    " ON copied.article_id = original.article_id"
                    " AND copied.paragraph = original.paragraph AND copied.part = original.part"
                    " WHERE original.article_id IN (SELECT * FROM moving) ORDER BY s.id"
                )
                db.execute("DROP TABLE moving")
                _bump_generation(db)
        finally:
            db.execute("DETACH DATABASE source")

    def forget_tombstones(self, table: str, ids: npt.NDArray[np.int64]) -> None:
        """Drop the tombstones of rows that the index of ``table`` no longer holds (it was
        rebuilt without them, or never took them)."""
        check_vector_table(table)
        if not len(ids):
            return
        with self._database.transaction() as db:
            db.executemany(
                "DELETE FROM tombstones WHERE kind = ? AND id = ?",
                [(table, int(i)) for i in ids.tolist()],
            )

    def clear(self) -> None:
        """Every article out, and the index manifest that vouched for them."""
        with self._database.transaction() as db:
            for table in ("speakers", "sentences", "passages", "paragraphs", "articles"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM tombstones")  # no index holds any of them now
            db.execute("DELETE FROM meta WHERE key = 'manifest'")
            _bump_generation(db)
