"""The archive as one object: encoder, store and indexes wired together to answer and search.

Readers and writers meet in one place. A reader takes the current ``_View`` (indexes, speakers,
ranker) and opens a read snapshot of the store under one short lock, so the ids its ranker
returns are always rows its snapshot can read: it sees the archive before an update or after
it, never a mix. A writer (one at a time) encodes, writes in one SQLite transaction and derives
new indexes while readers carry on, then commits and swaps the view under that same lock.

Another process may write too (a second server worker, a CLI ingest): a reader whose snapshot
is newer than its view starts a reload of the index files that process wrote, in the
background, and answers from the current view meanwhile.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.errors import IndexFileError
from embeddings.index import IndexConfig
from qa.answer import (
    POOL_PER_CITATION,
    Candidate,
    Composition,
    Preceding,
    Query,
    compose_answer,
)
from qa.articles import parse_article
from qa.errors import (
    ArticleNotFoundError,
    DiskFullError,
    DuplicateArticleError,
    IndexNotBuiltError,
    StoreDamagedError,
)
from qa.faults import root_cause, storage_error, storage_errors
from qa.indexes import Indexes, IndexFolder
from qa.ingest import prepare, store_articles
from qa.language import question_language, refusal
from qa.lexical import content_terms
from qa.questions import Question, SpeakerIndex, clean_question, read_question
from qa.retrieval import HybridRanker, RankedPassage
from qa.schema import Answer, DateWindow, HistoryTurn, SearchFilters, SearchHit
from qa.settings import Settings
from qa.store import STORE_FILE, Attributes, PassageFilters, Store
from qa.timeframe import TimeWindow, recency_bonus

__all__ = ["Archive", "index_config", "open_encoder", "open_store"]

log = logging.getLogger(__name__)

_QUERY_CACHE_SIZE = 1024

Vector = npt.NDArray[np.float32]


def open_store(settings: Settings) -> Store:
    """The store of ``settings.data_dir``; a damaged or unreadable one is a one-line error."""
    with storage_errors(settings.data_dir):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return Store(settings.data_dir / STORE_FILE)


def open_encoder(settings: Settings) -> Encoder:
    return Encoder(settings.model, settings.batch_size, settings.backend, settings.model_cache_dir)


def index_config(settings: Settings) -> IndexConfig:
    return IndexConfig(settings.index_factory, settings.index_exact_limit, settings.hnsw_ef_search)


@dataclass(frozen=True)
class _View:
    """What a reader needs besides the store, replaced as a whole by each update."""

    indexes: Indexes
    speakers: SpeakerIndex
    ranker: HybridRanker


class Archive:
    """Answers questions from an ingested archive. Build it with ``Archive.open``."""

    def __init__(
        self, settings: Settings, encoder: Encoder, store: Store, indexes: Indexes
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.store = store
        self.index_folder = IndexFolder(store, settings.data_dir, index_config(settings), encoder)
        self._swap = threading.Lock()
        self._writer = threading.Lock()
        self._reloading = threading.Lock()
        self._view = self._make_view(indexes)
        # Why the index files are behind the store, after a committed write could not save them.
        self.unsaved_indexes: str | None = None
        self._embed = functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)(self._encode_question)

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder | None = None) -> Archive:
        """Load model, store and indexes; damaged, stale or missing indexes are rebuilt.

        A store with articles but no manifest is an ingest killed before its first index: its
        committed articles are kept and indexed. A damaged store is refused, with its remedy.
        """
        if not (settings.data_dir / STORE_FILE).is_file():  # nothing made where nothing is
            raise IndexNotBuiltError(str(settings.data_dir))
        store = open_store(settings)
        try:
            with storage_errors(settings.data_dir):
                damage = store.quick_check()
                if damage != "ok":
                    raise StoreDamagedError(damage)
                unindexed = IndexFolder(store, settings.data_dir).manifest() is None
                if unindexed and not store.catalogue.counts()["articles"]:
                    raise IndexNotBuiltError(str(settings.data_dir))
            encoder = encoder or open_encoder(settings)
            with storage_errors(settings.data_dir):
                folder = IndexFolder(store, settings.data_dir, index_config(settings), encoder)
                folder.check_model()
                indexes, unsaved = folder.load()
        except BaseException:
            store.close()
            raise
        archive = cls(settings, encoder, store, indexes)
        archive.unsaved_indexes = unsaved
        return archive

    @property
    def indexes(self) -> Indexes:
        return self._view.indexes

    def warnings(self) -> list[str]:
        """What an operator should know though the archive answers."""
        found = []
        if self.store.read_only:
            found.append("the archive's folder is read-only: it answers but takes no writes")
        if self.unsaved_indexes is not None:
            found.append(
                f"the index files are behind the store ({self.unsaved_indexes}); answers come"
                " from memory, and the files are saved at the next write or start"
            )
        return found

    def _make_view(self, indexes: Indexes) -> _View:
        ranker = HybridRanker(
            indexes.passages,
            indexes.sentences,
            indexes.lexical,
            self.store.reads.passage_vectors,
            self.store.reads.sentence_owners,
            self.settings.candidates,
            self.settings.lexical_weight,
        )
        return _View(indexes, SpeakerIndex(self.store.reads.speaker_aliases()), ranker)

    @contextmanager
    def _reading(self) -> Iterator[_View]:
        with ExitStack() as stack:
            with self._swap:
                view = self._view
                generation = stack.enter_context(self.store.snapshot())
            if generation > view.indexes.generation and self._reloading.acquire(blocking=False):
                threading.Thread(target=self._reload, name="index-reload", daemon=True).start()
            yield view

    def _reload(self) -> None:
        """Load the index files another process wrote; until they are complete, try again at
        a later question."""
        try:
            with self._writer, self.store.snapshot() as generation:
                if generation <= self._view.indexes.generation:
                    return
                indexes = self.index_folder.verify()
                view = self._make_view(indexes)
                with self._swap:
                    self._view = view
            log.info(
                "loaded the index of data generation %d, written by another process", generation
            )
        except IndexFileError as exc:
            log.info("the archive changed but its new index is not complete yet: %s", exc)
        finally:
            self._reloading.release()

    def _encode_question(self, text: str) -> Vector:
        vector: Vector = self.encoder.encode([text])[0]
        vector.setflags(write=False)  # shared by every request that asks the same question
        return vector

    # -- reading --------------------------------------------------------------------------

    def _allowed(
        self, view: _View, filters: SearchFilters | None, speakers: tuple[str, ...] | None
    ) -> npt.NDArray[np.int64] | None:
        if filters is not None and filters.speaker:
            named = view.speakers.named(filters.speaker) or (filters.speaker,)
            speakers = tuple(sorted(set(named) & set(speakers))) if speakers else named
        passage_filters = PassageFilters(
            date_from=filters.date_from.isoformat() if filters and filters.date_from else None,
            date_to=filters.date_to.isoformat() if filters and filters.date_to else None,
            article_id=filters.article_id if filters else None,
            speakers=speakers,
        )
        return (
            self.store.reads.filtered_passage_ids(passage_filters)
            if passage_filters.active
            else None
        )

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> list[SearchHit]:
        query = clean_question(query)
        vector = self._embed(query)
        with self._reading() as view:
            ranked = view.ranker.rank(vector, query, k, self._allowed(view, filters, None))
            records = self.store.reads.passages([r.id for r in ranked])
        return [
            SearchHit.model_validate(
                Attributes(
                    records[r.id],
                    score=round(r.score, 4),
                    dense=round(r.dense, 4),
                    lexical=round(r.lexical, 4),
                ),
                from_attributes=True,
            )
            for r in ranked
            if r.id in records
        ]

    def ask(
        self,
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
        languages = self.settings.answer_languages
        language = question_language(question) if languages else None
        if language is not None and language not in languages:
            return self._abstain(question, refusal(languages), started, language=language)
        read, composition = self.compose(question, top_k, history, filters, as_of)
        if read.unknown_person is not None:
            message = f"No statements by {read.unknown_person} were found in the archive."
            return self._abstain(question, message, started, read=read, language=language)
        if composition.abstained:
            message = (
                f"No passage dated {read.window.label} answers this question."
                if read.window.explicit
                else self._no_answer(read)
            )
            return self._abstain(
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
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[HistoryTurn] = (),
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> tuple[Question, Composition]:
        """The question read once, and the answer composed from it, before it becomes JSON
        (the calibration benchmark reads the composition's signals).

        News of a dated event is written on it and after it ("on January 6, 2021" is in
        stories of the weeks that follow): with nothing inside the question's window, its end
        moves to the day it was asked, and the question carries the window searched.
        """
        top_k = top_k or self.settings.top_k
        with self._reading() as view:
            read = read_question(question, view.speakers, history, as_of)
            if read.unknown_person is not None:
                if not self._mentioned(view, read.unknown_person):
                    return read, Composition([], 0.0)
                # Written about but never quoted: what the archive says of them may answer.
                read = replace(read, unknown_person=None)
            composition = self._compose(view, read, top_k, filters)
            window = read.window
            if composition.abstained and window.end is not None and window.end < window.as_of:
                read = read.widened()
                composition = self._compose(view, read, top_k, filters)
        return read, composition

    def _compose(
        self, view: _View, read: Question, top_k: int, filters: SearchFilters | None
    ) -> Composition:
        vector = self._embed(read.topic)
        allowed = self._allowed(view, _within(filters, read.window), read.speakers)
        allowed = self._published_by(view, allowed, read.window.as_of)
        ranked = view.ranker.rank(vector, read.topic, self.settings.candidates, allowed)
        candidates = self._candidates(ranked, top_k * POOL_PER_CITATION)
        if read.window.recent:
            candidates = _newer_first(candidates, read.window.as_of)
        return compose_answer(
            candidates,
            Query.of(vector, read.topic, read.terms),
            top_k,
            self.settings.min_confidence,
            min_relevance=self.settings.min_relevance,
            speaker_restricted=read.speakers is not None,
            exclude_quotes=read.exclude_quotes,
        )

    def _candidates(self, ranked: list[RankedPassage], with_preceding: int) -> list[Candidate]:
        """The ranked passages with their sentences; the first ``with_preceding`` also with the
        passage before them in their article (ids follow article order), for a quote that
        refers back to it."""
        ids = [r.id for r in ranked]
        before = [i - 1 for i in ids[:with_preceding]]
        records = self.store.reads.passages([*ids, *before])
        sentences = self.store.reads.sentences([*ids, *before])
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

    def _mentioned(self, view: _View, name: str) -> bool:
        """Whether some passage holds every word of ``name`` (the best BM25 match for it)."""
        words = content_terms(name)
        scores = view.indexes.lexical.scores(name)
        if not words or not len(scores) or scores.max() <= 0:
            return False
        best = int(view.indexes.lexical.ids[int(scores.argmax())])
        record = self.store.reads.passages([best]).get(best)
        return record is not None and words <= content_terms(record.text)

    @staticmethod
    def _no_answer(read: Question) -> str:
        if read.speakers:
            return f"No statements by {', '.join(read.speakers)} on this were found in the archive."
        return "No passage in the archive answers this question."

    def _published_by(
        self, view: _View, allowed: npt.NDArray[np.int64] | None, as_of: date
    ) -> npt.NDArray[np.int64] | None:
        """Without the passages of articles dated after ``as_of``: asked on a past day, the
        archive answers as it stood then. Undated articles may be of any day and stay."""
        if as_of == date.max:
            return allowed
        later = self.store.reads.filtered_passage_ids(
            PassageFilters(date_from=(as_of + timedelta(days=1)).isoformat())
        )
        if not len(later):
            return allowed
        every = view.indexes.lexical.ids if allowed is None else allowed
        return np.setdiff1d(every, later, assume_unique=True)

    @staticmethod
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

    # -- writing --------------------------------------------------------------------------

    def put_article(self, article_id: str, text: str) -> tuple[int, bool]:
        """Add or replace one article; returns its passage count and whether it replaced one."""
        article = parse_article(article_id, text)
        prepared = prepare(article, self.encoder)
        with self._write():
            twin = self.store.writes.article_with_hash(article.content_hash)
            if twin is not None and twin != article_id:
                raise DuplicateArticleError(article_id, twin)
            replaced = self.store.catalogue.article(article_id) is not None
            store_articles(self.store, self.encoder, [prepared])
        return len(prepared.passages), replaced

    def delete_article(self, article_id: str) -> None:
        with self._write():
            if not self.store.writes.delete_article(article_id):
                raise ArticleNotFoundError(article_id)

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write, all or nothing: its body runs in a write transaction; the new view is
        derived inside it, then committed and published at once.

        A folder that could not take the new index files refuses the write before anything is
        committed. Should saving them fail all the same, the committed write stands: it is
        answered from memory, and ``unsaved_indexes`` says why the files are behind.
        """
        with self._writer:
            with storage_errors(self.settings.data_dir):
                self._check_room()
                with ExitStack() as publishing:
                    with self.store.transaction():
                        yield
                        view = self._make_view(self._derive_indexes())
                        # Held from the commit until the new view is published.
                        publishing.enter_context(self._swap)
                    self._view = view
            self._save_indexes(view.indexes)

    def _check_room(self) -> None:
        data_dir = self.settings.data_dir
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".probe"):
            pass  # raises the folder's own refusal: read-only, immutable
        needed = self.index_folder.save_bytes()
        free = shutil.disk_usage(data_dir).free
        if free < needed:
            raise DiskFullError(f"{free:,} bytes free, saving the index takes {needed:,}")

    def _derive_indexes(self) -> Indexes:
        return self.index_folder.extend(self._view.indexes.vectors)

    def _save_indexes(self, indexes: Indexes) -> None:
        data_dir = self.settings.data_dir
        try:
            self.index_folder.persist(indexes)
        except Exception as exc:  # the write is committed: never report it as failed
            self.unsaved_indexes = root_cause(exc)
            log.warning(
                "a write was committed, but its index files could not be saved (%s): it is "
                "answered from memory; the files are saved with the next write, or rebuilt "
                "from the store when the archive next opens",
                self.unsaved_indexes,
                exc_info=storage_error(exc, data_dir) is None,
            )
        else:
            self.unsaved_indexes = None

    def close(self) -> None:
        self.store.close()


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


def _date_window(window: TimeWindow) -> DateWindow | None:
    return DateWindow(from_=window.start, to=window.end) if window.explicit else None


def _listed(speakers: tuple[str, ...] | None) -> list[str] | None:
    return list(speakers) if speakers is not None else None


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
