"""Hybrid ranking: dense (passages and their sentences) and BM25 scores fused per query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embeddings.index import VectorIndex
from qa.lexical import CorpusStatistics, LexicalIndex

__all__ = ["HybridRanker", "RankedPassage", "Signals", "VectorReads", "fuse", "fuse_scores"]

Ids = npt.NDArray[np.int64]
Vector = npt.NDArray[np.float32]
Key = tuple[int, int]  # (shard, passage id)
Place = tuple[str, int, int]  # (article id, paragraph, part)
# The indexes' hits beyond the best n: the same text in several articles scores the same, and
# ``fuse`` chooses among equal scores by place, the same in one archive and across shards.
_TIE_ROOM = 8


class VectorReads(Protocol):
    """What ranking reads besides the indexes, from the reader's snapshot of the store."""

    def passage_vectors(self, ids: Sequence[int]) -> dict[int, Vector]: ...

    def passage_places(self, ids: Sequence[int]) -> dict[int, tuple[str, int, int]]: ...


@dataclass(frozen=True)
class RankedPassage:
    """A passage with its fused score and the two signals behind it (dense is cosine).

    ``shard`` names the archive it comes from in a cluster (0 in a single archive): row ids
    are per archive, so a passage is (shard, id)."""

    id: int
    score: float
    dense: float
    lexical: float
    shard: int = 0


@dataclass(frozen=True)
class Signals:
    """One archive's candidates for a query: each signal's best ``n`` (and a few more, for
    ties) with its raw scores.

    Fusion normalises each signal over all candidates at once, so one archive or many (the
    shards of a cluster) hand these over unfused, and ``fuse`` ranks their union as one archive
    holding them all would: the global best ``n`` per signal are among the shards' best ``n``.
    """

    shard: int
    passages: list[tuple[int, float]]  # the passage index's hits, best first
    sentences: list[tuple[int, float, bool]]  # the sentence index's: owner, cosine, allowed
    lexical: list[tuple[int, float]]  # BM25 above zero, best first
    bm25: dict[int, float]  # every candidate's BM25 score
    stored: dict[int, float]  # the lexical hits' cosine, from their stored vectors
    # Every candidate's article, paragraph and part: equal scores go in this order, the same
    # in one archive and across shards (row ids are per archive).
    places: dict[int, Place]


