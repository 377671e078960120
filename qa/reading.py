"""The read path: a question in, the answer JSON out, as plain functions over ``Passages``.

``Passages`` is where a reader finds passages: one archive's ``Snapshot`` (the indexes and
speakers of one data generation and the store's reads as of that generation), or the shards of
a cluster (``qa.cluster.coordinator``). Nothing here writes or locks; ``qa.archive`` hands out
snapshots and publishes new ones after writes. In the order a question travels:

``ask`` → ``compose`` (``read_question`` once; the window widened if nothing is dated inside
it) → ``_compose`` (encode, ``passage_filters``, rank, candidates, ``compose_answer``) → back in
``ask``, the ``Answer``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from qa.answer import (
    POOL_PER_CITATION,
    Candidate,
    Composition,
    Preceding,
    Query,
    QuoteFloor,
    compose_answer,
    quote_floor,
)
from qa.indexes import Indexes
from qa.language import question_language, refusal
from qa.lexical import CorpusStatistics, content_terms
from qa.questions import Question, SpeakerIndex, clean_question, read_question
from qa.retrieval import HybridRanker, RankedPassage
from qa.schema import Answer, DateWindow, HistoryTurn, SearchFilters, SearchHit
from qa.settings import Settings
from qa.store import Attributes, PassageFilters, PassageReads, PassageRecord
from qa.timeframe import TimeWindow, recency_bonus

__all__ = [
    "Passages",
    "QuestionVectors",
    "Snapshot",
    "ask",
    "compose",
    "passage_filters",
    "search",
]

Ids = npt.NDArray[np.int64]
Vector = npt.NDArray[np.float32]

_QUESTIONS_CACHED = 1024


class QuestionVectors:
    """Questions' vectors, the latest asked kept: the same question (a suggestion, a retry,
    a follow-up's topic) is encoded once, whatever snapshot asks it."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self.vector = functools.lru_cache(maxsize=_QUESTIONS_CACHED)(self._encode)

    def _encode(self, text: str) -> Vector:
        vector: Vector = self._encoder.encode([text])[0]
        vector.setflags(write=False)  # shared by every request that asks the same question
        return vector


class Passages(Protocol):
    """Where the read path finds passages, as of one moment: ids come back as ``RankedPassage``
    (a shard and a row id), and only the source that ranked them turns them into text."""

    @property
    def settings(self) -> Settings: ...

    @property
    def speakers(self) -> SpeakerIndex: ...

    @property
    def vectors(self) -> QuestionVectors: ...

    def rank(
        self,
        vector: Vector,
        text: str,
        k: int,
        filters: PassageFilters,
        as_of: date,
        floor: QuoteFloor | None = None,
    ) -> list[RankedPassage]:
        """The best ``k`` passages the filters leave, of articles published by ``as_of``.
        A source that makes candidates ahead of ``candidates`` (a cluster's shards) leaves out
        those below ``floor``, which no answer quotes."""
        ...

    def candidates(self, ranked: list[RankedPassage], with_preceding: int) -> list[Candidate]:
        """The ranked passages with their sentences, in rank order; the first
        ``with_preceding`` also with the passage before them in their article."""
        ...

    def records(self, ranked: list[RankedPassage]) -> list[tuple[RankedPassage, PassageRecord]]:
        """The ranked passages' records, in rank order."""
        ...

    def mentioned(self, name: str) -> bool:
        """Whether the passage that matches ``name`` best holds every word of it."""
        ...


