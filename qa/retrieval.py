"""Hybrid ranking: dense (passages and their sentences) and BM25 scores fused per query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embeddings.index import VectorIndex
from qa.lexical import LexicalIndex

__all__ = ["HybridRanker", "RankedPassage", "VectorReads", "fuse_scores"]

Ids = npt.NDArray[np.int64]
Vector = npt.NDArray[np.float32]


class VectorReads(Protocol):
    """What ranking reads besides the indexes, from the reader's snapshot of the store."""

    def passage_vectors(self, ids: Sequence[int]) -> dict[int, Vector]: ...

    def sentence_owners(self, sentence_ids: Sequence[int]) -> dict[int, int]: ...


@dataclass(frozen=True)
class RankedPassage:
    """A passage id with its fused score and the two signals behind it (dense is cosine)."""

    id: int
    score: float
    dense: float
    lexical: float


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
        """Best ``k`` passages; ``allowed`` restricts every ranker before it ranks.

        Per query the work is two index searches, one BM25 pass and a few vectorised steps
        over its scores, and two store look-ups of at most ``candidates`` ids each; nothing
        loops in Python over the corpus or over the allowed ids.
        """
        n = max(self._candidates, k)
        dense_hits = self._passages.search(query_vector, n, allowed)
        dense: dict[int, float] = dict(
            zip(dense_hits.ids.tolist(), dense_hits.scores.tolist(), strict=True)
        )
        if self._sentence_search:
            self._add_sentence_hits(dense, query_vector, n, reads, allowed)

        lexical_all = self._lexical.scores(query_text)
        if allowed is None:
            lexical_ids = self._lexical_top(lexical_all, self._lexical.ids, n)
        else:
            positions, found = self._lexical.positions(allowed)
            lexical_ids = self._lexical_top(lexical_all[positions[found]], allowed[found], n)

        missing = [i for i in lexical_ids.tolist() if i not in dense]
        for passage_id, vector in reads.passage_vectors(missing).items():
            dense[passage_id] = float(vector @ query_vector)
        ids = list(dense)
        if not ids:
            return []
        dense_scores = np.array([dense[i] for i in ids], dtype=np.float32)
        positions, found = self._lexical.positions(np.array(ids, dtype=np.int64))
        lexical_scores = np.where(found, lexical_all[positions], np.float32(0)).astype(np.float32)
        fused = fuse_scores(dense_scores, lexical_scores, self.lexical_weight)
        order = np.argsort(-fused, kind="stable")[:k]
        return [
            RankedPassage(ids[i], float(fused[i]), float(dense_scores[i]), float(lexical_scores[i]))
            for i in order
        ]

    def _add_sentence_hits(
        self,
        dense: dict[int, float],
        query_vector: Vector,
        n: int,
        reads: VectorReads,
        allowed: Ids | None,
    ) -> None:
        """A passage scores as well as its best sentence, when that beats the passage itself."""
        hits = self._sentences.search(query_vector, n)
        owners_by_sentence = reads.sentence_owners(hits.ids.tolist())
        sentence_ids = [i for i in hits.ids.tolist() if i in owners_by_sentence]
        if not sentence_ids:
            return
        owners = np.array([owners_by_sentence[i] for i in sentence_ids], dtype=np.int64)
        scores = dict(zip(hits.ids.tolist(), hits.scores.tolist(), strict=True))
        keep = np.ones(len(owners), dtype=bool) if allowed is None else np.isin(owners, allowed)
        for sentence_id, owner, kept in zip(sentence_ids, owners.tolist(), keep, strict=True):
            if kept:
                dense[owner] = max(dense.get(owner, -1.0), scores[sentence_id])

    @staticmethod
    def _lexical_top(scores: npt.NDArray[np.float32], ids: Ids, n: int) -> Ids:
        """The ids of the ``n`` best BM25 scores above zero, best first.

        Only passages sharing a term with the question score at all, a small share of an
        archive, so the partial sort runs over those alone.
        """
        top = np.flatnonzero(scores > 0)
        if len(top) > n:
            top = top[np.argpartition(-scores[top], n - 1)[:n]]
        top = top[np.argsort(-scores[top], kind="stable")]
        return np.asarray(ids[top], dtype=np.int64)
