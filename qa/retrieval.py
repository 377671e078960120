"""Hybrid ranking: dense (passages and their sentences) and BM25 scores fused per query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from embeddings.index import VectorIndex
from qa.lexical import LexicalIndex

__all__ = ["HybridRanker", "RankedPassage", "fuse_scores"]

Ids = npt.NDArray[np.int64]
Vector = npt.NDArray[np.float32]


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
    (bench/quality.py prints the comparison).
    """
    if not len(dense):
        return dense
    fused = (1 - lexical_weight) * _min_max(dense) + lexical_weight * _min_max(lexical)
    return fused.astype(np.float32)


class HybridRanker:
    """Ids and scores only: the store turns ids into text (the ranker never sees it)."""

    def __init__(
        self,
        passages: VectorIndex,
        sentences: VectorIndex,
        lexical: LexicalIndex,
        passage_vectors: Callable[[Sequence[int]], dict[int, Vector]],
        sentence_owners: Callable[[Sequence[int]], dict[int, int]],
        candidates: int,
        lexical_weight: float,
    ) -> None:
        self._passages = passages
        self._sentences = sentences
        self._lexical = lexical
        self._passage_vectors = passage_vectors
        self._sentence_owners = sentence_owners
        self._candidates = candidates
        self.lexical_weight = lexical_weight

    def rank(
        self,
        query_vector: Vector,
        query_text: str,
        k: int,
        allowed: Ids | None = None,
    ) -> list[RankedPassage]:
        """Best ``k`` passages; ``allowed`` restricts every ranker before it ranks."""
        n = max(self._candidates, k)
        dense_hits = self._passages.search(query_vector, n, allowed)
        dense: dict[int, float] = dict(
            zip(dense_hits.ids.tolist(), dense_hits.scores.tolist(), strict=True)
        )
        sentence_hits = self._sentences.search(query_vector, n)
        owners = self._sentence_owners(sentence_hits.ids.tolist())
        allowed_set = None if allowed is None else set(allowed.tolist())
        for sentence_id, score in zip(
            sentence_hits.ids.tolist(), sentence_hits.scores.tolist(), strict=True
        ):
            owner = owners.get(sentence_id)
            if owner is None or (allowed_set is not None and owner not in allowed_set):
                continue
            dense[owner] = max(dense.get(owner, -1.0), score)

        lexical_all = self._lexical.scores(query_text)
        if allowed is not None:
            mask = np.zeros_like(lexical_all)
            positions = [self._lexical.position(int(i)) for i in allowed]
            mask[positions] = 1.0
            lexical_all = lexical_all * mask
        top = np.argsort(-lexical_all)[:n]
        lexical_ids = [int(self._lexical.ids[i]) for i in top if lexical_all[i] > 0]

        missing = [i for i in lexical_ids if i not in dense]
        for passage_id, vector in self._passage_vectors(missing).items():
            dense[passage_id] = float(vector @ query_vector)
        ids = list(dense)
        if not ids:
            return []
        dense_scores = np.array([dense[i] for i in ids], dtype=np.float32)
        lexical_scores = np.array(
            [lexical_all[self._lexical.position(i)] for i in ids], dtype=np.float32
        )
        fused = fuse_scores(dense_scores, lexical_scores, self.lexical_weight)
        order = np.argsort(-fused, kind="stable")[:k]
        return [
            RankedPassage(ids[i], float(fused[i]), float(dense_scores[i]), float(lexical_scores[i]))
            for i in order
        ]
