"""A cluster's read path: the question encoded once, every shard asked at once, fused globally.

``ClusterPassages`` is ``qa.reading.Passages`` over shards, so ``qa.reading.ask`` and ``search``
answer from a cluster exactly as from one archive: each shard proposes its best candidates per
signal with raw scores (its BM25 with the cluster's statistics), one min-max per signal over
their union ranks them (``qa.retrieval.fuse``), and the owners of the winners supply their
text to ``compose_answer``, unchanged. Normalising within each shard instead ranks otherwise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from qa.answer import POOL_PER_CITATION, Candidate, QuoteFloor
from qa.cluster.shard import ShardQuery, ShardSignals
from qa.errors import DatelineError
from qa.lexical import CorpusStatistics, LexicalIndex
from qa.questions import SpeakerIndex
from qa.reading import QuestionVectors
from qa.retrieval import RankedPassage, fuse
from qa.settings import Settings
from qa.store import PassageFilters, PassageRecord

__all__ = ["ClusterPassages", "Coordinator", "Reply", "ShardClient", "ShardUnavailableError"]

Result = TypeVar("Result")
Result_co = TypeVar("Result_co", covariant=True)
Vector = npt.NDArray[np.float32]


class ShardUnavailableError(DatelineError):
    """No replica of a shard answered; the answer comes from the others."""


class Reply(Protocol[Result_co]):
    """A shard's answer on its way: every shard is asked first, then each answer waited for.
    ``result`` raises ShardUnavailableError when no replica of the shard answered."""

    def result(self) -> Result_co: ...


class ShardClient(Protocol):
    """A shard as the coordinator calls it: in this process (``qa.cluster.shard.LocalShard``)
    or through its group's Ray Serve deployment (``qa.cluster.serve.RemoteShard``)."""

    number: int

    def statistics(self) -> Reply[CorpusStatistics]: ...

    def signals(self, query: ShardQuery) -> Reply[ShardSignals]: ...

    def candidates(
        self, ranked: list[RankedPassage], with_preceding: int
    ) -> Reply[list[Candidate]]: ...

    def records(
        self, ranked: list[RankedPassage]
    ) -> Reply[list[tuple[RankedPassage, PassageRecord]]]: ...

    def best_match(
        self, name: str, statistics: CorpusStatistics
    ) -> Reply[tuple[float, bool] | None]: ...


Client = TypeVar("Client", bound=ShardClient)


class Coordinator:
    """The shards, the cluster's speakers and BM25 statistics, and the question encoder."""

    def __init__(
        self,
        settings: Settings,
        shards: Sequence[ShardClient],
        speakers: SpeakerIndex,
        vectors: QuestionVectors,
    ) -> None:
        self.settings = settings
        self.shards = list(shards)
        self.speakers = speakers
        self.vectors = vectors
        self.statistics = self._statistics()

    def _statistics(self) -> CorpusStatistics:
        replies = [shard.statistics() for shard in self.shards]
        return CorpusStatistics.merged(reply.result() for reply in replies)

    def refresh(self, speakers: SpeakerIndex) -> None:
        """The cluster changed (an ingest): its speakers, and its statistics asked anew of every
        shard (ShardUnavailableError, and nothing changed, while one does not answer)."""
        self.statistics = self._statistics()
        self.speakers = speakers

    @contextmanager
    def reading(self, prefetch: bool = False, quoting: bool = True) -> Iterator[ClusterPassages]:
        """The passages of one request; ``missing`` names the shards that did not answer it.
        With ``prefetch``, shards send their likely winners with their signals (for shards
        across a hop, where a round of calls costs more than the reads); ``quoting``: an
        answer will quote them (a search only lists them), so some come with the passage
        before them."""
        yield ClusterPassages(self, prefetch, quoting)

    def each(
        self, call: Callable[[Client], Reply[Result]], shards: Sequence[Client], missing: set[int]
    ) -> dict[int, Result]:
        """``call`` on the shards at once; a shard with no live replica is left out, its
        number added to ``missing``."""
        replies = {shard.number: call(shard) for shard in shards}
        answers: dict[int, Result] = {}
        for number, reply in replies.items():
            try:
                answers[number] = reply.result()
            except ShardUnavailableError:
                missing.add(number)
        return answers


