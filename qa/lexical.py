"""BM25 over passages (bm25s, Snowball-stemmed), and the content terms of a text."""

from __future__ import annotations

import functools
import logging
import re
import threading
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

__all__ = ["LexicalIndex", "content_terms"]

# bm25s sets its own logger to DEBUG at import, which floods any application log.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# bm25s's own rules: its default token pattern, lower case, its stopword list, Snowball stems.
_TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
_stemmers = threading.local()  # a PyStemmer Stemmer is not thread-safe: one per thread


def _stemmer() -> Stemmer.Stemmer:
    stemmer: Stemmer.Stemmer | None = getattr(_stemmers, "stemmer", None)
    if stemmer is None:
        stemmer = _stemmers.stemmer = Stemmer.Stemmer("english")
    return stemmer


# Reporting verbs carry no topic: every quote has one.
_REPORTING = frozenset(
    _stemmer().stemWords(
        ["say", "said", "says", "tell", "told", "state", "stated", "remark", "comment"]
    )
)


def _tokenize_corpus(texts: list[str]) -> list[list[str]]:
    """Tokens of a whole corpus for indexing: bm25s's own tokenizer, which stems each distinct
    word once and hands back one string object per stem (at a million passages, per-text
    ``_tokenize`` would hold a fresh string for every token until the index is built)."""
    tokens: list[list[str]] = bm25s.tokenize(
        texts,
        token_pattern=_TOKEN_PATTERN.pattern,
        stopwords=list(_STOPWORDS),
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )
    return tokens


def _tokenize(text: str) -> list[str]:
    """What ``bm25s.tokenize`` makes of one text (the tests hold the two equal).

    A question, a passage or a sentence at a time, bm25s's set-up per call (a stopword set
    per text, three progress bars) cost more than the tokenising itself.
    """
    words = _TOKEN_PATTERN.findall(text.lower())
    stems: list[str] = _stemmer().stemWords([w for w in words if w not in _STOPWORDS])
    return stems


@functools.lru_cache(maxsize=1 << 16)
def content_terms(text: str) -> frozenset[str]:
    """Stemmed words that say what a text is about: no stopwords, no reporting verbs.

    Cached: answering looks at the same passages and sentences over and over.
    """
    return frozenset(_tokenize(text)) - _REPORTING


class LexicalIndex:
    """BM25 scores aligned with the store's passage ids.

    It may hold passages deleted from the store since it was built (``excluding``): they score
    0 and are not found by ``positions``.
    """

    def __init__(
        self,
        bm25: bm25s.BM25,
        ids: npt.NDArray[np.int64],
        excluded: npt.NDArray[np.int64] | None = None,
    ) -> None:
        self._bm25 = bm25
        self.ids = ids
        # Ids in sorted order and where each sits, so positions are a binary search (the
        # store's ids already come sorted; no per-id dict to build at a million passages).
        self._order = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._order]
        self._excluded = np.zeros(0, np.intp)  # positions of the deleted passages
        self._kept: npt.NDArray[np.bool_] | None = None  # by position; None: every one
        if excluded is not None and len(excluded):
            positions, found = self.positions(np.asarray(excluded, dtype=np.int64))
            self._excluded = np.unique(positions[found])
            self._kept = np.ones(len(ids), dtype=bool)
            self._kept[self._excluded] = False

    @classmethod
    def build(cls, ids: npt.NDArray[np.int64], texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        if texts:
            bm25.index(_tokenize_corpus(texts), show_progress=False)
        return cls(bm25, ids)

    def excluding(self, passage_ids: npt.NDArray[np.int64]) -> LexicalIndex:
        """This index, BM25 shared, with ``passage_ids`` (deleted since it was built) scoring 0
        instead of those it excluded before."""
        return LexicalIndex(self._bm25, self.ids, passage_ids)

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def excluded(self) -> int:
        """Passages held that score 0, deleted since the index was built."""
        return len(self._excluded)

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score of every passage, in ``ids`` order (zeros where no term matches, and for
        excluded passages)."""
        terms = _tokenize(query)
        if not terms or not self.count:
            return np.zeros(self.count, dtype=np.float32)
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float32)
        scores[self._excluded] = 0  # bm25s hands out a new array each call
        return scores

    def positions(
        self, passage_ids: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Where passages sit in the ``scores`` array, and which of them are indexed at all
        and not excluded (positions of those that are not are 0: mask them with the second
        array)."""
        if not self.count:
            return np.zeros(len(passage_ids), np.intp), np.zeros(len(passage_ids), bool)
        slots = np.searchsorted(self._sorted_ids, passage_ids).clip(0, self.count - 1)
        found = self._sorted_ids[slots] == passage_ids
        positions = np.where(found, self._order[slots], 0)
        if self._kept is not None:
            found &= self._kept[positions]
        return np.where(found, positions, 0), found

    def position(self, passage_id: int) -> int:
        positions, found = self.positions(np.array([passage_id], dtype=np.int64))
        if not found[0]:
            raise KeyError(passage_id)
        return int(positions[0])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.count:
            self._bm25.save(str(folder), show_progress=False)
        np.save(folder / "ids.npy", self.ids)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        ids = np.load(folder / "ids.npy")
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if len(ids) else bm25s.BM25()
        return cls(bm25, ids)