@dataclass(frozen=True)
class Snapshot:
    """One reader's archive: indexes, speakers and store reads of one data generation."""

    settings: Settings
    indexes: Indexes
    speakers: SpeakerIndex
    ranker: HybridRanker
    reads: PassageReads
    vectors: QuestionVectors  # one for the archive, shared by its snapshots

    def rank(
        self,
        vector: Vector,
        text: str,
        k: int,
        filters: PassageFilters,
        as_of: date,
        floor: QuoteFloor | None = None,
    ) -> list[RankedPassage]:
        return self.ranker.rank(vector, text, k, self.reads, self.allowed(filters, as_of))

    def allowed(self, filters: PassageFilters, as_of: date) -> Ids | None:
        """The passage ids the filters leave, less those of articles dated after ``as_of``
        (asked on a past day, the archive answers as it stood then; undated articles may be
        of any day and stay); None: every one."""
        allowed = self.reads.filtered_passage_ids(filters) if filters.active else None
        if as_of == date.max:
            return allowed
        later = self.reads.filtered_passage_ids(
            PassageFilters(date_from=(as_of + timedelta(days=1)).isoformat())
        )
        if not len(later):
            return allowed
        every = self.indexes.lexical.ids if allowed is None else allowed
        return np.setdiff1d(every, later, assume_unique=True)

    def candidates(self, ranked: list[RankedPassage], with_preceding: int) -> list[Candidate]:
        # Ids follow article order: the passage before a passage is the id before it.
        ids = [r.id for r in ranked]
        before = [i - 1 for i in ids[:with_preceding]]
        records = self.reads.passages([*ids, *before])
        sentences = self.reads.sentences([*ids, *before])
        candidates = []
        for r in ranked:
            if r.id not in records:
                continue
            record, previous = records[r.id], records.get(r.id - 1)
            preceding = None
            if r.id - 1 in before and previous and previous.article_id == record.article_id:
                preceding = Preceding(previous, sentences.get(previous.id, []))
            candidates.append(Candidate(record, sentences.get(r.id, []), r, preceding))
        return candidates

    def records(self, ranked: list[RankedPassage]) -> list[tuple[RankedPassage, PassageRecord]]:
        records = self.reads.passages([r.id for r in ranked])
        return [(r, records[r.id]) for r in ranked if r.id in records]

    def mentioned(self, name: str) -> bool:
        found = self.best_match(name, None)
        return found is not None and found[1]

    def best_match(
        self, name: str, statistics: CorpusStatistics | None
    ) -> tuple[float, bool] | None:
        """The best BM25 score for ``name`` and whether that passage holds its every word;
        None when no passage shares a word with it."""
        words = content_terms(name)
        lexical = self.indexes.lexical
        scores = lexical.scores(name, statistics)
        if not words or not len(scores) or scores.max() <= 0:
            return None
        best = int(lexical.ids[int(scores.argmax())])
        record = self.reads.passages([best]).get(best)
        return float(scores.max()), record is not None and words <= content_terms(record.text)


def ask(
    passages: Passages,
    question: str,
    top_k: int | None = None,
    history: Sequence[HistoryTurn] = (),
    filters: SearchFilters | None = None,
    as_of: date | None = None,
) -> Answer:
    """``as_of`` is the asker's today (default: the server's): articles dated after it are
    hidden, and the question's "this week" or "in June" is read against it."""
    started = time.perf_counter()
    question = clean_question(question)
    languages = passages.settings.answer_languages
    language = question_language(question) if languages else None
    if language is not None and language not in languages:
        return _abstain(question, refusal(languages), started, language=language)
    read, composition = compose(passages, question, top_k, history, filters, as_of)
    if read.unknown_person is not None:
        message = f"No statements by {read.unknown_person} were found in the archive."
        return _abstain(question, message, started, read=read, language=language)
    if composition.abstained:
        message = (
            f"No passage dated {read.window.label} answers this question."
            if read.window.explicit
            else _no_answer(read)
        )
        return _abstain(
            question,
            message,
            started,
            read=read,
            confidence=composition.confidence,
            language=language,
        )
    return Answer(
        question=read.text,
        answer=composition.answer,
        abstained=False,
        citations=composition.citations,
        segments=composition.segments,
        confidence=round(composition.confidence, 4),
        speakers=_listed(read.speakers),
        time_window=_date_window(read.window),
        took_ms=_elapsed_ms(started),
        language=language,
    )


def compose(
    passages: Passages,
    question: str,
    top_k: int | None = None,
    history: Sequence[HistoryTurn] = (),
    filters: SearchFilters | None = None,
    as_of: date | None = None,
) -> tuple[Question, Composition]:
    """The question read once, and the answer composed from it, before it becomes JSON
    (the calibration benchmark reads the composition's signals).

    News of a dated event is written on it and after it ("on January 6, 2021" is in stories of
    the weeks that follow): with nothing inside the question's window, its end moves to the
    day it was asked, and the question carries the window searched. With nothing there either,
    the articles of no date answer, unless the caller's own filters ask for dates: such an
    article may tell of any day ("What was the population in 2010?" of an encyclopaedia).
    """
    top_k = top_k or passages.settings.top_k
    read = read_question(question, passages.speakers, history, as_of)
    if read.unknown_person is not None:
        if not passages.mentioned(read.unknown_person):
            return read, Composition([], 0.0)
        # Written about but never quoted: what the archive says of them may answer.
        read = replace(read, unknown_person=None)
    composition = _compose(passages, read, top_k, filters)
    window = read.window
    if composition.abstained and window.end is not None and window.end < window.as_of:
        read = read.widened()
        composition = _compose(passages, read, top_k, filters)
    if composition.abstained and window.explicit and not (filters and filters.dated):
        undated = read.among_undated()
        found = _compose(passages, undated, top_k, filters)
        if not found.abstained:
            return undated, found
    return read, composition


