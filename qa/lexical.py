"""BM25 over passages (bm25s's tokenizer, Snowball-stemmed), and the content terms of a text."""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS
from scipy import sparse

__all__ = ["CorpusStatistics", "LexicalIndex", "content_terms"]

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


def _tokenize_corpus(texts: list[str]) -> bm25s.tokenization.Tokenized:
    """A whole corpus's terms as ids into its vocabulary: bm25s's own tokenizer, which stems
    each distinct word once (at a million passages, per-text ``_tokenize`` would hold a fresh
    string for every token until the index is built)."""
    tokenized: bm25s.tokenization.Tokenized = bm25s.tokenize(
        texts,
        token_pattern=_TOKEN_PATTERN.pattern,
        stopwords=list(_STOPWORDS),
        stemmer=_stemmer(),
        return_ids=True,
        show_progress=False,
    )
    return tokenized


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


# BM25's constants as bm25s and Lucene set them.
_K1 = 1.5
_B = 0.75


@dataclass(frozen=True)
class CorpusStatistics:
    """What BM25 needs to know of the whole corpus: its size, its length and each term's
    document frequency. The statistics of several shards add up to those of their union, so
    every shard scores with the same numbers as one archive holding them all."""

    documents: int
    length: int  # tokens in all documents
    frequencies: Mapping[str, int]  # documents holding each term

    @classmethod
    def merged(cls, parts: Iterable[CorpusStatistics]) -> CorpusStatistics:
        documents, length, frequencies = 0, 0, Counter[str]()
        for part in parts:
            documents += part.documents
            length += part.length
            frequencies.update(part.frequencies)
        return cls(documents, length, dict(frequencies))

    def of_terms(self, terms: Iterable[str]) -> CorpusStatistics:
        """The same statistics for a query's terms only: what travels with a query."""
        return CorpusStatistics(
            self.documents, self.length, {t: self.frequencies.get(t, 0) for t in set(terms)}
        )


class LexicalIndex:
    """BM25 scores aligned with the store's passage ids.

    It keeps term frequencies and document lengths, not bm25s's scores: those have the IDF and
    the average length of their own corpus baked in, and a shard of a cluster must score with
    the statistics of the whole cluster (``CorpusStatistics``). The scores are Lucene's BM25,
    the variant bm25s computes by default.

    It may hold passages deleted from the store since it was built (``excluding``): they score
    0 and are not found by ``positions``. Like Lucene's, its statistics count them until the
    index is compacted (rebuilt).
    """

    def __init__(
        self,
        ids: npt.NDArray[np.int64],
        vocabulary: dict[str, int],
        frequencies: sparse.csc_array,
        lengths: npt.NDArray[np.int32],
        excluded: npt.NDArray[np.int64] | None = None,
    ) -> None:
        self.ids = ids
        self._vocabulary = vocabulary
        self._frequencies = frequencies  # documents × terms: how often each term occurs
        self._lengths = lengths
        # Ids in sorted order and where each sits, so positions are a binary search (the
        # store's ids already come sorted; no per-id dict to build at a million passages).
        self._order = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._order]
        self._norms_for: tuple[float, npt.NDArray[np.float32]] | None = None
        self._excluded = np.zeros(0, np.intp)  # positions of the deleted passages
        self._kept: npt.NDArray[np.bool_] | None = None  # by position; None: every one
        if excluded is not None and len(excluded):
            positions, found = self.positions(np.asarray(excluded, dtype=np.int64))
            self._excluded = np.unique(positions[found])
            self._kept = np.ones(len(ids), dtype=bool)
            self._kept[self._excluded] = False

    @classmethod
    def build(cls, ids: npt.NDArray[np.int64], texts: list[str]) -> LexicalIndex:
        tokenized = _tokenize_corpus(texts)
        lengths = np.array([len(doc) for doc in tokenized.ids], dtype=np.int32)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        columns = np.fromiter(itertools.chain.from_iterable(tokenized.ids), np.int64, len(rows))
        counts = sparse.coo_array(
            (np.ones(len(rows), np.float32), (rows, columns)),
            shape=(len(texts), len(tokenized.vocab)),
        )
        return cls(ids, dict(tokenized.vocab), counts.tocsc(), lengths)  # duplicates summed

    def excluding(self, passage_ids: npt.NDArray[np.int64]) -> LexicalIndex:
        """This index, its terms shared, with ``passage_ids`` (deleted since it was built) scoring 0
        instead of those it excluded before."""
        return LexicalIndex(
            self.ids, self._vocabulary, self._frequencies, self._lengths, passage_ids
        )

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def excluded(self) -> int:
        """Passages held that score 0, deleted since the index was built."""
        return len(self._excluded)

    @functools.cached_property
    def _statistics(self) -> CorpusStatistics:
        return CorpusStatistics(
            len(self.ids),
            int(self._lengths.sum()),
            dict(zip(self._vocabulary, np.diff(self._frequencies.indptr).tolist(), strict=True)),
        )

    def statistics(self) -> CorpusStatistics:
        return self._statistics

    @staticmethod
    def terms(query: str) -> list[str]:
        """The query's terms as this index reads them (their statistics travel with a query)."""
        return _tokenize(query)

    def scores(
        self, query: str, statistics: CorpusStatistics | None = None
    ) -> npt.NDArray[np.float32]:
        """BM25 score of every passage, in ``ids`` order (zeros where no term matches, and for
        excluded passages), with this index's own statistics or those of a whole cluster."""
        scores = np.zeros(self.count, dtype=np.float32)
        corpus = statistics or self._statistics
        if not corpus.documents:
            return scores
        norms = self._norms(corpus.length / corpus.documents)
        for term in _tokenize(query):  # a repeated word counts again, as in bm25s
            column = self._vocabulary.get(term)
            if column is None:
                continue
            start, end = self._frequencies.indptr[column : column + 2]
            rows = self._frequencies.indices[start:end]
            counts = self._frequencies.data[start:end]
            found = corpus.frequencies.get(term, 0)
            idf = np.float32(math.log(1 + (corpus.documents - found + 0.5) / (found + 0.5)))
            scores[rows] += idf * counts / (counts + norms[rows])
        scores[self._excluded] = 0
        return scores

    def _norms(self, average: float) -> npt.NDArray[np.float32]:
        """BM25's length normalisation of every passage for an average length: the same for
        every query until the statistics change, so kept for the last average asked."""
        cached = self._norms_for
        if cached is None or cached[0] != average:
            norms = _K1 * (1 - _B + _B * self._lengths / np.float32(average))
            cached = self._norms_for = (average, norms.astype(np.float32))
        return cached[1]

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
        np.save(folder / "ids.npy", self.ids)
        np.save(folder / "lengths.npy", self._lengths)
        sparse.save_npz(folder / "frequencies.npz", self._frequencies, compressed=False)
        (folder / "vocabulary.json").write_text(json.dumps(self._vocabulary), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Raises OSError or ValueError for files missing, unreadable or of another layout
        (an archive of an earlier version: its index is rebuilt)."""
        vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        frequencies = sparse.load_npz(folder / "frequencies.npz")
        return cls(
            np.load(folder / "ids.npy"),
            vocabulary,
            sparse.csc_array(frequencies),
            np.load(folder / "lengths.npy"),
        )
