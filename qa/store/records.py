"""What the store hands out: one frozen record type per kind of row, and the filters it reads by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "SOURCE_FILE",
    "SOURCE_JSONL",
    "ArticleRecord",
    "Attributes",
    "FeedbackRecord",
    "ParagraphRecord",
    "PassageFilters",
    "PassageRecord",
    "SentenceRecord",
    "StoredFile",
    "Vectors",
    "check_vector_table",
]

# What an article's ``source`` names: its own file, or a JSONL file of many articles.
SOURCE_FILE = "file"
SOURCE_JSONL = "jsonl"

Vectors = npt.NDArray[np.float32]


def check_vector_table(table: str) -> None:
    """Table names are put into SQL text, so only the two vector tables may be named."""
    if table not in ("passages", "sentences"):
        raise ValueError(table)


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


@dataclass(frozen=True)
class SentenceRecord:
    id: int
    passage_id: int
    start: int
    end: int
    speaker: str | None
    vector: Vectors


class FeedbackRecord(NamedTuple):
    """One reader's verdict; ``passages`` is the JSON list of the cited (article, paragraph).

    A tuple, so that it is a row of the CSV export as it is, its field names the header.
    """

    id: int
    created_at: str
    verdict: str
    question: str
    passages: str


@dataclass(frozen=True)
class PassageFilters:
    """Restrictions applied before ranking; ``speakers`` holds canonical names."""

    date_from: str | None = None
    date_to: str | None = None
    speakers: tuple[str, ...] | None = None
    article_id: str | None = None
    undated: bool = False  # only articles of no date

    @property
    def active(self) -> bool:
        return self.undated or any(
            value is not None
            for value in (self.date_from, self.date_to, self.speakers, self.article_id)
        )


class Attributes:
    """A record's attributes and the values of one use of it, as one object.

    Pydantic's ``from_attributes`` reads it: a contract model (a citation, a search hit, an
    article's page) takes the record's fields by its own field names, and the values the record
    lacks (a citation's marker, a hit's scores) from ``values``; no list of fields is kept by
    hand between the store and the JSON.
    """

    def __init__(self, record: object, **values: object) -> None:
        self._record = record
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never the record's private parts, nor ours before __init__
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        return getattr(self._record, name)
