"""What a server answers from, as its routes ask of it: one archive folder, or a cluster's shards
(``qa.cluster.archive.ClusterArchive``), so the same routes and JSON serve both."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple, Protocol

from qa.api.models import Readiness
from qa.archive import Archive
from qa.feedback import Verdict, record_feedback
from qa.schema import Answer, HistoryTurn, SearchFilters, SearchHit
from qa.store import ArticleRecord, ParagraphRecord
from qa.suggestions import StarterQuestions

__all__ = ["Catalogue", "Searched", "Served", "ServedArchive"]


class Catalogue(Protocol):
    """The articles as the article list and pages read them."""

    def counts(self) -> dict[str, int]: ...

    def list_articles(self, offset: int, limit: int) -> list[ArticleRecord]: ...

    def article(self, article_id: str) -> tuple[ArticleRecord, list[ParagraphRecord]] | None: ...


class Searched(NamedTuple):
    hits: list[SearchHit]
    missing_shards: list[str]  # shards of a cluster that did not answer: hits from the rest


class Served(Protocol):
    """What the routes ask of what they serve. Writes may be refused with a domain error."""

    @property
    def catalogue(self) -> Catalogue: ...

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[HistoryTurn] = (),
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> Answer: ...

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> Searched: ...

    def suggestions(self) -> list[str]: ...

    def readiness(self) -> Readiness: ...

    def put_article(self, article_id: str, text: str) -> tuple[int, bool]: ...

    def delete_article(self, article_id: str) -> None: ...

    def record_feedback(
        self, question: str, passages: Sequence[tuple[str, int]], verdict: Verdict
    ) -> int: ...

    def close(self) -> None: ...


class ServedArchive:
    """One archive folder, as ``dateline serve`` serves it."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._starters = StarterQuestions.of(archive)

    @property
    def catalogue(self) -> Catalogue:
        return self.archive.store.catalogue

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[HistoryTurn] = (),
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> Answer:
        return self.archive.ask(question, top_k, history, filters, as_of)

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> Searched:
        return Searched(self.archive.search(query, k, filters), [])

    def suggestions(self) -> list[str]:
        return self._starters.current()

    def readiness(self) -> Readiness:
        archive = self.archive
        counts = archive.store.catalogue.counts()
        manifest = archive.index_folder.manifest()
        return Readiness(
            status="ready",
            model=archive.encoder.name,
            articles=counts["articles"],
            passages=counts["passages"],
            sentences=counts["sentences"],
            generation=manifest.generation if manifest else 0,
            warnings=archive.warnings(),
        )

    def put_article(self, article_id: str, text: str) -> tuple[int, bool]:
        return self.archive.put_article(article_id, text)

    def delete_article(self, article_id: str) -> None:
        self.archive.delete_article(article_id)

    def record_feedback(
        self, question: str, passages: Sequence[tuple[str, int]], verdict: Verdict
    ) -> int:
        return record_feedback(self.archive.store, question, passages, verdict)

    def close(self) -> None:
        self.archive.close()