def search(
    passages: Passages, query: str, k: int, filters: SearchFilters | None = None
) -> list[SearchHit]:
    """Ranked passages with their scores; no answer composed."""
    query = clean_question(query)
    vector = passages.vectors.vector(query)
    allowed = passage_filters(passages.speakers, filters, None)
    ranked = passages.rank(vector, query, k, allowed, date.max)
    return [
        SearchHit.model_validate(
            Attributes(
                record,
                score=round(r.score, 4),
                dense=round(r.dense, 4),
                lexical=round(r.lexical, 4),
            ),
            from_attributes=True,
        )
        for r, record in passages.records(ranked)
    ]


def _compose(
    passages: Passages, read: Question, top_k: int, filters: SearchFilters | None
) -> Composition:
    settings = passages.settings
    vectors = passages.vectors
    asking = None if read.asking is None else vectors.vector(read.asking)
    query = Query.of(vectors.vector(read.topic), read.topic, read.terms, asking)
    speaker_restricted = read.speakers is not None
    floor = quote_floor(query.terms, settings.min_relevance, speaker_restricted)
    allowed = passage_filters(passages.speakers, _within(filters, read.window), read.speakers)
    if read.window.undated:
        allowed = replace(allowed, undated=True)
    as_of = read.window.as_of
    ranked = passages.rank(query.vector, read.topic, settings.candidates, allowed, as_of, floor)
    candidates = passages.candidates(ranked, top_k * POOL_PER_CITATION)
    if read.window.recent:
        candidates = _newer_first(candidates, as_of)
    return compose_answer(
        candidates,
        query,
        top_k,
        settings.min_confidence,
        min_relevance=settings.min_relevance,
        speaker_restricted=speaker_restricted,
        exclude_quotes=read.exclude_quotes,
    )


def passage_filters(
    speakers: SpeakerIndex, filters: SearchFilters | None, asked: tuple[str, ...] | None
) -> PassageFilters:
    """The caller's filters and the question's speakers as the store filters passages: a
    filter's speaker by every name the archive knows them by, the asked ones among them."""
    if filters is not None and filters.speaker:
        named = speakers.named(filters.speaker) or (filters.speaker,)
        asked = tuple(sorted(set(named) & set(asked))) if asked else named
    return PassageFilters(
        date_from=filters.date_from.isoformat() if filters and filters.date_from else None,
        date_to=filters.date_to.isoformat() if filters and filters.date_to else None,
        article_id=filters.article_id if filters else None,
        speakers=asked,
    )


def _within(filters: SearchFilters | None, window: TimeWindow) -> SearchFilters | None:
    """The caller's filters narrowed to the question's window; an empty overlap finds nothing."""
    if not window.explicit:
        return filters
    given = filters or SearchFilters()
    starts = [d for d in (given.date_from, window.start) if d is not None]
    ends = [d for d in (given.date_to, window.end) if d is not None]
    # model_copy skips the validator: an empty overlap is a question with no answer, not an error.
    return given.model_copy(
        update={"date_from": max(starts, default=None), "date_to": min(ends, default=None)}
    )


def _newer_first(candidates: list[Candidate], as_of: date) -> list[Candidate]:
    """A question that asks for news ("latest", "this week") ranks newer passages higher: the
    fused score plus a bonus that halves with every half-life of the article's age."""
    boosted = [
        replace(c, ranked=replace(c.ranked, score=c.ranked.score + _recency(c, as_of)))
        for c in candidates
    ]
    return sorted(boosted, key=lambda c: c.ranked.score, reverse=True)


def _recency(candidate: Candidate, as_of: date) -> float:
    published = candidate.passage.date
    return recency_bonus(date.fromisoformat(published) if published else None, as_of)


def _no_answer(read: Question) -> str:
    if read.speakers:
        return f"No statements by {', '.join(read.speakers)} on this were found in the archive."
    return "No passage in the archive answers this question."


def _abstain(
    question: str,
    message: str,
    started: float,
    *,
    read: Question | None = None,
    confidence: float = 0.0,
    language: str | None = None,
) -> Answer:
    """An answer that quotes nothing; ``message`` says why. It names the speakers and the
    dates searched when the question was read that far."""
    searched = read is not None and read.unknown_person is None
    return Answer(
        question=question,
        answer=message,
        abstained=True,
        citations=[],
        confidence=round(confidence, 4),
        speakers=_listed(read.speakers) if searched and read else None,
        time_window=_date_window(read.window) if read else None,
        took_ms=_elapsed_ms(started),
        language=language,
    )


def _date_window(window: TimeWindow) -> DateWindow | None:
    return DateWindow(from_=window.start, to=window.end) if window.explicit else None


def _listed(speakers: tuple[str, ...] | None) -> list[str] | None:
    return list(speakers) if speakers is not None else None


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
