"""One shard of a cluster: an archive folder answering the coordinator's requests of a query.

A shard ranks nothing on its own: it hands each signal's best candidates over unfused, its BM25
scored with the whole cluster's statistics (``qa.retrieval.fuse`` ranks them globally), and
later turns the ids that won into text. It runs in the coordinator's process or in a Ray Serve
replica of its group; everything it takes and gives is plain data.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from qa.answer import Candidate, QuoteFloor
from qa.archive import Archive
from qa.lexical import CorpusStatistics
from qa.retrieval import RankedPassage, Signals, fuse
from qa.store import ArticleRecord, ParagraphRecord, PassageFilters, PassageRecord
from qa.suggestions import StarterQuestions

__all__ = ["LocalShard", "Shard", "ShardQuery", "ShardSignals"]

# Calls a shard in this process answers at once (a query sends it one at a time).
_THREADS = 4


@dataclass(frozen=True)
class ShardQuery:
    """One question as every shard receives it: encoded once by the coordinator."""

    vector: npt.NDArray[np.float32]
    text: str
    n: int
    filters: PassageFilters
    as_of: date
    statistics: CorpusStatistics  # the cluster's, for the query's terms
    # The shard's own best passages (its own fusion of its signals) to send as candidates
    # with the signals, the first ``prefetch_preceding`` with the passage before them; of
    # those, the ones below ``floor`` are only named.
    prefetch: int = 0
    prefetch_preceding: int = 0
    floor: QuoteFloor | None = None


@dataclass(frozen=True)
class ShardSignals:
    """A shard's signals for a query, and the candidates it sent ahead of the fusion: across
    a hop, a query's winners then mostly arrive with its first round of calls."""

    signals: Signals
    prefetched: list[Candidate]
    preceded: frozenset[int]  # the ids whose candidates were asked with their preceding passage
    # Ids of its best passages below the query's floor: no answer quotes them, and most of a
    # question's candidates are such (docs/benchmarks.md, cluster_serve).
    unquotable: frozenset[int] = frozenset()


class Shard:
    """Requests of one query to one shard's archive, each from its current snapshot."""

    def __init__(self, number: int, archive: Archive) -> None:
        self.number = number
        self.archive = archive
        self._starters = StarterQuestions.of(archive)

    def statistics(self) -> CorpusStatistics:
        with self.archive.reading() as snapshot:
            return snapshot.indexes.lexical.statistics()

    def signals(self, query: ShardQuery) -> ShardSignals:
        with self.archive.reading() as snapshot:
            allowed = snapshot.allowed(query.filters, query.as_of)
            ranker = snapshot.ranker
            signals = ranker.signals(
                query.vector,
                query.text,
                query.n,
                snapshot.reads,
                allowed,
                query.statistics,
                self.number,
            )
            if not query.prefetch:
                return ShardSignals(signals, [], frozenset())
            best = fuse([signals], query.n, query.prefetch, ranker.lexical_weight)
            candidates = snapshot.candidates(best, query.prefetch_preceding)
            preceded = frozenset(r.id for r in best[: query.prefetch_preceding])
            floor = query.floor
            if floor is None:
                return ShardSignals(signals, candidates, preceded)
            quotable = [c for c in candidates if floor.admits(c, query.vector)]
            unquotable = {c.ranked.id for c in candidates} - {c.ranked.id for c in quotable}
            return ShardSignals(signals, quotable, preceded, frozenset(unquotable))

    def candidates(self, ranked: list[RankedPassage], with_preceding: int) -> list[Candidate]:
        with self.archive.reading() as snapshot:
            return snapshot.candidates(ranked, with_preceding)

    def records(self, ranked: list[RankedPassage]) -> list[tuple[RankedPassage, PassageRecord]]:
        with self.archive.reading() as snapshot:
            return snapshot.records(ranked)

    def best_match(self, name: str, statistics: CorpusStatistics) -> tuple[float, bool] | None:
        with self.archive.reading() as snapshot:
            return snapshot.best_match(name, statistics)

    # -- the catalogue: the article list and pages of a cluster's server ---------------------

    def counts(self) -> dict[str, int]:
        return self.archive.store.catalogue.counts()

    def list_articles(self, offset: int, limit: int) -> list[ArticleRecord]:
        return self.archive.store.catalogue.list_articles(offset, limit)

    def article(self, article_id: str) -> tuple[ArticleRecord, list[ParagraphRecord]] | None:
        return self.archive.store.catalogue.article(article_id)

    def starters(self) -> list[str]:
        """The starter questions of this shard's latest articles, which this shard answers:
        the front offers those the whole cluster answers too."""
        return self._starters.current()

    def close(self) -> None:
        self.archive.close()


class LocalShard:
    """A shard in this process, each call on a thread of its own pool and answered as a
    future, so that every shard of a query works at once: as an in-process cluster's
    coordinator calls it, and as a served group's replica runs its shards' calls."""

    def __init__(self, shard: Shard) -> None:
        self.shard = shard
        self.number = shard.number
        self._pool = ThreadPoolExecutor(_THREADS, f"shard-{shard.number}")

    def statistics(self) -> Future[CorpusStatistics]:
        return self._pool.submit(self.shard.statistics)

    def signals(self, query: ShardQuery) -> Future[ShardSignals]:
        return self._pool.submit(self.shard.signals, query)

    def candidates(
        self, ranked: list[RankedPassage], with_preceding: int
    ) -> Future[list[Candidate]]:
        return self._pool.submit(self.shard.candidates, ranked, with_preceding)

    def records(
        self, ranked: list[RankedPassage]
    ) -> Future[list[tuple[RankedPassage, PassageRecord]]]:
        return self._pool.submit(self.shard.records, ranked)

    def best_match(
        self, name: str, statistics: CorpusStatistics
    ) -> Future[tuple[float, bool] | None]:
        return self._pool.submit(self.shard.best_match, name, statistics)

    def counts(self) -> Future[dict[str, int]]:
        return self._pool.submit(self.shard.counts)

    def list_articles(self, offset: int, limit: int) -> Future[list[ArticleRecord]]:
        return self._pool.submit(self.shard.list_articles, offset, limit)

    def article(
        self, article_id: str
    ) -> Future[tuple[ArticleRecord, list[ParagraphRecord]] | None]:
        return self._pool.submit(self.shard.article, article_id)

    def starters(self) -> Future[list[str]]:
        return self._pool.submit(self.shard.starters)

    def close(self) -> None:
        self._pool.shutdown()
        self.shard.close()
