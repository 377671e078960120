"""HybridRanker: fused dense and BM25 ranking, filters, and the same answers as a plain loop."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from embeddings.index import VectorIndex
from qa.lexical import LexicalIndex
from qa.retrieval import HybridRanker, RankedPassage, fuse_scores

DIMENSION = 16
Vectors = npt.NDArray[np.float32]
TOPICS = ["oil prices opec", "coffee exports brazil", "interest rates bank", "wheat harvest"]


class _Corpus:
    """Passages (ids 10, 12, 14, ...) of one or two sentences each, with random vectors."""

    def __init__(self, count: int = 120, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.passage_ids = np.arange(count, dtype=np.int64) * 2 + 10
        # every text a different length, so no two BM25 scores tie at the cut-off
        self.texts = [
            f"{TOPICS[i % len(TOPICS)]} report {'grain ' * (i % 3)}" + " ".join(["filler"] * i)
            for i in range(count)
        ]
        self.vectors = self._unit(rng.standard_normal((count, DIMENSION)))
        self.sentence_owners = np.repeat(self.passage_ids, 1 + (np.arange(count) % 2))
        self.sentence_vectors = self._unit(
            rng.standard_normal((len(self.sentence_owners), DIMENSION))
        )
        self.by_id = dict(zip(self.passage_ids.tolist(), self.vectors, strict=True))
        self.passages = VectorIndex.build(self.passage_ids, self.vectors, DIMENSION)
        # Each sentence under its passage's id, as the store's index holds it.
        self.sentences = VectorIndex.build(self.sentence_owners, self.sentence_vectors, DIMENSION)
        self.lexical = LexicalIndex.build(self.passage_ids, self.texts)
        self.rng = rng

    @staticmethod
    def _unit(vectors: npt.NDArray[np.float64]) -> Vectors:
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    # What the ranker reads of a store (VectorReads), from memory.
    def passage_vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        return {i: self.by_id[i] for i in ids}

    def passage_places(self, ids: Sequence[int]) -> dict[int, tuple[str, int, int]]:
        return {i: ("", i, 0) for i in ids}

    def ranker(self, candidates: int = 10, sentence_search: bool = True) -> HybridRanker:
        return HybridRanker(
            self.passages,
            self.sentences,
            self.lexical,
            candidates,
            0.5,
            sentence_search=sentence_search,
        )

    def query(self) -> Vectors:
        return self._unit(self.rng.standard_normal((1, DIMENSION)))[0]


def _reference(
    corpus: _Corpus, query: Vectors, text: str, k: int, allowed: npt.NDArray[np.int64] | None
) -> list[tuple[int, float]]:
    """The ranking spelled out as plain loops over everything: what the ranker must equal."""
    n = max(10, k)
    allowed_set = None if allowed is None else set(allowed.tolist())
    ok = [i for i in corpus.passage_ids.tolist() if allowed_set is None or i in allowed_set]
    dense_all = {i: float(corpus.by_id[i] @ query) for i in ok}
    dense = dict(sorted(dense_all.items(), key=lambda item: -item[1])[:n])
    sentence_scores = corpus.sentence_vectors @ query
    for position in np.argsort(-sentence_scores)[:n]:
        owner = int(corpus.sentence_owners[position])
        if allowed_set is None or owner in allowed_set:
            dense[owner] = max(dense.get(owner, -1.0), float(sentence_scores[position]))
    bm25 = corpus.lexical.scores(text)
    lexical = {i: float(bm25[corpus.lexical.position(i)]) for i in ok}
    for i, score in sorted(lexical.items(), key=lambda item: -item[1])[:n]:
        if score > 0 and i not in dense:
            dense[i] = dense_all[i]
    ids = list(dense)
    fused = fuse_scores(
        np.array([dense[i] for i in ids], np.float32),
        np.array([lexical.get(i, 0.0) for i in ids], np.float32),
        0.5,
    )
    return sorted(((i, float(f)) for i, f in zip(ids, fused, strict=True)), key=lambda x: -x[1])[:k]


def _pairs(ranked: list[RankedPassage]) -> list[tuple[int, float]]:
    return [(r.id, r.score) for r in ranked]


def test_fuse_scores_is_a_weighted_sum_of_min_max_scores() -> None:
    dense = np.array([0.2, 0.6, 0.4], np.float32)
    lexical = np.array([3.0, 0.0, 1.5], np.float32)
    assert fuse_scores(dense, lexical, 0.5).tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert fuse_scores(dense, lexical, 0.0).tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert fuse_scores(dense, lexical, 1.0).tolist() == pytest.approx([1.0, 0.0, 0.5])
    same = np.array([0.3, 0.3], np.float32)
    assert fuse_scores(same, np.zeros(2, np.float32), 0.5).tolist() == pytest.approx([0.5, 0.5])
    assert len(fuse_scores(np.zeros(0, np.float32), np.zeros(0, np.float32), 0.5)) == 0


@pytest.mark.parametrize("text", ["oil prices", "brazil coffee grain", "nothing matches this"])
def test_ranking_equals_the_plain_loop(text: str) -> None:
    corpus = _Corpus()
    ranker = corpus.ranker()
    for _ in range(10):
        query = corpus.query()
        got = _pairs(ranker.rank(query, text, 8, corpus))
        expected = _reference(corpus, query, text, 8, None)
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_filters_apply_to_every_signal() -> None:
    corpus = _Corpus()
    ranker = corpus.ranker()
    allowed = corpus.passage_ids[corpus.rng.permutation(len(corpus.passage_ids))[:25]]
    for text in ("oil prices", "wheat harvest grain"):
        query = corpus.query()
        ranked = ranker.rank(query, text, 8, corpus, allowed)
        assert {r.id for r in ranked} <= set(allowed.tolist())
        expected = _reference(corpus, query, text, 8, allowed)
        assert [r.id for r in ranked] == [i for i, _ in expected]
    assert ranker.rank(corpus.query(), "oil", 5, corpus, np.zeros(0, np.int64)) == []


def test_every_signal_is_reported() -> None:
    corpus = _Corpus()
    query = corpus.query()
    ranked = corpus.ranker().rank(query, "coffee exports", 5, corpus)
    assert len(ranked) == 5
    bm25 = corpus.lexical.scores("coffee exports")
    for r in ranked:
        assert r.lexical == pytest.approx(float(bm25[corpus.lexical.position(r.id)]))
        assert r.dense >= float(corpus.by_id[r.id] @ query) - 1e-6  # a sentence may beat it
        assert 0.0 <= r.score <= 1.0


def test_sentence_search_can_be_turned_off() -> None:
    corpus = _Corpus()
    query = corpus.query()
    ranked = corpus.ranker(sentence_search=False).rank(query, "interest rates", 10, corpus)
    for r in ranked:  # dense is then always the passage's own cosine
        assert r.dense == pytest.approx(float(corpus.by_id[r.id] @ query), abs=1e-5)


def test_unsorted_lexical_ids_rank_the_same() -> None:
    corpus = _Corpus()
    order = np.argsort(corpus.rng.random(len(corpus.passage_ids)))
    corpus.lexical = LexicalIndex.build(corpus.passage_ids[order], [corpus.texts[i] for i in order])
    query = corpus.query()
    ranked = corpus.ranker().rank(query, "wheat harvest", 6, corpus)
    assert [r.id for r in ranked] == [
        i for i, _ in _reference(corpus, query, "wheat harvest", 6, None)
    ]


class _Deleted:
    """A store's reads once ``gone`` was deleted, before the indexes skip it: they are a
    moment behind their store when another process wrote."""

    def __init__(self, corpus: _Corpus, gone: int) -> None:
        self._corpus = corpus
        self._gone = gone

    def passage_vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        return self._corpus.passage_vectors([i for i in ids if i != self._gone])

    def passage_places(self, ids: Sequence[int]) -> dict[int, tuple[str, int, int]]:
        return self._corpus.passage_places([i for i in ids if i != self._gone])


def test_a_sentence_hit_names_its_passage_and_goes_with_it() -> None:
    corpus = _Corpus()
    ranker = corpus.ranker()
    query = corpus.sentence_vectors[0]  # the first sentence of passage 10
    signals = ranker.signals(query, "oil", 10, corpus)
    assert signals.sentences[0] == (10, pytest.approx(1.0, abs=1e-5), True)
    signals = ranker.signals(query, "oil", 10, _Deleted(corpus, 10))
    assert signals.sentences and 10 not in {owner for owner, _, _ in signals.sentences}
    assert 10 not in {r.id for r in ranker.rank(query, "oil", 10, _Deleted(corpus, 10))}
