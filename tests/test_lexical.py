"""Tokenising for BM25 and for content words: bm25s's own rules, one text at a time."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
import Stemmer

from qa.lexical import CorpusStatistics, LexicalIndex, content_terms

from .conftest import SEED_LINES

AWKWARD = [
    "",
    "a I x 7",
    "U.S.-Russia talks: Über-fast naïve café, 2024's 1,000,000 rubles!",
    "SAID said Says telling told STATED remarks commented",
    "Putin's\tdefence\u00a0minister — «Shoigu» said;",
]
QUESTIONS = ["what did Putin say about training?", "Shoigu drills", "zebra crossings in Oslo"]


def _bm25s_tokens(texts: list[str]) -> list[list[str]]:
    """bm25s.tokenize as its docs show it, with our stopword list and stemmer."""
    tokens: list[list[str]] = bm25s.tokenize(
        texts,
        stopwords="en_plus",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )
    return tokens


@pytest.mark.parametrize("text", SEED_LINES + AWKWARD)
def test_content_terms_are_bm25s_tokens_less_reporting_verbs(text: str) -> None:
    reporting = {"say", "said", "tell", "told", "state", "remark", "comment"}
    assert content_terms(text) == frozenset(_bm25s_tokens([text])[0]) - reporting


def test_question_scores_equal_bm25s_own() -> None:
    passages = [line for line in SEED_LINES if line.strip()]
    index = LexicalIndex.build(np.arange(len(passages), dtype=np.int64), passages)
    reference = bm25s.BM25()
    reference.index(_bm25s_tokens(passages), show_progress=False)
    for question in QUESTIONS:
        expected = reference.get_scores(_bm25s_tokens([question])[0])
        np.testing.assert_allclose(index.scores(question), expected, rtol=1e-6)
    for no_terms in ("", "what is it about?"):  # bm25s refuses a query without terms
        assert not index.scores(no_terms).any()


def test_shards_scored_with_merged_statistics_score_as_one_index() -> None:
    passages = [line for line in SEED_LINES if line.strip()]
    ids = np.arange(len(passages), dtype=np.int64)
    whole = LexicalIndex.build(ids, passages)
    halves = [
        LexicalIndex.build(ids[part], [passages[i] for i in part]) for part in (ids[::2], ids[1::2])
    ]
    statistics = CorpusStatistics.merged(half.statistics() for half in halves)
    assert statistics == whole.statistics()
    for question in QUESTIONS:
        expected = whole.scores(question)
        for half in halves:
            query = statistics.of_terms(half.terms(question))
            positions, _ = whole.positions(half.ids)
            assert half.scores(question, query).tolist() == expected[positions].tolist()
    # A half alone, by its own statistics, scores otherwise: why shards share them.
    positions, _ = whole.positions(halves[0].ids)
    alone = halves[0].scores(QUESTIONS[0])
    assert alone.any() and alone.tolist() != whole.scores(QUESTIONS[0])[positions].tolist()


def test_excluded_passages_score_zero_and_are_not_found() -> None:
    passages = [line for line in SEED_LINES if line.strip()]
    ids = np.arange(len(passages), dtype=np.int64) * 2 + 5
    index = LexicalIndex.build(ids, passages)
    question = QUESTIONS[0]
    scores = index.scores(question)
    best = ids[np.argsort(-scores)[:3]]
    kept = index.excluding(np.append(best, 1))  # 1 is not held: ignored
    assert (kept.count, kept.excluded, index.excluded) == (index.count, 3, 0)
    positions, found = kept.positions(best)
    assert not found.any() and not positions.any()
    assert kept.positions(ids[:1])[1].tolist() == [True]
    expected = scores.copy()
    expected[index.positions(best)[0]] = 0
    np.testing.assert_array_equal(kept.scores(question), expected)
    np.testing.assert_array_equal(index.scores(question), scores)  # the base is kept
    assert kept.excluding(best[:1]).excluded == 1  # replaced, not added to
