"""A cluster answers as the single archive holding the same articles: same citations, same
order, for 1, 2 and 4 shards (fusion over all shards' candidates, BM25 with the cluster's
statistics). The shards take the single archive's rows, vectors included, so both rank the
same vectors."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa import reading
from qa.answer import Candidate, QuoteFloor
from qa.archive import Archive
from qa.cluster.coordinator import Coordinator
from qa.cluster.shard import LocalShard, Shard
from qa.factories import open_store
from qa.ingest import ingest_directory
from qa.lexical import content_terms
from qa.questions import SpeakerIndex
from qa.reading import QuestionVectors
from qa.schema import SearchFilters
from qa.settings import Settings
from qa.store import STORE_FILE, PassageFilters

from .cluster_kit import QUESTIONS, wire_corpus


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[Archive]:
    root = tmp_path_factory.mktemp("cluster-answers")
    corpus = wire_corpus(root / "corpus", 160)
    settings = Settings(data_dir=root / "single", rate_limit_per_minute=0)
    ingest_directory(
        corpus,
        open_store(settings),
        encoder,
        settings.data_dir,
        settings.max_file_bytes,
        progress=False,
    )
    archive = Archive.open(settings, encoder)
    yield archive
    archive.close()


@contextmanager
def _coordinator(
    single: Archive, shards: int, root: Path, encoder: Encoder
) -> Iterator[Coordinator]:
    """``shards`` archives holding the single archive's articles by bucket, rows copied;
    closed afterwards."""
    ids = [record.article_id for record in single.store.catalogue.list_articles(0, 10_000)]
    opened = []
    for number in range(shards):
        mine = [a for a in ids if zlib.crc32(a.encode()) % 1024 % shards == number]
        settings = single.settings.model_copy(update={"data_dir": root / f"shard-{number}"})
        store = open_store(settings)
        store.writes.copy_articles(single.settings.data_dir / STORE_FILE, mine)
        store.close()
        opened.append(LocalShard(Shard(number, Archive.open(settings, encoder))))
    aliases = sorted({a for s in opened for a in s.shard.archive.store.reads.speaker_aliases()})
    coordinator = Coordinator(
        single.settings, opened, SpeakerIndex(aliases), QuestionVectors(encoder)
    )
    try:
        yield coordinator
    finally:
        for shard in opened:
            shard.close()


@pytest.mark.parametrize("shards", [1, 2, 4])
def test_a_cluster_answers_and_searches_as_the_single_archive(
    single: Archive, shards: int, tmp_path: Path, encoder: Encoder
) -> None:
    with _coordinator(single, shards, tmp_path, encoder) as coordinator:
        assert coordinator.statistics == single.indexes.lexical.statistics()
        as_of = date(2023, 7, 1)
        for question in QUESTIONS:
            expected = single.ask(question, as_of=as_of).model_dump(exclude={"took_ms"})
            for prefetch in (False, True):
                with coordinator.reading(prefetch) as passages:
                    got = reading.ask(passages, question, as_of=as_of)
                assert got.model_dump(exclude={"took_ms"}) == expected, (question, prefetch)
            for prefetch in (False, True):
                with coordinator.reading(prefetch, quoting=False) as passages:
                    hits = reading.search(passages, question, 20)
                assert hits == single.search(question, 20), (question, prefetch)
        filters = SearchFilters(date_from=date(2023, 3, 1), date_to=date(2023, 4, 30))
        for prefetch in (False, True):
            with coordinator.reading(prefetch, quoting=False) as passages:
                hits = reading.search(passages, "interest rates", 10, filters)
            assert hits and hits == single.search("interest rates", 10, filters), prefetch


def _seen(candidates: list[Candidate]) -> list[tuple[object, ...]]:
    return [
        (
            c.ranked,
            c.passage.id,
            [sentence.id for sentence in c.sentences],
            c.preceding.passage.id if c.preceding else None,
        )
        for c in candidates
    ]


def test_candidates_sent_ahead_are_the_ones_asked_for_and_the_rest_are_fetched(
    single: Archive, tmp_path: Path, encoder: Encoder
) -> None:
    """With prefetch, each shard sends its own best passages with its signals; whatever the
    answer needs beyond them (a winner not sent, or sent without the passage before it) is
    asked for. Both kinds occur here, and the candidates are the same as without."""
    kinds = {"sent": 0, "fetched": 0}
    with _coordinator(single, 4, tmp_path, encoder) as coordinator:
        for question in QUESTIONS:
            vector = encoder.encode([question])[0]
            for with_preceding in (0, 12, 50):
                with coordinator.reading() as plain:
                    ranked = plain.rank(vector, question, 50, PassageFilters(), date.max)
                    expected = _seen(plain.candidates(ranked, with_preceding))
                with coordinator.reading(prefetch=True) as ahead:
                    assert ahead.rank(vector, question, 50, PassageFilters(), date.max) == ranked
                    for position, r in enumerate(ranked):
                        sent, preceded = ahead.sent.get((r.shard, r.id), (None, False))
                        usable = sent is not None and (position >= with_preceding or preceded)
                        kinds["sent" if usable else "fetched"] += 1
                    assert _seen(ahead.candidates(ranked, with_preceding)) == expected, question
        assert kinds["sent"] > kinds["fetched"] > 0, kinds


def test_shards_only_name_the_candidates_below_the_floor(
    single: Archive, tmp_path: Path, encoder: Encoder
) -> None:
    """Given the question's floor, a shard names its best passages that no answer would quote
    instead of sending them, and the coordinator neither fetches nor returns them: its
    candidates are the quotable ones of those without a floor, in the same order."""
    named = 0
    with _coordinator(single, 4, tmp_path, encoder) as coordinator:
        for question in QUESTIONS:
            vector = encoder.encode([question])[0]
            floor = QuoteFloor(content_terms(question), single.settings.min_relevance)
            with coordinator.reading() as plain:
                ranked = plain.rank(vector, question, 50, PassageFilters(), date.max)
                quotable = [c for c in plain.candidates(ranked, 12) if floor.admits(c, vector)]
            with coordinator.reading(prefetch=True) as ahead:
                assert ahead.rank(vector, question, 50, PassageFilters(), date.max, floor) == ranked
                assert not ahead.unquotable & ahead.sent.keys()
                named += len(ahead.unquotable)
                assert _seen(ahead.candidates(ranked, 12)) == _seen(quotable), question
    assert named > 0


def test_records_sent_ahead_for_a_search_are_the_ones_asked_for(
    single: Archive, tmp_path: Path, encoder: Encoder
) -> None:
    """A search's shards send their best passages without the passage before them (a search
    quotes nothing); its records are the same as those fetched after the fusion. Each shard
    sends its even share of them only, so that winners not sent occur too."""
    kinds = {"sent": 0, "fetched": 0}
    with _coordinator(single, 4, tmp_path, encoder) as coordinator:
        coordinator.settings = single.settings.model_copy(update={"cluster_prefetch_shares": 1})
        for question in QUESTIONS:
            vector = encoder.encode([question])[0]
            for k in (3, 10, 40):
                with coordinator.reading() as plain:
                    ranked = plain.rank(vector, question, k, PassageFilters(), date.max)
                    expected = plain.records(ranked)
                with coordinator.reading(prefetch=True, quoting=False) as ahead:
                    assert ahead.rank(vector, question, k, PassageFilters(), date.max) == ranked
                    assert not any(preceded for _, preceded in ahead.sent.values())
                    for r in ranked:
                        kinds["sent" if (r.shard, r.id) in ahead.sent else "fetched"] += 1
                    assert ahead.records(ranked) == expected, (question, k)
        assert kinds["sent"] > kinds["fetched"] > 0, kinds
