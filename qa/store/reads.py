"""The store's reads for answering: passages and sentences by id, the ids a filter allows,
vectors for the ranker and for building indexes, and the speakers' names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qa.store.database import Database
from qa.store.records import (
    PassageFilters,
    PassageRecord,
    SentenceRecord,
    Vectors,
    check_vector_table,
)

__all__ = ["PassageReads"]

_INDEX_KEYS = {"passages": "id", "sentences": "passage_id"}


def _placeholders(ids: Sequence[object]) -> str:
    return ",".join("?" * len(ids))


def _index_key(table: str) -> str:
    """The column whose id the index of ``table`` holds a row under: a sentence's passage, as
    a sentence found is only ever used as its passage, so a search names the passage itself."""
    check_vector_table(table)
    return _INDEX_KEYS[table]


class PassageReads:
    """Read inside ``Database.snapshot`` to see the rows the indexes of one generation name."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def passages(self, ids: Sequence[int]) -> dict[int, PassageRecord]:
        if not ids:
            return {}
        rows = self._database.connection.execute(
            "SELECT p.id, p.article_id, a.title, a.date, a.dateline, a.agency, p.paragraph,"
            " p.part, p.heading, p.text, p.speaker, a.url FROM passages p"
            f" JOIN articles a USING (article_id) WHERE p.id IN ({_placeholders(ids)})",
            [int(i) for i in ids],
        )
        return {row[0]: PassageRecord(*row) for row in rows}

    def sentences(self, passage_ids: Sequence[int]) -> dict[int, list[SentenceRecord]]:
        if not passage_ids:
            return {}
        rows = self._database.connection.execute(
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
        if filters.undated:
            clauses.append("a.date IS NULL")
        if filters.article_id:
            clauses.append("p.article_id = ?")
            params.append(filters.article_id)
        if filters.speakers is not None:
            clauses.append(f"p.speaker IN ({_placeholders(filters.speakers)})")
            params.extend(filters.speakers)
        where = " AND ".join(clauses) or "1"
        rows = self._database.connection.execute(
            f"SELECT p.id FROM passages p JOIN articles a USING (article_id) WHERE {where}", params
        ).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def passage_vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        if not ids:
            return {}
        rows = self._database.connection.execute(
            f"SELECT id, vector FROM passages WHERE id IN ({_placeholders(ids)})",
            [int(i) for i in ids],
        )
        return {row[0]: np.frombuffer(row[1], dtype=np.float32) for row in rows}

    def passage_places(self, ids: Sequence[int]) -> dict[int, tuple[str, int, int]]:
        """Where each passage stands: its article, paragraph and part."""
        if not ids:
            return {}
        rows = self._database.connection.execute(
            "SELECT id, article_id, paragraph, part FROM passages"
            f" WHERE id IN ({_placeholders(ids)})",
            [int(i) for i in ids],
        )
        return {int(row[0]): (str(row[1]), int(row[2]), int(row[3])) for row in rows}

    def speaker_aliases(self) -> list[tuple[str, str]]:
        """(alias, canonical name) pairs across the corpus."""
        return list(self._database.connection.execute("SELECT DISTINCT alias, name FROM speakers"))

    def recent_quotes(self, articles: int) -> list[tuple[str, str]]:
        """(speaker, text) of every quoted passage of the ``articles`` latest articles, the
        newest article first (undated ones last)."""
        return list(
            self._database.connection.execute(
                "SELECT p.speaker, p.text FROM passages p JOIN (SELECT article_id, date"
                " FROM articles ORDER BY date DESC, article_id LIMIT ?) a USING (article_id)"
                " WHERE p.speaker IS NOT NULL ORDER BY a.date DESC, a.article_id, p.id",
                (articles,),
            )
        )

    def vectors(self, table: str, after: int = 0) -> tuple[npt.NDArray[np.int64], Vectors]:
        """The vectors of ``passages`` or ``sentences`` and the ids their index holds them
        under (``_index_key``), those above ``after``, to build or extend a FAISS index with."""
        key = _index_key(table)
        # Ordered as the key's own index is, so that the few rows after ``after`` are found
        # through it, not by a scan of every vector.
        rows = self._database.connection.execute(
            f"SELECT {key}, vector FROM {table} WHERE {key} > ? ORDER BY {key}, id", (after,)
        ).fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
        return ids, vectors.reshape(len(rows), -1)

    def rows_up_to(self, table: str, last_id: int) -> int:
        """How many ``passages`` or ``sentences`` are held under ids up to ``last_id``.

        Ids only grow (AUTOINCREMENT) and a passage's sentences are written with it, so an
        index holding ids up to ``last_id`` and as many rows as this (tombstones aside) has lost
        none of them since it was built. Counted as all rows less those after ``last_id``, the
        few added since: SQLite counts all rows from its smallest index, while rows up to an id
        are counted in the table itself, vectors and all.
        """
        key = _index_key(table)
        row = self._database.connection.execute(
            f"SELECT (SELECT count(*) FROM {table})"
            f" - (SELECT count(*) FROM {table} WHERE {key} > ?)",
            (last_id,),
        ).fetchone()
        return int(row[0])

    def tombstones(self, table: str) -> npt.NDArray[np.int64]:
        """The ids under which the index of ``passages`` or ``sentences`` holds the rows
        deleted since it was last built without them (a sentence's is its passage's), in order.

        A store opened read-only before it was upgraded has no table of them: none.
        """
        check_vector_table(table)
        db = self._database.connection
        present = db.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'tombstones'"
        ).fetchone()
        if present is None:
            return np.zeros(0, dtype=np.int64)
        rows = db.execute(
            "SELECT id FROM tombstones WHERE kind = ? ORDER BY id", (table,)
        ).fetchall()
        return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))

    def passage_texts(self) -> tuple[npt.NDArray[np.int64], list[str]]:
        rows = self._database.connection.execute(
            "SELECT id, text FROM passages ORDER BY id"
        ).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]
