"""The store's catalogue: the articles it holds, newest first, one article whole, and counts."""

from __future__ import annotations

from qa.store.database import Database
from qa.store.records import ArticleRecord, ParagraphRecord

__all__ = ["Catalogue"]

# An ArticleRecord's columns, in its order.
_ARTICLE = (
    "SELECT a.article_id, a.title, a.date, a.dateline, a.agency,"
    " (SELECT count(*) FROM passages p WHERE p.article_id = a.article_id), a.url, a.author"
    " FROM articles a"
)


class Catalogue:
    def __init__(self, database: Database) -> None:
        self._database = database

    def counts(self) -> dict[str, int]:
        """Rows of articles, passages and sentences, by table."""
        db = self._database.connection
        return {
            table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("articles", "passages", "sentences")
        }

    def list_articles(self, offset: int, limit: int) -> list[ArticleRecord]:
        rows = self._database.connection.execute(
            f"{_ARTICLE} ORDER BY a.date DESC, a.article_id LIMIT ? OFFSET ?", (limit, offset)
        )
        return [ArticleRecord(*row) for row in rows]

    def article(self, article_id: str) -> tuple[ArticleRecord, list[ParagraphRecord]] | None:
        db = self._database.connection
        found = db.execute(f"{_ARTICLE} WHERE a.article_id = ?", (article_id,)).fetchone()
        if found is None:
            return None
        rows = db.execute(
            "SELECT number, heading, text, speaker FROM paragraphs WHERE article_id = ?"
            " ORDER BY number",
            (article_id,),
        )
        return ArticleRecord(*found), [ParagraphRecord(*row) for row in rows]

    def content_hashes(self) -> list[tuple[str, str]]:
        """(article id, content hash) of every article, by id: what an index manifest's
        fingerprint is made of."""
        return list(
            self._database.connection.execute(
                "SELECT article_id, content_hash FROM articles ORDER BY article_id"
            )
        )
