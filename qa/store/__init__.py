"""SQLite store: the source of truth for articles, passages, sentences, speakers and vectors.

One ``Store`` opens the file (qa.store.database: connections, the write transaction, read
snapshots, checks); its parts hold the SQL by who uses it: ``writes`` (ingest and the live
API), ``reads`` (answering and building indexes), ``catalogue`` (the article list and pages)
and ``feedback`` (readers' verdicts).
"""

from __future__ import annotations

from pathlib import Path

from qa.store.catalogue import Catalogue
from qa.store.database import STORE_FILE, Database
from qa.store.feedback import FeedbackLog
from qa.store.reads import PassageReads
from qa.store.records import (
    SOURCE_FILE,
    SOURCE_JSONL,
    ArticleRecord,
    Attributes,
    FeedbackRecord,
    ParagraphRecord,
    PassageFilters,
    PassageRecord,
    SentenceRecord,
    StoredFile,
    Vectors,
)
from qa.store.writes import ArticleWrites

__all__ = [
    "SOURCE_FILE",
    "SOURCE_JSONL",
    "STORE_FILE",
    "ArticleRecord",
    "ArticleWrites",
    "Attributes",
    "Catalogue",
    "Database",
    "FeedbackLog",
    "FeedbackRecord",
    "ParagraphRecord",
    "PassageFilters",
    "PassageReads",
    "PassageRecord",
    "SentenceRecord",
    "Store",
    "StoredFile",
    "Vectors",
]


class Store(Database):
    """The archive's store: its file, and its SQL in parts by who uses it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes = ArticleWrites(self)
        self.reads = PassageReads(self)
        self.catalogue = Catalogue(self)
        self.feedback = FeedbackLog(self)
