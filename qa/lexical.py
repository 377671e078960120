"""BM25 over passages (bm25s, Snowball-stemmed), and the content terms of a text."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
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
    return set(content_terms_of([text])[0])


# Answer composition asks for the terms of the same passages and sentences over and over.
_TERMS_CACHE_SIZE = 1 << 16
_terms_cache: OrderedDict[str, frozenset[str]] = OrderedDict()
_terms_lock = threading.Lock()


def content_terms_of(texts: Sequence[str]) -> list[frozenset[str]]:
    """``content_terms`` of many texts, those not cached tokenised in one call: bm25s's set-up
    per call (a progress bar object among it) costs more than tokenising a sentence."""
    with _terms_lock:
        known = {t: _terms_cache[t] for t in texts if t in _terms_cache}
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        for text, tokens in zip(missing, _tokenize(missing), strict=True):
            known[text] = frozenset(tokens) - _REPORTING
        with _terms_lock:
            _terms_cache.update((t, known[t]) for t in missing)
            while len(_terms_cache) > _TERMS_CACHE_SIZE:
                _terms_cache.popitem(last=False)
    return [known[t] for t in texts]


class LexicalIndex:
    """BM25 scores aligned with the store's passage ids."""

    def __init__(self, bm25: bm25s.BM25, ids: npt.NDArray[np.int64]) -> None:
        self._bm25 = bm25
        self.ids = ids
        # Ids in sorted order and where each sits, so positions are a binary search (the
        # store's ids already come sorted; no per-id dict to build at a million passages).
        self._order = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._order]

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

    def positions(
        self, passage_ids: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Where passages sit in the ``scores`` array, and which of them are indexed at all
        (positions of those that are not are 0: mask them with the second array)."""
        if not self.count:
            return np.zeros(len(passage_ids), np.intp), np.zeros(len(passage_ids), bool)
        slots = np.searchsorted(self._sorted_ids, passage_ids).clip(0, self.count - 1)
        found = self._sorted_ids[slots] == passage_ids
        return np.where(found, self._order[slots], 0), found

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
