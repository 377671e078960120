"""The store's feedback table: readers' verdicts on answers, kept apart from the archive's data."""

from __future__ import annotations

from collections.abc import Iterator

from qa.store.database import Database
from qa.store.records import FeedbackRecord

__all__ = ["FeedbackLog"]


class FeedbackLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, question: str, passages: str, verdict: str, created_at: str) -> int:
        """Keep one verdict; ``passages`` is JSON. The archive's data is untouched: its
        generation stays, and no index goes stale."""
        with self._database.transaction() as db:
            cursor = db.execute(
                "INSERT INTO feedback (question, passages, verdict, created_at)"
                " VALUES (?, ?, ?, ?)",
                (question, passages, verdict, created_at),
            )
        return int(cursor.lastrowid or 0)

    def records(self) -> Iterator[FeedbackRecord]:
        """Every verdict, oldest first.

        A store opened read-only before its first verdict may have no table for them yet.
        """
        db = self._database.connection
        present = db.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'feedback'"
        ).fetchone()
        if present is None:
            return
        rows = db.execute(
            "SELECT id, created_at, verdict, question, passages FROM feedback ORDER BY id"
        )
        for row in rows:
            yield FeedbackRecord(*row)