@dataclass
class ClusterPassages:
    """``qa.reading.Passages`` over a cluster's shards, for one request.

    With ``prefetch``, a query is fetched with its first round where it can be (Elasticsearch's
    query-and-fetch beside its query-then-fetch): each shard sends candidates of its own best
    passages with its signals, and ``candidates`` and ``records`` ask the shards only for the
    winners they did not send. Given the question's floor, a shard only names its passages
    below it, which ``candidates`` leaves out: no answer quotes them. The answer and the hits
    are the same either way; only the rounds of calls differ.
    """

    coordinator: Coordinator
    prefetch: bool = False
    quoting: bool = True
    missing: set[int] = field(default_factory=set)
    # Candidates the shards sent ahead, by (shard, id), each with whether its preceding
    # passage was asked for; and those they named only, below the question's floor.
    sent: dict[tuple[int, int], tuple[Candidate, bool]] = field(default_factory=dict)
    unquotable: set[tuple[int, int]] = field(default_factory=set)

    @property
    def settings(self) -> Settings:
        return self.coordinator.settings

    @property
    def speakers(self) -> SpeakerIndex:
        return self.coordinator.speakers

    @property
    def vectors(self) -> QuestionVectors:
        return self.coordinator.vectors

    def rank(
        self,
        vector: Vector,
        text: str,
        k: int,
        filters: PassageFilters,
        as_of: date,
        floor: QuoteFloor | None = None,
    ) -> list[RankedPassage]:
        n = max(self.settings.candidates, k)
        statistics = self.coordinator.statistics.of_terms(LexicalIndex.terms(text))
        query = ShardQuery(vector, text, n, filters, as_of, statistics, *self._prefetch(k), floor)
        parts = self._each(lambda shard: shard.signals(query))
        for number, part in parts.items():
            for candidate in part.prefetched:
                key = (candidate.ranked.shard, candidate.ranked.id)
                self.sent[key] = (candidate, candidate.ranked.id in part.preceded)
            self.unquotable.update((number, i) for i in part.unquotable)
        return fuse([part.signals for part in parts.values()], n, k, self.settings.lexical_weight)

    def _prefetch(self, k: int) -> tuple[int, int]:
        """What each shard sends ahead (none without ``prefetch``): ``cluster_prefetch_shares``
        times its even share of the ``k`` ranked, and, for an answer that quotes them, the
        first as many times its share of a default answer's pool with their preceding passage.
        A shard's own fusion orders its passages nearly as the cluster's does, so its winners
        are mostly among those; the rest ``candidates`` and ``records`` ask for. More sent
        means fewer second rounds and more reads in the first (docs/benchmarks.md,
        cluster_serve)."""
        if not self.prefetch:
            return 0, 0
        shares = self.settings.cluster_prefetch_shares / len(self.coordinator.shards)
        pool = self.settings.top_k * POOL_PER_CITATION if self.quoting else 0
        return min(k, math.ceil(shares * k)), min(pool, math.ceil(shares * pool))

    def candidates(self, ranked: list[RankedPassage], with_preceding: int) -> list[Candidate]:
        found: dict[tuple[int, int], Candidate] = {}
        wanted: list[RankedPassage] = []  # in ranked order: those wanted with preceding first
        wanted_with_preceding = 0
        for position, r in enumerate(ranked):
            if (r.shard, r.id) in self.unquotable:
                continue
            candidate, with_its_preceding = self.sent.get((r.shard, r.id), (None, False))
            if candidate is None or (position < with_preceding and not with_its_preceding):
                wanted.append(r)
                wanted_with_preceding += position < with_preceding
                continue
            before = candidate.preceding if position < with_preceding else None
            found[r.shard, r.id] = replace(candidate, ranked=r, preceding=before)
        preceding = wanted[:wanted_with_preceding]
        answers = self._owners(
            wanted,
            lambda shard, mine: shard.candidates(
                mine, sum(r.shard == shard.number for r in preceding)
            ),
        )
        found |= {(c.ranked.shard, c.ranked.id): c for c in itertools.chain(*answers.values())}
        return [found[r.shard, r.id] for r in ranked if (r.shard, r.id) in found]

    def records(self, ranked: list[RankedPassage]) -> list[tuple[RankedPassage, PassageRecord]]:
        found = {
            (r.shard, r.id): (r, sent[0].passage)
            for r in ranked
            if (sent := self.sent.get((r.shard, r.id))) is not None
        }
        wanted = [r for r in ranked if (r.shard, r.id) not in found]
        answers = self._owners(wanted, lambda shard, mine: shard.records(mine))
        found |= {(r.shard, r.id): (r, record) for r, record in itertools.chain(*answers.values())}
        return [found[r.shard, r.id] for r in ranked if (r.shard, r.id) in found]

    def mentioned(self, name: str) -> bool:
        statistics = self.coordinator.statistics.of_terms(LexicalIndex.terms(name))
        matches = self._each(lambda shard: shard.best_match(name, statistics))
        best = max(
            ((score, -number, holds) for number, m in matches.items() if m for score, holds in [m]),
            default=None,
        )
        return best is not None and best[2]

    def _owners(
        self,
        ranked: list[RankedPassage],
        call: Callable[[ShardClient, list[RankedPassage]], Reply[Result]],
    ) -> dict[int, Result]:
        """``call`` on each shard that owns some of ``ranked``, with those it owns."""
        owners = [s for s in self.coordinator.shards if any(r.shard == s.number for r in ranked)]
        return self._each(
            lambda shard: call(shard, [r for r in ranked if r.shard == shard.number]), owners
        )

    def _each(
        self,
        call: Callable[[ShardClient], Reply[Result]],
        shards: Sequence[ShardClient] | None = None,
    ) -> dict[int, Result]:
        chosen = self.coordinator.shards if shards is None else shards
        return self.coordinator.each(call, chosen, self.missing)
