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
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.errors import IndexFileError
from embeddings.index import IndexConfig
from qa.answer import Candidate, compose_answer
from qa.articles import parse_article
from qa.errors import ArticleNotFoundError, DuplicateArticleError, IndexNotBuiltError
from qa.indexes import (
    Indexes,
    derive_indexes,
    load_indexes,
    load_verified_indexes,
    manifest,
    persist_indexes,
)
from qa.ingest import check_model, prepare, store_articles
from qa.lexical import content_terms
from qa.questions import Question, SpeakerIndex, clean_question, read_question
from qa.retrieval import HybridRanker, RankedPassage
from qa.schema import Answer, HistoryTurn, SearchFilters, SearchHit
from qa.settings import Settings
from qa.store import PassageFilters, Store

__all__ = ["Archive", "index_config", "open_encoder", "open_store"]

log = logging.getLogger(__name__)

_QUERY_CACHE_SIZE = 1024

Vector = npt.NDArray[np.float32]


def open_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store(settings.data_dir / "store.sqlite")


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
        self._swap = threading.Lock()
        self._writer = threading.Lock()
        self._reloading = threading.Lock()
        self._view = self._make_view(indexes)
        self._embed = functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)(self._encode_question)

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder | None = None) -> Archive:
        """Load model, store and indexes; damaged, stale or missing indexes are rebuilt.

        A store with articles but no manifest is an ingest killed before its first index: its
        committed articles are kept and indexed.
        """
        store = open_store(settings)
        if manifest(store) is None and not store.counts()["articles"]:
            raise IndexNotBuiltError(str(settings.data_dir))
        encoder = encoder or open_encoder(settings)
        check_model(store, encoder)
        indexes = load_indexes(
            store, settings.data_dir, encoder.name, encoder.dimension, index_config(settings)
        )
        return cls(settings, encoder, store, indexes)

    @property
    def indexes(self) -> Indexes:
        return self._view.indexes

    def _make_view(self, indexes: Indexes) -> _View:
        ranker = HybridRanker(
            indexes.passages,
            indexes.sentences,
            indexes.lexical,
            self.store.passage_vectors,
            self.store.sentence_owners,
            self.settings.candidates,
            self.settings.lexical_weight,
        )
        return _View(indexes, SpeakerIndex(self.store.speaker_aliases()), ranker)

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
                indexes = load_verified_indexes(
                    self.store, self.settings.data_dir, index_config(self.settings)
                )
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
        return self.store.filtered_passage_ids(passage_filters) if passage_filters.active else None

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> list[SearchHit]:
        query = clean_question(query)
        vector = self._embed(query)
        with self._reading() as view:
            ranked = view.ranker.rank(vector, query, k, self._allowed(view, filters, None))
            records = self.store.passages([r.id for r in ranked])
        return [
            SearchHit(
                **records[r.id].source(),
                heading=records[r.id].heading,
                score=round(r.score, 4),
                dense=round(r.dense, 4),
                lexical=round(r.lexical, 4),
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
    ) -> Answer:
        started = time.perf_counter()
        question = clean_question(question)
        top_k = top_k or self.settings.top_k
        with self._reading() as view:
            read = read_question(question, view.speakers, history)
            if read.unknown_person is not None:
                message = f"No statements by {read.unknown_person} were found in the archive."
                return self._abstain(question, message, started)
            vector = self._embed(read.topic)
            allowed = self._allowed(view, filters, read.speakers)
            ranked = view.ranker.rank(vector, read.topic, self.settings.candidates, allowed)
            candidates = self._candidates(ranked)
            topic_terms = self._topic_terms(view, read)
        composition = compose_answer(
            candidates,
            vector,
            topic_terms,
            top_k,
            self.settings.min_relevance,
            speaker_restricted=read.speakers is not None,
            exclude_quotes=read.exclude_quotes,
        )
        if composition.abstained:
            return self._abstain(question, self._no_answer(read), started)
        return Answer(
            question=question,
            answer=composition.answer,
            abstained=False,
            citations=composition.citations,
            took_ms=_elapsed_ms(started),
        )

    def _candidates(self, ranked: list[RankedPassage]) -> list[Candidate]:
        ids = [r.id for r in ranked]
        records = self.store.passages(ids)
        sentences = self.store.sentences(ids)
        return [
            Candidate(records[r.id], sentences.get(r.id, []), r) for r in ranked if r.id in records
        ]

    @staticmethod
    def _topic_terms(view: _View, read: Question) -> frozenset[str]:
        """Content words of the question, without the name of the person it asks about."""
        terms = content_terms(read.topic)
        for name in read.speakers or ():
            terms -= content_terms(name)
        found = view.speakers.find(read.topic)
        if found is not None:
            terms -= content_terms(found[0])
        return terms

    @staticmethod
    def _no_answer(read: Question) -> str:
        if read.speakers:
            return f"No statements by {', '.join(read.speakers)} on this were found in the archive."
        return "No passage in the archive answers this question."

    @staticmethod
    def _abstain(question: str, message: str, started: float) -> Answer:
        return Answer(
            question=question,
            answer=message,
            abstained=True,
            citations=[],
            took_ms=_elapsed_ms(started),
        )

    # -- writing --------------------------------------------------------------------------

    def put_article(self, article_id: str, text: str) -> tuple[int, bool]:
        """Add or replace one article; returns its passage count and whether it replaced one."""
        article = parse_article(article_id, text)
        prepared = prepare(article, self.encoder)
        with self._writer:
            twin = self.store.article_with_hash(article.content_hash)
            if twin is not None and twin != article_id:
                raise DuplicateArticleError(article_id, twin)
            replaced = self.store.article(article_id) is not None
            self.store.begin()
            try:
                store_articles(self.store, self.encoder, [prepared])
                self._commit_and_swap()
            except BaseException:
                self.store.rollback()
                raise
        return len(prepared.passages), replaced

    def delete_article(self, article_id: str) -> None:
        with self._writer:
            self.store.begin()
            try:
                if not self.store.delete_article(article_id):
                    raise ArticleNotFoundError(article_id)
                self._commit_and_swap()
            except BaseException:
                self.store.rollback()
                raise

    def _commit_and_swap(self) -> None:
        """Derive the new view inside the open write transaction, then publish both at once."""
        current = self._view.indexes
        indexes = derive_indexes(
            self.store,
            self.encoder.dimension,
            index_config(self.settings),
            {"passages": current.passages, "sentences": current.sentences},
        )
        view = self._make_view(indexes)
        with self._swap:
            self.store.commit()
            self._view = view
        persist_indexes(
            view.indexes,
            self.store,
            self.settings.data_dir,
            self.encoder.name,
            self.encoder.dimension,
        )

    def close(self) -> None:
        self.store.close()


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
