"""BM25 over passages (bm25s, Snowball-stemmed), and the content terms of a text."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

__all__ = ["LexicalIndex", "content_terms"]

# bm25s sets its own logger to DEBUG at import, which floods any application log.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_STEMMER = Stemmer.Stemmer("english")
_STOPWORDS = "en_plus"
# Reporting verbs carry no topic: every quote has one.
_REPORTING = frozenset(
    _STEMMER.stemWords(
        ["say", "said", "says", "tell", "told", "state", "stated", "remark", "comment"]
    )
)


def _tokenize(texts: list[str]) -> list[list[str]]:
    tokens: list[list[str]] = bm25s.tokenize(
        texts, stopwords=_STOPWORDS, stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return tokens


def content_terms(text: str) -> set[str]:
    """Stemmed words that say what a text is about: no stopwords, no reporting verbs."""
    return set(_content_terms(text))


@functools.lru_cache(maxsize=1 << 16)
def _content_terms(text: str) -> frozenset[str]:
    # Answer composition asks this of the same passages and sentences over and over.
    return frozenset(_tokenize([text])[0]) - _REPORTING


class LexicalIndex:
    """BM25 scores aligned with the store's passage ids."""

    def __init__(self, bm25: bm25s.BM25, ids: npt.NDArray[np.int64]) -> None:
        self._bm25 = bm25
        self.ids = ids
        self._positions = {int(passage_id): i for i, passage_id in enumerate(ids)}

    @classmethod
    def build(cls, ids: npt.NDArray[np.int64], texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        if texts:
            bm25.index(_tokenize(texts), show_progress=False)
        return cls(bm25, ids)

    @property
    def count(self) -> int:
        return len(self.ids)

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score of every passage, in ``ids`` order (zeros where no term matches)."""
        terms = _tokenize([query])[0]
        if not terms or not self.count:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def position(self, passage_id: int) -> int:
        return self._positions[passage_id]

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
