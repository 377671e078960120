"""A cluster answers as the single archive holding the same articles: same citations, same
order, for 1, 2 and 4 shards (fusion over all shards' candidates, BM25 with the cluster's
statistics). The shards take the single archive's rows, vectors included, so both rank the
same vectors."""

from __future__ import annotations

import random
import shutil
import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from embeddings.encoder import Encoder
from qa import reading
from qa.archive import Archive
from qa.cluster.coordinator import Coordinator
from qa.cluster.shard import Shard
from qa.factories import open_store
from qa.ingest import ingest_directory
from qa.questions import SpeakerIndex
from qa.reading import QuestionVectors
from qa.schema import SearchFilters
from qa.settings import Settings
from qa.store import STORE_FILE

from .conftest import SEEDS

CITIES = ["Geneva", "Nairobi", "Lima", "Oslo", "Hanoi", "Cairo", "Quito", "Riga", "Accra"]
OFFICIALS = [
    ("Minister of Energy Lena Varga", "Varga"),
    ("Health Minister Tomas Okafor", "Okafor"),
    ("Central bank governor Ines Moreau", "Moreau"),
    ("Mayor Daniel Ruiz", "Ruiz"),
    ("Trade Secretary Priya Nair", "Nair"),
]
TOPICS = [
    ("wheat harvest", "farmers expect the wheat harvest to exceed last year's by a wide margin"),
    ("interest rates", "interest rates will stay unchanged until inflation slows"),
    ("hospital beds", "new hospital beds will open in the northern districts this winter"),
    ("flood barriers", "flood barriers along the river were raised after heavy rain"),
    ("electric buses", "the city will buy electric buses to replace its diesel fleet"),
    ("port strike", "the port strike has delayed container ships for a week"),
    ("copper exports", "copper exports rose sharply as demand from smelters recovered"),
    ("school meals", "school meals will be free for every pupil from September"),
]
QUESTIONS = [
    "What did Putin say about training?",
    "What did Shoigu say about color revolutions?",
    "What role should the SCO play in the international system?",
    "What did Varga say about the wheat harvest?",
    "What did the central bank governor say about interest rates?",
    "Where were flood barriers raised?",
    "Which city will buy electric buses?",
    "How long has the port strike delayed ships?",
    "What happened to copper exports this week?",
    "When will school meals be free?",
    "What did Nair say about copper exports in March 2023?",
    "Who is opening hospital beds?",
    "What did Zygmunt Baryczko say about trains?",
    "When was the Baryczko house constructed?",
]


def _article(number: int, rng: random.Random) -> tuple[str, str]:
    """One wire story of the test archive: a dated header, a lede, quotes with speakers."""
    day = date(2023, 1, 2) + timedelta(days=rng.randrange(180))
    city = rng.choice(CITIES)
    (title, surname), (topic, claim) = rng.choice(OFFICIALS), rng.choice(TOPICS)
    other_topic, other_claim = rng.choice(TOPICS)
    lines = [
        f"date {day.isoformat()} {city.upper()}, {day:%B} {day.day}. /WIRE/. {title} said on"
        f" {day:%A} that {claim}, story {number}.",
        f'"We have studied the {topic} for {rng.randrange(2, 40)} months and the figures are'
        f' clear," {surname} said.',
        f"Officials in {city} added that {other_claim}.",
        f'"The {other_topic} matters to {rng.randrange(1000, 90000)} families here," {surname}'
        " added.",
    ]
    return f"{number:03d}_wire", "\n\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[Archive]:
    root = tmp_path_factory.mktemp("cluster-answers")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    rng = random.Random(7)
    for number in range(160):
        article_id, text = _article(number, rng)
        (corpus / f"{article_id}.txt").write_text(text, encoding="utf-8")
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


def _coordinator(single: Archive, shards: int, root: Path, encoder: Encoder) -> Coordinator:
    """``shards`` archives holding the single archive's articles by bucket, rows copied."""
    ids = [record.article_id for record in single.store.catalogue.list_articles(0, 10_000)]
    opened = []
    for number in range(shards):
        mine = [a for a in ids if zlib.crc32(a.encode()) % 1024 % shards == number]
        settings = single.settings.model_copy(update={"data_dir": root / f"shard-{number}"})
        store = open_store(settings)
        store.writes.copy_articles(single.settings.data_dir / STORE_FILE, mine)
        store.close()
        opened.append(Shard(number, Archive.open(settings, encoder)))
    aliases = sorted({a for s in opened for a in s.archive.store.reads.speaker_aliases()})
    return Coordinator(single.settings, opened, SpeakerIndex(aliases), QuestionVectors(encoder))


@pytest.mark.parametrize("shards", [1, 2, 4])
def test_a_cluster_answers_and_searches_as_the_single_archive(
    single: Archive, shards: int, tmp_path: Path, encoder: Encoder
) -> None:
    coordinator = _coordinator(single, shards, tmp_path, encoder)
    try:
        assert coordinator.statistics == single.indexes.lexical.statistics()
        as_of = date(2023, 7, 1)
        for question in QUESTIONS:
            with coordinator.reading() as passages:
                got = reading.ask(passages, question, as_of=as_of)
            expected = single.ask(question, as_of=as_of)
            assert got.model_dump(exclude={"took_ms"}) == expected.model_dump(
                exclude={"took_ms"}
            ), question
            with coordinator.reading() as passages:
                hits = reading.search(passages, question, 20)
            assert hits == single.search(question, 20), question
        filters = SearchFilters(date_from=date(2023, 3, 1), date_to=date(2023, 4, 30))
        with coordinator.reading() as passages:
            hits = reading.search(passages, "interest rates", 10, filters)
        assert hits and hits == single.search("interest rates", 10, filters)
    finally:
        coordinator.close()
        for shard in coordinator.shards:
            assert isinstance(shard, Shard)
            shard.archive.close()