def _min_max(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def fuse_scores(
    dense: npt.NDArray[np.float32], lexical: npt.NDArray[np.float32], lexical_weight: float
) -> npt.NDArray[np.float32]:
    """Weighted sum of min-max normalised scores over one query's candidates.

    On SQuAD paragraph retrieval this beat both rankers alone and reciprocal rank fusion
    (bench/squad.py prints the comparison).
    """
    if not len(dense):
        return dense
    fused = (1 - lexical_weight) * _min_max(dense) + lexical_weight * _min_max(lexical)
    return fused.astype(np.float32)


class HybridRanker:
    """Ids and scores only: the store turns ids into text (the ranker never sees it). It holds
    the indexes; what it reads of the store comes with each query, from the reader's snapshot,
    so a ranker never reads a store other than the one its caller answers from."""

    def __init__(
        self,
        passages: VectorIndex,
        sentences: VectorIndex,
        lexical: LexicalIndex,
        candidates: int,
        lexical_weight: float,
        *,
        sentence_search: bool = True,
    ) -> None:
        self._passages = passages
        self._sentences = sentences
        self._lexical = lexical
        self._candidates = candidates
        self.lexical_weight = lexical_weight
        self._sentence_search = sentence_search

    def rank(
        self,
        query_vector: Vector,
        query_text: str,
        k: int,
        reads: VectorReads,
        allowed: Ids | None = None,
    ) -> list[RankedPassage]:
        """Best ``k`` passages; ``allowed`` restricts every ranker before it ranks."""
        n = max(self._candidates, k)
        signals = self.signals(query_vector, query_text, n, reads, allowed)
        return fuse([signals], n, k, self.lexical_weight)

    def signals(
        self,
        query_vector: Vector,
        query_text: str,
        n: int,
        reads: VectorReads,
        allowed: Ids | None = None,
        statistics: CorpusStatistics | None = None,
        shard: int = 0,
    ) -> Signals:
        """Each signal's best ``n`` for ``fuse``; BM25 scores with ``statistics`` (a
        cluster's) or the index's own.

        Per query the work is two index searches, one BM25 pass and a few vectorised steps
        over its scores, and two store look-ups of at most ``n`` ids each; nothing loops in
        Python over the corpus or over the allowed ids.
        """
        dense_hits = self._passages.search(query_vector, n + _TIE_ROOM, allowed)
        passages = list(zip(dense_hits.ids.tolist(), dense_hits.scores.tolist(), strict=True))
        sentences = self._sentence_hits(query_vector, n, allowed)

        lexical_all = self._lexical.scores(query_text, statistics)
        if allowed is None:
            lexical_ids = self._lexical_top(lexical_all, self._lexical.ids, n)
        else:
            positions, found = self._lexical.positions(allowed)
            lexical_ids = self._lexical_top(lexical_all[positions[found]], allowed[found], n)

        candidates = np.unique(
            np.concatenate(
                [
                    dense_hits.ids,
                    np.array([owner for owner, _, kept in sentences if kept], np.int64),
                    lexical_ids,
                ]
            )
        )
        # An index a moment behind its store (another process wrote) may name rows gone
        # since: only passages still in the store are candidates.
        places = reads.passage_places([*candidates.tolist(), *(o for o, _, _ in sentences)])
        positions, found = self._lexical.positions(candidates)
        bm25 = dict(
            zip(
                candidates.tolist(),
                np.where(found, lexical_all[positions], 0).tolist(),
                strict=True,
            )
        )
        vectors = reads.passage_vectors([i for i in lexical_ids.tolist() if i in places])
        return Signals(
            shard,
            [(i, score) for i, score in passages if i in places],
            [(owner, score, kept) for owner, score, kept in sentences if owner in places],
            [(i, bm25[i]) for i in lexical_ids.tolist() if i in vectors],
            bm25,
            {i: float(vector @ query_vector) for i, vector in vectors.items()},
            places,
        )

    def _sentence_hits(
        self, query_vector: Vector, n: int, allowed: Ids | None
    ) -> list[tuple[int, float, bool]]:
        """The best sentences' owners and scores, marked whether the owner is allowed: the
        best ``n`` are chosen before the filter, in one archive as across shards. The index
        holds each sentence under its owner's id, so no look-up turns hits into owners."""
        if not self._sentence_search:
            return []
        hits = self._sentences.search(query_vector, n + _TIE_ROOM)
        kept = np.ones(len(hits.ids), dtype=bool) if allowed is None else np.isin(hits.ids, allowed)
        return list(zip(hits.ids.tolist(), hits.scores.tolist(), kept.tolist(), strict=True))

    @staticmethod
    def _lexical_top(scores: npt.NDArray[np.float32], ids: Ids, n: int) -> Ids:
        """The ids of the ``n`` best BM25 scores above zero, best first, and of any tied with
        the last of them (equal BM25 scores are common: which of them count is ``fuse``'s to
        decide, by their places, alike in one archive and across shards).

        Only passages sharing a term with the question score at all, a small share of an
        archive, so the partial sort runs over those alone.
        """
        top = np.flatnonzero(scores > 0)
        if len(top) > n:
            nth = np.partition(-scores[top], n - 1)[n - 1]
            top = top[-scores[top] <= nth]  # with every one tied with the nth: fuse chooses
        top = top[np.argsort(-scores[top], kind="stable")]
        return np.asarray(ids[top], dtype=np.int64)


def fuse(parts: Sequence[Signals], n: int, k: int, lexical_weight: float) -> list[RankedPassage]:
    """The best ``k`` passages of one archive's or several shards' signals, as one archive.

    A passage scores densely as its own vector or its best sentence, whichever is higher,
    when it is among the best ``n`` of either index; a BM25 hit found by neither, as its stored
    vector. Both signals are then min-max normalised over all candidates and summed with
    ``lexical_weight`` (``fuse_scores``). Equal scores (the same text in two articles) go in
    the order of their places, so that every layout of shards ranks them alike.
    """
    shards = {p.shard: p for p in parts}

    def best(hits: Iterable[tuple[Key, float]]) -> list[tuple[Key, float]]:
        return sorted(hits, key=lambda hit: (-hit[1], shards[hit[0][0]].places[hit[0][1]]))[:n]

    passages = best(((p.shard, i), s) for p in parts for i, s in p.passages)
    allowed = {(p.shard, owner) for p in parts for owner, _, kept in p.sentences if kept}
    sentences = best(((p.shard, owner), s) for p in parts for owner, s, _ in p.sentences)
    lexical = best(((p.shard, i), s) for p in parts for i, s in p.lexical)
    dense: dict[Key, float] = dict(passages)
    for key, score in sentences:
        if key in allowed:
            dense[key] = max(dense.get(key, -1.0), score)
    for key, _ in lexical:
        if key not in dense:
            dense[key] = shards[key[0]].stored[key[1]]
    if not dense:
        return []
    keys = list(dense)
    dense_scores = np.array([dense[key] for key in keys], dtype=np.float32)
    lexical_scores = np.array([shards[s].bm25.get(i, 0.0) for s, i in keys], dtype=np.float32)
    fused = fuse_scores(dense_scores, lexical_scores, lexical_weight)
    order = sorted(
        range(len(keys)), key=lambda j: (-fused[j], shards[keys[j][0]].places[keys[j][1]])
    )
    return [
        RankedPassage(
            keys[j][1],
            float(fused[j]),
            float(dense_scores[j]),
            float(lexical_scores[j]),
            keys[j][0],
        )
        for j in order[:k]
    ]
