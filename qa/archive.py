"""The archive as one object: encoder, store and indexes wired together to answer and search."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from qa.answer import Candidate, compose_answer
from qa.errors import IndexNotBuiltError
from qa.indexes import Indexes, load_indexes, manifest
from qa.ingest import IngestReport, check_model, ingest_directory
from qa.lexical import content_terms
from qa.questions import Question, SpeakerIndex, clean_question, read_question
from qa.retrieval import HybridRanker, RankedPassage
from qa.schema import Answer, HistoryTurn, SearchFilters, SearchHit
from qa.settings import Settings
from qa.store import PassageFilters, Store

__all__ = ["Archive", "open_store"]

_QUERY_CACHE_SIZE = 1024


def open_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store(settings.data_dir / "store.sqlite")


class Archive:
    """Answers questions from an ingested archive. Build it with ``Archive.open``."""

    def __init__(
        self, settings: Settings, encoder: Encoder, store: Store, indexes: Indexes
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.store = store
        self._install(indexes)
        self._embed = functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)(self._encode_question)

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder | None = None) -> Archive:
        """Load model, store and indexes; damaged indexes are rebuilt from the store."""
        store = open_store(settings)
        if manifest(store) is None:
            raise IndexNotBuiltError(str(settings.data_dir))
        encoder = encoder or Encoder(settings.model, settings.batch_size)
        check_model(store, encoder)
        indexes = load_indexes(store, settings.data_dir, encoder.name, encoder.dimension)
        return cls(settings, encoder, store, indexes)

    def _install(self, indexes: Indexes) -> None:
        self.indexes = indexes
        self.speakers = SpeakerIndex(self.store.speaker_aliases())
        self.ranker = HybridRanker(
            indexes.passages,
            indexes.sentences,
            indexes.lexical,
            self.store.passage_vectors,
            self.store.sentence_owners,
            self.settings.candidates,
            self.settings.lexical_weight,
        )

    def _encode_question(self, text: str) -> npt.NDArray[np.float32]:
        vector: npt.NDArray[np.float32] = self.encoder.encode([text])[0]
        vector.setflags(write=False)  # shared by every request that asks the same question
        return vector

    def ingest(self, folder: Path | None = None) -> IngestReport:
        report = ingest_directory(
            folder or self.settings.seeds_dir,
            self.store,
            self.encoder,
            self.settings.data_dir,
            self.settings.max_file_bytes,
            progress=False,
        )
        if report.changed:
            self._install(
                load_indexes(
                    self.store, self.settings.data_dir, self.encoder.name, self.encoder.dimension
                )
            )
        return report

    def _allowed(
        self, filters: SearchFilters | None, speakers: tuple[str, ...] | None
    ) -> npt.NDArray[np.int64] | None:
        if filters is not None and filters.speaker:
            named = self.speakers.named(filters.speaker) or (filters.speaker,)
            speakers = tuple(sorted(set(named) & set(speakers))) if speakers else named
        passage_filters = PassageFilters(
            date_from=filters.date_from if filters else None,
            date_to=filters.date_to if filters else None,
            article_id=filters.article_id if filters else None,
            speakers=speakers,
        )
        return self.store.filtered_passage_ids(passage_filters) if passage_filters.active else None

    def _rank(
        self,
        text: str,
        vector: npt.NDArray[np.float32],
        k: int,
        allowed: npt.NDArray[np.int64] | None,
    ) -> list[RankedPassage]:
        return self.ranker.rank(vector, text, k, allowed)

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> list[SearchHit]:
        query = clean_question(query)
        ranked = self._rank(query, self._embed(query), k, self._allowed(filters, None))
        records = self.store.passages([r.id for r in ranked])
        return [
            SearchHit(
                article_id=(p := records[r.id]).article_id,
                title=p.title,
                date=p.date,
                dateline=p.dateline,
                agency=p.agency,
                paragraph=p.paragraph,
                heading=p.heading,
                text=p.text,
                speaker=p.speaker,
                score=round(r.score, 4),
                dense=round(r.dense, 4),
                lexical=round(r.lexical, 4),
                url=f"/articles/{p.article_id}#p{p.paragraph}",
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
        read = read_question(question, self.speakers, history)
        if read.unknown_person is not None:
            return self._abstain(
                question,
                f"No statements by {read.unknown_person} were found in the archive.",
                started,
            )
        allowed = self._allowed(filters, read.speakers)
        vector = self._embed(read.topic)
        ranked = self._rank(read.topic, vector, self.settings.candidates, allowed)
        records = self.store.passages([r.id for r in ranked])
        sentences = self.store.sentences([r.id for r in ranked])
        candidates = [
            Candidate(records[r.id], sentences.get(r.id, []), r) for r in ranked if r.id in records
        ]
        composition = compose_answer(
            candidates,
            vector,
            self._topic_terms(read),
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

    def _topic_terms(self, read: Question) -> set[str]:
        """Content words of the question, without the name of the person it asks about."""
        terms = content_terms(read.topic)
        for name in read.speakers or ():
            terms -= content_terms(name)
        found = self.speakers.find(read.topic)
        if found is not None:
            terms -= content_terms(found[0])
        return terms

    def _no_answer(self, read: Question) -> str:
        if read.speakers:
            return f"No statements by {', '.join(read.speakers)} on this were found in the archive."
        return "No passage in the archive answers this question."

    def _abstain(self, question: str, message: str, started: float) -> Answer:
        return Answer(
            question=question,
            answer=message,
            abstained=True,
            citations=[],
            took_ms=_elapsed_ms(started),
        )

    def close(self) -> None:
        self.store.close()


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
